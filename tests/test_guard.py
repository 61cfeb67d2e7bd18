"""The guard's parts on their own: the key rule, the token bucket and the body limit."""

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.web.guard import Access, AccessDenied, BodyLimit, RateLimiter, is_loopback

KEY = "k" * 16 + "-first"
OTHER = "o" * 16 + "-second"


@pytest.mark.parametrize(
    ("keys", "authorization", "host", "status"),
    [
        ("", None, "127.0.0.1", None),
        ("", None, "::1", None),
        ("", None, "192.0.2.7", 403),
        ("", f"Bearer {KEY}", "192.0.2.7", 403),  # no keys configured: a key opens nothing
        (KEY, None, "127.0.0.1", 401),  # keys configured: loopback needs one too
        (KEY, "Basic abc", "192.0.2.7", 401),
        (KEY, "Bearer ", "192.0.2.7", 401),
        (KEY, "Bearer wrong-key-of-some-length", "192.0.2.7", 403),
        (KEY, f"Bearer {KEY}", "192.0.2.7", None),
        (f"{KEY},{OTHER}", f"bearer {OTHER}", "192.0.2.7", None),
    ],
)
def test_writing_needs_a_key_or_this_machine(keys, authorization, host, status):
    access = Access(Settings(api_keys=keys))
    if status is None:
        access.check_write(authorization, host)
        assert access.allows_write(authorization, host)
    else:
        with pytest.raises(AccessDenied) as denied:
            access.check_write(authorization, host)
        assert denied.value.status == status
        assert not access.allows_write(authorization, host)


def test_loopback_is_recognised():
    assert is_loopback("127.0.0.1") and is_loopback("127.5.6.7") and is_loopback("::1")
    assert not is_loopback("10.0.0.1") and not is_loopback("") and not is_loopback(None)
    assert not is_loopback("testclient")


@pytest.mark.parametrize("keys", ["short", f"{KEY} with-space", f"{KEY}\x07"])
def test_weak_or_malformed_keys_are_refused_at_start(keys):
    with pytest.raises(ConfigError) as error:
        Settings(api_keys=keys)
    assert str(error.value).startswith("ASSISTANT_API_KEYS")
    assert KEY not in repr(Settings(api_keys=KEY))  # keys never show in a printed Settings


def test_the_bucket_allows_a_minutes_worth_then_refills():
    now = [0.0]
    limiter = RateLimiter(6, clock=lambda: now[0])  # one token every 10 s, at most 6
    assert [limiter.take("a") for _ in range(6)] == [0] * 6
    assert limiter.take("a") == 10
    assert limiter.take("b") == 0  # clients are counted apart
    now[0] += 10
    assert limiter.take("a") == 0
    assert limiter.take("a") == 10
    now[0] += 3600
    assert [limiter.take("a") for _ in range(7)] == [0] * 6 + [10]  # never more than 6 saved


def test_a_zero_limit_means_no_limit():
    limiter = RateLimiter(0)
    assert all(limiter.take("a") == 0 for _ in range(1000))


def test_forgets_idle_clients_past_the_bound(monkeypatch):
    monkeypatch.setattr("assistant.web.guard.MAX_TRACKED_CLIENTS", 3)
    limiter = RateLimiter(5)
    for client in "abcde":
        limiter.take(client)
    assert list(limiter.buckets) == ["c", "d", "e"]


async def echo(request: Request) -> JSONResponse:
    return JSONResponse({"size": len(await request.body())})


@pytest.fixture
def limited() -> TestClient:
    app = Starlette(
        routes=[Route("/api/echo", echo, methods=["POST"]), Route("/free", echo, methods=["POST"])]
    )
    return TestClient(BodyLimit(app, {"/api/": 100}))


def test_bodies_over_the_limit_are_refused_before_the_app(limited):
    assert limited.post("/api/echo", content=b"x" * 100).json() == {"size": 100}
    declared = limited.post("/api/echo", content=b"x" * 101)
    assert declared.status_code == 413 and "100 bytes" in declared.json()["error"]

    def chunks():  # no Content-Length: counted as it streams in
        for _ in range(5):
            yield b"y" * 30

    streamed = limited.post("/api/echo", content=chunks())
    assert streamed.status_code == 413
    assert limited.post("/free", content=b"z" * 1000).json() == {"size": 1000}  # other paths: no limit


def test_a_lying_content_length_is_refused(limited):
    response = limited.post("/api/echo", content=b"x", headers={"content-length": "abc"})
    assert response.status_code in (400, 413)
