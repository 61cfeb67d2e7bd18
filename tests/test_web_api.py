"""The JSON API of `assistant serve`, over HTTP against the real server."""

import json

import httpx
import pytest
from conftest import SEED_DOC_ID, saved_feedback

QUESTION = "Who will represent the U.S. at the NATO foreign ministers' meeting?"


@pytest.fixture(scope="module")
def client(web_server):
    with httpx.Client(base_url=web_server.url, timeout=60) as client:
        yield client


def test_health_reports_store_model_and_mode(client):
    health = client.get("/healthz")
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "ok" and body["store"]["ok"] and body["store"]["chunks"] >= 6
    assert body["model"] == "all-MiniLM-L6-v2" and body["mode"] == "offline extractive"


def test_ask_returns_the_cli_json_object(client):
    response = client.post("/api/ask", json={"question": QUESTION})
    assert response.status_code == 200
    body = response.json()
    assert "Christopher Landau" in body["answer"] and body["refused"] is False
    assert set(body) >= {"answer", "refused", "mode", "citations", "related", "warnings", "timings_ms"}
    assert {"n", "doc_id", "title", "source", "section", "start_char", "end_char", "text", "score"} <= set(
        body["citations"][0]
    )


def test_ask_with_history_and_filters(client):
    first = "Why is Marco Rubio not attending the NATO meeting?"
    earlier = client.post("/api/ask", json={"question": first}).json()
    history = [{"question": first, "answer": earlier["answer"]}]
    body = client.post(
        "/api/ask",
        json={"question": "Who is going instead?", "history": history, "filters": {"doc_ids": [SEED_DOC_ID]}},
    ).json()
    assert "Christopher Landau" in body["answer"]
    assert body["status"] == "answered"
    assert body["standalone_question"] == f"{first} Who is going instead?"
    nothing = client.post("/api/ask", json={"question": QUESTION, "filters": {"doc_ids": ["nope.txt"]}})
    assert nothing.status_code == 200 and nothing.json()["refused"] is True


