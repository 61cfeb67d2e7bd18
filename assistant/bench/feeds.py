"""Ingest throughput from a feed: a local HTTP server (loopback) serves an RSS feed of N generated
news articles as HTML pages; the benchmark times fetching and extraction (`crawl`) apart from
chunking and embedding (`ingest_articles`), then a second run, where everything answers 304.

    python -m assistant.bench.feeds --articles 500
"""

from __future__ import annotations

import argparse
import http.server
import tempfile
import threading
import time
from html import escape
from pathlib import Path

from assistant.config import Settings
from assistant.library.crawl import crawl
from assistant.library.embeddings import load_embedder
from assistant.library.fetch import Fetcher
from assistant.library.ingest import ingest_articles
from assistant.library.synthetic import synthetic_corpus


def site(count: int) -> dict[str, bytes]:
    """path -> body: the feed and its article pages."""
    corpus = synthetic_corpus(chunks=count * 4)
    articles = corpus.articles[:count]
    pages = {}
    items = []
    for n, article in enumerate(articles):
        path = f"/news/{n:05d}"
        paragraphs = "".join(f"<p>{escape(p)}</p>" for p in article.text.split("\n") if p.strip())
        pages[path] = (
            f"<!doctype html><html><head><title>{escape(article.title)}</title></head><body>"
            f"<article><h1>{escape(article.title)}</h1>{paragraphs}</article></body></html>"
        ).encode()
        items.append(f"<item><title>{escape(article.title)}</title><link>{{base}}{path}</link></item>")
    pages["/feed.xml"] = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Bench</title>'
        + "".join(items)
        + "</channel></rss>"
    ).encode()
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=500)
    args = parser.parse_args(argv)
    pages = site(args.articles)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = pages.get(self.path)
            if body is None:
                self.send_response(404)
                self.end_headers()
                return
            body = body.replace(b"{base}", base.encode())
            tag = f'"{hash(body) & 0xFFFFFFFF:x}"'
            if self.headers.get("If-None-Match") == tag:
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header(
                "content-type", "text/html" if self.path != "/feed.xml" else "application/rss+xml"
            )
            self.send_header("ETag", tag)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            settings = Settings(index_dir=Path(folder) / "index")
            embedder = load_embedder(settings)
            validators: dict = {}
            fetcher = Fetcher(allow_private=True, validators=validators)
            started = time.perf_counter()
            found = crawl([f"{base}/feed.xml"], fetcher, workers=settings.fetch_concurrency)
            fetched_s = time.perf_counter() - started
            started = time.perf_counter()
            report = ingest_articles(found.articles, settings, embedder)
            embedded_s = time.perf_counter() - started
            started = time.perf_counter()
            again = crawl([f"{base}/feed.xml"], Fetcher(allow_private=True, validators=validators))
            second_s = time.perf_counter() - started
    finally:
        server.shutdown()
    n = len(found.articles)
    at_once = settings.fetch_concurrency
    print(f"articles from the feed: {n} ({len(found.failed)} failed)")
    print(f"fetch + extract: {fetched_s:.1f} s ({n / fetched_s:.0f} articles/s, {at_once} at once)")
    chunks = report.chunks_written
    print(f"chunk + embed + store: {embedded_s:.1f} s ({n / embedded_s:.0f} articles/s, {chunks} chunks)")
    print(f"second run (feed unchanged, 304): {second_s:.2f} s, {len(again.unchanged)} not modified")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
