"""Load on loopback: 20 clients x 10 questions at once, then the same while articles are uploaded.

All clients share 127.0.0.1, so the per-client question limit is raised for this server; the limit
itself is tested in test_web_access. Latencies are printed by the script, never asserted.
"""

from pathlib import Path

import pytest
from conftest import REPO, kept_uploads, seeded_server

from assistant.bench.loadtest import load_questions, run

CLIENTS, QUESTIONS = 20, 10


@pytest.fixture(scope="module")
def server(tmp_path_factory, embedder):
    env = {"ASSISTANT_RATE_LIMIT": "0"}
    with seeded_server(tmp_path_factory.mktemp("load"), embedder, env) as running:
        yield running


@pytest.fixture(scope="module")
def questions() -> list[str]:
    return load_questions(REPO / "evals" / "seed.jsonl")


def test_twenty_clients_are_all_answered(server, questions):
    report = run(server.url, CLIENTS, QUESTIONS, questions)
    assert report["requests"] == CLIENTS * QUESTIONS
    assert report["statuses"] == {"200": CLIENTS * QUESTIONS}
    assert report["problems"] == [] and report["server_errors"] == 0


def test_uploads_while_clients_ask_are_indexed_once(server, questions):
    report = run(server.url, CLIENTS, QUESTIONS, questions, upload=12)
    assert report["statuses"] == {"200": CLIENTS * QUESTIONS}
    assert report["problems"] == []
    uploads = report["uploads"]
    assert uploads["uploaded"] == 12 and uploads["chunks_written"] > 12
    assert uploads["chunks_after"] == uploads["chunks_before"] + uploads["chunks_written"]
    kept = sorted(kept_uploads(server.index_dir))
    assert len(kept) == 12 and all(name.startswith("load-") for name in kept)


def test_the_script_exits_nonzero_when_requests_fail(questions, tmp_path: Path):
    from conftest import free_port

    from assistant.bench.loadtest import main

    nobody = f"http://127.0.0.1:{free_port()}"
    assert (
        main(["--url", nobody, "--clients", "2", "--questions", "1", "--json", str(tmp_path / "r.json")]) == 1
    )
    assert '"answered": 0' in (tmp_path / "r.json").read_text()


def test_answering_runs_a_bounded_number_of_questions_at_once(tmp_path, embedder):
    """Many questions at once wait their turn instead of each holding its passages' vectors and
    entities in memory (50 questions at k=50 took a server from 766 MB to 1.9 GB; see RELIABILITY.md)."""
    import threading
    import time

    from assistant.config import Settings
    from assistant.pipeline import Assistant

    assistant = Assistant(Settings(index_dir=tmp_path / "index", max_concurrent_answers=2), embedder)
    running, most, lock = 0, 0, threading.Lock()

    def slow_search(*args, **kwargs):
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.1)
        with lock:
            running -= 1
        return []

    assistant.search = slow_search
    askers = [threading.Thread(target=assistant.ask, args=(f"Who won race {n}?",)) for n in range(8)]
    for asker in askers:
        asker.start()
    for asker in askers:
        asker.join()
    assert most == 2
