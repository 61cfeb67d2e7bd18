"""Hostile input, table-driven, over the HTTP API and the CLI: every case gets a 4xx with an
`{"error"}` body, or one `error:` line and a non-zero exit, never a 500 or a traceback; the server
stays healthy after all of them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
import pytest
from conftest import SCRIPT, SEEDS, cli

from assistant.config import Settings
from assistant.pipeline import Assistant

JSON = {"content-type": "application/json"}
FILE = {"content-type": "application/octet-stream"}
FORM = "application/x-www-form-urlencoded"
ELSEWHERE = {"origin": "http://evil.example"}

API_CASES = [
    # (name, method, path, body bytes or None, headers)
    ("empty body", "POST", "/api/ask", b"", JSON),
    ("null", "POST", "/api/ask", b"null", JSON),
    ("a list", "POST", "/api/ask", b"[]", JSON),
    ("a string", "POST", "/api/ask", b'"who?"', JSON),
    ("not JSON", "POST", "/api/ask", b"question=who", JSON),
    ("non-UTF-8 bytes", "POST", "/api/ask", b'{"question": "\xff\xfe\xfd"}', JSON),
    ("lone surrogate escape", "POST", "/api/ask", b'{"question": "\\ud800 who"}', JSON),
    ("NUL and control characters only", "POST", "/api/ask", b'{"question": "\\u0000\\u0001\\u001b"}', JSON),
    ("blank question", "POST", "/api/ask", b'{"question": " \\t\\n "}', JSON),
    ("question too long", "POST", "/api/ask", b'{"question": "' + b"x" * 5000 + b'"}', JSON),
    ("body over the limit", "POST", "/api/ask", b'{"question": "' + b"x" * 70_000 + b'"}', JSON),
    ("question is a number", "POST", "/api/ask", b'{"question": 7}', JSON),
    ("question is a list", "POST", "/api/ask", b'{"question": ["who", "what"]}', JSON),
    ("nested junk", "POST", "/api/ask", b'{"question": {"a": {"b": [1, {"c": null}]}}}', JSON),
    ("deep nesting", "POST", "/api/ask", b"[" * 20_000 + b"]" * 20_000, JSON),
    (
        "deep nesting in a field",
        "POST",
        "/api/ask",
        b'{"question": "q", "k": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        JSON,
    ),
    ("unknown field", "POST", "/api/ask", b'{"question": "q", "admin": true}', JSON),
    ("k as text", "POST", "/api/ask", b'{"question": "q", "k": "five"}', JSON),
    ("k too large", "POST", "/api/ask", b'{"question": "q", "k": 100000}', JSON),
    ("k huge float", "POST", "/api/ask", b'{"question": "q", "k": 1e309}', JSON),
    ("NaN", "POST", "/api/ask", b'{"question": "q", "k": NaN}', JSON),
    ("unknown retriever", "POST", "/api/ask", b'{"question": "q", "retriever": "sql"}', JSON),
    ("unknown mode", "POST", "/api/ask", b'{"question": "q", "mode": "shell"}', JSON),
    ("history not a list", "POST", "/api/ask", b'{"question": "q", "history": "x"}', JSON),
    (
        "history turn junk",
        "POST",
        "/api/ask",
        b'{"question": "q", "history": [{"question": 1, "x": 2}]}',
        JSON,
    ),
    (
        "too many turns",
        "POST",
        "/api/ask",
        b'{"question": "q", "history": [' + b",".join([b'{"question": "a"}'] * 30) + b"]}",
        JSON,
    ),
    ("filters junk", "POST", "/api/ask", b'{"question": "q", "filters": {"doc_ids": "x"}}', JSON),
    ("bad date", "POST", "/api/ask", b'{"question": "q", "filters": {"since": "2025-13-99; DROP"}}', JSON),
    ("stream: empty", "POST", "/api/ask/stream", b'{"question": ""}', JSON),
    ("stream: junk", "POST", "/api/ask/stream", b'{"question": [1]}', JSON),
    ("search: empty", "GET", "/api/search?q=", None, {}),
    ("search: control characters", "GET", "/api/search?q=%00%01%02", None, {}),
    ("search: k negative", "GET", "/api/search?q=nato&k=-1", None, {}),
    ("search: k text", "GET", "/api/search?q=nato&k=abc", None, {}),
    ("search: retriever", "GET", "/api/search?q=nato&retriever=../../etc", None, {}),
    ("search: huge query", "GET", "/api/search?q=" + "y" * 6000, None, {}),
    ("document: traversal", "GET", "/api/documents/../../etc/passwd", None, {}),
    ("document: encoded traversal", "GET", "/api/documents/..%2F..%2Fetc%2Fpasswd", None, {}),
    ("view: traversal", "GET", "/view?doc_id=../../../etc/passwd", None, {}),
    ("view: bad offsets", "GET", "/view?doc_id=x&start=abc", None, {}),
    (
        "feedback: bad rating",
        "POST",
        "/api/feedback",
        b'{"rating": "meh", "question": "q", "answer": "a"}',
        JSON,
    ),
    (
        "feedback: citations junk",
        "POST",
        "/api/feedback",
        b'{"rating": "up", "question": "q", "answer": "a", "citations": [1, 2]}',
        JSON,
    ),
    (
        "feedback: comment too long",
        "POST",
        "/api/feedback",
        b'{"rating": "up", "question": "q", "answer": "a", "comment": "' + b"c" * 3000 + b'"}',
        JSON,
    ),
    ("upload: no name", "POST", "/api/documents", b"Title\n\ntext", FILE),
    ("upload: binary", "POST", "/api/documents?filename=a.txt", b"\x00\x01\x02\x03" * 100, FILE),
    ("upload: wrong type", "POST", "/api/documents?filename=a.exe", b"MZ", FILE),
    ("upload: empty", "POST", "/api/documents?filename=a.md", b"", FILE),
    ("upload: too large", "POST", "/api/documents?filename=a.txt", b"a " * 1_100_000, FILE),
    ("upload: as a form", "POST", "/api/documents?filename=a.txt", b"a=b", {"content-type": FORM}),
    (
        "upload: as plain text",
        "POST",
        "/api/documents?filename=a.txt",
        b"text",
        {"content-type": "text/plain"},
    ),
    ("upload: from another site", "POST", "/api/documents?filename=a.txt", b"x", FILE | ELSEWHERE),
    ("delete: from another site", "DELETE", "/api/documents/uploads/a.txt", None, ELSEWHERE),
    ("delete: unknown", "DELETE", "/api/documents/no/such/article.txt", None, {}),
    ("wrong method", "PUT", "/api/ask", b"{}", JSON),
    ("unknown path", "GET", "/api/../../etc/passwd", None, {}),
]


@pytest.fixture(scope="module")
def client(web_server):
    with httpx.Client(base_url=web_server.url, timeout=60) as client:
        yield client


@pytest.mark.parametrize(
    ("name", "method", "path", "body", "headers"), API_CASES, ids=[c[0] for c in API_CASES]
)
def test_api_refuses_hostile_input_with_a_4xx(client, name, method, path, body, headers):
    response = client.request(method, path, content=body, headers=headers)
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert "Traceback" not in response.text
    if "/../" in path.split("?")[0]:  # the client resolved `..`, as browsers do,
        assert response.json() == {"detail": "Not Found"}  # so the chat app answered its own JSON 404
    elif path.startswith("/view") and response.status_code == 404:  # a page for a person
        assert "Article not found" in response.text and "<script" not in response.text
    else:
        assert response.json()["error"]  # the API's own message


def test_the_server_is_healthy_after_the_hostile_table(client):
    assert client.get("/healthz").status_code == 200
    answer = client.post("/api/ask", json={"question": "Why is Marco Rubio not attending the NATO meeting?"})
    assert answer.status_code == 200 and answer.json()["citations"]


CLI_CASES = [
    # (name, argv after the script, extra environment, text the error line must hold)
    ("empty question", ["ask", ""], {}, "the question is empty"),
    ("control characters", ["ask", "\x01\x02\x1b"], {}, "the question is empty"),
    ("huge question", ["ask", "x" * 5000], {}, "characters long"),
    ("non-UTF-8 argument", [b"ask", b"\xff\xfe who"], {}, "not valid Unicode"),
    ("k zero", ["search", "nato", "--k", "0"], {}, "k must be"),
    ("bad retriever setting", ["ask", "who?"], {"ASSISTANT_RETRIEVER": "sql"}, "ASSISTANT_RETRIEVER"),
    ("bad number setting", ["ask", "who?"], {"ASSISTANT_TOP_K": "many"}, "ASSISTANT_TOP_K"),
    ("bad backend setting", ["ask", "who?"], {"ASSISTANT_EMBED_BACKEND": "gpu"}, "ASSISTANT_EMBED_BACKEND"),
    ("bad date filter", ["ask", "who?", "--since", "yesterday"], {}, "YYYY-MM-DD"),
    ("missing question set", ["eval", "/no/such/set.jsonl"], {}, "/no/such/set.jsonl"),
    ("index is a file", ["--index-dir", "/dev/null", "ask", "who?"], {}, None),
]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory, embedder) -> Path:
    """A seed index of the CLI cases' own (the web server's index belongs to its process)."""
    folder = tmp_path_factory.mktemp("hostile") / "index"
    Assistant(Settings(index_dir=folder), embedder).library.ingest([SEEDS])
    return folder


@pytest.mark.parametrize(("name", "argv", "env", "message"), CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli_refuses_hostile_input_with_one_line(index_dir, name, argv, env, message):
    if argv[0] != "--index-dir":
        argv = ["--index-dir", str(index_dir), *argv]
    args = [SCRIPT.encode(), *(arg if isinstance(arg, bytes) else arg.encode() for arg in argv)]
    done = subprocess.run(args, capture_output=True, timeout=300, env={**os.environ, **env})
    stderr = done.stderr.decode("utf-8", "replace")
    assert done.returncode != 0, done.stdout[-500:]
    assert "Traceback" not in stderr
    assert len([line for line in stderr.splitlines() if "error:" in line]) == 1, stderr
    if message:
        assert message in stderr


def test_cli_ingest_of_hostile_files_reports_each_and_goes_on(tmp_path):
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "good.txt").write_text("Harbour news\n\nThe ferry leaves at nine every morning.")
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    (folder / "empty.md").write_text("")
    (folder / "latin1.txt").write_bytes("Café news\n\nThe café opens at noon.".encode("latin-1"))
    (folder / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    done = cli("--index-dir", str(tmp_path / "index"), "ingest", str(folder))
    assert "Traceback" not in done.stderr
    failed = [line for line in done.stderr.splitlines() if line.startswith("failed:")]
    assert any("binary.txt" in line for line in failed) and any("empty.md" in line for line in failed)
    assert "good.txt" not in " ".join(failed)
    assert "added" in done.stdout
