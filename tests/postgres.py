"""A real PostgreSQL server for the tests (Debian's `postgresql` package, which `make test` installs):
initialised in a temporary folder, run by the `postgres` user when the tests run as root (the server
refuses root), on a free loopback port, stopped and removed after the session. `postgres_url` gives
each test a database of its own on it."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest
from conftest import free_port

START_TIMEOUT_S = 60


def _binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: `make test` installs Debian's postgresql")
    return Path(found[-1]).parent


def _as_owner(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class PostgresServer:
    """The running server: `url` (no database name) for the `postgres` superuser over loopback;
    `stop()` and `start()` take it down and bring it back (a database outage)."""

    def __init__(self, folder: Path) -> None:
        self.binaries = _binaries()
        self.folder = folder
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}"
        self._run(["initdb", "-D", str(folder / "data"), "-U", "postgres", "-A", "trust", "--no-sync"])

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.folder / "server.log")
        self._run(["pg_ctl", "-D", str(self.folder / "data"), "-o", options, "-l", log, "-w", "start"])

    def stop(self) -> None:
        self._run(["pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop"])

    def _run(self, command: list[str]) -> None:
        command = [str(self.binaries / command[0]), *command[1:]]
        subprocess.run(_as_owner(command), check=True, capture_output=True, timeout=START_TIMEOUT_S)


@pytest.fixture(scope="session")
def postgres_server():
    folder = Path(tempfile.mkdtemp(prefix="assistant-postgres-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    server = PostgresServer(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A new, empty database on the test server."""
    from sqlalchemy import create_engine, text

    name = f"test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(f"{postgres_server.url}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return f"{postgres_server.url}/{name}"
