"""The library of articles: what is indexed, and every way it changes in a running process (files
ingested, an upload from a browser or the API, an article removed), one change at a time. The
question path (`pipeline.Assistant`) reads the same store through the shared `Resources`."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

from assistant.config import UPLOADS
from assistant.errors import ArticleError, AssistantError
from assistant.library.corpus import Article, parse_article
from assistant.library.crawl import crawl
from assistant.library.fetch import Fetcher
from assistant.library.ingest import IngestReport, ingest, ingest_articles
from assistant.library.resources import Resources
from assistant.library.urls import is_url


class Originals(Protocol):
    """Where uploaded files are kept whole, by name (their doc_id less `uploads/`), so that a rebuild
    on any process indexes them again (`records.uploads.KeptUploads`, in the database)."""

    def keep(self, name: str, data: bytes) -> None: ...
    def read(self, name: str) -> bytes | None: ...
    def drop(self, name: str) -> None: ...
    def every(self) -> Iterator[tuple[str, bytes]]: ...


class Library:
    def __init__(self, resources: Resources, uploads: Originals) -> None:
        self.resources = resources
        self.settings = resources.settings
        self.uploads = uploads
        self._write_lock = threading.Lock()  # one ingestion, upload or removal at a time

    def ingest(
        self,
        paths: Iterable[Path | str],
        *,
        rebuild: bool = False,
        prune: bool = False,
        progress: bool = False,
        allow_private: bool = True,
        validators: dict | None = None,
    ) -> IngestReport:
        """Index article files and folders (see `ingest.ingest`) and URLs of article pages, feeds
        and sitemaps (see `crawl`). `allow_private`: URLs may name private and loopback addresses
        (the operator's own command line may; a server fetching for a browser user may not).
        `validators`: the ETags and Last-Modified dates of earlier fetches, sent back so that what has
        not changed answers 304 and is passed over; updated in place (see `fetch.Fetcher`)."""
        items = [str(p) for p in paths]
        urls = [item for item in items if is_url(item)]
        files = [Path(item) for item in items if not is_url(item)]
        with self._write_lock:  # not beside an upload or a removal of this process
            report = IngestReport()
            if files or rebuild or not urls:
                kept, unreadable = self._kept_uploads()  # read first: a rebuild must not lose them
                report = ingest(
                    files,
                    self.settings,
                    self.resources.embedder,
                    rebuild=rebuild,
                    prune=prune,
                    progress=progress,
                    uploads=kept,
                )
                report.failed.extend(unreadable)
                self.resources.close()  # store and keywords are opened anew on the next use
            if urls:
                report.merge(self._ingest_urls(urls, allow_private, validators, prune))
                self.resources.keywords_changed()  # as for an upload: queries go on meanwhile
        return report

    def _kept_uploads(self) -> tuple[list[Article], list[tuple[str, str]]]:
        articles, failed = [], []
        for name, data in self.uploads.every():
            try:
                articles.append(parse_article(data, f"{UPLOADS}/{name}", suffix=Path(name).suffix))
            except ArticleError as exc:
                failed.append((f"{UPLOADS}/{name}", str(exc)))
        return articles, failed

    def _ingest_urls(
        self, urls: list[str], allow_private: bool, validators: dict | None, prune: bool
    ) -> IngestReport:
        settings = self.settings
        fetcher = Fetcher(
            timeout_s=settings.fetch_timeout_s,
            max_bytes=settings.fetch_max_bytes,
            allow_private=allow_private,
            validators=validators,
        )
        try:
            found = crawl(urls, fetcher, workers=settings.fetch_concurrency)
        finally:
            fetcher.close()
        report = ingest_articles(found.articles, settings, self.resources.embedder)
        report.failed[:0] = found.failed
        report.notes[:0] = found.notes
        report.not_modified.extend(found.unchanged)
        if prune:  # articles whose entries have left a feed or sitemap read whole this time
            store = self.resources.store
            for listing, links in found.listings.items():
                for doc_id, link in store.listed_by(listing).items():
                    if link not in links:
                        store.delete_article(doc_id)
                        report.removed.append(doc_id)
            if report.removed:
                store.touch()
        return report

    def add_upload(self, filename: str, data: bytes) -> IngestReport:
        """Index an article file sent by a browser or the API, and keep the file (`uploads`) so that
        a rebuild, on any process, indexes it again. The name only labels the article: it
        is reduced to letters, digits and `._-`, never used as a path; when that loses anything, a
        hash of the name is added, so that two names never become one article ("a b.txt" and
        "a-b.txt", or two names in other scripts), while the same name updates its article. A file
        whose text another article already has is not kept (a later ingest would bring it back)."""
        shown = Path(filename.replace("\\", "/")).name[:120] or "article"
        suffix = Path(shown).suffix.lower()
        if len(data) > self.settings.max_upload_bytes:
            raise AssistantError(
                f"{shown} is {len(data):,} bytes; the limit is "
                f"{self.settings.max_upload_bytes:,} (ASSISTANT_MAX_UPLOAD_BYTES)"
            )
        stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(shown).stem).strip(".-")[:80]
        if stem != Path(shown).stem:
            stem = f"{stem or 'article'}-{hashlib.sha256(shown.encode()).hexdigest()[:8]}"
        name = f"{stem}{suffix}"
        try:
            article = parse_article(data, f"{UPLOADS}/{name}", suffix=suffix)
        except ArticleError as exc:
            raise ArticleError(f"{shown}: {exc}") from None
        with self._write_lock:
            earlier = self.uploads.read(name)
            self.uploads.keep(name, data)  # first: cut short after this, the next ingest indexes it
            report = ingest_articles([article], self.settings, self.resources.embedder)
            if report.duplicates:  # not indexed: keep what was there, or nothing
                if earlier is None:
                    self.uploads.drop(name)
                else:
                    self.uploads.keep(name, earlier)
            self.resources.keywords_changed()
        return report

    def reindex(self, doc_id: str) -> IngestReport | None:
        """Read an article again from the file it came from (the kept original, for an upload) and
        chunk and embed it anew, replacing its chunks in place; None when no such article is indexed."""
        entry = self.resources.store.articles([doc_id]).get(doc_id)
        if entry is None:
            return None
        name = doc_id.removeprefix(f"{UPLOADS}/")
        data = self.uploads.read(name) if doc_id.startswith(f"{UPLOADS}/") else None
        source = Path(entry.path) if entry.path else None
        if data is None and (source is None or not source.is_file()):
            raise AssistantError(
                f"{doc_id}: the file it was read from ({entry.path or 'not recorded'}) is gone; add it again"
            )
        try:
            if data is not None:
                article = parse_article(data, doc_id, suffix=Path(name).suffix)
            else:
                article = parse_article(source.read_bytes(), doc_id, suffix=source.suffix, path=str(source))
        except (ArticleError, OSError) as exc:
            raise AssistantError(f"{doc_id}: {exc}") from None
        with self._write_lock:
            report = ingest_articles([article], self.settings, self.resources.embedder, force=True)
            self.resources.keywords_changed()
        return report

    def remove_document(self, doc_id: str) -> bool:
        """Remove an article (chunks, full text and, for an upload, its kept original); False if absent."""
        store = self.resources.store
        with self._write_lock:
            if not store.has_article(doc_id):
                return False
            if doc_id.startswith(f"{UPLOADS}/"):
                self.uploads.drop(doc_id.removeprefix(f"{UPLOADS}/"))
            store.delete_article(doc_id)
            store.touch()
            self.resources.keywords_changed()
        return True

    def documents(self) -> list[dict]:
        """Every indexed article's title, source, date and doc_id."""
        return self.resources.store.list_documents()

    def document(self, doc_id: str) -> dict | None:
        """One article's full text and metadata, or None."""
        return self.resources.store.get_document(doc_id)

    def newest_published(self, since: str = "", until: str = "") -> str:
        """The newest published date (YYYY-MM-DD) of the indexed articles, or of those published from
        `since` to `until` (YYYY-MM-DD, inclusive); "" when none has one. Read from the keyword index,
        which holds every current chunk's date in memory."""
        published = self.resources.keywords.get().published  # YYYYMMDD, 0 when unknown
        low = int(since.replace("-", "")) if since else 1
        high = int(until.replace("-", "")) if until else published.max(initial=0)
        held = published[(published >= low) & (published <= high)]
        newest = str(held.max()) if held.size else ""
        return f"{newest[:4]}-{newest[4:6]}-{newest[6:]}" if newest else ""
