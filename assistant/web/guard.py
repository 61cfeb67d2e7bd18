"""What stands between the open web and the assistant: who may change things, how often one client
may ask, and how large a request may be.

- Writing actions (uploading or deleting articles, exporting feedback, running evaluations) need
  `Authorization: Bearer KEY` with a key from ASSISTANT_API_KEYS; with no keys configured they are
  accepted from loopback clients only. Asking stays open.
- Questions are rate-limited per client with a token bucket (ASSISTANT_RATE_LIMIT per minute; the
  bucket holds a minute's worth, so short bursts pass); over the limit a 429 says when to come back.
- Request bodies over the limit are refused with 413 while they stream in, before they are parsed.
"""

from __future__ import annotations

import hmac
import ipaddress
import math
import threading
import time
from collections import OrderedDict

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.config import Settings

MAX_TRACKED_CLIENTS = 10_000


class Guard:
    """The access rule and the question limiter, shared by the JSON API and the chat."""

    def __init__(self, settings: Settings) -> None:
        self.access = Access(settings)
        self.questions = RateLimiter(settings.rate_limit)


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many questions from this client; try again in {retry_after} s")
        self.retry_after = retry_after


class AccessDenied(Exception):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class Access:
    """Decides whether a request may change the index or read what users sent."""

    def __init__(self, settings: Settings) -> None:
        self.keys = [key.encode() for key in settings.keys]

    def check_write(self, authorization: str | None, host: str | None) -> None:
        """Raise AccessDenied (401/403) unless the request carries a valid key, or no keys are set
        and it comes from this machine."""
        if not self.keys:
            if is_loopback(host):
                return
            raise AccessDenied(
                "writing actions are accepted from this machine only; set ASSISTANT_API_KEYS on the "
                "server and send Authorization: Bearer KEY",
                403,
            )
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AccessDenied("this action needs Authorization: Bearer KEY", 401)
        offered = token.strip().encode()
        if not any(hmac.compare_digest(offered, key) for key in self.keys):
            raise AccessDenied("the API key is not valid", 403)

    def allows_write(self, authorization: str | None, host: str | None) -> bool:
        try:
            self.check_write(authorization, host)
        except AccessDenied:
            return False
        return True


def client_host(request) -> str:
    """The client's address of a Starlette or Gradio request ("" when unknown)."""
    client = getattr(request, "client", None)
    return getattr(client, "host", "") or ""


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class RateLimiter:
    """A token bucket per client: `per_minute` tokens a minute, holding at most a minute's worth."""

    def __init__(self, per_minute: int, clock=time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client -> (tokens, at)
        self.lock = threading.Lock()

    def check(self, client: str) -> None:
        """Take a token for `client` or raise RateLimited."""
        wait = self.retry_after(client)
        if wait:
            raise RateLimited(wait)

    def retry_after(self, client: str) -> int:
        """Take a token for `client`: 0 if it may go on, else the whole seconds until it may."""
        if self.per_minute <= 0:
            return 0
        rate = self.per_minute / 60.0
        now = self.clock()
        with self.lock:
            tokens, at = self.buckets.pop(client, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - at) * rate)
            wait = 0 if tokens >= 1 else max(1, math.ceil((1 - tokens) / rate))
            self.buckets[client] = (tokens - 1 if wait == 0 else tokens, now)
            while len(self.buckets) > MAX_TRACKED_CLIENTS:
                self.buckets.popitem(last=False)  # the longest-idle client starts afresh
        return wait


class BodyLimit:
    """ASGI middleware: request bodies to paths under the given prefixes are read in full before the
    app sees them, and refused with a 413 (nothing passed on) once they pass the prefix's limit,
    whether Content-Length declared the size or not."""

    def __init__(self, app: ASGIApp, limits: dict[str, int]) -> None:
        self.app = app
        self.limits = sorted(limits.items(), key=lambda item: -len(item[0]))  # longest prefix first

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = next((n for prefix, n in self.limits if scope.get("path", "").startswith(prefix)), None)
        if scope["type"] != "http" or limit is None:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(limit)(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > limit:
                await _too_large(limit)(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # after the body: wait for the disconnect, as servers do
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse({"error": f"the request body is over the limit of {limit:,} bytes"}, status_code=413)
