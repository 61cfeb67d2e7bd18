"""Refusal calibration: which confidence threshold best separates questions the articles answer
from questions they don't, on a question set."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from assistant.evaluation.datasets import EvalCase
from assistant.evaluation.metrics import answer_match


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
