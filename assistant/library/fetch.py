"""Fetching pages, feeds and sitemaps over HTTP: politely and within limits.

Only http(s) URLs. Each response is read up to a byte limit after decompression (a gzip bomb stops
there), redirects are followed a few times at most, robots.txt is respected for the project's
User-Agent, each host gets at most PER_HOST requests at once with a pause between them, and, unless
allowed, private, loopback and link-local addresses are refused (a server fetching on behalf of a
browser user must not reach its own network). Every failure is one `FetchError` line naming the URL.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
import urllib.robotparser
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from assistant.errors import AssistantError

USER_AGENT = "news-assistant/0.1 (+https://github.com/news-assistant; article ingestion)"
MAX_REDIRECTS = 5
PER_HOST = 2  # requests to one host at once
HOST_PAUSE_S = 0.1  # between two requests to one host


class FetchError(AssistantError):
    """One URL could not be fetched or is not usable; the message names it."""


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    content: bytes
    content_type: str  # without parameters, lower case
    status: int


class Fetcher:
    """One HTTP client shared by the threads of an ingestion."""

    def __init__(
        self,
        *,
        timeout_s: float = 15.0,
        max_bytes: int = 5_000_000,
        allow_private: bool = False,
        user_agent: str = USER_AGENT,
        validators: dict[str, dict[str, str]] | None = None,
    ) -> None:
        """`validators`: what earlier fetches answered (url -> {"etag", "last_modified"}), sent back as
        conditional requests (an unchanged URL answers 304, with no body) and updated as URLs
        answer; the caller keeps it between runs."""
        self.validators = validators if validators is not None else {}
        self.max_bytes = max_bytes
        self.allow_private = allow_private
        self.user_agent = user_agent
        self.client = httpx.Client(
            timeout=timeout_s,
            follow_redirects=False,  # each hop is checked (scheme, address) before it is followed
            headers={"User-Agent": user_agent},
        )
        self._robots: dict[str, urllib.robotparser.RobotFileParser] = {}
        self._hosts: dict[str, threading.Semaphore] = {}
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self.client.close()

    def get(self, url: str, *, check_robots: bool = True) -> Fetched:
        """The body of `url` (following redirects), or a FetchError saying why not."""
        for _ in range(MAX_REDIRECTS + 1):
            self._check_address(url)
            if check_robots and not self._robots_allow(url):
                agent = self.user_agent.split("/")[0]
                raise FetchError(f"{url}: robots.txt does not allow {agent} to fetch it")
            known = self.validators.get(url, {}) if check_robots else {}
            response = self._request(url, known)
            if response.status_code in (301, 302, 303, 307, 308) and "location" in response.headers:
                url = str(httpx.URL(url).join(response.headers["location"]))
                continue
            if response.status_code == 304:
                return Fetched(url, b"", "", 304)
            if response.status_code >= 400:
                status = f"{response.status_code} {response.reason_phrase}".strip()
                raise FetchError(f"{url}: the server answered {status}")
            seen = {
                "etag": response.headers.get("etag", ""),
                "last_modified": response.headers.get("last-modified", ""),
            }
            if check_robots and any(seen.values()):
                with self._lock:
                    self.validators[url] = seen
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
            return Fetched(url, response.content, kind, response.status_code)
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects (a redirect loop?)")

    def _request(self, url: str, known: dict[str, str]) -> httpx.Response:
        host = urlsplit(url).netloc.lower()
        with self._lock:
            gate = self._hosts.setdefault(host, threading.Semaphore(PER_HOST))
        with gate:
            with self._lock:
                wait = self._last.get(host, 0.0) + HOST_PAUSE_S - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                headers = {}
                if known.get("etag"):
                    headers["If-None-Match"] = known["etag"]
                if known.get("last_modified"):
                    headers["If-Modified-Since"] = known["last_modified"]
                with self.client.stream("GET", url, headers=headers) as response:
                    body = bytearray()
                    for piece in response.iter_bytes():  # decompressed: a bomb stops at the limit
                        body += piece
                        if len(body) > self.max_bytes:
                            raise FetchError(f"{url}: larger than {self.max_bytes / 1_000_000:g} MB")
                    response._content = bytes(body)
            except httpx.TimeoutException:
                raise FetchError(f"{url}: no answer in time") from None
            except httpx.DecodingError:
                raise FetchError(f"{url}: the response could not be decompressed") from None
            except httpx.HTTPError as exc:
                raise FetchError(f"{url}: {_reason(exc)}") from None
            finally:
                with self._lock:
                    self._last[host] = time.monotonic()
        return response

    def _check_address(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise FetchError(f"{url}: only http and https URLs are fetched")
        if not parts.hostname:
            raise FetchError(f"{url}: no host name")
        if self.allow_private:
            return
        try:
            addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 80)}
        except socket.gaierror:
            raise FetchError(f"{url}: the host name {parts.hostname!r} does not resolve") from None
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%")[0])
            if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_unspecified:
                raise FetchError(f"{url}: {parts.hostname} is a private or loopback address; not fetched")

    def _robots_allow(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            robots = self._robots.get(origin)
        if robots is None:
            robots = urllib.robotparser.RobotFileParser()
            try:
                found = self.get(f"{origin}/robots.txt", check_robots=False)  # never conditional
                robots.parse(found.content.decode("utf-8", "replace").splitlines())
            except FetchError:
                robots.parse([])  # none, or unreachable: everything allowed
            with self._lock:
                self._robots[origin] = robots
        return robots.can_fetch(self.user_agent.split("/")[0], url)


def _reason(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectError):
        text = str(exc) or "connection refused"
        if "Name or service not known" in text or "nodename nor servname" in text:
            return "the host name does not resolve"
        return f"cannot connect ({text})"
    return str(exc) or type(exc).__name__
