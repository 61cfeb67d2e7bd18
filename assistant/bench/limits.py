"""What a rate-limit check costs: the per-process token bucket against the one shared by replicas
through the database (one conditional UPDATE per question).

    python -m assistant.bench.limits [--database-url URL] [--takes 2000]

Without --database-url it measures a SQLite file in a temporary folder (the default database). Prints
p50 / p95 in microseconds per take, for one client asking again and again and for many clients.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from assistant.evaluation.metrics import percentile
from assistant.records.database import Database
from assistant.records.limits import SharedBuckets
from assistant.web.guard import RateLimiter


def measure(take, clients: int, takes: int) -> tuple[float, float]:
    timings = []
    for n in range(takes):
        started = time.perf_counter()
        take(f"198.51.100.{n % clients}")
        timings.append((time.perf_counter() - started) * 1e6)
    return percentile(timings, 50), percentile(timings, 95)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m assistant.bench.limits", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--database-url", default="", help="SQLAlchemy URL (default: SQLite in a temp folder)"
    )
    parser.add_argument("--takes", type=int, default=2000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="limits-") as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'limits.db'}"
        database = Database(url)
        database.migrate()
        per_minute = 10**9  # never refused: every take writes, as an allowed question does
        shared = SharedBuckets(database, f"bench-{time.time_ns()}", per_minute)
        local = RateLimiter(per_minute)
        for name, take in (("in this process", local.take), (f"in {database.shown}", shared.take)):
            for clients in (1, 200):
                p50, p95 = measure(take, clients, args.takes)
                print(f"{name}, {clients} client(s): p50 {p50:.0f} us, p95 {p95:.0f} us per take")
        database.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
