"""Load on loopback: 20 clients x 10 questions at once, then the same while articles are uploaded.

All clients share 127.0.0.1, so the per-client question limit is raised for this server; the limit
itself is tested in test_web_access. Latencies are printed by the script, never asserted.
"""

from pathlib import Path

import pytest
from conftest import REPO, seeded_server

from assistant.loadtest import load_questions, run

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
    kept = sorted(p.name for p in (server.index_dir / "uploads").iterdir())
    assert len(kept) == 12 and all(name.startswith("load-") for name in kept)


def test_the_script_exits_nonzero_when_requests_fail(questions, tmp_path: Path):
    from conftest import free_port

    from assistant.loadtest import main

    nobody = f"http://127.0.0.1:{free_port()}"
    assert (
        main(["--url", nobody, "--clients", "2", "--questions", "1", "--json", str(tmp_path / "r.json")]) == 1
    )
    assert '"answered": 0' in (tmp_path / "r.json").read_text()
