"""Benchmarks: ingestion and query speed next to the plain llama-index recipe and the hardware floor.

`assistant bench` (or `python -m assistant.bench.benchmark`) generates a deterministic news-like
corpus of each size, and for each size and store mode runs one child process (so that peak memory is
per size) that measures ingestion against the embedding model alone, query latency of our search and
answers against llama-index's `VectorStoreIndex` over `ChromaVectorStore` and against a raw
`collection.query`, peak RSS, index size on disk and the cold start of `assistant serve`. It prints
a table and writes JSON and Markdown. Numbers are measurements, never pass/fail.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

from assistant.bench.report import machine, markdown, progress_line
from assistant.config import EMBED_BACKENDS, Settings
from assistant.evaluation.metrics import percentile
from assistant.library.chunking import split_article
from assistant.library.embeddings import Embedder, load_embedder
from assistant.library.synthetic import DEFAULT_QUESTIONS, SEED, Corpus, synthetic_corpus
from assistant.modes import AnswerMode, Retriever

DEFAULT_SIZES = (1_000, 10_000, 100_000)
WARM_UP_QUESTIONS = 10
TOP_K = 5
INGEST_LIMIT_CHUNKS = 10_000  # above this, ingestion reuses cached vectors (the floor is not re-run)
# --- the child: one size, one store mode ---------------------------------------------------------


class CachedEmbedder(Embedder):
    """The real model for queries; documents' vectors come from a cache computed once."""

    def use_vectors(self, texts: list[str], vectors: np.ndarray) -> None:
        self._rows = {text: row for row, text in enumerate(texts)}
        self._vectors = vectors

    def encode(self, texts: list[str]) -> list[list[float]]:
        rows = getattr(self, "_rows", {})
        if texts and all(t in rows for t in texts):
            return self._vectors[[rows[t] for t in texts]].tolist()
        return super().encode(texts)


def measure(size: int, mode: str, chroma_url: str, work: Path, cache: Path, questions: int) -> dict[str, Any]:
    from assistant.library.ingest import ingest_articles
    from assistant.pipeline import Assistant

    settings = Settings(index_dir=work / "index", chroma_url=chroma_url, collection=f"bench-{size}")
    embedder = load_embedder(settings)
    corpus = synthetic_corpus(size, questions, settings)
    texts = chunk_texts(corpus, settings)
    result: dict[str, Any] = {
        "size": size,
        "mode": mode,
        "chunks": len(texts),
        "articles": len(corpus.articles),
    }

    vector_file = cache / f"{_cache_key(settings, size)}.npy"
    if size <= INGEST_LIMIT_CHUNKS:
        started = time.perf_counter()
        vectors = np.array(embedder.encode(texts), dtype=np.float32)
        result["embed_floor_s"] = time.perf_counter() - started
        started = time.perf_counter()
        report = ingest_articles(corpus.articles, settings, embedder)
        result["ingest_s"] = time.perf_counter() - started
        result["ingest_ratio"] = result["ingest_s"] / result["embed_floor_s"]
    else:
        if vector_file.exists():
            vectors = np.load(vector_file)
        else:
            started = time.perf_counter()
            vectors = np.array(embedder.encode(texts), dtype=np.float32)
            result["embed_floor_s"] = time.perf_counter() - started
        cached = CachedEmbedder(embedder.encoder, embedder.model_name, embedder.embed_batch_size)
        cached.use_vectors(texts, vectors)
        started = time.perf_counter()
        report = ingest_articles(corpus.articles, settings, cached)
        result["ingest_cached_vectors_s"] = time.perf_counter() - started
    cache.mkdir(parents=True, exist_ok=True)
    if not vector_file.exists():
        np.save(vector_file, vectors)
    result["chunks_written"] = report.chunks_written
    for key in ("ingest_s", "ingest_cached_vectors_s"):
        if key in result:
            result["articles_per_s"] = len(corpus.articles) / result[key]
            result["chunks_per_s"] = len(texts) / result[key]

    assistant = Assistant(settings, embedder)
    assistant.warm_up()
    result["latency_ms"] = _query_latencies(assistant, embedder, corpus.questions)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if mode == "embedded":
        result["index_mb"] = _folder_mb(settings.index_dir / "chroma")
    return result


