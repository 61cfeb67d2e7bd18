"""The measuring commands of `assistant`: `eval` (question sets, BEIR folders, two runs compared, the
CI gate) and `calibrate` (the refusal threshold). Loaded only when one of them runs."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.cli import check_k
from assistant.errors import AssistantError
from assistant.modes import ANSWER_MODES, RETRIEVERS, AnswerMode

if TYPE_CHECKING:
    from assistant.pipeline import Assistant


def evaluate(assistant: Assistant, args: argparse.Namespace) -> int:
    """`assistant eval`: a question set, a BEIR folder, or two runs compared."""
    from assistant.evaluation import runner
    from assistant.evaluation.datasets import load_question_set
    from assistant.pipeline import as_of_date

    if args.compare:
        rows, worse = runner.compare(
            runner.load_summary(args.compare[0]), runner.load_summary(args.compare[1]), args.tolerance
        )
        print(f"{'run':<28} {'metric':<20} {'A':>8} {'B':>8} {'B-A':>8}")
        for config, name, a, b, delta, is_worse in rows:
            flag = "  worse" if is_worse else ""
            print(f"{config:<28} {name:<20} {a:8.3f} {b:8.3f} {delta:+8.3f}{flag}")
        if worse:
            print(f"B is worse than A beyond the tolerance of {args.tolerance}", file=sys.stderr)
        return 1 if worse else 0

    check_k(args.k)
    as_of = as_of_date(args.as_of)  # the day questions without an `asked_on` are asked
    retrievers = _choices(args.retriever or assistant.settings.retriever, RETRIEVERS, "--retriever")
    progress = sys.stderr.isatty() and not args.json
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    problems: list[str] = []
    if args.beir:
        summary, rows = runner.run_beir(assistant, args.beir, retrievers, split=args.split, progress=progress)
        # the BEIR corpus has a collection of its own, known once it is indexed
        scored = {"index_dir": summary["index_dir"], "chroma_url": assistant.settings.chroma_url}
        scored |= {"collection": summary["collection"], **summary["indexed"]}
        print(_scoring_line(**scored), file=sys.stderr)
        name = f"beir-{args.beir.name}"
    elif args.question_set:
        cases, problems = load_question_set(args.question_set)
        for problem in problems:
            print(f"skipped: {problem}", file=sys.stderr)
        if not cases:
            raise AssistantError(f"{args.question_set} holds no questions")
        modes = _choices(args.mode, ANSWER_MODES, "--mode")
        configs = runner.sweep(retrievers, modes, args.k or assistant.settings.top_k)
        scored = runner.scored_index(assistant)
        print(_scoring_line(**scored), file=sys.stderr)
        unreferenced = runner.unreferenced_articles(assistant, cases)
        if unreferenced:
            print(
                f"warning: the set's gold_doc_ids never name {unreferenced:,} of the "
                f"{scored['articles']:,} indexed articles; is this the index the set was written for?",
                file=sys.stderr,
            )
        summary, rows = runner.run_question_set(
            assistant, cases, configs, set_name=args.question_set.name, problems=problems,
            progress=progress, as_of=as_of,
        )  # fmt: skip
        name = args.question_set.stem
    else:
        raise AssistantError("give a question set, --beir DIR, or --compare RUN_A RUN_B")
    out = args.out or Path("evals") / "reports" / f"{name}-{stamp}"
    runner.write_run(out, summary, rows)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        _print_runs(summary["runs"])
        print(f"report: {out / 'report.html'}")
    failures = runner.check_gate(summary, _thresholds(args.gate)) if args.gate else []
    for failure in failures:
        print(f"gate: {failure}", file=sys.stderr)
    return 1 if failures or problems else 0


def _scoring_line(*, index_dir: str, chroma_url: str, collection: str, chunks: int, articles: int) -> str:
    """One line saying which index an evaluation scores, so a run on the wrong one is noticed."""
    where = f"on the Chroma server {chroma_url}" if chroma_url else f"in {index_dir}"
    size = f"{_count(chunks, 'chunk')}, {_count(articles, 'article')}"
    return f"scoring collection {collection!r} {where} ({size})"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _choices(value: str, allowed: tuple[str, ...], flag: str) -> list[str]:
    chosen = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [v for v in chosen if v not in allowed]
    if unknown or not chosen:
        raise AssistantError(f"{flag} takes {', '.join(allowed)} (comma-separated), not {value!r}")
    return chosen


def _thresholds(path: Path) -> dict[str, float]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): float(v) for k, v in data["minimums"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise AssistantError(f"cannot read thresholds from {path}: {exc}") from None


def _print_runs(runs: list[dict]) -> None:
    for run in runs:
        metrics = ", ".join(f"{k} {v:.3f}" for k, v in run["metrics"].items() if v is not None)
        latency = run["latency_ms"].get("total") or run["latency_ms"].get("retrieve", {})
        print(f"{run['config']}: {run['questions']} questions; {metrics}")
        if run.get("refusals"):
            refusals = run["refusals"]
            print(f"  false refusals {refusals['false_refusals']}, false answers {refusals['false_answers']}")
        if latency:
            print(f"  latency ms p50 {latency['p50']}, p95 {latency['p95']}")


def calibrate(assistant: Assistant, args: argparse.Namespace) -> int:
    """`assistant calibrate`: right answers, right refusals and wrong answers per threshold."""
    from assistant.answering.reader import refusal_threshold
    from assistant.evaluation.calibration import best_threshold, calibration_outcomes, threshold_table
    from assistant.evaluation.datasets import load_question_set

    cases, problems = load_question_set(args.question_set)
    for problem in problems:
        print(f"skipped: {problem}", file=sys.stderr)
    if not cases:
        raise AssistantError(f"{args.question_set} holds no questions")
    probe = type(assistant)(assistant.settings.replace(refusal_threshold=0.0), assistant.embedder)
    outcomes = calibration_outcomes(
        cases,
        lambda case: probe.ask(
            case.question, history=case.history, mode=AnswerMode.EXTRACTIVE, as_of=case.asked_on
        ),
    )
    print("threshold  right  refused(unanswerable)  wrong")
    for threshold, right, refused_ok, wrong in threshold_table(outcomes):
        print(f"{threshold:9.2f}  {right:5d}  {refused_ok:21d}  {wrong:5d}")
    answerable = sum(o.answerable for o in outcomes)
    print(
        f"{len(outcomes)} questions ({answerable} answerable); "
        f"suggested ASSISTANT_REFUSAL_THRESHOLD={best_threshold(outcomes):.2f} "
        f"(now {refusal_threshold(assistant.settings):.2f})"
    )
    return 1 if problems else 0
