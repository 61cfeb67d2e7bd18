"""Feedback on answers: thumbs up or down with an optional comment, appended durably to a JSONL file
in the index folder together with the question, the answer and its citations.

Each citation keeps a fixed shape (CITATION_FIELDS, strings cut to MAX_FIELD_CHARS), so an entry
stays small whatever a client sends; past ROTATE_BYTES the file becomes `feedback.1.jsonl`
(replacing the one before) and a new one starts, so the feedback never takes more than about twice
that on disk. The export reads both, oldest first."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import uuid
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError

FEEDBACK_FILE = "feedback.jsonl"
ROTATED_FILE = "feedback.1.jsonl"
ROTATE_BYTES = 10_000_000
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
    """Appends one JSON line per piece of feedback; each write is flushed and fsynced."""

    def __init__(self, folder: Path, rotate_bytes: int = ROTATE_BYTES) -> None:
        self.path = Path(folder) / FEEDBACK_FILE
        self.rotated = Path(folder) / ROTATED_FILE
        self.rotate_bytes = rotate_bytes
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
    ) -> str:
        if rating not in RATINGS:
            raise AssistantError(f"rating must be 'up' or 'down', not {rating!r}")
        if len(comment) > MAX_COMMENT_CHARS:
            raise AssistantError(f"the comment is longer than {MAX_COMMENT_CHARS:,} characters")
        entry = {
            "id": uuid.uuid4().hex,
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "rating": rating,
            "comment": comment.strip(),
            "question": question,
            "answer": answer,
            "mode": mode,
            "citations": [_citation(c) for c in (citations or [])[:MAX_CITATIONS] if isinstance(c, dict)],
        }
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                if self.path.exists() and self.path.stat().st_size + len(line) > self.rotate_bytes:
                    os.replace(self.path, self.rotated)
                with self.path.open("a", encoding="utf-8") as handle:
                    handle.write(line)
                    handle.flush()
                    os.fsync(handle.fileno())
            except OSError as exc:
                raise AssistantError(f"cannot save feedback in {self.path}: {exc.strerror}") from None
        return entry["id"]

    def entries(self) -> list[dict[str, Any]]:
        lines: list[str] = []
        for path in (self.rotated, self.path):
            try:
                lines += path.read_text(encoding="utf-8").splitlines()
            except FileNotFoundError:
                continue
        return [json.loads(line) for line in lines if line.strip()]


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
