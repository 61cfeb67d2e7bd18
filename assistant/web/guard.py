"""What stands between the open web and the assistant: who may change things, how often one client
may ask, and how large a request may be.

- Writing actions (uploading or deleting articles, exporting feedback, running evaluations) need
  `Authorization: Bearer KEY` with a key from ASSISTANT_API_KEYS; with no keys configured they are
  accepted from loopback clients only. Asking stays open.
- Questions are rate-limited per client with a token bucket (ASSISTANT_RATE_LIMIT per minute; the
  bucket holds a minute's worth, so short bursts pass); over the limit a 429 says when to come back.
- Request bodies over the limit are refused with 413 while they stream in, before they are parsed,
  and a body that does not arrive within ASSISTANT_BODY_TIMEOUT_S gets a 408.
- Forged requests from other web pages (`CrossSiteGate`): a request that a page on another origin
  sent (its `Origin`, or `Sec-Fetch-Site` when it has none) is refused with 403 everywhere but the
  open endpoints (asking, searching, reading articles, the widget script), whose answers only
  ASSISTANT_EMBED_ORIGINS may read (CORS). That covers the JSON API's writing actions and all of the
  chat's own (Gradio) endpoints. A writing action is also checked for its key before its body is
  read, and an upload must declare a content type no page can send without asking first
  (`application/octet-stream`, `text/markdown`, `text/html`: not `text/plain` or a form).
- The chat's file upload (Gradio's `/gradio_api/upload`, which stores the files before any handler
  runs) follows the rule of the writing actions too: the key, sent as the header or as the upload
  pass the chat gets for it (an HttpOnly cookie holding an HMAC of the key, never the key itself;
  `POST /api/upload-pass`), or this machine when no keys are set. Its files are rate-limited per
  client (ASSISTANT_UPLOAD_RATE_LIMIT) and deleted within the hour.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import logging
import math
import secrets
import threading
import time
from collections import OrderedDict
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.config import Settings
from assistant.errors import DatabaseError
from assistant.records.database import Database
from assistant.records.limits import SharedBuckets

log = logging.getLogger(__name__)

MAX_TRACKED_CLIENTS = 10_000
UPLOAD_PASS_COOKIE = "assistant_upload_pass"


class Guard:
    """The access rule and the question limiter, shared by the JSON API and the chat."""

    def __init__(self, settings: Settings, database: Database | None = None) -> None:
        """`database`: with ASSISTANT_DATABASE_URL set, the limits are counted in it, together with
        every other process on it (replicas behind one balancer)."""
        self.access = Access(settings)
        shared = database if settings.database_url else None
        self.questions = RateLimiter(
            settings.rate_limit, shared=_buckets(shared, "questions", settings.rate_limit)
        )
        self.uploads = RateLimiter(  # files sent to the chat's upload
            settings.upload_rate_limit, shared=_buckets(shared, "uploads", settings.upload_rate_limit)
        )


def _buckets(database: Database | None, name: str, per_minute: int) -> SharedBuckets | None:
    return SharedBuckets(database, name, per_minute) if database is not None and per_minute > 0 else None


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
        self._secret = secrets.token_bytes(32)  # upload passes last as long as the process

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
        token = bearer_token(authorization)
        if not token:
            raise AccessDenied("this action needs Authorization: Bearer KEY", 401)
        offered = token.encode()
        if not any(hmac.compare_digest(offered, key) for key in self.keys):
            raise AccessDenied("the API key is not valid", 403)

    def upload_pass(self, key: str) -> str:
        """What the chat's upload carries for a key: an HMAC of it, useless anywhere else."""
        return hmac.new(self._secret, key.strip().encode(), "sha256").hexdigest()

    def check_upload(self, authorization: str | None, upload_pass: str, host: str | None) -> None:
        """Like `check_write`, with the chat's upload pass accepted in place of the key."""
        if self.keys and upload_pass:
            for key in self.keys:
                if hmac.compare_digest(upload_pass.encode(), self.upload_pass(key.decode()).encode()):
                    return
        self.check_write(authorization, host)

    def allows_write(self, authorization: str | None, host: str | None) -> bool:
        try:
            self.check_write(authorization, host)
        except AccessDenied:
            return False
        return True


