"""Fitting the reader, question sets + their indexes -> `answering/reader.json`.

Every candidate answer the reader finds for every question of every set becomes a row of its
features (`answering/features.py`), labelled by whether it gives an acceptable answer. Two models
are fitted: the ranker, a conditional logit that scores a question's candidates against each other
(fitted on the questions that have a right candidate), and the calibrator, a logistic regression
that turns the best candidate's evidence into the probability that it is right (fitted on every
question, unanswerable ones too). Both are fitted on all sets but one and scored on the one left
out, for each set in turn; the refusal threshold is the one that maximises right answers minus
twice the wrong ones over those left-out scores, pooled. The weights written are fitted on all sets;
the report gives each set's left-out numbers, which are the ones to quote.

    python -m assistant.evaluation.fit NAME=QUESTIONS.jsonl@INDEX_DIR ... [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.answering.features import FEATURES
from assistant.answering.reader import CALIBRATION_INPUTS, MODEL_FILE, Linear, Model, calibration_row
from assistant.config import Settings
from assistant.evaluation.datasets import load_question_set
from assistant.evaluation.metrics import answer_match, normalize_answer
from assistant.pipeline import Assistant

RANKER_L2 = 1.0  # ridge penalties on the standardised weights
CALIBRATOR_L2 = 3.0
WRONG_COST = 2.0  # a wrong answer costs two right ones
STEPS = 400
FOLDS = 5


@dataclass
class Asked:
    """One question's candidates: their feature rows, labels and the answer each would give."""

    set_name: str
    id: str
    answerable: bool
    rows: np.ndarray
    labels: np.ndarray  # the candidate is an acceptable answer
    keys: list[str]  # the candidate's text, as votes compare it
    quoted_right: np.ndarray  # the answer given for the candidate (its sentence) holds an acceptable one


def collect(set_name: str, questions: Path, index_dir: Path, settings: Settings) -> list[Asked]:
    """The candidates of every question of one set, read against its index."""
    cases, problems = load_question_set(questions)
    for problem in problems:
        print(f"{questions}: {problem}", file=sys.stderr)
    assistant = Assistant(settings.replace(index_dir=index_dir))
    zero = Model(Linear.zero(len(FEATURES)), Linear.zero(len(CALIBRATION_INPUTS)), 0.5)
    asked = []
    try:
        for case in cases:
            _, reading = assistant.read(
                case.question, history=case.history, as_of=case.asked_on, model=zero, **_filters(case)
            )
            found = reading.candidates
            rows = np.array([c.features for c in found]) if found else np.zeros((0, len(FEATURES)))
            quoted = [
                bool(case.answers) and answer_match(reading.sentences[c.sentence].text, case.answers)
                for c in found
            ]
            labels = [
                bool(case.answers) and _gives(c.text, q, case.answers)
                for c, q in zip(found, quoted, strict=True)
            ]
            keys = [c.key for c in found]
            asked.append(
                Asked(set_name, case.id, case.answerable, rows, np.array(labels), keys, np.array(quoted))
            )
    finally:
        assistant.close()
    return asked


def _gives(candidate: str, quoted_right: bool, answers: list[str]) -> bool:
    """Is the candidate an acceptable answer: one of them, or part of one its sentence gives in full
    ("Nov. 12" of "November 12, 2020")?"""
    if answer_match(candidate, answers):
        return True
    if not quoted_right:
        return False
    words = set(normalize_answer(candidate).split())
    return any(words and words <= set(normalize_answer(a).split()) | _month_words(a) for a in answers)


def _month_words(answer: str) -> set[str]:
    return {w[:3] for w in re.findall(r"[a-z]+", answer.lower())}


def _filters(case) -> dict:
    from assistant.answering.retrieval import Filters

    return {"filters": Filters(**case.filters)} if case.filters else {}


