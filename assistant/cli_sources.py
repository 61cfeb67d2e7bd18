"""The news-source commands of `assistant`: `sources add|list|remove` and `watch`, and what an
ingestion of URLs keeps between runs (the validators of conditional requests)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
from typing import TYPE_CHECKING, Any

from assistant.errors import AssistantError

log = logging.getLogger(__name__)
RETRY_S = 30.0  # a watch inside the server that failed starts over after this long

if TYPE_CHECKING:
    from assistant.pipeline import Assistant


def add_commands(commands) -> None:
    sources = commands.add_parser("sources", help="news sources kept fresh: add, list, remove")
    actions = sources.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add a feed, sitemap or page to keep fresh")
    add.add_argument("url")
    add.add_argument("--every", default="30m", help="how often it is read: 45s, 30m, 2h, 1d (default 30m)")
    actions.add_parser("list", help="the sources, their last refresh and error").add_argument(
        "--json", action="store_true", help="print a JSON list"
    )
    actions.add_parser("remove", help="stop keeping a source fresh (its articles stay)").add_argument("url")
    sources.set_defaults(run=run_sources)

    watch = commands.add_parser("watch", help="refresh every source on its schedule until stopped")
    watch.add_argument("--once", action="store_true", help="refresh the sources that are due, then stop")
    watch.set_defaults(run=run_watch, background=True)


def run_sources(assistant: Assistant, args: argparse.Namespace) -> int:
    from assistant.records.sources import SourceList, seconds

    sources = SourceList(assistant.database)
    if args.action == "add":
        if not args.url.lower().startswith(("http://", "https://")):
            raise AssistantError(f"{args.url!r} is not an http or https URL")
        added = sources.add(args.url, seconds(args.every))
        print(f"source {added['url']}: read every {args.every}; `assistant watch` keeps it fresh")
    elif args.action == "remove":
        if not sources.remove(args.url):
            raise AssistantError(f"no source {args.url!r}; `assistant sources list` shows them")
        print(f"removed source {args.url} (its articles stay in the index)")
    else:
        listed = sources.list()
        if args.json:
            print(json.dumps(listed, indent=2))
        for s in [] if args.json else listed:
            last = s["last_fetch"] or "never"
            state = f"error: {s['last_error']}" if s["last_error"] else f"{s['articles']} new or changed"
            print(f"{s['url']}  every {s['every_s']} s  last read {last}  {state}")
        if not listed and not args.json:
            print("no sources yet: `assistant sources add URL`")
    return 0


def run_watch(assistant: Assistant, args: argparse.Namespace) -> int:
    from assistant.records.sources import SourceList
    from assistant.watch import refresh, watch

    database = assistant.database
    if args.once:
        due = SourceList(database).due()
        report = refresh(assistant, database, due)
        _say_failures(report)
        print(f"{len(due)} sources read; {report.summary()}")
        return 0
    print("watching the sources (Ctrl-C stops)", flush=True)
    stop = threading.Event()
    try:
        watch(assistant, database, stop, _said)
    except KeyboardInterrupt:
        stop.set()
    return 0


def watch_in_background(assistant: Assistant) -> threading.Event:
    """`assistant watch` in a thread of this process (`serve --watch`); set the event to stop it."""
    from assistant.watch import watch

    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            try:
                watch(assistant, assistant.database, stop, _said)
            except AssistantError as exc:  # the server goes on answering; the watch tries again
                print(f"error: keeping the sources fresh: {exc}", file=sys.stderr, flush=True)
            except Exception:  # the thread's edge: logged, and the watch starts over
                log.exception("keeping the sources fresh failed")
            stop.wait(RETRY_S)

    threading.Thread(target=run, name="watch", daemon=True).start()
    return stop


def fetch_history(assistant: Assistant, paths: list) -> tuple[Any, dict | None]:
    """For URLs: what they answered last time, from the project's database, so that an unchanged
    feed or page answers 304 (without the database, everything is fetched whole)."""
    from assistant.library.urls import is_url
    from assistant.records.fetches import FetchHistory

    if not any(is_url(str(p)) for p in paths):
        return None, None
    history = FetchHistory(assistant.database)
    try:
        return history, history.load()
    except AssistantError as exc:
        print(f"note: {exc}; every URL is fetched whole", file=sys.stderr)
        return None, None


def _said(url: str, report) -> None:
    _say_failures(report)
    print(f"{url}: {report.summary()}", flush=True)


def _say_failures(report) -> None:
    for where, reason in report.failed:
        print(f"failed: {where}: {reason}", file=sys.stderr)
