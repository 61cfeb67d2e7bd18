"""Rate limits shared through the database: processes on one database count a client's questions
together, the bucket refills with time, and a failing database falls back to the process's own limit
without refusing or losing questions."""

import multiprocessing
import time

import pytest

from assistant.config import Settings
from assistant.records.database import Database
from assistant.records.limits import SharedBuckets
from assistant.web.guard import Guard, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def database(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'limits.db'}")
    yield db
    db.close()


def test_a_shared_bucket_holds_a_minutes_worth_and_refills(database):
    clock = Clock()
    buckets = SharedBuckets(database, "questions", per_minute=3, clock=clock)
    assert [buckets.take("203.0.113.7") for _ in range(3)] == [0, 0, 0]
    assert buckets.take("203.0.113.7") == 20  # one token comes back every 20 s
    assert buckets.take("198.51.100.1") == 0  # another client has its own bucket
    clock.now += 20
    assert buckets.take("203.0.113.7") == 0
    assert buckets.take("203.0.113.7") == 20
    clock.now += 3600
    assert [buckets.take("203.0.113.7") for _ in range(4)] == [0, 0, 0, 20]  # full, not more


def test_two_limiters_on_one_database_count_together(database, tmp_path):
    settings = Settings(index_dir=tmp_path / "index", rate_limit=4, database_url="sqlite:///unused")
    replica_a, replica_b = Guard(settings, database), Guard(settings, database)
    waits = [guard.questions.take("203.0.113.7") for guard in (replica_a, replica_b) * 3]
    assert waits[:4] == [0, 0, 0, 0] and all(w > 0 for w in waits[4:])


def _take_many(url: str, start: float, count: int) -> list[int]:
    time.sleep(max(0.0, start - time.time()))
    buckets = SharedBuckets(Database(url), "questions", per_minute=20)
    return [buckets.take("203.0.113.7") for _ in range(count)]


def test_processes_taking_at_once_never_pass_more_than_the_bucket(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    Database(url).migrate()
    start = time.time() + 2.0
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        results = pool.starmap(_take_many, [(url, start, 15)] * 3)
    passed = sum(1 for waits in results for wait in waits if wait == 0)
    assert 20 <= passed <= 21  # 20 in the bucket, and at most one refilled during the run


def test_a_failing_database_falls_back_to_the_process_limit(tmp_path, caplog):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    broken = Database(f"sqlite:///{blocked / 'sub' / 'limits.db'}")
    limiter = RateLimiter(2, shared=SharedBuckets(broken, "questions", per_minute=2))
    assert [limiter.take("203.0.113.7") for _ in range(3)] == [0, 0, 30]
    assert any("rate limit counted in this process" in r.getMessage() for r in caplog.records)


def test_on_postgresql_processes_taking_at_once_never_pass_more_than_the_bucket(postgres_url):
    Database(postgres_url).migrate()
    start = time.time() + 2.0
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        results = pool.starmap(_take_many, [(postgres_url, start, 15)] * 3)
    passed = sum(1 for waits in results for wait in waits if wait == 0)
    assert 20 <= passed <= 21
