"""Rate limits shared by every app process on one database: a token bucket per client and limit, kept
in a table, so that replicas behind one balancer count a client's questions together.

Each take is one conditional UPDATE (the bucket refilled for the time since, less one token, only if at
least one token is there), atomic on SQLite and on PostgreSQL alike; a client's first take inserts its
bucket, and a process that finds it inserted by another meanwhile takes from that one. On PostgreSQL the
commit does not wait for the disk (`synchronous_commit` off for these transactions only): a count lost
in a crash costs nothing. Buckets idle for an hour are deleted now and then, so the table stays small.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable

from sqlalchemy import case, delete, insert, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from assistant.records.database import Database
from assistant.records.schema import MAX_CLIENT_CHARS, RateBucket

IDLE_S = 3600.0  # a bucket untouched this long is full again: its row can go
SWEEP_CHANCE = 0.01  # one take in a hundred deletes the idle buckets


class SharedBuckets:
    """`per_minute` tokens a minute per client, holding at most a minute's worth (as the per-process
    `RateLimiter` of the web layer), counted in the database under `name`."""

    def __init__(
        self, database: Database, name: str, per_minute: int, clock: Callable[[], float] = time.time
    ) -> None:
        self.database = database
        self.name = name
        self.per_minute = per_minute
        self.clock = clock

    def take(self, client: str) -> int:
        """Take a token for the client: 0 when it had one, else the seconds until it will.
        Raises DatabaseError when the database fails."""
        return self._take(client[:MAX_CLIENT_CHARS], self.clock())

    def _take(self, client: str, now: float) -> int:
        capacity = float(self.per_minute)
        rate = capacity / 60.0
        refilled = RateBucket.tokens + (now - RateBucket.at) * rate
        available = case((refilled > capacity, capacity), else_=refilled)
        mine = (RateBucket.name == self.name) & (RateBucket.client == client)
        with self.database.session() as session:
            if not self.database.sqlite:  # a count lost in a crash costs nothing: do not wait for the disk
                session.execute(text("SET LOCAL synchronous_commit TO OFF"))
            take = update(RateBucket).where(mine, available >= 1).values(tokens=available - 1, at=now)
            wait = 0
            if not session.execute(take).rowcount:
                fresh = {"name": self.name, "client": client, "tokens": capacity - 1, "at": now}
                inserted = session.execute(self._insert_new(fresh)).first() is not None
                # not inserted: the bucket is there (another process may have just made it)
                if not inserted and not session.execute(take).rowcount:
                    bucket = session.get(RateBucket, (self.name, client))
                    tokens = min(capacity, bucket.tokens + (now - bucket.at) * rate)
                    wait = max(1, math.ceil((1 - tokens) / rate))
            if random.random() < SWEEP_CHANCE:
                session.execute(delete(RateBucket).where(RateBucket.at < now - IDLE_S))
        return wait

    def _insert_new(self, values: dict):
        """An INSERT of a new bucket that does nothing when another process inserted it first (on
        SQLite and PostgreSQL; elsewhere a plain INSERT, whose clash is a DatabaseError)."""
        dialect = self.database.engine.dialect.name
        if dialect == "sqlite":
            statement = sqlite_insert(RateBucket).values(**values).on_conflict_do_nothing()
        elif dialect == "postgresql":
            statement = postgresql_insert(RateBucket).values(**values).on_conflict_do_nothing()
        else:
            statement = insert(RateBucket).values(**values)
        return statement.returning(RateBucket.name)  # a row back only when it was inserted
