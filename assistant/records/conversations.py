"""Conversations kept in the database: each belongs to the visitor whose token made it, and only that
token lists, reads, renames, continues or deletes it.

A visitor token is a random secret the browser keeps (or an API client sends as X-Visitor-Token); the
database stores its SHA-256, so neither a copy of the database nor its logs hand out anyone's token.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from typing import Any

from sqlalchemy import func, select

from assistant.errors import AssistantError
from assistant.records.database import Database
from assistant.records.schema import MAX_TITLE_CHARS, Conversation, Turn, now, stamp

MAX_TURNS = 500  # a conversation longer than this is full: the visitor starts a new one
MAX_LISTED = 200  # conversations listed at most, the most recently used first
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,128}")


class ConversationNotFound(AssistantError):
    """No conversation with that id belongs to this visitor (whether or not it exists)."""


def new_token() -> str:
    """A fresh visitor token: 32 random bytes, URL-safe."""
    return secrets.token_urlsafe(32)


def owner_of(token: str) -> str:
    """The stored owner of a visitor token; a token of the wrong shape is one clear error."""
    if not _TOKEN.fullmatch(token or ""):
        raise AssistantError("the visitor token must be 16-128 characters of A-Z, a-z, 0-9, '-' or '_'")
    return hashlib.sha256(token.encode()).hexdigest()


def title_from(question: str) -> str:
    """A conversation's title from its first question: one line, cut at a word near the limit."""
    line = " ".join(question.split())
    if len(line) <= MAX_TITLE_CHARS:
        return line
    return line[: MAX_TITLE_CHARS - 1].rsplit(" ", 1)[0] + "…"


class Conversations:
    def __init__(self, database: Database) -> None:
        self.database = database

    def create(self, token: str, title: str = "") -> dict[str, Any]:
        owner = owner_of(token)
        when = now()
        conversation = Conversation(
            id=uuid.uuid4().hex, owner=owner, title=title_from(title), created=when, updated=when
        )
        with self.database.session() as session:
            session.add(conversation)
        return _summary(conversation, 0)

    def list(self, token: str) -> list[dict[str, Any]]:
        """The visitor's conversations, the most recently used first."""
        owner = owner_of(token)
        counts = (
            select(Turn.conversation_id, func.count(Turn.id).label("turns"))
            .group_by(Turn.conversation_id)
            .subquery()
        )
        query = (
            select(Conversation, func.coalesce(counts.c.turns, 0))
            .outerjoin(counts, counts.c.conversation_id == Conversation.id)
            .where(Conversation.owner == owner)
            .order_by(Conversation.updated.desc(), Conversation.created.desc())
            .limit(MAX_LISTED)
        )
        with self.database.session() as session:
            return [_summary(conversation, turns) for conversation, turns in session.execute(query)]

    def get(self, token: str, conversation_id: str) -> dict[str, Any]:
        """The conversation with every turn (question, answer JSON, time)."""
        with self.database.session() as session:
            conversation = self._owned(session, token, conversation_id)
            turns = [
                {"question": t.question, "answer": t.answer, "time": stamp(t.created)}
                for t in conversation.turns
            ]
            return _summary(conversation, len(turns)) | {"turns": turns}  # the turns themselves

    def rename(self, token: str, conversation_id: str, title: str) -> dict[str, Any]:
        title = title_from(title)
        if not title:
            raise AssistantError("a conversation's title cannot be empty")
        with self.database.session() as session:
            conversation = self._owned(session, token, conversation_id)
            conversation.title = title
            return _summary(conversation, len(conversation.turns))

    def delete(self, token: str, conversation_id: str) -> None:
        with self.database.session() as session:
            session.delete(self._owned(session, token, conversation_id))

    def history(self, token: str, conversation_id: str, turns: int) -> list[dict[str, str]]:
        """The last `turns` questions and answer texts, oldest first: what a follow-up is read against."""
        with self.database.session() as session:
            self._owned(session, token, conversation_id)
            query = (
                select(Turn.question, Turn.answer)
                .where(Turn.conversation_id == conversation_id)
                .order_by(Turn.position.desc())
                .limit(turns)
            )
            rows = list(session.execute(query))
        return [{"question": q, "answer": a.get("answer", "")} for q, a in reversed(rows)]

    def add_turn(self, token: str, conversation_id: str, question: str, answer: dict[str, Any]) -> int:
        """Append a question and its answer; the first one names an untitled conversation. Returns
        the turn's position (0 for the first)."""
        with self.database.session() as session:
            conversation = self._owned(session, token, conversation_id)
            position = session.scalar(
                select(func.count(Turn.id)).where(Turn.conversation_id == conversation_id)
            )
            if position >= MAX_TURNS:
                raise AssistantError(
                    f"this conversation has {MAX_TURNS} turns, the most kept; start a new one"
                )
            when = now()
            session.add(
                Turn(
                    conversation_id=conversation_id,
                    position=position,
                    question=question,
                    answer=answer,
                    created=when,
                )
            )
            conversation.updated = when
            if not conversation.title:
                conversation.title = title_from(question)
            return position

    def turn(self, token: str, conversation_id: str, position: int) -> dict[str, Any] | None:
        """One turn (question and answer JSON) by its position, or None."""
        with self.database.session() as session:
            self._owned(session, token, conversation_id)
            found = session.scalar(
                select(Turn).where(Turn.conversation_id == conversation_id, Turn.position == position)
            )
            return {"question": found.question, "answer": found.answer} if found else None

    def _owned(self, session, token: str, conversation_id: str) -> Conversation:
        owner = owner_of(token)
        conversation = session.get(Conversation, conversation_id) if conversation_id else None
        if conversation is None or not secrets.compare_digest(conversation.owner, owner):
            raise ConversationNotFound(f"no conversation {conversation_id!r}")
        return conversation


def _summary(conversation: Conversation, turns: int) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "title": conversation.title,
        "created": stamp(conversation.created),
        "updated": stamp(conversation.updated),
        "turn_count": turns,
    }