def standardise(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, scale = rows.mean(axis=0), rows.std(axis=0)
    scale[scale == 0] = 1.0
    return mean, scale


def fit_ranker(questions: list[Asked], l2: float = RANKER_L2) -> Linear:
    """Conditional logit: maximise each question's share of weight on its right candidates."""
    usable = [q for q in questions if len(q.rows) > 1 and q.labels.any() and not q.labels.all()]
    mean, scale = standardise(np.vstack([q.rows for q in usable]))
    xs = [(q.rows - mean) / scale for q in usable]
    w = np.zeros(len(FEATURES))
    moment, velocity = np.zeros_like(w), np.zeros_like(w)
    for step in range(1, STEPS + 1):  # Adam on the mean loss
        gradient = l2 * w / len(usable)
        for x, q in zip(xs, usable, strict=True):
            z = x @ w
            p = np.exp(z - z.max())
            p /= p.sum()
            right = p * q.labels
            gradient += (p @ x - right @ x / right.sum()) / len(usable)
        moment = 0.9 * moment + 0.1 * gradient
        velocity = 0.999 * velocity + 0.001 * gradient**2
        w -= 0.05 * (moment / (1 - 0.9**step)) / (np.sqrt(velocity / (1 - 0.999**step)) + 1e-8)
    return Linear(tuple(float(v) for v in w), 0.0, tuple(mean), tuple(scale))


def fit_logistic(
    rows: np.ndarray, labels: np.ndarray, weights: np.ndarray | None = None, l2: float = CALIBRATOR_L2
) -> Linear:
    """Weighted logistic regression on standardised inputs by Newton's method, with a ridge penalty."""
    mean, scale = standardise(rows)
    x = np.hstack([(rows - mean) / scale, np.ones((len(rows), 1))])
    y = labels.astype(float)
    weights = np.ones(len(rows)) if weights is None else weights
    w = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], l2)
    penalty[-1] = 0.0  # the bias is not penalised
    for _ in range(50):
        p = 1 / (1 + np.exp(-(x @ w)))
        step = np.linalg.solve(
            (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty + 1e-9), x.T @ (p - y) + penalty * w
        )
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return Linear(tuple(float(v) for v in w[:-1]), float(w[-1]), tuple(mean), tuple(scale))


def fit(questions: list[Asked]) -> Model:
    ranker = fit_ranker(questions)
    sizes = Counter(q.set_name for q in questions if len(q.rows))
    rows, labels, weights = [], [], []
    for q in questions:
        if not len(q.rows):
            continue
        scores = ranker(q.rows)
        best = int(np.argmax(scores))
        rows.append(calibration_row(_as_candidates(q), scores))
        labels.append(q.answerable and bool(q.quoted_right[best] or q.labels[best]))
        weights.append(sum(sizes.values()) / (len(sizes) * sizes[q.set_name]))  # sets weigh alike
    return Model(ranker, fit_logistic(np.array(rows), np.array(labels), np.array(weights)), 0.5)


class _Row:
    """What `calibration_row` reads of a candidate."""

    def __init__(self, key: str, features: np.ndarray) -> None:
        self.key, self.features = key, list(features)
        self.label = "SENTENCE" if features[FEATURES.index("sentence_answer")] else "SPAN"


def _as_candidates(q: Asked) -> list[_Row]:
    return [_Row(key, row) for key, row in zip(q.keys, q.rows, strict=True)]


def outcomes(questions: list[Asked], model: Model) -> list[tuple[float, bool, bool]]:
    """Per question: (confidence, answerable, the answer given would be right)."""
    result = []
    for q in questions:
        if len(q.rows) == 0:
            result.append((0.0, q.answerable, False))
            continue
        scores = model.scores(q.rows)
        best = int(np.argmax(scores))
        confidence = model.confidence(_as_candidates(q), scores)
        result.append((confidence, q.answerable, bool(q.quoted_right[best] or q.labels[best])))
    return result


