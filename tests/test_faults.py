"""Faults: a killed ingestion, a Chroma server that goes away and comes back, a damaged manifest, a
read-only index folder and a full disk. In each, a clear one-line message, nothing half-written,
and nothing lost."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import SCRIPT, SEEDS, cli, free_port, serving, slow_llm, stop, wait_for_http

from assistant.config import Settings
from assistant.library.store import Store, open_store
from assistant.library.synthetic import synthetic_corpus
from assistant.pipeline import Assistant

QUESTION = "Who will represent the U.S. at the NATO foreign ministers' meeting?"


def one_line_error(done: subprocess.CompletedProcess) -> str:
    """The CLI failed with one `error:` line and no traceback; returns that line."""
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    return errors[0]


def write_articles(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for article in synthetic_corpus(count * 5, questions=0).articles[:count]:
        (folder / article.doc_id.rsplit("/", 1)[-1]).write_text(article.text)
    return folder


def complete_chunks(index_dir: Path) -> tuple[int, int]:
    """(chunks, articles) of an index, after checking every article holds exactly one whole version."""
    store = open_store(Settings(index_dir=index_dir))
    articles = store.articles()
    for entry in articles.values():
        assert len(entry.found) == 1 and entry.is_complete(next(iter(entry.found))), entry
    assert store.document_ids() == set(articles)
    return store.count(), len(articles)


def test_kill_9_during_ingest(tmp_path):
    articles = write_articles(tmp_path / "news", 60)
    batch = {"ASSISTANT_INGEST_BATCH": "24"}
    started = time.perf_counter()
    assert cli("--index-dir", str(tmp_path / "fresh"), "ingest", str(articles), env=batch).returncode == 0
    took = time.perf_counter() - started
    expected = complete_chunks(tmp_path / "fresh")

    victim = tmp_path / "victim"
    log = tmp_path / "victim.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [SCRIPT, "--debug", "--index-dir", str(victim), "ingest", str(articles)],
            env={**os.environ, **batch},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        deadline = time.monotonic() + max(60.0, 5 * took)
        while " chunks of " not in log.read_text(errors="replace"):  # the first batch is in
            assert process.poll() is None and time.monotonic() < deadline, "no batch was written"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        assert process.wait() == -signal.SIGKILL, "the ingestion ended before it was killed"

    written = open_store(Settings(index_dir=victim))
    partial = written.count()
    written.close()
    assert 0 < partial < expected[0], "killed in the middle: some batches in, not all"
    opened = cli("--index-dir", str(victim), "search", "grain exports")
    assert opened.returncode == 0, opened.stderr
    finished = cli("--index-dir", str(victim), "ingest", str(articles))
    assert finished.returncode == 0, finished.stderr
    assert complete_chunks(victim) == expected
    again = cli("--index-dir", str(victim), "ingest", str(articles))
    assert "index already up to date" in again.stdout


def start_chroma(path: Path, port: int) -> subprocess.Popen:
    """`chroma run` on `path` and `port`, ready when this returns."""
    chroma_script = str(Path(sys.executable).parent / "chroma")
    command = [chroma_script, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)]
    log = open(path.parent / f"chroma-{port}.log", "ab")  # noqa: SIM115 - lives as long as the process
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    wait_for_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", 60, process)
    return process


def test_chroma_server_down_then_back(tmp_path, embedder):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    database = start_chroma(tmp_path / "db", port)
    try:
        Assistant(Settings(chroma_url=url, collection="faults"), embedder).library.ingest([SEEDS])
        env = {"ASSISTANT_CHROMA_URL": url, "ASSISTANT_COLLECTION": "faults"}
        with serving(tmp_path / "app", embedder, env) as (_, c):
            assert c.post("/api/ask", json={"question": QUESTION}).status_code == 200
            stop(database)

            health = c.get("/healthz")
            assert health.status_code == 503 and health.json()["store"]["ok"] is False
            assert "not answering" in health.json()["store"]["error"]
            asked = c.post("/api/ask", json={"question": QUESTION})
            assert asked.status_code == 503 and "Chroma server" in asked.json()["error"]
            assert c.get("/api/search", params={"q": "NATO"}).status_code == 503

            database = start_chroma(tmp_path / "db", port)  # back: same port and data, app not restarted
            deadline = time.monotonic() + 30
            while c.post("/api/ask", json={"question": QUESTION}).status_code != 200:
                assert time.monotonic() < deadline, "the app did not recover by itself"
                time.sleep(0.5)
            assert c.get("/healthz").json()["status"] == "ok"
            assert "Landau" in c.post("/api/ask", json={"question": QUESTION}).json()["answer"]
    finally:
        stop(database)


def test_the_app_starts_before_the_chroma_server_and_waits_for_it(tmp_path, embedder):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    database = start_chroma(tmp_path / "db", port)
    Assistant(Settings(chroma_url=url, collection="later"), embedder).library.ingest([SEEDS])
    stop(database)
    env = {**os.environ, "ASSISTANT_CHROMA_URL": url, "ASSISTANT_COLLECTION": "later"}
    app_url = f"http://127.0.0.1:{free_port()}"
    command = [SCRIPT, "serve", "--host", "127.0.0.1", "--port", app_url.rsplit(":", 1)[1]]
    with open(tmp_path / "app.log", "wb") as log:
        app = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:  # up, and saying the store is missing
            with contextlib.suppress(httpx.TransportError):
                health = httpx.get(f"{app_url}/healthz", timeout=5)
                if health.status_code == 503:
                    break
            assert time.monotonic() < deadline and app.poll() is None, (tmp_path / "app.log").read_text()
            time.sleep(0.2)
        assert "Chroma server" in health.json()["store"]["error"]
        database = start_chroma(tmp_path / "db", port)
        wait_for_http(f"{app_url}/healthz", 30, app)
        answer = httpx.post(f"{app_url}/api/ask", json={"question": QUESTION}, timeout=60)
        assert answer.status_code == 200 and "Landau" in answer.json()["answer"]
    finally:
        stop(app)
        stop(database)


@pytest.mark.parametrize(
    "damage",
    [
        {"manifest_embedding_dimension": "three hundred"},
        {"manifest_embedding_model": None},
    ],
)
def test_a_damaged_manifest_is_reported_and_a_rebuild_mends_it(tmp_path, embedder, damage):
    settings = Settings(index_dir=tmp_path / "index")
    Assistant(settings, embedder).library.ingest([SEEDS])
    store = open_store(settings)
    metadata = {k: v for k, v in store.collection.metadata.items() if v is not None}
    metadata.update({k: v for k, v in damage.items() if v is not None})
    for key in (k for k, v in damage.items() if v is None):
        metadata[key] = 0  # Chroma cannot delete a metadata key; a wrong type is as bad as none
    store.collection.modify(metadata=metadata)
    del store

    index = str(tmp_path / "index")
    asked = cli("--index-dir", index, "ask", QUESTION)
    assert "no valid manifest" in one_line_error(asked) and "--rebuild" in one_line_error(asked)
    plain = cli("--index-dir", index, "ingest", str(SEEDS))
    assert "--rebuild" in one_line_error(plain)
    assert cli("--index-dir", index, "ingest", "--rebuild", str(SEEDS)).returncode == 0
    assert "Landau" in cli("--index-dir", index, "ask", QUESTION).stdout


@contextlib.contextmanager
def mounted(target: Path, options: str, source: str = "tmpfs"):
    """A mount for the test's own folder (needs root); yields whether it could be made."""
    target.mkdir(parents=True, exist_ok=True)
    kind = ["-t", "tmpfs"] if source == "tmpfs" else ["--bind"]
    made = subprocess.run(["mount", *kind, "-o", options, source, str(target)], capture_output=True)
    if made.returncode != 0:
        yield False
        return
    try:
        yield True
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