def chunk_texts(corpus: Corpus, settings: Settings) -> list[str]:
    """The corpus's chunks as the embedding model sees them (text with its embedded metadata)."""
    from llama_index.core.schema import MetadataMode

    return [
        node.get_content(metadata_mode=MetadataMode.EMBED)
        for article in corpus.articles
        for node in split_article(
            article, chunk_tokens=settings.chunk_tokens, overlap_tokens=settings.chunk_overlap_tokens
        )
    ]


def _query_latencies(assistant, embedder: Embedder, questions: list[str]) -> dict[str, dict[str, float]]:
    from llama_index.core import VectorStoreIndex
    from llama_index.core.schema import QueryBundle
    from llama_index.vector_stores.chroma import ChromaVectorStore

    collection = assistant.store.raw_collection
    index = VectorStoreIndex.from_vector_store(
        ChromaVectorStore(chroma_collection=collection), embed_model=embedder
    )
    baseline = index.as_retriever(similarity_top_k=TOP_K)
    encoder = embedder.encoder

    def floor(question: str) -> None:
        vector = encoder.encode([question], 1)
        collection.query(query_embeddings=vector.tolist(), n_results=TOP_K)

    # the fused ranking alone, as llama-index's retriever is: k passages, no reordering
    hybrid = assistant.retriever(k=TOP_K, retriever=Retriever.HYBRID)
    methods = {
        "retrieve_hybrid": lambda q: hybrid.retrieve(QueryBundle(q)),
        "search_hybrid": lambda q: assistant.search(q, k=TOP_K, retriever=Retriever.HYBRID),
        "search_dense": lambda q: assistant.search(q, k=TOP_K, retriever=Retriever.DENSE),
        "ask_extractive": lambda q: assistant.ask(q, k=TOP_K, mode=AnswerMode.EXTRACTIVE),
        "llamaindex_dense": lambda q: baseline.retrieve(q),
        "floor": floor,
    }
    for question in questions[:WARM_UP_QUESTIONS]:
        for call in methods.values():
            call(question)
    # Interleaved, so that every method meets the same machine state; the query-vector cache is
    # emptied before each call, so every method embeds every question itself.
    timings: dict[str, list[float]] = {name: [] for name in methods}
    for question in questions:
        for name, call in methods.items():
            embedder.clear_cache()
            started = time.perf_counter()
            call(question)
            timings[name].append((time.perf_counter() - started) * 1000)
    latencies = {name: {"p50": percentile(t, 50), "p95": percentile(t, 95)} for name, t in timings.items()}
    return latencies


