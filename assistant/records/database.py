"""The connection to the database: an engine for the configured URL, its schema brought up to date by
Alembic on first use, and sessions that turn a failing database into one `DatabaseError` line."""

from __future__ import annotations

import contextlib
import fcntl
import threading
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from assistant.config import Settings
from assistant.errors import ConfigError, DatabaseError

DATABASE_FILE = "assistant.db"
MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000  # a writer waits this long for another (a second process) to finish
MIGRATION_LOCK_KEY = 7_716_071_122  # the PostgreSQL advisory lock the migrations hold


def database_url(settings: Settings) -> str:
    """ASSISTANT_DATABASE_URL, or a SQLite file in the index folder."""
    return settings.database_url or f"sqlite:///{(settings.index_dir / DATABASE_FILE).resolve()}"


class Database:
    """One engine per process. Nothing connects until the first session, which first applies the
    migrations the database lacks, so that a server whose database is down still answers questions."""

    def __init__(self, url: str) -> None:
        try:
            parsed = make_url(url)
            self.engine: Engine = create_engine(parsed, pool_pre_ping=True)
        except (ArgumentError, ImportError, ValueError) as exc:
            raise ConfigError(
                f"ASSISTANT_DATABASE_URL is not a database SQLAlchemy can open: {exc}"
            ) from None
        self.shown = parsed.render_as_string(hide_password=True)
        self.sqlite = parsed.get_backend_name() == "sqlite"
        if self.sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._migrated = False
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed when the block ends, rolled back if it raises."""
        self.migrate()
        try:
            with self._sessions.begin() as session:
                yield session
        except SQLAlchemyError as exc:
            raise DatabaseError(f"the database ({self.shown}) failed: {_first_line(exc)}") from None

    def ping(self) -> None:
        """Raise DatabaseError unless the database answers (health checks; no migration)."""
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except SQLAlchemyError as exc:
            raise DatabaseError(f"the database ({self.shown}) failed: {_first_line(exc)}") from None

    def migrate(self) -> None:
        """Apply the Alembic migrations the database lacks (once per process)."""
        if self._migrated:
            return
        from alembic import command
        from alembic.config import Config

        with self._lock:
            if self._migrated:
                return
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            try:
                if self.sqlite and self.engine.url.database:
                    Path(self.engine.url.database).parent.mkdir(parents=True, exist_ok=True)
                with self._file_lock(), self.engine.begin() as connection:  # the lock outlives the commit
                    if self.engine.url.get_backend_name() == "postgresql":  # held until the commit
                        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
                    config.attributes["connection"] = connection
                    command.upgrade(config, "head")
            except (SQLAlchemyError, OSError) as exc:
                raise DatabaseError(f"cannot open the database ({self.shown}): {_first_line(exc)}") from None
            self._migrated = True

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        """One migrating process at a time on a SQLite database (two replicas starting together): a
        lock on a file beside it, held until the migration is committed. (PostgreSQL's migrations
        hold an advisory lock instead.)"""
        if not (self.sqlite and self.engine.url.database):
            yield
            return
        with open(f"{self.engine.url.database}.migrate.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes
            yield

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(connection, _record) -> None:
    """Cascading deletes, and readers that do not block the writer (several threads and processes)."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _first_line(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    return (str(original).strip().splitlines() or [type(original).__name__])[0]