def test_a_read_only_index_folder(tmp_path, embedder, monkeypatch):
    index = tmp_path / "index"
    Assistant(Settings(index_dir=index), embedder).library.ingest([SEEDS])
    before = complete_chunks(index)
    news = write_articles(tmp_path / "news", 3)
    with mounted(index, "ro", source=str(index)) as real:
        if real:  # a read-only bind mount of the folder over itself
            asked = cli("--index-dir", str(index), "ask", QUESTION)
            assert asked.returncode == 0 and "Landau" in asked.stdout or "read-only" in one_line_error(asked)
            refused = cli("--index-dir", str(index), "ingest", str(news))
            assert "read-only" in one_line_error(refused).lower()
        else:  # no mounts here: the same refusal from an injected write error
            monkeypatch.setattr(Store, "upsert", _fail_with(errno.EROFS))
            with pytest.raises(OSError):
                Assistant(Settings(index_dir=index), embedder).library.ingest([news])
    assert complete_chunks(index) == before
    assert "Landau" in cli("--index-dir", str(index), "ask", QUESTION).stdout


def test_a_full_disk(tmp_path, embedder, monkeypatch):
    disk = tmp_path / "disk"
    news = write_articles(tmp_path / "news", 80)
    fresh = tmp_path / "fresh"
    assert cli("--index-dir", str(fresh), "ingest", str(SEEDS), str(news)).returncode == 0
    expected = complete_chunks(fresh)
    with mounted(disk, "size=1500k") as real:
        index = disk / "index"
        assert cli("--index-dir", str(index), "ingest", str(SEEDS)).returncode == 0
        seed_only = complete_chunks(index)
        if real:  # a 1.5 MB tmpfs: the seed article fits, 80 more do not
            full = cli("--index-dir", str(index), "ingest", str(news))
            assert "no space left" in one_line_error(full).lower()
        else:
            monkeypatch.setattr(Store, "upsert", _fail_with(errno.ENOSPC))
            with pytest.raises(OSError):
                Assistant(Settings(index_dir=index), embedder).library.ingest([news])
        asked = cli("--index-dir", str(index), "ask", QUESTION)  # the seed article is intact
        assert asked.returncode == 0 and "Landau" in asked.stdout, asked.stderr
        if real:
            subprocess.run(["mount", "-o", "remount,size=200m", str(disk)], check=True)
        else:
            monkeypatch.undo()
        done = cli("--index-dir", str(index), "ingest", str(SEEDS), str(news))
        assert done.returncode == 0, done.stderr
        assert complete_chunks(index) == expected
        assert seed_only[1] == 1


