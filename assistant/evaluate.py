"""Evaluation: question sets in, metrics out. Metrics are pure functions; the runner asks the pipeline.

A question set is JSONL, one object a line: `question` (required), `id`, `answers` (acceptable
answer strings), `answerable` (default true), `gold_passages`, `history`; other fields are kept.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans({c: " " for c in string.punctuation + "’‘“”–—"})


@dataclass
class EvalCase:
    question: str
    id: str = ""
    answers: list[str] = field(default_factory=list)
    answerable: bool = True
    gold_passages: list[str] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def load_cases(path: Path) -> tuple[list[EvalCase], list[str]]:
    """Cases from a JSONL question set, and one message per bad line (the rest are still read)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise AssistantError(f"cannot read question set {path}: {exc}") from None
    cases, problems = [], []
    known = {"question", "id", "answers", "answerable", "gold_passages", "history"}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{number}: invalid JSON ({exc.msg})")
            continue
        if not isinstance(row, dict) or not str(row.get("question", "")).strip():
            problems.append(f"{path}:{number}: no question")
            continue
        cases.append(
            EvalCase(
                question=str(row["question"]),
                id=str(row.get("id") or f"line-{number}"),
                answers=[str(a) for a in row.get("answers") or []],
                answerable=bool(row.get("answerable", True)),
                gold_passages=[str(g) for g in row.get("gold_passages") or []],
                history=list(row.get("history") or []),
                extra={k: v for k, v in row.items() if k not in known},
            )
        )
    return cases, problems


def normalize_answer(text: str) -> str:
    """SQuAD-style: lower case, punctuation and articles removed, whitespace collapsed."""
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCTUATION)).split())


def answer_match(answer: str, acceptable: Iterable[str]) -> bool:
    """Does an acceptable answer appear in the answer, after normalising both?"""
    normalized = f" {normalize_answer(answer)} "
    return any(f" {normalize_answer(a)} " in normalized for a in acceptable if normalize_answer(a))


@dataclass(frozen=True)
class Outcome:
    """One question's result, as calibration needs it."""

    answerable: bool
    correct: bool  # answered with an acceptable answer
    confidence: float
    refused: bool = False  # refused whatever the threshold (e.g. it names someone no passage has)


def threshold_table(outcomes: list[Outcome], steps: int = 50) -> list[tuple[float, int, int, int]]:
    """For thresholds 0, 0.02, ...: (threshold, right answers, unanswerables refused, wrong answers)."""
    table = []
    for i in range(steps):
        threshold = i / steps
        answered = [o for o in outcomes if not o.refused and o.confidence >= threshold]
        right = sum(o.answerable and o.correct for o in answered)
        wrong = len(answered) - right
        refused_ok = sum(not o.answerable for o in outcomes) - sum(not o.answerable for o in answered)
        table.append((threshold, right, refused_ok, wrong))
    return table


def best_threshold(outcomes: list[Outcome]) -> float:
    """The refusal threshold with the most right answers plus right refusals minus wrong answers
    (a wrong answer costs as much as a right one gains); the middle of the best plateau."""
    table = threshold_table(outcomes)
    utility = [right + refused - wrong for _, right, refused, wrong in table]
    top = max(utility)
    plateau = [t for (t, *_), u in zip(table, utility, strict=True) if u == top]
    return plateau[len(plateau) // 2]


def calibration_outcomes(cases: list[EvalCase], ask: Callable[[EvalCase], Any]) -> list[Outcome]:
    """Ask every case with refusal off (`ask` must use threshold 0) and record its confidence."""
    outcomes = []
    for case in cases:
        answer = ask(case)
        correct = not answer.refused and answer_match(answer.answer, case.answers)
        outcomes.append(Outcome(case.answerable, correct, answer.confidence, answer.refused))
    return outcomes
