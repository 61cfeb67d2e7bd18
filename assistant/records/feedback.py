"""Feedback on answers: thumbs up or down with an optional comment, kept in the database with the
question, the answer, its citations and the conversation it was given in; exported as NDJSON.

Each citation keeps a fixed shape (CITATION_FIELDS, strings cut to MAX_FIELD_CHARS), so an entry
stays small whatever a client sends, and past MAX_ENTRIES the oldest entries give way, so feedback
never grows without end. A `feedback.jsonl` left in the index folder by an earlier version is read
into the database once and renamed `feedback.jsonl.imported`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select

from assistant.errors import AssistantError
from assistant.records.database import Database
from assistant.records.schema import Rating, now, stamp

LEGACY_FILES = ("feedback.1.jsonl", "feedback.jsonl")  # oldest first
IMPORTED_SUFFIX = ".imported"
MAX_ENTRIES = 200_000
MAX_COMMENT_CHARS = 2000
MAX_CITATIONS = 20
MAX_FIELD_CHARS = 1000
CITATION_FIELDS = {
    "n": int,
    "doc_id": str,
    "title": str,
    "section": str,
    "start_char": int,
    "end_char": int,
    "quote": str,
}
RATINGS = ("up", "down")


class FeedbackLog:
    def __init__(
        self, database: Database, legacy_folder: Path | None = None, *, max_entries: int = MAX_ENTRIES
    ):
        self.database = database
        self.legacy_folder = legacy_folder
        self.max_entries = max_entries
        self._imported = legacy_folder is None
        self._lock = threading.Lock()

    def record(
        self,
        *,
        rating: str,
        question: str,
        answer: str,
        citations: list[dict[str, Any]] | None = None,
        comment: str = "",
        mode: str = "",
        conversation_id: str | None = None,
    ) -> str:
        if rating not in RATINGS:
            raise AssistantError(f"rating must be 'up' or 'down', not {rating!r}")
        if len(comment) > MAX_COMMENT_CHARS:
            raise AssistantError(f"the comment is longer than {MAX_COMMENT_CHARS:,} characters")
        self._import_legacy()
        entry = Rating(
            id=uuid.uuid4().hex,
            created=now(),
            rating=rating,
            comment=comment.strip(),
            question=question,
            answer=answer,
            mode=mode,
            citations=[_citation(c) for c in (citations or [])[:MAX_CITATIONS] if isinstance(c, dict)],
            conversation_id=conversation_id or None,
        )
        with self.database.session() as session:
            session.add(entry)
            session.flush()
            excess = session.scalar(select(func.count(Rating.seq))) - self.max_entries
            if excess > 0:
                oldest = select(Rating.seq).order_by(Rating.seq).limit(excess)
                session.execute(delete(Rating).where(Rating.seq.in_(oldest.scalar_subquery())))
        return entry.id

    def entries(self) -> list[dict[str, Any]]:
        """Every entry, oldest first, in the shape of the NDJSON export."""
        self._import_legacy()
        with self.database.session() as session:
            rows = session.scalars(select(Rating).order_by(Rating.seq))
            return [
                {
                    "id": r.id,
                    "time": stamp(r.created),
                    "rating": r.rating,
                    "comment": r.comment,
                    "question": r.question,
                    "answer": r.answer,
                    "mode": r.mode,
                    "citations": r.citations,
                    "conversation_id": r.conversation_id,
                }
                for r in rows
            ]

    def _import_legacy(self) -> None:
        """Read an earlier version's feedback files into the database, once; then rename them."""
        if self._imported:
            return
        with self._lock:
            if self._imported:
                return
            files = [self.legacy_folder / name for name in LEGACY_FILES]
            for path in (p for p in files if p.exists()):
                entries = _read_lines(path)
                with self.database.session() as session:
                    known = set(session.scalars(select(Rating.id)))
                    session.add_all(_legacy(e) for e in entries if e.get("id") not in known)
                os.replace(path, path.with_name(path.name + IMPORTED_SUFFIX))
            self._imported = True


def _read_lines(path: Path) -> list[dict[str, Any]]:
    """The entries of a JSONL file; a line that is not a JSON object is passed over (the file itself is
    kept, renamed)."""
    entries = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


def _legacy(entry: dict[str, Any]) -> Rating:
    try:
        created = dt.datetime.fromisoformat(entry["time"]).astimezone(dt.UTC).replace(tzinfo=None)
    except (KeyError, TypeError, ValueError):
        created = now()
    return Rating(
        id=str(entry.get("id") or uuid.uuid4().hex)[:32],
        created=created,
        rating=entry.get("rating", ""),
        comment=entry.get("comment", ""),
        question=entry.get("question", ""),
        answer=entry.get("answer", ""),
        mode=entry.get("mode", ""),
        citations=[_citation(c) for c in entry.get("citations", [])[:MAX_CITATIONS] if isinstance(c, dict)],
    )


def _citation(citation: dict[str, Any]) -> dict[str, Any]:
    """A citation in the fixed shape: the known fields of the right type, strings cut short."""
    kept: dict[str, Any] = {}
    for name, kind in CITATION_FIELDS.items():
        value = citation.get(name)
        if kind is int and isinstance(value, int) and not isinstance(value, bool):
            kept[name] = value
        elif kind is str and isinstance(value, str):
            kept[name] = value[:MAX_FIELD_CHARS]
    return kept
