"""Feedback on answers: thumbs up or down with an optional comment, appended durably to a JSONL file
in the index folder together with the question, the answer and its citations."""

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
MAX_COMMENT_CHARS = 2000
RATINGS = ("up", "down")


class FeedbackLog:
    """Appends one JSON line per piece of feedback; each write is flushed and fsynced."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / FEEDBACK_FILE
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
            "citations": citations or [],
        }
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as handle:
                    handle.write(line)
                    handle.flush()
                    os.fsync(handle.fileno())
            except OSError as exc:
                raise AssistantError(f"cannot save feedback in {self.path}: {exc.strerror}") from None
        return entry["id"]

    def entries(self) -> list[dict[str, Any]]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in lines if line.strip()]
