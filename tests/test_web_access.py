"""Who may do what over HTTP: keys for writing actions, the per-client question limit, request size
limits, and uploads and feedback that outlive the server process."""

import httpx
import pytest
from conftest import cli, kept_uploads, serving

KEY = "test-key-0123456789abcdef"
FILE = {"Content-Type": "application/octet-stream"}  # an upload declares a type no web page can forge
ARTICLE = (
    b"Harbour city opens a floating library\n\n"
    b"The city of Bergenhavn opened a floating library on an old ferry on Monday. "
    b"Mayor Ingrid Solheim said the ferry holds 12,000 books.\n"
)
QUESTION = "How many books does the floating library hold?"


@pytest.fixture(scope="module")
def keyed(tmp_path_factory, embedder):
    env = {"ASSISTANT_API_KEYS": KEY, "ASSISTANT_RATE_LIMIT": "10000"}
    with serving(tmp_path_factory.mktemp("keyed"), embedder, env) as pair:
        yield pair


def test_writing_actions_need_the_key(keyed):
    server, client = keyed
    upload = {"params": {"filename": "library.txt"}, "content": ARTICLE}
    missing = client.post("/api/documents", **upload, headers=FILE)
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer KEY" in missing.json()["error"]
    wrong = client.post(
        "/api/documents", **upload, headers=FILE | {"Authorization": "Bearer not-the-key-at-all"}
    )
    assert wrong.status_code == 403 and wrong.json()["error"] == "the API key is not valid"
    for method, path in [("DELETE", "/api/documents/uploads/library.txt"), ("GET", "/api/feedback")]:
        assert client.request(method, path).status_code == 401
    assert client.post("/api/ask", json={"question": QUESTION}).status_code == 200  # asking stays open

    auth = {"Authorization": f"Bearer {KEY}"}
    added = client.post("/api/documents", **upload, headers=auth | FILE)
    assert added.status_code == 201
    assert added.json() == {
        "doc_id": "uploads/library.txt", "status": "added", "chunks_written": 1, "notes": []
    }  # fmt: skip
    assert kept_uploads(server.index_dir)["library.txt"] == ARTICLE
    hits = client.get("/api/search", params={"q": QUESTION, "k": 1}).json()
    assert hits[0]["doc_id"] == "uploads/library.txt"
    again = client.post("/api/documents", **upload, headers=auth | FILE)
    assert again.json()["status"] == "unchanged"

    removed = client.delete("/api/documents/uploads/library.txt", headers=auth)
    assert removed.status_code == 200 and removed.json()["status"] == "removed"
    assert "library.txt" not in kept_uploads(server.index_dir)
    assert "uploads/library.txt" not in {d["doc_id"] for d in client.get("/api/documents").json()}
    assert client.delete("/api/documents/uploads/library.txt", headers=auth).status_code == 404


def test_the_chats_file_upload_needs_the_key_or_the_pass_the_chat_gets_for_it(keyed):
    """Gradio stores the chat's uploads before any handler runs: the key is checked first."""
    server, client = keyed
    files = {"files": ("note.txt", b"Harbour news\n\nThe ferry runs hourly.", "text/plain")}
    with httpx.Client(base_url=server.url, timeout=60) as browser:  # a cookie jar of its own
        refused = browser.post("/gradio_api/upload", files=files)
        assert refused.status_code == 401 and "needs the API key" in refused.json()["error"]
        assert browser.post("/api/upload-pass").status_code == 401
        wrong = browser.post("/api/upload-pass", headers={"Authorization": "Bearer not-the-key-at-all"})
        assert wrong.status_code == 403 and "assistant_upload_pass" not in browser.cookies
        granted = browser.post("/api/upload-pass", headers={"Authorization": f"Bearer {KEY}"})
        assert granted.status_code == 204
        cookie = granted.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and KEY not in cookie
        stored = browser.post("/gradio_api/upload", files=files)
        assert stored.status_code == 200 and stored.json()[0].endswith("note.txt")
        browser.cookies.set("assistant_upload_pass", "f" * 64)  # a pass the server never gave
        assert browser.post("/gradio_api/upload", files=files).status_code == 401
    with_header = client.post("/gradio_api/upload", files=files, headers={"Authorization": f"Bearer {KEY}"})
    assert with_header.status_code == 200