def cold_start(settings_env: dict[str, str], timeout_s: float = 120.0) -> tuple[float, float]:
    """Seconds from starting `assistant serve` to the first answered /api/ask, and the server's peak
    RSS in MB by then (the app alone, without this benchmark's corpus and vectors)."""
    port = _free_port()
    script = str(Path(sys.executable).parent / "assistant")
    started = time.perf_counter()
    process = subprocess.Popen(
        [script, "serve", "--port", str(port)], env={**os.environ, **settings_env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    body = json.dumps({"question": "Whom did the minister meet?"}).encode()
    try:
        while time.perf_counter() - started < timeout_s:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/ask", data=body, headers={"Content-Type": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    if response.status == 200:
                        elapsed = time.perf_counter() - started
                        return elapsed, _peak_rss_mb(process.pid)
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("assistant serve did not answer in time")
    finally:
        process.terminate()
        process.wait(timeout=20)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _cache_key(settings: Settings, size: int) -> str:
    key = f"{settings.model_identity}|{settings.chunk_tokens}|{settings.chunk_overlap_tokens}|{SEED}|{size}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


# --- the parent: every size and mode, the table -----------------------------------------------------


def run(
    sizes: list[int],
    modes: list[str],
    out: Path,
    cache: Path,
    questions: int,
    backends: tuple[list[str], int] = ([], 0),
) -> dict[str, Any]:
    results = []
    for size in sizes:
        for mode in modes:
            with tempfile.TemporaryDirectory(prefix="assistant-bench-") as tmp:
                work = Path(tmp)
                server = _start_chroma(work) if mode == "server" else None
                try:
                    url = server[1] if server else ""
                    result = _child(size, mode, url, work, cache, questions)
                    env = {
                        "ASSISTANT_INDEX_DIR": str(work / "index"),
                        "ASSISTANT_COLLECTION": f"bench-{size}",
                        "ASSISTANT_CHROMA_URL": url,
                    }
                    result["cold_start_s"], result["serve_peak_rss_mb"] = cold_start(env)
                    if server:
                        result["index_mb"] = _folder_mb(work / "chroma-server")
                finally:
                    if server:
                        server[0].terminate()
                        server[0].wait(timeout=20)
            results.append(result)
            print(progress_line(result), file=sys.stderr, flush=True)
    report = {"machine": machine(), "results": results, "top_k": TOP_K, "questions": questions}
    if backends[0]:
        report["backends"] = compare_backends(backends[0], backends[1], questions)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "table.md").write_text(markdown(report))
    return report


def _child(size: int, mode: str, url: str, work: Path, cache: Path, questions: int) -> dict[str, Any]:
    output = work / "result.json"
    command = [sys.executable, "-m", "assistant.bench.benchmark", "--child", "--size", str(size),
               "--mode", mode, "--work", str(work), "--cache", str(cache), "--questions", str(questions),
               "--result", str(output)] + (["--chroma-url", url] if url else [])  # fmt: skip
    subprocess.run(command, check=True)
    return json.loads(output.read_text())


def _start_chroma(work: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    chroma = str(Path(sys.executable).parent / "chroma")
    process = subprocess.Popen(
        [chroma, "run", "--path", str(work / "chroma-server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("chroma run did not start")


def compare_backends(backends: list[str], chunks: int, questions: int) -> list[dict[str, Any]]:
    """Each embedding backend on the same synthetic chunks and questions: chunks encoded per second,
    query encoding p50 / p95 in ms, and the cosine of its vectors to the torch model's."""
    from assistant.library.embeddings import resolve_model
    from assistant.library.encoders import load_encoder

    settings = Settings()
    corpus = synthetic_corpus(chunks, questions, settings)
    texts = chunk_texts(corpus, settings)[:chunks]
    location = resolve_model(settings.embedding_model)
    reference = None
    rows = []
    for backend in ["torch", *[b for b in backends if b != "torch"]]:
        encoder = load_encoder(location, settings.embedding_model, backend, settings.model_cache_dir)
        encoder.encode(texts[: settings.embed_batch_size], settings.embed_batch_size)  # warm
        started = time.perf_counter()
        vectors = encoder.encode(texts, settings.embed_batch_size)
        seconds = time.perf_counter() - started
        timings = []
        for question in corpus.questions:
            started = time.perf_counter()
            encoder.encode([question], 1)
            timings.append((time.perf_counter() - started) * 1000)
        reference = vectors if reference is None else reference
        cosines = (vectors * reference).sum(axis=1)
        rows.append({
            "backend": backend, "chunks_per_s": len(texts) / seconds,
            "query_ms": {"p50": percentile(timings, 50), "p95": percentile(timings, 95)},
            "cosine_to_torch": {"min": float(cosines.min()), "mean": float(cosines.mean())},
        })  # fmt: skip
        print(f"backend {backend}: {rows[-1]['chunks_per_s']:.1f} chunks/s, query p50 "
              f"{rows[-1]['query_ms']['p50']:.1f} ms", file=sys.stderr, flush=True)  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="assistant bench", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES), help="chunk counts")
    parser.add_argument("--modes", default="embedded,server", help="embedded, server or both")
    parser.add_argument("--questions", type=int, default=DEFAULT_QUESTIONS)
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    parser.add_argument("--cache", type=Path, default=Path("index") / "bench-cache", help="chunk vectors")
    parser.add_argument(
        "--backends", default="torch,onnx,onnx-int8", help="embedding backends to compare ('' = none)"
    )
    parser.add_argument("--backend-chunks", type=int, default=1000, help="chunks for the backend comparison")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--chroma-url", default="", help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        result = measure(args.size, args.mode, args.chroma_url, args.work, args.cache, args.questions)
        args.result.write_text(json.dumps(result))
        return 0
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes takes whole numbers separated by commas, not {args.sizes!r}")
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not sizes or any(s < 10 for s in sizes) or not set(modes) <= {"embedded", "server"} or not modes:
        parser.error("--sizes needs numbers of at least 10 and --modes embedded and/or server")
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not set(backends) <= set(EMBED_BACKENDS):
        parser.error(f"--backends takes some of {', '.join(EMBED_BACKENDS)}")
    report = run(sizes, modes, args.out, args.cache, args.questions, (backends, args.backend_chunks))
    print(markdown(report))
    print(f"written: {args.out / 'bench.json'}, {args.out / 'table.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
