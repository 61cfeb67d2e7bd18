"""What the question path (`pipeline.Assistant`) and the library of articles (`library.Library`)
share in one process: the settings, the embedding model, the store and the keyword index, each made
once on first use however many threads ask for it together."""

from __future__ import annotations

import logging
import threading

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.library.embeddings import Embedder, load_embedder
from assistant.library.live_index import LiveKeywordIndex
from assistant.library.store import Store, open_store

log = logging.getLogger(__name__)


class Resources:
    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self._store: Store | None = None
        self._keywords: LiveKeywordIndex | None = None
        self.lock = threading.RLock()  # lazy parts are built once even when threads race for them

    @property
    def embedder(self) -> Embedder:
        with self.lock:
            if self._embedder is None:
                self._embedder = load_embedder(self.settings)
            return self._embedder

    @property
    def store(self) -> Store:
        with self.lock:
            if self._store is None:
                self._store = open_store(self.settings)
            return self._store

    @property
    def keywords(self) -> LiveKeywordIndex:
        with self.lock:
            if self._keywords is None:
                self._keywords = LiveKeywordIndex(self.store, self.settings.index_dir)
            return self._keywords

    def close(self) -> None:
        """Release the store's client; the next use opens it again (after a rebuild, on the
        collection as it is now: it may have been recreated)."""
        with self.lock:
            if self._store is not None:
                self._store.close()
            self._store = self._keywords = None

    def keywords_changed(self) -> None:
        """After an upload, a re-index or a removal by this process: the keyword index is brought up
        to date at once (reading only the articles that changed), so the change is searchable when
        the call returns; queries meanwhile go on with the index they have."""
        with self.lock:
            keywords = self._keywords
        if keywords is None:
            return  # not loaded yet: the first search loads it as it is now
        try:
            keywords.refresh()
        except AssistantError as exc:  # the store is down: the next check after it is back updates
            log.warning("keyword index not updated after a change (%s)", exc)
