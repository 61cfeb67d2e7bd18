"""The connection to Chroma, embedded under the index folder or a server, and what its failures
mean: a server that stopped answering, a read-only index folder and a full disk become one-line
StoreUnavailableErrors that say what to do; anything else is a bug and passes through.
"""

from __future__ import annotations

import errno
import functools
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from assistant.config import Settings
from assistant.errors import IndexMissingError, StoreUnavailableError

CHROMA_SUBDIR = "chroma"
_OPENING = threading.Lock()  # one embedded client opened at a time in this process


class Guarded:
    """Passes calls on to a Chroma client or collection, turning what the storage underneath can do
    wrong into StoreUnavailableError with a plain message: a Chroma server that stopped answering
    (the next call after it is back simply succeeds), a read-only index folder, a full disk."""

    def __init__(self, target: Any, settings: Settings, reopen: Callable[[], Any] | None = None) -> None:
        self._target = target
        self._settings = settings
        self._reopen = reopen  # for a collection: finds it again by name

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if not callable(value):
            return value

        @functools.wraps(value)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                try:
                    return value(*args, **kwargs)
                except Exception as exc:
                    if self._reopen is None or not _collection_gone(exc):
                        raise
                    # another process rebuilt the index: its collection is a new one of the same name
                    self._target = self._reopen()
                    return getattr(self._target, name)(*args, **kwargs)
            except Exception as exc:
                problem = storage_problem(exc, self._settings)
                if problem is None:
                    raise
                raise StoreUnavailableError(problem) from exc

        return call


def _collection_gone(exc: BaseException) -> bool:
    from chromadb.errors import NotFoundError

    return isinstance(exc, NotFoundError)


def storage_problem(exc: BaseException, settings: Settings) -> str | None:
    """A one-line explanation when `exc` means the storage failed, else None."""
    import httpx

    where = describe_location(settings)
    if isinstance(exc, httpx.TransportError):
        return (
            f"the Chroma server at {settings.chroma_url} is not answering ({type(exc).__name__}); "
            "the assistant reconnects by itself once it is back"
        )
    text = str(exc).lower()
    full = isinstance(exc, OSError) and exc.errno == errno.ENOSPC
    if full or "disk is full" in text or "no space left" in text:
        return f"no space left on the disk holding the index ({where}); free some and run the command again"
    read_only = isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.EACCES)
    if read_only or "readonly database" in text or "read-only file system" in text:
        return (
            f"the index ({where}) is read-only; Chroma writes to its folder even to answer, so give "
            "it a writable folder (a copy, or another ASSISTANT_INDEX_DIR)"
        )
    return None


def describe_location(settings: Settings) -> str:
    if settings.chroma_url:
        return f"Chroma server {settings.chroma_url}, collection {settings.collection!r}"
    return f"{settings.index_dir}, collection {settings.collection!r}"


def connect(settings: Settings, *, create: bool) -> Any:
    """A Chroma client for the settings: HTTP when `chroma_url` is set, else the embedded store."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        try:
            client = chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        except ValueError as exc:  # chromadb's "Could not connect to a Chroma server"
            raise StoreUnavailableError(
                f"cannot reach the Chroma server at {settings.chroma_url}; start it with "
                "`chroma run --path DIR --port N` or unset ASSISTANT_CHROMA_URL"
            ) from exc
        return Guarded(client, settings)
    path = Path(settings.index_dir) / CHROMA_SUBDIR
    if not create and not path.exists():
        raise IndexMissingError(f"no index in {settings.index_dir}; run `assistant ingest` first")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with _OPENING:  # chromadb's shared client registry breaks when two threads open one path at once
            client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:
        problem = storage_problem(exc, settings)
        if problem is None and not isinstance(exc, OSError):
            raise
        detail = exc.strerror if isinstance(exc, OSError) else exc
        raise StoreUnavailableError(
            problem or f"cannot open the index in {settings.index_dir}: {detail}"
        ) from exc
    return Guarded(client, settings)
