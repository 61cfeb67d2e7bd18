"""The one place the stages are wired together: settings in, ingestion and search out.

The CLI, the web app and the evaluation runner all hold one `Assistant` per process, so the embedding
model is loaded once and the store is opened once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from llama_index.core.schema import NodeWithScore, QueryBundle

from assistant.config import Settings
from assistant.embeddings import Embedder, load_embedder
from assistant.errors import AssistantError
from assistant.ingest import IngestReport, ingest
from assistant.keyword import LiveKeywordIndex
from assistant.retrieval import Filters, build_retriever
from assistant.store import Store, open_store

MAX_QUERY_CHARS = 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class Assistant:
    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self._store: Store | None = None
        self._keywords: LiveKeywordIndex | None = None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.settings)
        return self._embedder

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = open_store(self.settings)
        return self._store

    @property
    def keywords(self) -> LiveKeywordIndex:
        if self._keywords is None:
            self._keywords = LiveKeywordIndex(self.store, self.settings.index_dir)
        return self._keywords

    def ingest(
        self,
        paths: Iterable[Path],
        *,
        rebuild: bool = False,
        prune: bool = False,
        progress: bool = False,
    ) -> IngestReport:
        report = ingest(paths, self.settings, self.embedder, rebuild=rebuild, prune=prune, progress=progress)
        self._store = self._keywords = None  # reopen: the collection may have been recreated
        return report

    def search(
        self,
        query: str,
        *,
        k: int | None = None,
        retriever: str | None = None,
        filters: Filters = Filters(),
    ) -> list[NodeWithScore]:
        """The k passages that best match the query, best first."""
        query = clean_query(query)
        chosen = build_retriever(
            retriever or self.settings.retriever,
            self.store,
            self.embedder,
            self.keywords,
            self.settings,
            k=k or self.settings.top_k,
            filters=filters,
        )
        return chosen.retrieve(QueryBundle(query))


def clean_query(query: str) -> str:
    """Control characters become spaces; empty and oversized queries are refused."""
    query = " ".join(_CONTROL.sub(" ", query).split())
    if not query:
        raise AssistantError("the question is empty; type a question about the articles")
    if len(query) > MAX_QUERY_CHARS:
        raise AssistantError(
            f"the question is {len(query):,} characters long; the limit is {MAX_QUERY_CHARS:,}"
        )
    return query
