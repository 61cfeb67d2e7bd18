"""The tables of the database, as SQLAlchemy models. A change here lands with an Alembic migration in
`migrations/versions/` (`tests/test_records.py` checks that the two agree)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ID_CHARS = 32  # uuid4().hex
OWNER_CHARS = 64  # sha256 hex of a visitor token
MAX_TITLE_CHARS = 120
URL_CHARS = 2048
MAX_CLIENT_CHARS = 64  # an IPv6 address with its zone fits
UPLOAD_NAME_CHARS = 128  # the cleaned file name: 80 characters, a hash and the suffix


class Base(DeclarativeBase):
    pass


class Conversation(Base):
    """One visitor's conversation. `owner` is a hash of the visitor's token, never the token itself."""

    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(ID_CHARS), primary_key=True)
    owner: Mapped[str] = mapped_column(String(OWNER_CHARS), index=True)
    title: Mapped[str] = mapped_column(String(MAX_TITLE_CHARS), default="")
    created: Mapped[dt.datetime] = mapped_column(DateTime)  # UTC
    updated: Mapped[dt.datetime] = mapped_column(DateTime)
    turns: Mapped[list[Turn]] = relationship(
        back_populates="conversation", cascade="all, delete-orphan", order_by="Turn.position"
    )


class Turn(Base):
    """A question and its answer, the answer kept whole as the JSON `/api/ask` returns."""

    __tablename__ = "turns"
    __table_args__ = (UniqueConstraint("conversation_id", "position", name="uq_turns_position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        String(ID_CHARS), ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[dict] = mapped_column(JSON)
    created: Mapped[dt.datetime] = mapped_column(DateTime)
    conversation: Mapped[Conversation] = relationship(back_populates="turns")


class Rating(Base):
    """A thumbs up or down on an answer. It outlives the conversation it was given in (no foreign key)."""

    __tablename__ = "feedback"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)  # the order given
    id: Mapped[str] = mapped_column(String(ID_CHARS), unique=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime)
    rating: Mapped[str] = mapped_column(String(4))
    comment: Mapped[str] = mapped_column(Text, default="")
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    mode: Mapped[str] = mapped_column(String(20), default="")
    citations: Mapped[list] = mapped_column(JSON)
    conversation_id: Mapped[str | None] = mapped_column(String(ID_CHARS), nullable=True, index=True)


def now() -> dt.datetime:
    """The current time in UTC, without a zone (as every column here stores it)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def stamp(when: dt.datetime) -> str:
    """A stored time as ISO 8601 with its zone."""
    return when.replace(tzinfo=dt.UTC).isoformat(timespec="seconds")


class FetchedURL(Base):
    """What a web address answered last: its validators, sent back on the next fetch (a 304 then
    means nothing changed there)."""

    __tablename__ = "fetched_urls"

    url: Mapped[str] = mapped_column(String(URL_CHARS), primary_key=True)
    etag: Mapped[str] = mapped_column(String(512), default="")
    last_modified: Mapped[str] = mapped_column(String(64), default="")
    checked: Mapped[dt.datetime] = mapped_column(DateTime)


class Source(Base):
    """A feed, sitemap or page refreshed on a schedule (`assistant sources`, `assistant watch`)."""

    __tablename__ = "sources"

    url: Mapped[str] = mapped_column(String(URL_CHARS), primary_key=True)
    every_s: Mapped[int] = mapped_column(Integer)
    added: Mapped[dt.datetime] = mapped_column(DateTime)
    last_fetch: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    articles: Mapped[int] = mapped_column(Integer, default=0)  # added or updated by the last refresh


class RateBucket(Base):
    """A client's token bucket for one limit (`name`: questions, uploads), shared by every process on
    the database: `tokens` left at time `at` (seconds since the epoch)."""

    __tablename__ = "rate_buckets"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    client: Mapped[str] = mapped_column(String(MAX_CLIENT_CHARS), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    at: Mapped[float] = mapped_column(Float, index=True)


class Upload(Base):
    """An article file sent from a browser or the API, kept whole so that a rebuild on any process
    indexes it again (its doc_id is `uploads/<name>`)."""

    __tablename__ = "uploads"

    name: Mapped[str] = mapped_column(String(UPLOAD_NAME_CHARS), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    updated: Mapped[dt.datetime] = mapped_column(DateTime)  # UTC
