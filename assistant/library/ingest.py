"""Stage 5, files -> index: the idempotent, incremental ingestion run.

Reads articles, skips the ones the index already holds unchanged, chunks and embeds the rest in large
batches, and writes them to the store. Crash-safe without a journal: chunk ids are derived from the
article's content hash, a new version is written completely before the old one is deleted, and an
article counts as indexed only when exactly one version with all of its chunks is stored. So a run
that was killed half-way leaves an index that opens, and the next run finishes the work.

Articles uploaded through the browser or the API are kept whole in the project's database (see
`articles.Library`) and are part of every run, so `--rebuild` indexes them again instead of losing them,
whichever process took them.

(llama-index's IngestionPipeline keeps its dedup state in a separate docstore; keeping the state in the
chunks themselves is what lets several processes share one Chroma server.)
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from llama_index.core.schema import MetadataMode, TextNode

from assistant.config import Settings
from assistant.errors import ArticleError
from assistant.library.chunking import TOKENIZER_NAME, split_article
from assistant.library.corpus import Article, find_article_files, read_article
from assistant.library.embeddings import Embedder
from assistant.library.manifest import Manifest
from assistant.library.parsing import PARSES_KEY, Parser
from assistant.library.store import IndexedArticle, Store, open_store_for_writing
from assistant.modes import Reader

log = logging.getLogger(__name__)

LOOKUP_BATCH = 64  # articles looked up in the index together, when a run does not read it all


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (doc_id, indexed as)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (path or doc_id, what was left out)
    not_modified: list[str] = field(default_factory=list)  # URLs that answered 304: nothing new there
    chunks_written: int = 0
    seconds: float = 0.0

    def merge(self, other: IngestReport) -> None:
        """Add another run's outcome to this one (files, then URLs, in one command)."""
        for name in (
            "added",
            "updated",
            "unchanged",
            "removed",
            "duplicates",
            "failed",
            "notes",
            "not_modified",
        ):
            getattr(self, name).extend(getattr(other, name))
        self.chunks_written += other.chunks_written
        self.seconds += other.seconds

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        counts = (
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.unchanged)} unchanged, "
            f"{len(self.removed)} removed, {len(self.duplicates)} duplicate, {len(self.failed)} failed"
        )
        tail = f"{self.chunks_written} chunks written in {self.seconds:.1f} s"
        if self.not_modified:
            tail = f"{len(self.not_modified)} URLs not modified since the last fetch; {tail}"
        if not self.changed and not self.failed:
            return f"index already up to date: {counts}; {tail}"
        return f"articles: {counts}; {tail}"


def manifest_for(settings: Settings, embedder: Embedder) -> Manifest:
    return Manifest(
        embedding_model=settings.model_identity,
        embedding_dimension=embedder.dimension,
        chunk_tokens=settings.chunk_tokens,
        chunk_overlap_tokens=settings.chunk_overlap_tokens,
        tokenizer=TOKENIZER_NAME,
    )


def ingest(
    paths: Iterable[Path],
    settings: Settings,
    embedder: Embedder,
    *,
    rebuild: bool = False,
    prune: bool = False,
    progress: bool = False,
    uploads: Iterable[Article] = (),
) -> IngestReport:
    """Bring the index in line with the articles under `paths`, and the kept `uploads` (indexed again
    by a rebuild); see the module docstring."""
    from tqdm import tqdm

    started = time.perf_counter()
    paths = [Path(p) for p in paths]
    report = IngestReport()
    files, problems = find_article_files(paths)
    report.failed.extend(problems)
    store = open_store_for_writing(settings, manifest_for(settings, embedder), rebuild=rebuild)
    try:
        run = _Run(store, embedder, settings, report, whole=True)

        for found in tqdm(files, desc="ingest", unit="file", disable=not progress, file=sys.stderr):
            try:
                article = read_article(found)
            except ArticleError as exc:
                report.failed.append((str(found.path), str(exc)))
                continue
            run.offer(article)
        for article in uploads:
            run.offer(article)
        run.flush()

        if prune:
            seen = {str(found.path) for found in files}
            roots = [p.resolve() for p in paths if p.exists()]
            for doc_id, entry in run.indexed.items():
                if entry.path and entry.path not in seen and _is_under(Path(entry.path), roots):
                    store.delete_article(doc_id)
                    store.touch()
                    report.removed.append(doc_id)
    finally:
        store.close()  # the writer's client; readers keep their own

    report.seconds = time.perf_counter() - started
    return report


