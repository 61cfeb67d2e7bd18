"""The `assistant` command: parses arguments, calls the pipeline, prints. Errors become one line."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import AssistantError, DateFilterError
from assistant.modes import ANSWER_MODES, RETRIEVERS, AnswerMode

if TYPE_CHECKING:  # the pipeline pulls in torch, Chroma and spaCy: loaded once a command runs, so
    # that `--help` and argument errors answer at once
    from assistant.answering.answer import Answer, Citation
    from assistant.answering.retrieval import Filters
    from assistant.config import Settings
    from assistant.pipeline import Assistant

DEFAULT_INGEST_PATH = Path("seeds")
EXIT_FAILED_ITEMS = 1
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130

log = logging.getLogger("assistant")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description="Answers from news articles, cited.")
    parser.add_argument("--index-dir", type=Path, help="index folder (ASSISTANT_INDEX_DIR)")
    parser.add_argument("--chroma-url", help="Chroma server URL (ASSISTANT_CHROMA_URL)")
    parser.add_argument("--collection", help="Chroma collection (ASSISTANT_COLLECTION)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest = commands.add_parser(
        "ingest", help="index articles: .txt, .md, .html files or folders, and URLs of pages, feeds, sitemaps"
    )
    ingest.add_argument("paths", nargs="*", metavar="PATH_OR_URL", help=f"default: {DEFAULT_INGEST_PATH}/")
    ingest.add_argument("--rebuild", action="store_true", help="start from an empty index")
    ingest.add_argument(
        "--prune",
        action="store_true",
        help="remove articles whose files under the paths are gone, or that left the feeds and sitemaps",
    )
    ingest.add_argument("--quiet", action="store_true", help="no progress bar")
    ingest.set_defaults(run=_ingest, background=True)

    search = commands.add_parser("search", help="show the passages closest to a query")
    search.add_argument("query")
    search.add_argument("--k", type=int, help="number of passages (ASSISTANT_TOP_K)")
    search.add_argument("--retriever", choices=RETRIEVERS, help="default: hybrid (ASSISTANT_RETRIEVER)")
    _add_filter_flags(search)
    search.add_argument("--json", action="store_true", help="print a JSON list")
    search.set_defaults(run=_search)

    ask = commands.add_parser("ask", help="answer a question with cited passages")
    ask.add_argument("question")
    _add_answer_flags(ask)
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.set_defaults(run=_ask)

    chat = commands.add_parser("chat", help="a conversation in the terminal (follow-up questions work)")
    _add_answer_flags(chat)
    chat.set_defaults(run=_chat)

    serve = commands.add_parser("serve", help="start the web chat, JSON API and widget")
    serve.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
    serve.add_argument("--port", type=int, default=7860, help="default: 7860")
    serve.add_argument("--watch", action="store_true", help="also keep the sources fresh (assistant watch)")
    serve.set_defaults(run=_serve)

    evaluate = commands.add_parser(
        "eval", help="run a question set (or a BEIR folder) and write metrics and a report"
    )
    evaluate.add_argument("question_set", nargs="?", type=Path, help="JSONL or rag_dataset.json")
    evaluate.add_argument("--retriever", default=None, help="one or more of hybrid,dense,bm25 (a sweep)")
    evaluate.add_argument("--mode", default="extractive", help="extractive, llm, or both: extractive,llm")
    evaluate.add_argument("--k", type=int, help="passages per question (ASSISTANT_TOP_K)")
    evaluate.add_argument("--as-of", default="", metavar="DATE", help="day asked, where no asked_on says")
    evaluate.add_argument("--out", type=Path, help="output folder (default evals/reports/<set>-<time>)")
    evaluate.add_argument("--json", action="store_true", help="print only the summary JSON on stdout")
    evaluate.add_argument("--beir", type=Path, metavar="DIR", help="score retrieval on a BEIR folder")
    evaluate.add_argument("--split", default="test", help="BEIR qrels split (default test)")
    evaluate.add_argument("--compare", nargs=2, type=Path, metavar=("RUN_A", "RUN_B"))
    evaluate.add_argument("--tolerance", type=float, default=0.0, help="allowed drop for --compare")
    evaluate.add_argument("--gate", type=Path, metavar="THRESHOLDS", help="JSON of metric minimums")
    evaluate.set_defaults(run=_eval)

    bench = commands.add_parser(
        "bench", help="benchmark ingestion and queries (assistant bench --help)", add_help=False
    )
    bench.set_defaults(run=_bench)

    calibrate = commands.add_parser("calibrate", help="find the refusal threshold that suits a question set")
    calibrate.add_argument("question_set", type=Path, help="JSONL, e.g. evals/seed.jsonl")
    calibrate.set_defaults(run=_calibrate)

    from assistant.cli_sources import add_commands
    from assistant.cluster import add_command

    add_commands(commands)
    add_command(commands)

    cache = commands.add_parser("cache", help="list or clean the model cache (ONNX exports)")
    cache.add_argument("action", nargs="?", choices=("list", "clean"), default="list")
    cache.add_argument("--all", action="store_true", help="clean: every export, not only stale ones")
    cache.set_defaults(run=_cache, settings_only=True)
    return parser


def _add_answer_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--k", type=int, help="passages to retrieve (ASSISTANT_TOP_K)")
    parser.add_argument("--retriever", choices=RETRIEVERS, help="default: hybrid (ASSISTANT_RETRIEVER)")
    parser.add_argument("--mode", choices=ANSWER_MODES, help="default: llm when one is configured")
    parser.add_argument("--as-of", default="", metavar="DATE", help="day asked, YYYY-MM-DD (default today)")
    _add_filter_flags(parser)


def _add_filter_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--doc", action="append", default=[], metavar="DOC_ID", help="only this article")
    parser.add_argument("--source", action="append", default=[], help="only articles from this source")
    parser.add_argument(
        "--since", default="", metavar="DATE", help="published on or after: YYYY-MM-DD or 7d, 2w"
    )
    parser.add_argument(
        "--until", default="", metavar="DATE", help="published on or before: YYYY-MM-DD or 7d, 2w"
    )


def _filters(args: argparse.Namespace) -> Filters:
    from assistant.answering.retrieval import Filters

    try:
        return Filters(tuple(args.doc), tuple(args.source), args.since, args.until)
    except DateFilterError as exc:
        raise exc.named(f"--{exc.field}") from None


def _answer_options(args: argparse.Namespace) -> dict:
    from assistant.pipeline import as_of_date

    check_k(args.k)
    as_of = as_of_date(args.as_of)
    return dict(k=args.k, retriever=args.retriever, mode=args.mode, filters=_filters(args), as_of=as_of)


def _yield_cpu(nice: int) -> None:
    """Background work (ingest, watch) lowers its CPU priority before it starts a thread (a thread
    takes its priority from the one starting it): replicas serving on the same cores keep their
    latency, and the ingest takes the time they leave (BENCHMARKS.md, "Live ingestion")."""
    if nice:
        os.nice(nice)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "bench":  # the benchmark parses its own flags
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.bench_args = extra
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING)
    try:
        from assistant.config import Settings  # pydantic: loaded once a command runs, like the rest

        settings = Settings.from_env(
            index_dir=args.index_dir, chroma_url=args.chroma_url, collection=args.collection
        )
        if getattr(args, "settings_only", False):  # nothing to load: no model, no index
            return args.run(settings, args)
        if getattr(args, "background", False):
            _yield_cpu(settings.ingest_nice)
        from assistant.pipeline import Assistant

        assistant = Assistant(settings)
        try:
            return args.run(assistant, args)
        finally:
            assistant.close()
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted; the index still opens, run the same command again to finish", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # the edge: anything unexpected is one line, the traceback on --debug
        log.debug("unexpected failure", exc_info=True)
        print(f"error: unexpected {type(exc).__name__}: {exc} (rerun with --debug)", file=sys.stderr)
        return EXIT_ERROR


def _ingest(assistant: Assistant, args: argparse.Namespace) -> int:
    paths = args.paths or [DEFAULT_INGEST_PATH]
    from assistant.cli_sources import fetch_history

    history, validators = fetch_history(assistant, paths)
    report = assistant.library.ingest(
        paths,
        rebuild=args.rebuild,
        prune=args.prune,
        progress=not args.quiet and sys.stderr.isatty(),
        validators=validators,
    )
    if history is not None:
        try:
            history.save(validators)
        except AssistantError as exc:
            print(f"note: what the URLs answered was not kept ({exc}); next time they are fetched whole")
    for path, reason in report.failed:
        print(f"failed: {path}: {reason}", file=sys.stderr)
    for path, note in report.notes:
        print(f"note: {path}: {note}", file=sys.stderr)
    for doc_id, original in report.duplicates:
        print(f"duplicate: {doc_id} has the same text as {original}; indexed once", file=sys.stderr)
    print(report.summary())
    return EXIT_FAILED_ITEMS if report.failed else 0


def _search(assistant: Assistant, args: argparse.Namespace) -> int:
    check_k(args.k)
    results = assistant.search(args.query, k=args.k, retriever=args.retriever, filters=_filters(args))
    if args.json:
        from assistant.answering.answer import passage_json

        print(json.dumps([passage_json(r) for r in results], ensure_ascii=False, indent=2))
        return 0
    for rank, result in enumerate(results, start=1):
        meta = result.node.metadata
        where = " > ".join(part for part in (meta["title"], meta["section"]) if part)
        print(f"{rank}. [{result.score:.3f}] {where}")
        print(f"   {meta['doc_id']} chars {meta['start_char']}-{meta['end_char']}")
        print(textwrap.indent(textwrap.fill(result.node.get_content(), width=96), "   "))
        print()
    return 0


def _ask(assistant: Assistant, args: argparse.Namespace) -> int:
    answer = assistant.ask(args.question, **_answer_options(args))
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
    else:
        _print_answer(answer)
    return 0


def _chat(assistant: Assistant, args: argparse.Namespace) -> int:
    options = _answer_options(args)
    print(f"Ask about the articles ({assistant.mode_label}). An empty line or Ctrl-D ends the chat.")
    history: list[dict] = []
    while True:
        try:
            question = input("\n> ").strip()
        except EOFError:
            print()
            return 0
        if not question:
            return 0
        try:
            events = assistant.ask_stream(question, history=history, **options)
            streaming = assistant.settings.llm_enabled and args.mode != AnswerMode.EXTRACTIVE
            for event in events:
                if event.kind == "notice":  # the LLM failed: what follows is the extractive answer
                    print(f"\n[{event.text}]")
                    streaming = False
                elif event.kind == "token" and streaming:
                    print(event.text, end="", flush=True)
                elif event.kind == "answer":
                    print("\n\nChecked against the passages:" if streaming else "")
                    _print_answer(event.answer)
                    history.append({"question": question, "answer": event.answer.answer})
        except AssistantError as exc:  # a bad question ends the turn, not the chat
            print(f"error: {exc}", file=sys.stderr)


def _print_answer(answer: Answer) -> None:
    if answer.standalone_question and answer.standalone_question != answer.question:
        print(f"(Searched for: {answer.standalone_question})")
    if answer.short_answer and not answer.refused:
        reported = f" (reported {answer.reported_on})" if answer.reported_on else ""
        print(f"Answer: {answer.short_answer}{reported}")
    lines = [
        s.text
        + "".join(f" [{n}]" for n in s.citations)
        + ("" if s.supported else " (not supported by the articles)")
        for s in answer.sentences
    ]
    print(" ".join(lines) if lines else answer.answer)
    if answer.citations:
        print("\nSources:")
    for c in answer.citations:
        print(f"[{c.n}] {_where(c)} ({c.doc_id}, chars {c.start_char}-{c.end_char})")
        print(_quoted(c))
    if answer.closest:
        c = answer.closest["citation"]
        print(f"\nClosest passage, not an answer ({answer.closest['mismatch']}):")
        print(_quoted(c))
        print(f"    {_where(c)} ({c.doc_id})")
    for warning in answer.warnings:
        print(f"note: {warning}")


def _where(citation: Citation) -> str:
    return " > ".join(part for part in (citation.title, citation.section) if part)


def _quoted(citation: Citation) -> str:
    """The cited span in quotes, on one line, wrapped and indented under its citation."""
    return textwrap.indent(textwrap.fill(f'"{" ".join(citation.quote.split())}"', width=96), "    ")


def _serve(assistant: Assistant, args: argparse.Namespace) -> int:
    import socket

    import uvicorn

    from assistant.web.api import create_app

    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:  # bound before the address is announced: a busy port is one clear line, not a traceback
        listener.bind((args.host, args.port))
    except OSError as exc:
        listener.close()
        print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR
    settings = assistant.settings
    app = create_app(assistant, listen_host=args.host)  # warmed, then the chat built, once listening
    proxies = settings.proxies
    config = uvicorn.Config(
        app,
        log_level="warning",
        limit_concurrency=settings.max_connections,  # past it, a 503 instead of more memory
        proxy_headers=bool(proxies),  # X-Forwarded-For only from the proxies named, never by default
        forwarded_allow_ips=proxies or None,
    )
    print(f"News assistant on http://{args.host}:{args.port}/  (answers: {assistant.mode_label})", flush=True)
    if args.watch:
        from assistant.cli_sources import watch_in_background

        stop = watch_in_background(assistant)
    try:
        uvicorn.Server(config).run(sockets=[listener])
    finally:
        if args.watch:
            stop.set()
    return 0


def _bench(assistant: Assistant, args: argparse.Namespace) -> int:
    from assistant.bench import benchmark

    return benchmark.main(args.bench_args)


def _eval(assistant: Assistant, args: argparse.Namespace) -> int:
    from assistant.cli_eval import evaluate

    return evaluate(assistant, args)


def _calibrate(assistant: Assistant, args: argparse.Namespace) -> int:
    from assistant.cli_eval import calibrate

    return calibrate(assistant, args)


def _cache(settings: Settings, args: argparse.Namespace) -> int:
    """The ONNX exports in ASSISTANT_MODEL_CACHE; `clean` removes the stale ones (their model folder
    is gone or has changed), or all of them with --all. A removed export is made again when needed."""
    from assistant.library.encoders import cached_exports, remove_export

    folder = settings.model_cache_dir
    exports = cached_exports(folder) if folder.is_dir() else []
    if args.action == "clean":
        removed = [e for e in exports if args.all or not e.current]
        for export in removed:
            remove_export(export)
        freed = sum(e.size for e in removed) / 1e6
        print(f"removed {len(removed)} of {len(exports)} exports from {folder} ({freed:,.1f} MB)")
        return 0
    for e in exports:
        state = "current" if e.current else "stale"
        kind = "int8" if e.int8 else "float32"
        print(f"{e.path.name}  {e.size / 1e6:,.1f} MB  {kind}  {state}  from {e.source}")
    print(f"{len(exports)} exports, {sum(e.size for e in exports) / 1e6:,.1f} MB in {folder}")
    return 0


def check_k(k: int | None) -> None:
    if k is not None and k < 1:
        raise AssistantError("--k must be at least 1")


if __name__ == "__main__":
    sys.exit(main())
