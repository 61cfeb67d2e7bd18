"""Keeping news sources fresh: each due source (`assistant sources`) is read again with conditional
requests, so an unchanged feed answers 304 and costs nothing, and its new or changed articles are
indexed; what every source answered is kept in the project's database. `watch` does this on each
source's schedule until stopped (`assistant watch`)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from assistant.library.ingest import IngestReport
from assistant.pipeline import Assistant
from assistant.records.database import Database
from assistant.records.fetches import FetchHistory
from assistant.records.sources import SourceList

log = logging.getLogger(__name__)
IDLE_S = 5.0  # how often the source list is looked at again when nothing is due sooner


def refresh(
    assistant: Assistant, database: Database, urls: list[str], *, allow_private: bool = True
) -> IngestReport:
    """Read these URLs now, with conditional requests (what each answered last time is sent back,
    and what it answers now kept); each one that is a source has its outcome recorded on it.
    `allow_private`: see `Library.ingest`."""
    history, sources = FetchHistory(database), SourceList(database)
    validators = history.load()
    total = IngestReport()
    for url in urls:
        report = assistant.library.ingest([url], validators=validators, allow_private=allow_private)
        record(sources, url, report)
        total.merge(report)
    history.save(validators)
    return total


def record(sources: SourceList, url: str, report: IngestReport) -> None:
    """How a read of a source went, kept on it: the error the source itself answered, or else how
    many of its articles could not be read; and how many it added or updated."""
    own = [reason for failed, reason in report.failed if failed == url]
    others = len(report.failed) - len(own)
    error = own[0] if own else (f"{others} of its articles could not be read" if others else "")
    sources.record(url, error=error, articles=len(report.added) + len(report.updated))


def watch(
    assistant: Assistant,
    database: Database,
    stop: threading.Event,
    said: Callable[[str, IngestReport], None] = lambda url, report: None,
) -> None:
    """Refresh each source when its period has passed, until `stop` is set."""
    sources = SourceList(database)
    while not stop.is_set():
        for url in sources.due():
            if stop.is_set():
                return
            said(url, refresh(assistant, database, [url]))
        wait = sources.next_due_s()
        stop.wait(min(IDLE_S, wait if wait is not None else IDLE_S) or 0.2)
