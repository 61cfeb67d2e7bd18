"""The news sources kept fresh: each URL (a feed, a sitemap or a page) with how often it is read and
how its last refresh went."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import select

from assistant.errors import AssistantError
from assistant.records.database import Database
from assistant.records.schema import URL_CHARS, Source, now, stamp

_DURATION = re.compile(r"(\d+)\s*([smhd])")
UNITS_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds(duration: str) -> int:
    """ "30m" -> 1800; "45s", "2h", "1d" and sums such as "1h30m"; one clear error for anything else."""
    text = duration.strip().lower()
    parts = _DURATION.findall(text)
    if not parts or _DURATION.sub("", text).strip():
        raise AssistantError(f"{duration!r} is not a duration such as 45s, 30m, 2h or 1d")
    total = sum(int(n) * UNITS_S[unit] for n, unit in parts)
    if total < 1:
        raise AssistantError(f"{duration!r} is not a duration of a second or more")
    return total


class SourceList:
    def __init__(self, database: Database) -> None:
        self.database = database

    def add(self, url: str, every_s: int) -> dict[str, Any]:
        """Add a source, or change how often an existing one is read."""
        if len(url) > URL_CHARS:
            raise AssistantError(f"the URL is longer than {URL_CHARS:,} characters")
        with self.database.session() as session:
            source = session.get(Source, url)
            if source is None:
                source = Source(url=url, every_s=every_s, added=now(), last_error="", articles=0)
                session.add(source)
            source.every_s = every_s
            return _shown(source)

    def remove(self, url: str) -> bool:
        with self.database.session() as session:
            source = session.get(Source, url)
            if source is None:
                return False
            session.delete(source)
            return True

    def list(self) -> list[dict[str, Any]]:
        with self.database.session() as session:
            return [_shown(s) for s in session.scalars(select(Source).order_by(Source.added, Source.url))]

    def due(self, when: dt.datetime | None = None) -> list[str]:
        """The sources whose period has passed since their last refresh (or never refreshed)."""
        when = when or now()
        with self.database.session() as session:
            return [
                s.url
                for s in session.scalars(select(Source).order_by(Source.url))
                if s.last_fetch is None or (when - s.last_fetch).total_seconds() >= s.every_s
            ]

    def next_due_s(self) -> float | None:
        """Seconds until the next source is due (0 when one is), None without sources."""
        when = now()
        with self.database.session() as session:
            waits = [
                0.0 if s.last_fetch is None else s.every_s - (when - s.last_fetch).total_seconds()
                for s in session.scalars(select(Source))
            ]
        return max(0.0, min(waits)) if waits else None

    def record(self, url: str, *, error: str, articles: int) -> None:
        with self.database.session() as session:
            source = session.get(Source, url)
            if source is not None:
                source.last_fetch = now()
                source.last_error = error
                source.articles = articles


def _shown(source: Source) -> dict[str, Any]:
    return {
        "url": source.url,
        "every_s": source.every_s,
        "added": stamp(source.added),
        "last_fetch": stamp(source.last_fetch) if source.last_fetch else "",
        "last_error": source.last_error,
        "articles": source.articles,
    }
