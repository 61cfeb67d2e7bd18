"""What another web page, or a slow or greedy client, can do to `assistant serve`: forged writes are
refused (cross-site Origin or Sec-Fetch-Site, a form's content type), Gradio's endpoints follow the
same origin rule as the API, no run history keeps the API key, a writing action's key is checked
before its body is read, slow bodies time out and connections are capped."""

import socket
import time

import httpx
import pytest
from conftest import serving

KEY = "test-key-0123456789abcdef"
FILE = {"Content-Type": "application/octet-stream"}
ARTICLE = b"Harbour news\n\nThe harbour ferry runs every twenty minutes from Monday."


@pytest.fixture(scope="module")
def open_server(tmp_path_factory, embedder):
    """No keys: writing actions are accepted from this machine, so only the origin rule stands
    between a web page in the user's browser and the index."""
    env = {"ASSISTANT_RATE_LIMIT": "10000", "ASSISTANT_BODY_TIMEOUT_S": "1"}
    with serving(tmp_path_factory.mktemp("open"), embedder, env) as pair:
        yield pair


def read_reply(connection: socket.socket) -> bytes:
    """A whole HTTP response from a raw socket: its head, then as much body as it declares."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(4096)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        ),
        0,
    )
    while len(body) < length:
        chunk = connection.recv(4096)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def listed(client) -> set[str]:
    return {d["doc_id"] for d in client.get("/api/documents").json()}


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example", "Content-Type": "text/plain"},
        {"Origin": "http://127.0.0.1:5555", **FILE},  # another port of this machine
        {"Origin": "null", **FILE},  # a sandboxed frame or a file:// page
        {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "no-cors", "Content-Type": "text/plain"},
        {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors", **FILE},
    ],
)
def test_a_write_another_page_sends_is_refused_and_plants_nothing(open_server, headers):
    server, client = open_server
    response = client.post(
        "/api/documents", params={"filename": "planted.txt"}, content=ARTICLE, headers=headers
    )
    assert response.status_code == 403
    assert "cross-site request refused" in response.json()["error"]
    assert "uploads/planted.txt" not in listed(client)
    assert not (server.index_dir / "uploads" / "planted.txt").exists()


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_an_upload_must_declare_a_type_no_page_can_send_unasked(open_server, content_type):
    server, client = open_server
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post(
        "/api/documents", params={"filename": "typed.txt"}, content=ARTICLE, headers=headers
    )
    assert response.status_code == 415
    assert "Content-Type: application/octet-stream" in response.json()["error"]
    assert "uploads/typed.txt" not in listed(client)


def test_the_assistants_own_page_and_tools_still_write(open_server):
    server, client = open_server
    own = {"Origin": server.url, "Sec-Fetch-Site": "same-origin", **FILE}
    added = client.post("/api/documents", params={"filename": "own.txt"}, content=ARTICLE, headers=own)
    assert added.status_code == 201
    assert client.delete("/api/documents/uploads/own.txt", headers={"Origin": server.url}).status_code == 200
    embedder_origin = f"http://127.0.0.1:{server.page_port}"  # ASSISTANT_EMBED_ORIGINS
    allowed = client.post(
        "/api/documents",
        params={"filename": "own.txt"},
        content=ARTICLE,
        headers={"Origin": embedder_origin, **FILE},
    )
    assert allowed.status_code == 201


def test_asking_stays_open_to_other_pages_but_only_embed_origins_read_it(open_server):
    server, client = open_server
    question = {"question": "How often does the harbour ferry run?"}
    elsewhere = client.post("/api/ask", json=question, headers={"Origin": "http://evil.example"})
    assert elsewhere.status_code == 200 and "access-control-allow-origin" not in elsewhere.headers
    embedder_origin = f"http://127.0.0.1:{server.page_port}"
    allowed = client.post("/api/ask", json=question, headers={"Origin": embedder_origin})
    assert allowed.headers["access-control-allow-origin"] == embedder_origin


@pytest.mark.parametrize("origin", ["http://localhost:5555", "http://127.0.0.1:5555", "http://evil.example"])
def test_gradio_endpoints_follow_the_same_origin_rule(open_server, origin):
    server, client = open_server
    for method, path in [
        ("GET", "/gradio_api/info"),
        ("GET", "/config"),
        ("POST", "/gradio_api/call/add_files"),
    ]:
        response = client.request(method, path, headers={"Origin": origin}, json={"data": []})
        assert response.status_code == 403, (method, path, response.status_code)
        assert "access-control-allow-origin" not in response.headers
    assert client.get("/gradio_api/info", headers={"Origin": server.url}).status_code == 200
    assert client.get("/gradio_api/info").status_code == 200  # tools that send no Origin


def test_no_run_history_keeps_what_was_typed(open_server):
    server, client = open_server
    config = client.get("/config").json()
    assert config.get("run_history") is False
    runs = client.get("/gradio_api/runs")
    assert runs.status_code == 404 or "run history" not in runs.text.lower()


def test_a_slow_body_times_out_and_the_server_stays_healthy(open_server):
    server, client = open_server
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as slow:
        slow.sendall(
            b"POST /api/ask HTTP/1.1\r\nHost: " + host.encode() + b"\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"question": '
        )
        started = time.monotonic()
        reply = read_reply(slow)
        waited = time.monotonic() - started
    assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
    assert waited < 8
    assert client.get("/healthz").status_code == 200


def test_a_writing_action_is_refused_before_its_body_is_read(tmp_path, embedder):
    with serving(tmp_path, embedder, {"ASSISTANT_API_KEYS": KEY}) as (server, client):
        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sender:
            sender.sendall(
                b"POST /api/documents?filename=big.txt HTTP/1.1\r\nHost: " + host.encode() + b"\r\n"
                b"Content-Type: application/octet-stream\r\nContent-Length: 1500000\r\n\r\n" + b"a" * 1000
            )
            reply = read_reply(sender)  # answered with 1,499,000 bytes still unsent
        assert reply.startswith(b"HTTP/1.1 401"), reply[:200]
        assert b"Authorization: Bearer KEY" in reply


def test_connections_past_the_cap_get_a_503(tmp_path, embedder):
    env = {"ASSISTANT_MAX_CONNECTIONS": "3", "ASSISTANT_BODY_TIMEOUT_S": "30"}
    with serving(tmp_path, embedder, env) as (server, client):
        host, port = server.url.removeprefix("http://").split(":")
        held = []
        try:
            for _ in range(3):  # three requests that never finish their bodies
                held.append(socket.create_connection((host, int(port)), timeout=10))
                held[-1].sendall(
                    b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 100\r\n\r\n{"
                )
            time.sleep(0.5)
            with httpx.Client(timeout=10) as fresh:
                assert fresh.get(f"{server.url}/healthz").status_code == 503
        finally:
            for connection in held:
                connection.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with httpx.Client(timeout=10) as fresh:
                if fresh.get(f"{server.url}/healthz").status_code == 200:
                    break
            time.sleep(0.2)
        else:
            pytest.fail("the server did not recover once the held connections closed")


def test_a_busy_port_is_one_line_and_nothing_is_announced(tmp_path):
    from conftest import cli

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli(
            "serve", "--host", "127.0.0.1", "--port", str(port), env={"ASSISTANT_INDEX_DIR": str(tmp_path)}
        )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]
    assert "News assistant on" not in result.stdout


def test_a_host_name_made_to_point_here_is_refused(open_server):
    server, client = open_server
    for method, path in [
        ("GET", "/api/feedback"),
        ("GET", "/config"),
        ("DELETE", "/api/documents/uploads/x.txt"),
    ]:
        response = client.request(method, path, headers={"Host": "rebind.attacker.example"})
        assert response.status_code == 400, (method, path)
    assert client.get("/healthz", headers={"Host": "localhost"}).status_code == 200


def test_made_up_forwarded_addresses_get_no_fresh_allowance(tmp_path, embedder):
    with serving(tmp_path, embedder, {"ASSISTANT_RATE_LIMIT": "2"}) as (server, client):
        statuses = [
            client.get(
                "/api/search", params={"q": "ferry"}, headers={"X-Forwarded-For": f"10.0.0.{n}"}
            ).status_code
            for n in range(4)
        ]
        assert statuses[:2] == [200, 200] and 429 in statuses[2:]


def test_the_api_documentation_loads_nothing_from_elsewhere(open_server):
    server, client = open_server
    assert client.get("/openapi.json").json()["info"]["title"] == "News assistant"
    docs = client.get("/docs")
    assert "cdn.jsdelivr.net" not in docs.text and "unpkg.com" not in docs.text


def test_a_client_that_drops_a_request_mid_body_leaves_no_traceback(open_server):
    server, client = open_server
    host, port = server.url.removeprefix("http://").split(":")
    for path, content_type in [
        ("/api/documents?filename=dropped.txt", "application/octet-stream"),
        ("/api/ask", "application/json"),
        ("/gradio_api/queue/join", "application/json"),
    ]:
        with socket.create_connection((host, int(port)), timeout=10) as dropped:
            dropped.sendall(
                f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n"
                "Content-Length: 100000\r\n\r\n".encode()
                + b"a" * 1000
            )
            time.sleep(0.2)
    time.sleep(0.5)
    assert client.get("/healthz").status_code == 200
    log = (server.index_dir.parent / "server.log").read_text()
    assert "Traceback" not in log and "No response returned" not in log


def test_files_sent_to_the_chats_upload_endpoint_are_rate_limited(tmp_path, embedder):
    with serving(tmp_path, embedder, {"ASSISTANT_UPLOAD_RATE_LIMIT": "2"}) as (server, client):
        files = {"files": ("note.txt", b"Harbour news\n\nThe ferry runs hourly.", "text/plain")}
        statuses = [client.post("/gradio_api/upload", files=files).status_code for _ in range(4)]
        assert statuses[:2] == [200, 200] and statuses[2:] == [429, 429]
        refused = client.post("/gradio_api/upload", files=files)
        assert int(refused.headers["retry-after"]) >= 1 and "too many uploads" in refused.json()["error"]