def bearer_token(authorization: str | None) -> str:
    """The key of an `Authorization: Bearer KEY` header ("" for none or another scheme)."""
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


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

    def __init__(self, per_minute: int, clock=time.monotonic, shared: SharedBuckets | None = None) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self.shared = shared  # counted in the database when given; here while it fails
        self._failing = False
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client -> (tokens, at)
        self.lock = threading.Lock()

    def check(self, client: str) -> None:
        """Take a token for `client` or raise RateLimited."""
        wait = self.take(client)
        if wait:
            raise RateLimited(wait)

    def take(self, client: str) -> int:
        """Take a token for `client`: 0 if it may go on, else the whole seconds until it may."""
        if self.per_minute <= 0:
            return 0
        if self.shared is not None:
            try:
                wait = self.shared.take(client)
                self._failing = False
                return wait
            except DatabaseError as exc:
                if not self._failing:  # said once per outage, not once per question
                    log.warning("%s; the rate limit counted in this process until it is back", exc)
                    self._failing = True
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
    whether Content-Length declared the size or not, or with a 408 when the client stops sending for
    `timeout_s`."""

    def __init__(self, app: ASGIApp, limits: dict[str, int], timeout_s: float = 20.0) -> None:
        self.app = app
        self.limits = sorted(limits.items(), key=lambda item: -len(item[0]))  # longest prefix first
        self.timeout_s = timeout_s

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
            try:
                message = await asyncio.wait_for(receive(), self.timeout_s)
            except TimeoutError:
                error = {"error": f"the request body did not arrive within {self.timeout_s:g} s"}
                await JSONResponse(error, status_code=408, headers={"Connection": "close"})(
                    scope, receive, send
                )
                return
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


# What any web page may call: asking, searching, reading articles and the widget's script. Their
# answers are readable cross-origin only by ASSISTANT_EMBED_ORIGINS (CORS).
OPEN_PATHS = ("/api/ask", "/api/search", "/healthz", "/view", "/widget.js")
OPEN_READS = ("/api/documents",)  # GET only
# Writing actions, as (method, path or path prefix ending in /).
WRITES = (("POST", "/api/documents"), ("DELETE", "/api/documents/"), ("GET", "/api/feedback"))
# Content types a page on another origin may send without a preflight: never an upload's.
SIMPLE_TYPES = frozenset({"", "text/plain", "multipart/form-data", "application/x-www-form-urlencoded"})


class CrossSiteGate:
    """ASGI middleware in front of the app: refuses what another web page could forge (see the module
    docstring), and checks a writing action's key before its body is read."""

    def __init__(
        self, app: ASGIApp, access: Access, origins: list[str], limiter: RateLimiter | None = None
    ) -> None:
        self.app = app
        self.access = access
        self.origins = {urlsplit(o).netloc for o in origins}
        self.limiter = limiter  # of files sent to the chat's upload endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self.refusal(scope)
        if refusal:
            status, message, headers = refusal
            await JSONResponse({"error": message}, status_code=status, headers=headers)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def refusal(self, scope: Scope) -> tuple[int, str, dict[str, str]] | None:
        """(status, message, headers) for a request to refuse, else None."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        method, path = scope["method"], scope.get("path", "")
        if self.cross_site(headers) and not _open(method, path):
            message = (
                "cross-site request refused: this action is only accepted from the assistant's own pages"
            )
            return 403, message, {}
        client = scope.get("client")
        if method == "POST" and path.endswith("/gradio_api/upload"):
            return self.upload_refusal(headers, client[0] if client else "")
        if not any(
            method == m and (path == p or (p.endswith("/") and path.startswith(p))) for m, p in WRITES
        ):
            return None
        try:
            self.access.check_write(headers.get("authorization"), client[0] if client else "")
        except AccessDenied as exc:
            return exc.status, str(exc), {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if method == "POST" and content_type in SIMPLE_TYPES:
            message = (
                "send the article with Content-Type: application/octet-stream (or text/markdown, text/html); "
                f"{content_type or 'no content type'} is refused, as any web page could send it"
            )
            return 415, message, {}
        return None

    def upload_refusal(self, headers: dict[str, str], host: str) -> tuple[int, str, dict[str, str]] | None:
        """The chat's file upload: the key (or its upload pass), then the per-client file limit."""
        cookies = SimpleCookie()
        with contextlib.suppress(CookieError):  # a malformed Cookie header carries no pass
            cookies.load(headers.get("cookie", ""))
        held = cookies.get(UPLOAD_PASS_COOKIE)
        try:
            self.access.check_upload(headers.get("authorization"), held.value if held else "", host)
        except AccessDenied as exc:
            message = (
                "adding articles needs the API key: type it in the key field first"
                if exc.status == 401
                else str(exc)
            )
            return exc.status, message, {}
        wait = self.limiter.take(host) if self.limiter else 0
        if wait:
            message = f"too many uploads from this client; try again in {wait} s"
            return 429, message, {"Retry-After": str(wait)}
        return None

    def cross_site(self, headers: dict[str, str]) -> bool:
        """Did a page on another origin send this? Its Origin (when the browser sent one) is neither this
        server's (its Host) nor an embed origin; without an Origin, the browser says so in
        Sec-Fetch-Site, save for navigations (opening a page, the widget's frame)."""
        origin = headers.get("origin")
        if origin is not None:
            netloc = urlsplit(origin).netloc if origin != "null" else ""
            return not netloc or (netloc != headers.get("host", "") and netloc not in self.origins)
        site = headers.get("sec-fetch-site", "")
        return site in ("cross-site", "same-site") and headers.get("sec-fetch-mode") != "navigate"


def _open(method: str, path: str) -> bool:
    return _under(path, OPEN_PATHS) or (method in ("GET", "HEAD") and _under(path, OPEN_READS))


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    """Is the path one of these, or below one of them?"""
    return any(path == p or path.startswith(p + "/") for p in prefixes)


class SecurityHeaders:
    """ASGI middleware: who may frame the pages (`frame_ancestors`), no script at all in the article
    viewer, no type sniffing, no referrer to other sites. Headers are added as a response starts, so
    a request the client abandoned mid-body simply ends, with nothing logged."""

    def __init__(self, app: ASGIApp, frame_ancestors: list[str]) -> None:
        self.app = app
        self.frame_ancestors = " ".join(frame_ancestors)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = f"frame-ancestors {self.frame_ancestors}"
        if scope.get("path") == "/view":  # article text only: no script may run there at all
            policy += "; script-src 'none'; object-src 'none'"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = policy
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"
            await send(message)

        await self.app(scope, receive, with_headers)