def test_streaming_sends_tokens_then_the_answer(client):
    with client.stream("POST", "/api/ask/stream", json={"question": QUESTION}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [
            line.removeprefix("event: ") for line in response.iter_lines() if line.startswith("event: ")
        ]
        assert events[0] == "token" and events[-1] == "answer"
    raw = client.post("/api/ask/stream", json={"question": QUESTION}).text
    final = raw.split("event: answer\ndata: ", 1)[1].split("\n\n", 1)[0]
    assert "Christopher Landau" in json.loads(final)["answer"]


def test_search_and_documents(client):
    results = client.get("/api/search", params={"q": "Christopher Landau", "k": 2}).json()
    assert len(results) == 2 and "Christopher Landau" in results[0]["text"]
    documents = client.get("/api/documents").json()
    assert SEED_DOC_ID in {d["doc_id"] for d in documents}
    document = client.get(f"/api/documents/{SEED_DOC_ID}").json()
    assert document["title"].startswith("The U.S. and NATO") and document["source"] == "Keystone / dpa"
    assert document["text"].startswith("The U.S. and NATO") and "Christopher Landau" in document["text"]
    missing = client.get("/api/documents/no/such.txt")
    assert missing.status_code == 404 and missing.json() == {"error": "no article 'no/such.txt'"}


def test_reindex_reads_an_article_again_and_names_a_missing_one(client):
    article = b"Tram times\n\nThe tram runs hourly."
    added = client.post(
        "/api/documents", params={"filename": "tram-times.txt"}, content=article,
        headers={"content-type": "application/octet-stream"},
    )  # fmt: skip
    doc_id = added.json()["doc_id"]
    again = client.post("/api/documents/reindex", json={"doc_id": doc_id})
    assert again.json() == {"doc_id": doc_id, "status": "reindexed", "chunks_written": 1}
    listed = {d["doc_id"]: d for d in client.get("/api/documents").json()}[doc_id]
    assert listed["chunks"] == 1 and listed["indexed"]
    missing = client.post("/api/documents/reindex", json={"doc_id": "no/such.txt"})
    assert missing.status_code == 404 and missing.json() == {"error": "no article 'no/such.txt'"}
    assert client.delete(f"/api/documents/{doc_id}").status_code == 200


def test_feedback_is_stored_durably(client, web_server):
    body = {"rating": "down", "question": QUESTION, "answer": "x", "comment": "wrong person", "citations": []}
    response = client.post("/api/feedback", json=body)
    assert response.status_code == 201
    saved = saved_feedback(web_server.index_dir)
    assert any(e["id"] == response.json()["id"] and e["comment"] == "wrong person" for e in saved)


def test_a_conversation_is_kept_continued_and_only_its_visitors(client):
    made = client.post("/api/conversations", json={})
    assert made.status_code == 201 and made.json()["turn_count"] == 0
    token, conversation = made.json()["visitor_token"], made.json()["id"]
    mine = {"X-Visitor-Token": token}
    first = "Why is Marco Rubio not attending the NATO meeting?"
    in_it = {"conversation_id": conversation}
    assert client.post("/api/ask", json={"question": first} | in_it, headers=mine).status_code == 200
    follow = client.post("/api/ask", json={"question": "Who is going instead?"} | in_it, headers=mine).json()
    assert "Christopher Landau" in follow["answer"], "the history came from the stored conversation"
    assert follow["standalone_question"] == f"{first} Who is going instead?"
    raw = client.post(
        "/api/ask/stream", json={"question": "Where is the meeting?"} | in_it, headers=mine
    ).text
    assert "event: answer" in raw

    (listed,) = client.get("/api/conversations", headers=mine).json()
    assert (listed["id"], listed["title"], listed["turn_count"]) == (conversation, first, 3)
    whole = client.get(f"/api/conversations/{conversation}", headers=mine).json()
    assert [t["question"] for t in whole["turns"]] == [
        first,
        "Who is going instead?",
        "Where is the meeting?",
    ]
    assert whole["turns"][1]["answer"]["answer"] == follow["answer"]

    renamed = client.patch(f"/api/conversations/{conversation}", json={"title": "Rubio"}, headers=mine)
    assert renamed.json()["title"] == "Rubio"

    theirs = {"X-Visitor-Token": client.post("/api/conversations").json()["visitor_token"]}
    assert len(client.get("/api/conversations", headers=theirs).json()) == 1, "only their own, empty one"
    for response in (
        client.get(f"/api/conversations/{conversation}", headers=theirs),
        client.post("/api/ask", json={"question": "And then?"} | in_it, headers=theirs),
        client.delete(f"/api/conversations/{conversation}", headers=theirs),
    ):
        assert response.status_code == 404 and response.json() == {
            "error": f"no conversation {conversation!r}"
        }

    no_token = client.get("/api/conversations")
    assert no_token.status_code == 400 and "send the X-Visitor-Token header" in no_token.json()["error"]
    both = {"question": "q", "history": [{"question": "a", "answer": "b"}]} | in_it
    assert client.post("/api/ask", json=both, headers=mine).json() == {
        "error": "send either conversation_id or history, not both"
    }
    deleted = client.delete(f"/api/conversations/{conversation}", headers=mine)
    assert deleted.json() == {"id": conversation, "status": "deleted"}
    assert client.get(f"/api/conversations/{conversation}", headers=mine).status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "payload", "status", "message"),
    [
        ("post", "/api/ask", {"question": "   "}, 400, "the question is empty"),
        ("post", "/api/ask", {"question": "x" * 3000}, 400, "the question is 3,000 characters long"),
        ("post", "/api/ask", {}, 422, "invalid request: question: Field required"),
        ("post", "/api/ask", {"question": 42}, 422, "invalid request: question:"),
        (
            "post",
            "/api/ask",
            {"question": "q", "colour": "red"},
            422,
            "colour: Extra inputs are not permitted",
        ),
        ("post", "/api/ask", {"question": "q", "k": 0}, 422, "invalid request: k:"),
        (
            "post",
            "/api/ask",
            {"question": "q", "filters": {"since": "yesterday"}},
            400,
            "filters.since 'yesterday' is not a date in the form YYYY-MM-DD, or days or weeks back (7d, 2w)",
        ),
        (
            "post",
            "/api/ask",
            {"question": "q", "filters": {"until": "2024-13-45"}},
            400,
            "filters.until '2024-13-45' is not a date",
        ),
        ("post", "/api/ask", {"question": "q", "history": "none"}, 422, "invalid request: history"),
        ("post", "/api/feedback", {"rating": "meh", "question": "q", "answer": "a"}, 422, "rating"),
        ("get", "/api/search?q=&k=3", None, 400, "the question is empty"),
        ("get", "/api/search?q=nato&k=500", None, 400, "k must be between 1 and 50"),
    ],
)
def test_bad_requests_get_4xx_with_an_error(client, method, path, payload, status, message):
    response = client.request(method.upper(), path, json=payload)
    assert response.status_code == status
    assert message in response.json()["error"]


def test_malformed_json_is_a_4xx(client):
    response = client.post("/api/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422 and "invalid request" in response.json()["error"]


def test_openapi_docs_and_embedding_headers(client, web_server):
    assert "swagger-ui" not in client.get("/docs").text  # off: it loaded its scripts from a CDN
    assert "/api/ask" in client.get("/openapi.json").json()["paths"]
    allowed = f"http://127.0.0.1:{web_server.page_port}"
    embed = client.get("/embed/")
    assert embed.status_code == 200
    bare = client.get("/embed?theme=dark", follow_redirects=False)  # was a JSON 404
    assert bare.status_code == 307 and bare.headers["location"] == "embed/?theme=dark"
    followed = client.get("/embed", follow_redirects=True)
    assert followed.status_code == 200 and str(followed.url).endswith("/embed/")
    assert embed.headers["content-security-policy"] == f"frame-ancestors 'self' {allowed}"
    preflight = client.options(
        "/api/ask", headers={"Origin": allowed, "Access-Control-Request-Method": "POST"}
    )
    assert preflight.headers["access-control-allow-origin"] == allowed
    stranger = client.post("/api/ask", json={"question": QUESTION}, headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in stranger.headers
    widget = client.get("/widget.js")
    assert widget.headers["content-type"].startswith("text/javascript") and "/embed/" in widget.text


def test_a_missing_article_in_the_viewer_is_a_page_with_the_way_back(client):
    missing = client.get("/view", params={"doc_id": "gone/<b>old</b>.txt", "start": 0, "end": 5})
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "Article not found" in missing.text and 'href="./"' in missing.text
    assert "gone/&lt;b&gt;old&lt;/b&gt;.txt" in missing.text and "<b>old" not in missing.text