def test_feedback_export_needs_the_key(keyed):
    _, client = keyed
    rating = {"rating": "up", "question": QUESTION, "answer": "12,000", "comment": "export me"}
    assert client.post("/api/feedback", json=rating).status_code == 201
    export = client.get("/api/feedback", headers={"Authorization": f"Bearer {KEY}"})
    assert export.status_code == 200 and export.headers["content-type"].startswith("application/x-ndjson")
    assert '"comment": "export me"' in export.text


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("../../etc/passwd.txt", b"Title\n\nSome text about a harbour.", None),
        ("evil.exe", b"MZ\x90\x00", "unsupported"),
        ("empty.txt", b"", "empty"),
        ("binary.txt", b"\x00\x01\x02\xff" * 50, "binary file"),
    ],
)
def test_uploads_are_checked_and_never_use_the_name_as_a_path(keyed, filename, content, message):
    server, client = keyed
    response = client.post(
        "/api/documents",
        params={"filename": filename},
        content=content,
        headers=FILE | {"Authorization": f"Bearer {KEY}"},
    )
    if message is None:
        assert response.status_code == 201 and response.json()["doc_id"] == "uploads/passwd.txt"
        assert "passwd.txt" in kept_uploads(server.index_dir)
        assert not (server.index_dir.parent / "etc").exists()
    else:
        assert response.status_code == 400 and message in response.json()["error"]


def test_questions_past_the_rate_limit_get_429_with_retry_after(tmp_path, embedder):
    with serving(tmp_path, embedder, {"ASSISTANT_RATE_LIMIT": "3"}) as (_, client):
        codes = [client.post("/api/ask", json={"question": QUESTION}).status_code for _ in range(3)]
        assert codes == [200, 200, 200]
        refused = client.post("/api/ask", json={"question": QUESTION})
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 20
        assert "try again in" in refused.json()["error"]
        assert client.get("/api/search", params={"q": "NATO"}).status_code == 429
        assert client.get("/api/documents").status_code == 200  # browsing is not limited


def test_request_bodies_over_the_limit_get_413(web_server):
    with httpx.Client(base_url=web_server.url, timeout=60) as client:
        huge = {"question": "q", "history": [{"question": "q", "answer": "a" * 19_000}] * 5}
        response = client.post("/api/ask", json=huge)
        assert response.status_code == 413 and "65,536 bytes" in response.json()["error"]

        def stream():  # chunked, no Content-Length
            yield b'{"question": "'
            for _ in range(100):
                yield b"x" * 1000
            yield b'"}'

        chunked = client.post("/api/ask", content=stream(), headers={"content-type": "application/json"})
        assert chunked.status_code == 413
        assert client.get("/healthz").status_code == 200


def test_uploads_and_feedback_survive_a_restart_and_a_rebuild(tmp_path, embedder):
    with serving(tmp_path, embedder) as (server, c):
        added = c.post("/api/documents", params={"filename": "library.txt"}, content=ARTICLE, headers=FILE)
        assert added.status_code == 201
        rating = {"rating": "down", "question": QUESTION, "answer": "x", "comment": "kept across restarts"}
        assert c.post("/api/feedback", json=rating).status_code == 201
    with serving(tmp_path, embedder) as (server, c):
        assert "uploads/library.txt" in {d["doc_id"] for d in c.get("/api/documents").json()}
        assert "kept across restarts" in c.get("/api/feedback").text
        index_dir = server.index_dir
    rebuilt = cli("--index-dir", str(index_dir), "ingest", "--rebuild", str(tmp_path / "articles"))
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "2 added" in rebuilt.stdout + rebuilt.stderr  # the seed article and the upload
    with serving(tmp_path, embedder) as (server, c):
        hits = c.get("/api/search", params={"q": QUESTION, "k": 1}).json()
        assert hits[0]["doc_id"] == "uploads/library.txt"
