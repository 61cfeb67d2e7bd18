"""`assistant cluster`: the replicated deployment on one machine, started, health-checked and stopped
together. It is the recipe `deploy/compose.yaml` follows with containers, with the same settings:

- a Chroma server (`chroma run`, from the chromadb wheel) holding the vectors, the chunks and the
  article records, unless ASSISTANT_CHROMA_URL names one;
- a PostgreSQL server (Debian's `postgresql`; run as the `postgres` user when started as root) for
  conversations, feedback, sources, uploads and the shared rate limits, unless
  ASSISTANT_DATABASE_URL names a database;
- N `assistant serve` replicas, each with a local folder of its own (model cache, keyword-index copy);
- nginx in front, spreading clients over the replicas by address (a chat's requests stay on one
  replica) and passing the client's address on (the replicas trust it from 127.0.0.1 only).

Everything it starts lives under `--data`; the servers keep their data between runs.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from assistant.config import Settings
from assistant.errors import AssistantError

START_TIMEOUT_S = 120
# The proxy's configuration; deploy/nginx.conf is the same for the containers (a test compares them).
NGINX_TEMPLATE = """\
daemon off;  # a child of the launcher, stopped with it
worker_processes 1;
pid {folder}/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path {folder}/tmp/body;
    proxy_temp_path {folder}/tmp/proxy;
    fastcgi_temp_path {folder}/tmp/fastcgi;
    uwsgi_temp_path {folder}/tmp/uwsgi;
    scgi_temp_path {folder}/tmp/scgi;
    upstream assistant {
        ip_hash;  # a client stays on one replica: the chat's queue and its event stream meet there
{servers}
    }
    server {
        listen {listen};
        client_max_body_size 4m;  # the replicas check their own, smaller, limits
        location / {
            proxy_pass http://assistant;
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header Connection "";
            proxy_buffering off;  # streamed answers reach the browser as they are written
            proxy_read_timeout 300s;
        }
    }
}
"""


class ClusterError(AssistantError):
    pass


def add_command(commands) -> None:
    cluster = commands.add_parser(
        "cluster", help="run Chroma, PostgreSQL, N replicas and nginx together on this machine"
    )
    cluster.add_argument("--replicas", type=int, default=2, help="app processes behind the proxy")
    cluster.add_argument("--port", type=int, default=8080, help="where nginx listens (127.0.0.1)")
    cluster.add_argument("--data", type=Path, default=Path("index") / "cluster", help="the servers' data")
    cluster.add_argument("--articles", type=Path, action="append", default=[], help="ingest these first")
    cluster.set_defaults(run=run_cluster, settings_only=True)


def run_cluster(settings: Settings, args: argparse.Namespace) -> int:
    if not 1 <= args.replicas <= 16:
        raise ClusterError("--replicas must be between 1 and 16")
    cluster = Cluster(settings, args.data.resolve(), args.replicas, args.port)
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    try:
        cluster.start(args.articles)
        for line in cluster.health():
            print(line, flush=True)
        print(f"cluster ready on http://127.0.0.1:{args.port}/ (Ctrl-C stops it)", flush=True)
        while not stopping.wait(1.0):
            if dead := cluster.exited():
                raise ClusterError(f"{dead} exited; see its log under {args.data}")
    finally:
        cluster.stop()
    return 0


@dataclass
class Cluster:
    settings: Settings
    data: Path
    replicas: int
    port: int
    processes: list[tuple[str, subprocess.Popen]] = field(default_factory=list)
    postgres: Path | None = None

    def __post_init__(self) -> None:
        self.env = {**os.environ, "ASSISTANT_TRUSTED_PROXIES": "127.0.0.1"}
        self.replica_urls: list[str] = []

    def start(self, articles: list[Path]) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        self.env["ASSISTANT_CHROMA_URL"] = self.settings.chroma_url or self._start_chroma()
        self.env["ASSISTANT_DATABASE_URL"] = self.settings.database_url or self._start_postgres()
        if articles:
            self._run_assistant("ingest", *map(str, articles))
        for n in range(self.replicas):
            port = free_port()
            folder = self.data / f"replica-{n + 1}"
            url = f"http://127.0.0.1:{port}"
            env = {"ASSISTANT_INDEX_DIR": str(folder)}
            self._spawn(
                f"replica {n + 1}", [_assistant(), "serve", "--host", "127.0.0.1", "--port", str(port)], env
            )
            self.replica_urls.append(url)
        for n, url in enumerate(self.replica_urls):
            wait_for(f"{url}/healthz", f"replica {n + 1}", self.processes[-self.replicas + n][1])
        self._start_nginx()

    def health(self) -> list[str]:
        """One line per part: its address and whether it answers its health check."""
        chroma, database = self.env["ASSISTANT_CHROMA_URL"], self.env["ASSISTANT_DATABASE_URL"]
        proxy = f"http://127.0.0.1:{self.port}"
        parts = [("chroma", chroma, _answers(f"{chroma}/api/v2/heartbeat"))]
        parts.append(("database", _shown(database), _database_answers(database)))
        parts += [
            (f"replica {n + 1}", url, _answers(f"{url}/healthz")) for n, url in enumerate(self.replica_urls)
        ]
        parts.append(("nginx", proxy, _answers(f"{proxy}/healthz")))
        return [f"{name:<11} {where}: {state}" for name, where, state in parts]

    def exited(self) -> str | None:
        return next((name for name, process in self.processes if process.poll() is not None), None)

    def stop(self) -> None:
        for _, process in reversed(self.processes):
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.postgres is not None:
            _as_postgres(
                [
                    str(self.postgres / "pg_ctl"),
                    "-D",
                    str(self.data / "postgres" / "data"),
                    "-m",
                    "fast",
                    "-w",
                    "stop",
                ]
            )
            self.postgres = None

    # --- the parts ---------------------------------------------------------------------------

    def _start_chroma(self) -> str:
        port = free_port()
        chroma = str(Path(sys.executable).parent / "chroma")
        command = [
            chroma,
            "run",
            "--path",
            str(self.data / "chroma"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
        process = self._spawn("chroma", command)
        url = f"http://127.0.0.1:{port}"
        wait_for(f"{url}/api/v2/heartbeat", "chroma", process)
        return url

    def _start_postgres(self) -> str:
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[4]))
        if not binaries:
            raise ClusterError(
                "PostgreSQL is not installed (apt-get install postgresql), or set ASSISTANT_DATABASE_URL"
            )
        bin_dir = Path(binaries[-1])
        folder, port = self.data / "postgres", free_port()
        folder.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
        if not (folder / "data").is_dir():
            _as_postgres(
                [str(bin_dir / "initdb"), "-D", str(folder / "data"), "-U", "postgres", "-A", "trust"]
            )
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1"
        _as_postgres(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(folder / "data"),
                "-o",
                options,
                "-l",
                str(folder / "server.log"),
                "-w",
                "start",
            ]
        )
        self.postgres = bin_dir
        return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"

    def _start_nginx(self) -> None:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(nginx).exists():
            raise ClusterError("nginx is not installed (apt-get install nginx-light)")
        folder = self.data / "nginx"
        (folder / "tmp").mkdir(parents=True, exist_ok=True)
        servers = "\n".join(f"        server {url.removeprefix('http://')};" for url in self.replica_urls)
        config = NGINX_TEMPLATE.replace("{servers}", servers)
        config = config.replace("{listen}", f"127.0.0.1:{self.port}").replace("{folder}", str(folder))
        (folder / "nginx.conf").write_text(config)
        process = self._spawn(
            "nginx",
            [nginx, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", str(folder / "error.log")],
        )
        wait_for(f"http://127.0.0.1:{self.port}/healthz", "nginx", process)

    def _run_assistant(self, *args: str) -> None:
        done = subprocess.run(
            [_assistant(), *args], env=self.env | {"ASSISTANT_INDEX_DIR": str(self.data / "ingest")}
        )
        if done.returncode != 0:
            raise ClusterError(f"`assistant {' '.join(args)}` failed")

    def _spawn(self, name: str, command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        log = open(self.data / f"{name.replace(' ', '-')}.log", "ab")  # noqa: SIM115 - kept by the process
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=self.env | (env or {}))
        self.processes.append((name, process))
        return process


def wait_for(url: str, name: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ClusterError(f"{name} exited with {process.returncode} before answering {url}")
        if _answers(url) == "ok":
            return
        time.sleep(0.3)
    raise ClusterError(f"{name} did not answer {url} within {START_TIMEOUT_S} s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return "ok" if response.status == 200 else f"HTTP {response.status}"
    except OSError as exc:
        return f"not answering ({exc})"


def _database_answers(url: str) -> str:
    from assistant.records.database import Database

    database = Database(url)
    try:
        database.ping()
        return "ok"
    except AssistantError as exc:
        return str(exc)
    finally:
        database.close()


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _assistant() -> str:
    return str(Path(sys.executable).parent / "assistant")


def _as_postgres(command: list[str]) -> None:
    """Run a PostgreSQL tool as the `postgres` user when we are root (the server refuses root)."""
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=START_TIMEOUT_S)
    if done.returncode != 0:
        tool = Path(command[4 if os.geteuid() == 0 else 0]).name
        said = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        raise ClusterError(f"{tool}: {said}")