def _fail_with(code: int):
    def fail(self, nodes):
        raise OSError(code, os.strerror(code))

    return fail


@pytest.mark.parametrize("trickle", [False, True], ids=["never answers", "too slow"])
def test_an_llm_slower_than_the_timeout_gives_the_extractive_answer_in_time(tmp_path, embedder, trickle):
    Assistant(Settings(index_dir=tmp_path / "index"), embedder).library.ingest([SEEDS])
    with slow_llm(words=75 if trickle else 0) as url:
        settings = Settings(index_dir=tmp_path / "index", llm_url=url, llm_model="slow", llm_timeout_s=2.0)
        assistant = Assistant(settings, embedder)
        started = time.monotonic()
        answer = assistant.ask(QUESTION)
        took = time.monotonic() - started
    assert answer.mode == "extractive" and "Landau" in answer.answer
    assert any("showing the offline extractive answer" in w for w in answer.warnings)
    assert took < 2.0 + 3.0, took  # the timeout, plus the extractive answer with room to spare


def test_a_failing_database_leaves_questions_answered_and_recovers_without_a_restart(tmp_path, embedder):
    blocked = tmp_path / "db"
    blocked.write_text("a file where the database's folder should be")
    env = {"ASSISTANT_DATABASE_URL": f"sqlite:///{blocked}/assistant.db"}
    rating = {"rating": "up", "question": QUESTION, "answer": "x"}
    with serving(tmp_path, embedder, env) as (server, c):
        assert "Christopher Landau" in c.post("/api/ask", json={"question": QUESTION}).json()["answer"]
        for down in (c.post("/api/conversations"), c.post("/api/feedback", json=rating)):
            assert down.status_code == 503
            assert down.json()["error"].startswith(
                f"cannot open the database (sqlite:///{blocked}/assistant.db): "
            )
        blocked.unlink()
        blocked.mkdir()
        made = c.post("/api/conversations")
        assert made.status_code == 201 and c.post("/api/feedback", json=rating).status_code == 201
        assert (blocked / "assistant.db").exists()