def tally(results: list[tuple[float, bool, bool]], threshold: float) -> dict[str, int]:
    counts = {"right": 0, "wrong": 0, "refused": 0, "unanswerable_refused": 0, "unanswerable_answered": 0}
    for confidence, answerable, right in results:
        answered = confidence >= threshold and confidence > 0
        if answerable:
            counts["right" if answered and right else "wrong" if answered else "refused"] += 1
        else:
            counts["unanswerable_answered" if answered else "unanswerable_refused"] += 1
    return counts


def utility(counts: dict[str, int]) -> float:
    wrong = counts["wrong"] + counts["unanswerable_answered"]
    return counts["right"] + counts["unanswerable_refused"] - WRONG_COST * wrong


def best_threshold(results: list[tuple[float, bool, bool]]) -> float:
    candidates = sorted({round(c, 3) for c, _, _ in results} | {0.5})
    return max(candidates, key=lambda t: (utility(tally(results, t)), -abs(t - 0.5)))


def leave_one_set_out(questions: list[Asked]) -> dict[str, list]:
    """Each set's outcomes under models fitted on the other sets: the numbers to report."""
    names = list(dict.fromkeys(q.set_name for q in questions))
    return {
        name: outcomes(
            [q for q in questions if q.set_name == name], fit([q for q in questions if q.set_name != name])
        )
        for name in names
    }


def cross_validated(questions: list[Asked], folds: int = FOLDS) -> list[tuple[float, bool, bool]]:
    """Every question's outcome under a model fitted without it (questions of all sets, shuffled into
    folds): the pooled outcomes the refusal threshold is chosen on. Left-out sets cannot serve here,
    as a style seen in one set only (search snippets) would have no calibration at all."""
    order = np.random.default_rng(0).permutation(len(questions))
    result: list = [None] * len(questions)
    for fold in range(folds):
        held = {int(i) for k, i in enumerate(order) if k % folds == fold}
        model = fit([q for i, q in enumerate(questions) if i not in held])
        for i, outcome in zip(
            sorted(held), outcomes([questions[i] for i in sorted(held)], model), strict=True
        ):
            result[i] = outcome
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m assistant.evaluation.fit", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("sets", nargs="+", help="NAME=QUESTIONS.jsonl@INDEX_DIR, one per dev set")
    parser.add_argument("--out", type=Path, default=MODEL_FILE)
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    questions: list[Asked] = []
    for spec in args.sets:
        name, _, rest = spec.partition("=")
        path, _, index = rest.partition("@")
        if not (name and path and index):
            parser.error(f"{spec!r}: give NAME=QUESTIONS.jsonl@INDEX_DIR")
        collected = collect(name, Path(path), Path(index), settings)
        print(
            f"{name}: {len(collected)} questions, {sum(len(q.rows) for q in collected)} candidates",
            file=sys.stderr,
        )
        questions += collected
    pooled = cross_validated(questions)
    threshold = best_threshold(pooled)
    left_out = leave_one_set_out(questions)
    model = fit(questions)
    report = {name: tally(results, threshold) for name, results in left_out.items()}
    by_set: dict[str, list] = {}
    for q, outcome in zip(questions, pooled, strict=True):
        by_set.setdefault(q.set_name, []).append(outcome)
    data = {
        "about": "The reader's fitted weights: python -m assistant.evaluation.fit (docs/reader.md).",
        "features": list(FEATURES),
        "ranker": model.ranker.to_json(),
        "calibration_inputs": list(CALIBRATION_INPUTS),
        "calibrator": model.calibrator.to_json(),
        "threshold": threshold,
        "sets": {name: sum(q.set_name == name for q in questions) for name in left_out},
        "left_out": report,
        "cross_validated": {name: tally(results, threshold) for name, results in by_set.items()},
    }
    args.out.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    for name, counts in report.items():
        print(f"{name:12} left out: {counts}")
        print(f"{'':12} cross-validated: {data['cross_validated'][name]}")
    print(f"threshold {threshold}; weights written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
