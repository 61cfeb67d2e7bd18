"""Rate limits shared by every app process on one database: a token bucket per client and limit, kept
in a table, so that replicas behind one balancer count a client's questions together.

Each take is one conditional UPDATE (the bucket refilled for the time since, less one token, only if
at least one token is there), atomic on SQLite and on PostgreSQL alike; a client's first take inserts
its bucket. On PostgreSQL the commit does not wait for the disk (`synchronous_commit` off for these
transactions only): a count lost in a crash costs nothing. Buckets idle for an hour are deleted now
and then, so the table stays small.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable

from sqlalchemy import case, delete, text, update
from sqlalchemy.exc import IntegrityError

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
        client = client[:MAX_CLIENT_CHARS]
        for _ in range(2):  # a second round when another process inserted the same bucket first
            try:
                return self._take(client, self.clock())
            except IntegrityError:
                continue
        return self._take(client, self.clock())

    def _take(self, client: str, now: float) -> int:
        capacity = float(self.per_minute)
        rate = capacity / 60.0
        refilled = RateBucket.tokens + (now - RateBucket.at) * rate
        available = case((refilled > capacity, capacity), else_=refilled)
        mine = (RateBucket.name == self.name) & (RateBucket.client == client)
        with self.database.session() as session:
            if not self.database.sqlite:  # a count lost in a crash costs nothing: do not wait for the disk
                session.execute(text("SET LOCAL synchronous_commit TO OFF"))
            taken = session.execute(
                update(RateBucket).where(mine, available >= 1).values(tokens=available - 1, at=now)
            )
            if taken.rowcount:
                wait = 0
            else:
                bucket = session.get(RateBucket, (self.name, client))
                if bucket is None:
                    session.add(RateBucket(name=self.name, client=client, tokens=capacity - 1, at=now))
                    session.flush()  # IntegrityError here: another process inserted it first
                    wait = 0
                else:
                    tokens = min(capacity, bucket.tokens + (now - bucket.at) * rate)
                    wait = max(1, math.ceil((1 - tokens) / rate))
            if random.random() < SWEEP_CHANCE:
                session.execute(delete(RateBucket).where(RateBucket.at < now - IDLE_S))
        return wait
