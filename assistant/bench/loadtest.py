"""A load run against a running `assistant serve`: concurrent clients asking, optionally while new
articles are uploaded, then checks that every request was answered and nothing was lost.

    python -m assistant.bench.loadtest --url http://127.0.0.1:7860 --clients 20 --questions 10
    python -m assistant.bench.loadtest --url ... --upload 20 --key KEY     # ingest while they ask
    python -m assistant.bench.loadtest --url A --url B --ingest 1000     # two replicas, a bulk ingest

Each client asks its questions one after another (questions from evals/seed.jsonl, cycled); all
clients run at once. With --upload N, N generated articles are uploaded through POST /api/documents
during the run; afterwards each must be listed exactly once, found first by a search for its own
title, and the index must hold exactly the chunks the uploads reported on top of what it held
before. Given several --url (replicas behind one balancer), clients and uploads take them in turn
and every check is made on each, allowing a replica a few seconds to notice another's writes.

With --ingest N, a second phase follows: N generated articles are written to a temporary folder and
`assistant ingest` runs on it (in this environment: give it the replicas' ASSISTANT_CHROMA_URL,
ASSISTANT_COLLECTION and ASSISTANT_DATABASE_URL) while the clients keep asking until it ends; the
report gives that phase's p95 beside the first one's. Prints p50 / p95 latency and the counts,
writes JSON with --json, and exits 1 when any request failed or any check did not hold. Meant for
loopback: it sends what it is told to.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.evaluation.metrics import percentile
from assistant.library.synthetic import synthetic_corpus
from assistant.modes import Retriever

DEFAULT_QUESTIONS = Path("evals") / "seed.jsonl"
TIMEOUT_S = 120
NOTICE_S = 15.0  # how long a replica is given to see another's writes
BASELINE_S = 30.0  # the phase without the ingest that --ingest compares with
INGEST_NICE = Settings.model_fields["ingest_nice"].default  # as `assistant ingest` runs unless told


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
    urls: str | list[str],
    clients: int,
    per_client: int,
    questions: list[str],
    upload: int = 0,
    key: str = "",
    k: int = 0,
    ingest: int = 0,
    nice: int = INGEST_NICE,
    baseline_s: float = BASELINE_S,
) -> dict[str, Any]:
    urls = [u.rstrip("/") for u in ([urls] if isinstance(urls, str) else urls)]
    before = call(f"{urls[0]}/healthz")[1]
    chunks_before = before["store"]["chunks"] if isinstance(before, dict) else 0
    corpus = synthetic_corpus((upload + ingest) * 10, questions=0).articles if upload or ingest else []
    uploads: list[dict[str, Any]] = []

    def uploader() -> None:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        headers["Content-Type"] = "application/octet-stream"  # an upload must declare a non-form type
        for n, article in enumerate(corpus[:upload]):
            url = urls[n % len(urls)]
            name = urllib.parse.quote(f"load-{article.doc_id.rsplit('/', 1)[-1]}")
            data = article.text.encode()
            status, reply, seconds = call(f"{url}/api/documents?filename={name}", "POST", data, headers)
            uploads.append({"status": status, "reply": reply, "seconds": seconds, "title": article.title})

    results, wall = _ask(
        urls, clients, questions, k, per_client=per_client, beside=uploader if upload else None
    )
    report = _summary(results, wall) | {
        "clients": clients,
        "questions_per_client": per_client,
        "replicas": len(urls),
    }
    report["problems"] = []
    if report["answered"] != clients * per_client:
        report["problems"].append(f"{clients * per_client - report['answered']} questions not answered")
    if upload:
        report["uploads"] = check_uploads(urls, uploads, chunks_before, report["problems"])
    if ingest:
        articles = corpus[upload : upload + ingest]
        report["ingest"] = ingest_while_asking(urls, clients, questions, k, articles, nice, baseline_s)
        before = report["ingest"]["p95_before_ms"]
        report["ingest"]["p95_ratio"] = report["ingest"]["p95_ms"] / before if before else 0.0
        report["problems"] += report["ingest"].pop("problems")
    return report


def _ask(
    urls: list[str],
    clients: int,
    questions: list[str],
    k: int,
    *,
    per_client: int = 0,
    until: threading.Event | None = None,
    beside=None,
) -> tuple[list[tuple[int, float]], float]:
    """Clients asking at once (client n on replica n mod len(urls)), each `per_client` questions or
    until `until` is set; `beside` runs alongside. (status, seconds) of every question, and the wall
    time."""
    results: list[tuple[int, float]] = []
    lock = threading.Lock()

    def client(number: int) -> None:
        url = urls[number % len(urls)]
        turn = 0
        while (turn < per_client) if until is None else not until.is_set():
            question = questions[(number * max(per_client, 1) + turn) % len(questions)]
            body = json.dumps({"question": question} | ({"k": k} if k else {})).encode()
            status, _, seconds = call(f"{url}/api/ask", "POST", body, {"Content-Type": "application/json"})
            with lock:
                results.append((status, seconds))
            turn += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients + 1) as pool:
        futures = [pool.submit(client, n) for n in range(clients)]
        if beside is not None:
            futures.append(pool.submit(beside))
        for future in futures:
            future.result()
    return results, time.perf_counter() - started


def _summary(results: list[tuple[int, float]], wall: float) -> dict[str, Any]:
    latencies = [seconds * 1000 for status, seconds in results if status == 200]
    return {
        "requests": len(results),
        "statuses": dict(Counter(str(status) for status, _ in results)),
        "answered": sum(1 for status, _ in results if status == 200),
        "server_errors": sum(1 for status, _ in results if status >= 500 or status == 0),
        "p50_ms": percentile(latencies, 50) if latencies else 0.0,
        "p95_ms": percentile(latencies, 95) if latencies else 0.0,
        "max_ms": max(latencies, default=0.0),
        "seconds": wall,
        "questions_per_s": len(results) / wall if wall else 0.0,
    }


def ingest_while_asking(
    urls: list[str],
    clients: int,
    questions: list[str],
    k: int,
    articles: list,
    nice: int = INGEST_NICE,
    baseline_s: float = BASELINE_S,
) -> dict[str, Any]:
    """`assistant ingest` of these articles (written to a temporary folder; its CPU priority lowered
    by `nice`, ASSISTANT_INGEST_NICE) while the clients ask, after as long a phase without it;
    afterwards every article must be listed once on every replica."""
    done = threading.Event()
    outcome: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="loadtest-ingest-") as folder:
        for article in articles:
            (Path(folder) / f"ingest-{_stem(article)}.txt").write_text(f"{article.title}\n\n{article.text}\n")

        def ingester() -> None:
            script = str(Path(sys.executable).parent / "assistant")
            env = {**os.environ, "ASSISTANT_INGEST_NICE": str(nice)}
            started = time.perf_counter()
            finished = subprocess.run([script, "ingest", folder], capture_output=True, text=True, env=env)
            outcome.update(
                code=finished.returncode, seconds=time.perf_counter() - started, said=finished.stderr
            )
            done.set()

        def timer() -> None:
            time.sleep(baseline_s)
            quiet.set()

        quiet = threading.Event()  # first the same clients for baseline_s without the ingest
        before = _summary(*_ask(urls, clients, questions, k, until=quiet, beside=timer))
        results, wall = _ask(urls, clients, questions, k, until=done, beside=ingester)
    report = _summary(results, wall) | {"articles": len(articles), "ingest_seconds": outcome["seconds"]}
    report |= {"nice": nice, "p95_before_ms": before["p95_ms"], "requests_before": before["requests"]}
    problems = [] if outcome["code"] == 0 else [f"the ingest failed: {outcome['said'].strip()[-300:]}"]
    if report["server_errors"] or report["answered"] != report["requests"]:
        problems.append(f"{report['requests'] - report['answered']} questions not answered during the ingest")
    for url in urls:
        listed = Counter(d["doc_id"] for d in call(f"{url}/api/documents")[1])
        missing = sum(1 for a in articles if listed[f"ingest-{_stem(a)}.txt"] != 1)
        if missing:
            problems.append(f"{url}: {missing} ingested articles not listed exactly once")
    return report | {"problems": problems}


def _stem(article) -> str:
    return article.doc_id.rsplit("/", 1)[-1].removesuffix(".md").removesuffix(".txt")


def check_uploads(
    urls: list[str], uploads: list[dict], chunks_before: int, problems: list[str]
) -> dict[str, Any]:
    """Every upload listed once, found by its title, and the chunk count adds up, on every replica
    (each given up to NOTICE_S to see another's writes)."""
    added = [u for u in uploads if u["status"] == 201 and isinstance(u["reply"], dict)]
    for failed in (u for u in uploads if u not in added):
        problems.append(f"upload of {failed['title']!r} failed: {failed['status']} {failed['reply']}")
    written = sum(u["reply"].get("chunks_written", 0) for u in added)
    for url in urls:
        for u in added:
            doc_id = u["reply"]["doc_id"]
            query = urllib.parse.urlencode({"q": u["title"], "k": 1, "retriever": Retriever.BM25.value})
            if not _eventually(lambda q=query, d=doc_id, url=url: _first_hit(url, q) == d):
                problems.append(f"{url}: a search for {u['title']!r} does not find {doc_id} first")
        listed = Counter(d["doc_id"] for d in call(f"{url}/api/documents")[1])
        problems += [
            f"{url}: {d} is listed {listed[d]} times"
            for d in {u["reply"]["doc_id"] for u in added}
            if listed[d] != 1
        ]
    chunks_after = call(f"{urls[0]}/healthz")[1]["store"]["chunks"]
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


def _first_hit(url: str, query: str) -> str | None:
    status, hits, _ = call(f"{url}/api/search?{query}")
    return hits[0]["doc_id"] if status == 200 and hits else None


def _eventually(check, timeout_s: float = NOTICE_S) -> bool:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m assistant.bench.loadtest", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--url", required=True, action="append", help="base URL of `assistant serve` (again for each replica)"
    )
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--questions", type=int, default=10, help="questions per client")
    parser.add_argument("--question-set", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--upload", type=int, default=0, help="articles to upload during the run")
    parser.add_argument("--key", default="", help="API key for the uploads (when the server has keys)")
    parser.add_argument("--k", type=int, default=0, help="passages per question (default: the server's)")
    parser.add_argument("--ingest", type=int, default=0, help="then: articles ingested while they ask")
    parser.add_argument(
        "--ingest-nice", type=int, default=INGEST_NICE, help="that ingest's ASSISTANT_INGEST_NICE (0: as is)"
    )
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.questions < 1 or args.upload < 0 or args.ingest < 0:
        parser.error("--clients and --questions must be at least 1, --upload and --ingest 0 or more")
    try:
        questions = load_questions(args.question_set)
    except (OSError, ValueError, KeyError) as exc:
        parser.error(f"cannot read questions from {args.question_set}: {exc}")
    report = run(
        args.url, args.clients, args.questions, questions, args.upload, args.key, args.k, args.ingest,
        args.ingest_nice,
    )  # fmt: skip
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
    if "ingest" in report:
        i = report["ingest"]
        print(
            f"while {i['articles']} articles were ingested ({i['ingest_seconds']:.1f} s): {i['requests']} "
            f"questions, {i['answered']} answered, p50 {i['p50_ms']:.0f} ms, p95 {i['p95_ms']:.0f} ms "
            f"({i['p95_ratio']:.2f}x the p95 of {BASELINE_S:.0f} s before it: {i['p95_before_ms']:.0f} ms)"
        )
    for problem in report["problems"]:
        print(f"problem: {problem}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 1 if report["problems"] or report["server_errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