def ingest_articles(
    articles: Iterable[Article], settings: Settings, embedder: Embedder, *, force: bool = False
) -> IngestReport:
    """Index articles that did not come from files (uploads, benchmarks); same rules as `ingest`.
    `force`: chunk and embed them again even when their indexed version is complete (a re-index);
    the chunks are replaced in place, so nothing is missing while it runs."""
    started = time.perf_counter()
    report = IngestReport()
    store = open_store_for_writing(settings, manifest_for(settings, embedder))
    try:
        run = _Run(store, embedder, settings, report, force=force)
        group: list[Article] = []
        for article in articles:
            group.append(article)
            if len(group) == LOOKUP_BATCH:
                run.offer_group(group)
                group = []
        run.offer_group(group)
        run.flush()
    finally:
        store.close()
    report.seconds = time.perf_counter() - started
    return report


class _Run:
    """The state of one ingestion: what is indexed, what waits to be embedded.

    `whole`: the run goes over a library's files, so what the index holds is read once up front (a
    pass over every chunk's metadata). Otherwise (uploads, fetched pages, a re-index) only the
    articles offered are looked up, LOOKUP_BATCH at a time (`offer_group`)."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        settings: Settings,
        report: IngestReport,
        *,
        force: bool = False,
        whole: bool = False,
    ):
        self.force = force
        self.whole = whole
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.report = report
        self.indexed: dict[str, IndexedArticle] = store.articles() if whole else {}
        self.by_text = {entry.text_hash: doc_id for doc_id, entry in self.indexed.items()}
        self.documents = store.document_ids() if whole else set()
        self.pending: list[tuple[Article, list[TextNode]]] = []
        # the general reader reads parses stored at ingest; the rules reader needs none
        self.parser = Parser() if settings.reader == Reader.GENERAL else None

    def offer(self, article: Article) -> None:
        self.report.notes.extend((article.path or article.doc_id, note) for note in article.notes)
        entry = self.indexed.get(article.doc_id)
        if entry is not None and entry.is_complete(article.content_hash) and not self.force:
            if article.doc_id not in self.documents:  # an index made before full texts were kept
                self.store.put_documents([article], {article.doc_id: entry.found[article.content_hash]})
            self.report.unchanged.append(article.doc_id)
            return
        original = self.by_text.get(article.text_hash)
        if original is not None and original != article.doc_id:
            if entry is not None:  # this name used to hold other text: that text is gone
                self.store.delete_article(article.doc_id)
                self.store.touch()
            self.report.duplicates.append((article.doc_id, original))
            return
        self.by_text[article.text_hash] = article.doc_id
        nodes = split_article(
            article,
            chunk_tokens=self.settings.chunk_tokens,
            overlap_tokens=self.settings.chunk_overlap_tokens,
        )
        self.pending.append((article, nodes))
        if sum(len(n) for _, n in self.pending) >= self.settings.ingest_batch:
            self.flush()

    def offer_group(self, articles: list[Article]) -> None:
        """Offer these articles, having read what the index holds of them (and of their texts under
        other names) in three round trips, when the run did not read it all up front."""
        if not articles:
            return
        if not self.whole:
            self._look_up(articles)
        for article in articles:
            self.offer(article)

    def _look_up(self, articles: list[Article]) -> None:
        doc_ids = [article.doc_id for article in articles]
        self.indexed |= self.store.articles(doc_ids)
        self.by_text = self.store.text_holders([a.text_hash for a in articles]) | self.by_text
        self.documents |= self.store.held_documents(doc_ids)

    def flush(self) -> None:
        nodes = [node for _, article_nodes in self.pending for node in article_nodes]
        if not nodes:
            return
        texts = [node.get_content(metadata_mode=MetadataMode.EMBED) for node in nodes]
        for node, vector in zip(nodes, self.embedder.encode(texts), strict=True):
            node.embedding = vector
        if self.parser is not None:  # each sentence is parsed once, here (library/parsing.py)
            chunks = [(n.get_content(), n.metadata["title"], n.metadata.get("section", "")) for n in nodes]
            for node, parses in zip(nodes, self.parser.annotate(chunks), strict=True):
                node.metadata[PARSES_KEY] = parses
                node.excluded_embed_metadata_keys.append(PARSES_KEY)
                node.excluded_llm_metadata_keys.append(PARSES_KEY)
        self.store.upsert(nodes)
        self.store.put_documents(
            [article for article, _ in self.pending],
            chunks={article.doc_id: len(article_nodes) for article, article_nodes in self.pending},
        )
        self.store.touch()  # at once: readers keep the versions the records name (`current_only`)
        for article, _ in self.pending:
            if article.doc_id in self.indexed:
                # the new version is complete; drop older versions and leftovers of broken runs
                self.store.delete_article(article.doc_id, keep_version=article.content_hash)
                self.report.updated.append(article.doc_id)
            else:
                self.report.added.append(article.doc_id)
        self.report.chunks_written += len(nodes)
        log.debug("wrote %d chunks of %d articles", len(nodes), len(self.pending))
        self.pending.clear()


def _is_under(path: Path, roots: list[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)
