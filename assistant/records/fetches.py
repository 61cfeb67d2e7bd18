"""The validators of fetched web addresses (ETag, Last-Modified), kept between ingestions so that a
feed or a page that has not changed answers 304 and is not read again."""

from __future__ import annotations

from sqlalchemy import select

from assistant.records.database import Database
from assistant.records.schema import URL_CHARS, FetchedURL, now


class FetchHistory:
    def __init__(self, database: Database) -> None:
        self.database = database

    def load(self) -> dict[str, dict[str, str]]:
        """Every known address: url -> {"etag", "last_modified"}."""
        with self.database.session() as session:
            return {
                row.url: {"etag": row.etag, "last_modified": row.last_modified}
                for row in session.scalars(select(FetchedURL))
            }

    def save(self, validators: dict[str, dict[str, str]]) -> None:
        """Keep what the addresses answered this time (addresses too long to key are passed over)."""
        when = now()
        with self.database.session() as session:
            for url, seen in validators.items():
                if len(url) <= URL_CHARS:
                    session.merge(
                        FetchedURL(
                            url=url,
                            etag=seen.get("etag", "")[:512],
                            last_modified=seen.get("last_modified", "")[:64],
                            checked=when,
                        )
                    )
