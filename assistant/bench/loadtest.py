"""A load run against a running `assistant serve`: concurrent clients asking, optionally while new
articles are uploaded, then checks that every request was answered and nothing was lost.

    python -m assistant.bench.loadtest --url http://127.0.0.1:7860 --clients 20 --questions 10
    python -m assistant.bench.loadtest --url ... --upload 20 --key KEY     # ingest while they ask

Each client asks its questions one after another (questions from evals/seed.jsonl, cycled); all
clients run at once. With --upload N, N generated articles are uploaded through POST /api/documents
during the run; afterwards each must be listed exactly once, found first by a search for its own
title, and the index must hold exactly the chunks the uploads reported on top of what it held
before. Prints p50 / p95 latency and the counts, writes JSON with --json, and exits 1 when any
request failed or any check did not hold. Meant for loopback: it sends what it is told to.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from assistant.evaluation.metrics import percentile
from assistant.library.synthetic import synthetic_corpus
from assistant.modes import Retriever

DEFAULT_QUESTIONS = Path("evals") / "seed.jsonl"
TIMEOUT_S = 120


def call(url: str, method: str = "GET", body: bytes | None = None, headers: dict | None = None):
    """(status, parsed JSON or text, seconds); a refused connection is status 0."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except OSError as exc:
        return 0, str(exc), time.perf_counter() - started
    seconds = time.perf_counter() - started
    try:
        return status, json.loads(raw), seconds
    except ValueError:
        return status, raw.decode("utf-8", "replace"), seconds


def load_questions(path: Path) -> list[str]:
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            questions.append(json.loads(line)["question"])
    return questions


def run(
    url: str, clients: int, per_client: int, questions: list[str], upload: int = 0, key: str = "", k: int = 0
):
    url = url.rstrip("/")
    before = call(f"{url}/healthz")[1]
    chunks_before = before["store"]["chunks"] if isinstance(before, dict) else 0
    results: list[tuple[int, float]] = []
    lock = threading.Lock()

    def client(number: int) -> None:
        for turn in range(per_client):
            question = questions[(number * per_client + turn) % len(questions)]
            body = json.dumps({"question": question} | ({"k": k} if k else {})).encode()
            status, _, seconds = call(f"{url}/api/ask", "POST", body, {"Content-Type": "application/json"})
            with lock:
                results.append((status, seconds))

    uploads: list[dict[str, Any]] = []
    articles = synthetic_corpus(upload * 10, questions=0).articles[:upload] if upload else []

    def uploader() -> None:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        headers["Content-Type"] = "application/octet-stream"  # an upload must declare a non-form type
        for article in articles:
            name = urllib.parse.quote(f"load-{article.doc_id.rsplit('/', 1)[-1]}")
            data = article.text.encode()
            status, reply, seconds = call(f"{url}/api/documents?filename={name}", "POST", data, headers)
            uploads.append({"status": status, "reply": reply, "seconds": seconds, "title": article.title})

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients + 1) as pool:
        futures = [pool.submit(client, n) for n in range(clients)]
        if upload:
            futures.append(pool.submit(uploader))
        for future in futures:
            future.result()
    wall = time.perf_counter() - started

    latencies = [seconds * 1000 for status, seconds in results if status == 200]
    report: dict[str, Any] = {
        "clients": clients,
        "questions_per_client": per_client,
        "requests": len(results),
        "statuses": dict(Counter(str(status) for status, _ in results)),
        "answered": sum(1 for status, _ in results if status == 200),
        "server_errors": sum(1 for status, _ in results if status >= 500 or status == 0),
        "p50_ms": percentile(latencies, 50) if latencies else 0.0,
        "p95_ms": percentile(latencies, 95) if latencies else 0.0,
        "max_ms": max(latencies, default=0.0),
        "seconds": wall,
        "questions_per_s": len(results) / wall if wall else 0.0,
        "problems": [],
    }
    if report["answered"] != clients * per_client:
        report["problems"].append(f"{clients * per_client - report['answered']} questions not answered")
    if upload:
        report["uploads"] = check_uploads(url, uploads, chunks_before, report["problems"])
    return report


def check_uploads(url: str, uploads: list[dict], chunks_before: int, problems: list[str]) -> dict[str, Any]:
    """Every upload listed once, found by its title, and the chunk count adds up."""
    added = [u for u in uploads if u["status"] == 201 and isinstance(u["reply"], dict)]
    for failed in (u for u in uploads if u not in added):
        problems.append(f"upload of {failed['title']!r} failed: {failed['status']} {failed['reply']}")
    listed = Counter(d["doc_id"] for d in call(f"{url}/api/documents")[1])
    for u in added:
        doc_id = u["reply"]["doc_id"]
        if listed[doc_id] != 1:
            problems.append(f"{doc_id} is listed {listed[doc_id]} times")
        query = urllib.parse.urlencode({"q": u["title"], "k": 1, "retriever": Retriever.BM25.value})
        status, hits, _ = call(f"{url}/api/search?{query}")
        if status != 200 or not hits or hits[0]["doc_id"] != doc_id:
            problems.append(f"a search for {u['title']!r} does not find {doc_id} first")
    written = sum(u["reply"].get("chunks_written", 0) for u in added)
    chunks_after = call(f"{url}/healthz")[1]["store"]["chunks"]
    if chunks_after != chunks_before + written:
        problems.append(f"the index holds {chunks_after} chunks, expected {chunks_before} + {written}")
    seconds = [u["seconds"] * 1000 for u in added]
    return {
        "uploaded": len(added),
        "chunks_written": written,
        "chunks_before": chunks_before,
        "chunks_after": chunks_after,
        "p50_ms": percentile(seconds, 50) if seconds else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m assistant.bench.loadtest", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--url", required=True, help="base URL of `assistant serve`")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--questions", type=int, default=10, help="questions per client")
    parser.add_argument("--question-set", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--upload", type=int, default=0, help="articles to upload during the run")
    parser.add_argument("--key", default="", help="API key for the uploads (when the server has keys)")
    parser.add_argument("--k", type=int, default=0, help="passages per question (default: the server's)")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.questions < 1 or args.upload < 0:
        parser.error("--clients and --questions must be at least 1, --upload 0 or more")
    try:
        questions = load_questions(args.question_set)
    except (OSError, ValueError, KeyError) as exc:
        parser.error(f"cannot read questions from {args.question_set}: {exc}")
    report = run(args.url, args.clients, args.questions, questions, args.upload, args.key, args.k)
    print(
        f"{report['requests']} questions from {report['clients']} clients in {report['seconds']:.1f} s "
        f"({report['questions_per_s']:.1f}/s): {report['answered']} answered, statuses "
        f"{report['statuses']}; p50 {report['p50_ms']:.0f} ms, p95 {report['p95_ms']:.0f} ms, "
        f"max {report['max_ms']:.0f} ms"
    )
    if "uploads" in report:
        u = report["uploads"]
        print(
            f"{u['uploaded']} articles uploaded during the run ({u['chunks_written']} chunks, "
            f"p50 {u['p50_ms']:.0f} ms); index {u['chunks_before']} -> {u['chunks_after']} chunks"
        )
    for problem in report["problems"]:
        print(f"problem: {problem}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 1 if report["problems"] or report["server_errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
