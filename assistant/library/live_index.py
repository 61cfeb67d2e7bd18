"""The keyword index of a running process: loaded once, then kept up to date with the collection
without making queries wait (see `LiveKeywordIndex`)."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from assistant.library.keyword import KeywordIndex, build_keyword_index, update_keyword_index
from assistant.library.keyword_cache import read_cache, write_cache
from assistant.library.store import Store

log = logging.getLogger("assistant.library.keyword")


class LiveKeywordIndex:
    """Keeps the keyword index in memory and brings it up to date when the collection has changed.

    The generation is checked at most once every `check_interval_s`, so a busy server pays for one
    metadata read a second, not one per question. Only the first load makes a query wait; later
    updates run in a background thread while queries go on with the index they have, which is
    swapped for the new one when it is ready. `refresh()` updates at once, for the process that
    just wrote (its upload is searchable when the upload returns).
    """

    def __init__(self, store: Store, cache_root: Path, check_interval_s: float = 1.0) -> None:
        self._store = store
        self._cache_root = cache_root
        self._check_interval_s = check_interval_s
        self._index: KeywordIndex | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()  # guards the fields above
        self._updating = threading.Lock()  # one update at a time
        self._worker: threading.Thread | None = None

    def get(self) -> KeywordIndex:
        index = self._index
        if index is not None and time.monotonic() - self._checked_at < self._check_interval_s:
            return index
        if index is None:
            return self.refresh()
        with self._lock:
            if time.monotonic() - self._checked_at < self._check_interval_s:
                return self._index  # type: ignore[return-value]
            self._checked_at = time.monotonic()
            busy = self._worker is not None and self._worker.is_alive()
            if not busy and self._store.generation() != index.generation:
                self._worker = threading.Thread(target=self._update_quietly, daemon=True)
                self._worker.start()
            return self._index  # type: ignore[return-value]

    def refresh(self) -> KeywordIndex:
        """Bring the index up to date with the collection now, and return it. A cached copy, however
        old, is brought up to date like the index in memory; only a full build is written back (so
        the copy stays within a quarter of the articles of the collection, and uploads pay nothing)."""
        with self._updating:
            generation = self._store.generation()
            index = self._index or read_cache(self._store, self._cache_root)
            if index is not None and index.generation != generation:
                index = update_keyword_index(index, self._store, generation)
            if index is None:
                index = build_keyword_index(self._store, generation)
                write_cache(self._store, self._cache_root, index)
            with self._lock:
                self._index, self._checked_at = index, time.monotonic()
            return index

    def wait(self) -> None:
        """Wait for a background update, if one is running (tests, benchmarks)."""
        worker = self._worker
        if worker is not None:
            worker.join()

    def _update_quietly(self) -> None:
        try:
            self.refresh()
        except Exception as exc:  # the store may be down: queries keep the index they have
            log.warning("keyword index not updated (%s); the next check tries again", exc)
