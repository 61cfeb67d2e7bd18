"""Two `assistant serve` replicas on one Chroma server and one PostgreSQL database, each with a local
folder of its own, as behind a balancer: what one is given, the other serves."""

import contextlib
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from conftest import REPO, SEED_DOC_ID, SEEDS, SERVER_START_TIMEOUT_S, cli, free_port, stop, wait_for_http

from assistant.bench.loadtest import load_questions, run
from assistant.config import Settings
from assistant.pipeline import Assistant

TRAMS = b"Tram news\n\nThe night tram to Leith runs every twelve minutes from Friday, the city council said."
CLIENT = {"timeout": 60}
OCTETS = {"content-type": "application/octet-stream"}


@contextlib.contextmanager
def replicas(root: Path, env: dict[str, str], count: int = 2):
    """`count` replicas started at the same moment; yields their base URLs."""
    script = str(Path(sys.executable).parent / "assistant")
    processes, urls = [], []
    try:
        for n in range(count):
            port = free_port()
            folder = root / f"replica-{n}"
            folder.mkdir()
            replica_env = {**os.environ, **env, "ASSISTANT_INDEX_DIR": str(folder / "index")}
            log = open(folder / "server.log", "wb")  # noqa: SIM115 - closed with the process
            command = [script, "serve", "--host", "127.0.0.1", "--port", str(port)]
            processes.append(
                (subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=replica_env), log)
            )
            urls.append(f"http://127.0.0.1:{port}")
        for (process, _), url in zip(processes, urls, strict=True):
            wait_for_http(f"{url}/healthz", SERVER_START_TIMEOUT_S, process)
        yield urls
    finally:
        for process, log in processes:
            stop(process)
            log.close()


@pytest.fixture
def shared(tmp_path, chroma_server, postgres_url, embedder):
    """The settings every replica shares, with the seed article indexed on the Chroma server."""
    env = {
        "ASSISTANT_CHROMA_URL": chroma_server,
        "ASSISTANT_COLLECTION": f"test-{uuid.uuid4().hex[:12]}",
        "ASSISTANT_DATABASE_URL": postgres_url,
    }
    articles = tmp_path / "articles"
    shutil.copytree(SEEDS, articles)
    settings = Settings(
        index_dir=tmp_path / "ingest",
        chroma_url=env["ASSISTANT_CHROMA_URL"],
        collection=env["ASSISTANT_COLLECTION"],
    )
    writer = Assistant(settings, embedder)
    writer.library.ingest([articles])
    writer.close()
    return env


def _eventually(check, timeout_s: float = 15.0):
    """The check's result once it is truthy (another replica's write is noticed within seconds)."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.5)


def test_what_one_replica_is_given_the_other_serves(tmp_path, shared):
    with replicas(tmp_path, shared) as (a, b), httpx.Client(**CLIENT) as client:
        added = client.post(
            f"{a}/api/documents", params={"filename": "trams.txt"}, content=TRAMS, headers=OCTETS
        )
        assert added.status_code == 201 and added.json()["status"] == "added"

        def answered_by_b():
            answer = client.post(
                f"{b}/api/ask", json={"question": "How often does the night tram to Leith run?"}
            )
            cited = {c["doc_id"] for c in answer.json()["citations"]}
            return answer.json() if "uploads/trams.txt" in cited else None

        answer = _eventually(answered_by_b)
        assert answer and "twelve minutes" in answer["answer"]
        keyword_hit = _eventually(
            lambda: client.get(f"{b}/api/search", params={"q": "Leith tram", "retriever": "bm25"}).json()
        )
        assert keyword_hit and keyword_hit[0]["doc_id"] == "uploads/trams.txt"

        made = client.post(f"{a}/api/conversations", json={}).json()
        mine = {"X-Visitor-Token": made["visitor_token"]}
        in_it = {"conversation_id": made["id"]}
        first = "Why is Marco Rubio not attending the NATO meeting?"
        assert client.post(f"{a}/api/ask", json={"question": first} | in_it, headers=mine).status_code == 200
        follow = client.post(f"{b}/api/ask", json={"question": "Who is going instead?"} | in_it, headers=mine)
        assert "Christopher Landau" in follow.json()["answer"], "B read the conversation A stored"
        turns = client.get(f"{a}/api/conversations/{made['id']}", headers=mine).json()["turns"]
        assert [t["question"] for t in turns] == [first, "Who is going instead?"]

        rating = {
            "rating": "down",
            "question": first,
            "answer": "x",
            "comment": "given on B",
            "citations": [],
        }
        assert client.post(f"{b}/api/feedback", json=rating).status_code == 201
        exported = client.get(f"{a}/api/feedback").text
        assert '"comment": "given on B"' in exported

        # a rebuild run beside replica B (its folder, which never saw the upload) keeps A's upload
        beside_b = shared | {"ASSISTANT_INDEX_DIR": str(tmp_path / "replica-1" / "index")}
        rebuilt = cli("ingest", "--rebuild", str(tmp_path / "articles"), env=beside_b)
        assert rebuilt.returncode == 0, rebuilt.stderr
        for url in (a, b):
            listed = _eventually(
                lambda url=url: {d["doc_id"] for d in client.get(f"{url}/api/documents").json()}
            )
            assert {SEED_DOC_ID, "uploads/trams.txt"} <= listed
        again = client.post(f"{b}/api/ask", json={"question": "How often does the night tram to Leith run?"})
        assert "uploads/trams.txt" in {c["doc_id"] for c in again.json()["citations"]}


def test_the_rate_limit_holds_across_replicas(tmp_path, shared):
    with (
        replicas(tmp_path, shared | {"ASSISTANT_RATE_LIMIT": "4"}) as (a, b),
        httpx.Client(**CLIENT) as client,
    ):
        codes = [
            client.get(f"{url}/api/search", params={"q": "NATO"}).status_code for url in (a, b, a, b, a, b)
        ]
        assert codes[:4] == [200] * 4 and codes[4:] == [429, 429]


def test_the_database_down_leaves_questions_answered_and_recovers_without_a_restart(
    tmp_path, shared, postgres_server
):
    with replicas(tmp_path, shared) as (a, b), httpx.Client(**CLIENT) as client:
        postgres_server.stop()
        try:
            asked = client.post(
                f"{b}/api/ask", json={"question": "Who will represent the U.S. at the NATO meeting?"}
            )
            assert asked.status_code == 200 and asked.json()["citations"][0]["doc_id"] == SEED_DOC_ID
            refused = client.post(f"{a}/api/conversations", json={})
            assert refused.status_code == 503
            message = refused.json()["error"]
            assert "\n" not in message and "the database (postgresql+psycopg://postgres@" in message
        finally:
            postgres_server.start()
        assert _eventually(lambda: client.post(f"{a}/api/conversations", json={}).status_code == 201)
        assert client.post(f"{b}/api/conversations", json={}).status_code == 201


def test_a_load_run_over_both_replicas_with_uploads_and_a_bulk_ingest(tmp_path, shared, monkeypatch):
    for name, value in shared.items():  # the ingest it runs writes where the replicas read
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "ingest"))
    questions = load_questions(REPO / "evals" / "seed.jsonl")
    with replicas(tmp_path, shared | {"ASSISTANT_RATE_LIMIT": "0"}) as urls:
        report = run(urls, 4, 3, questions, upload=4, ingest=12, baseline_s=2.0)
    assert report["problems"] == [] and report["answered"] == 12 and report["replicas"] == 2
    assert report["uploads"]["uploaded"] == 4
    during = report["ingest"]
    assert during["articles"] == 12 and during["requests"] > 0 and during["answered"] == during["requests"]
