"""Uploaded article files, kept whole in the database: what a rebuild indexes again, on whichever
process runs it, and what a re-index reads. An earlier version kept them as files in the index
folder's `uploads/`; those are carried into the database on first use and the folder is renamed
`uploads.imported`."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import delete, select

from assistant.records.database import Database
from assistant.records.schema import Upload

log = logging.getLogger(__name__)

IMPORTED_SUFFIX = ".imported"


class KeptUploads:
    """The originals of uploads, by name (the doc_id less `uploads/`)."""

    def __init__(self, database: Database, legacy_folder: Path | None = None) -> None:
        self.database = database
        self._legacy = legacy_folder
        self._imported = legacy_folder is None
        self._lock = threading.Lock()

    def keep(self, name: str, data: bytes) -> None:
        self._import_once()
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        with self.database.session() as session:
            session.merge(Upload(name=name, data=data, updated=now))

    def read(self, name: str) -> bytes | None:
        self._import_once()
        with self.database.session() as session:
            upload = session.get(Upload, name)
            return upload.data if upload else None

    def drop(self, name: str) -> None:
        self._import_once()
        with self.database.session() as session:
            session.execute(delete(Upload).where(Upload.name == name))

    def every(self) -> Iterator[tuple[str, bytes]]:
        """(name, bytes) of every kept upload, by name, read in one transaction."""
        self._import_once()
        with self.database.session() as session:
            rows = session.execute(select(Upload.name, Upload.data).order_by(Upload.name)).all()
        return iter([(name, data) for name, data in rows])

    def _import_once(self) -> None:
        if self._imported:
            return
        with self._lock:
            if self._imported:
                return
            folder = self._legacy
            if folder is not None and folder.is_dir():
                files = sorted(p for p in folder.iterdir() if p.is_file())
                with self.database.session() as session:
                    known = set(session.scalars(select(Upload.name)))
                    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
                    for path in files:
                        if path.name not in known:
                            session.add(Upload(name=path.name, data=path.read_bytes(), updated=now))
                folder.rename(folder.with_name(folder.name + IMPORTED_SUFFIX))
                log.info("carried %d uploaded files from %s into the database", len(files), folder)
            self._imported = True
