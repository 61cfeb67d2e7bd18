"""Metrics as pure functions: retrieval (hit, recall, MRR, nDCG; BEIR's definitions), answers (answer
match, SQuAD exact match and F1), citations (validity, precision), refusal, and latency percentiles."""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence

from assistant.answering.timeline import MONTH_NAMES
from assistant.library.parsing import MONTH

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans({c: " " for c in string.punctuation + "’‘“”–—"})
_MARKER = re.compile(r"\[(\d+)\]")
_MONTHS = [name[:3] for name in MONTH_NAMES]
_MONTH = rf"(?P<{{}}>{MONTH})"
_DAY = r"(?P<{}>\d{{1,2}})(?:st|nd|rd|th)?"
_FULL_DATE = re.compile(
    rf"\b(?:{_MONTH.format('m1')}\s+{_DAY.format('d1')},?\s+(?:of\s+)?"
    rf"|{_DAY.format('d2')}\s+(?:of\s+)?{_MONTH.format('m2')},?\s+)(?P<y>(?:1[5-9]|20)\d\d)\b",
    re.IGNORECASE,
)


# --- text ---------------------------------------------------------------------------------------


def normalize_answer(text: str) -> str:
    """SQuAD-style: lower case, punctuation and articles removed, whitespace collapsed."""
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCTUATION)).split())


def same_dates(text: str) -> str:
    """Full dates written as year, month and day ("November 21 of 1998", "21st Nov. 1998" and
    "Nov 21, 1998" are all 1998-11-21); other text unchanged."""

    def iso(match: re.Match) -> str:
        month = (match.group("m1") or match.group("m2"))[:3].lower()
        day = int(match.group("d1") or match.group("d2"))
        if month not in _MONTHS or not 1 <= day <= 31:
            return match.group(0)
        return f"{match.group('y')}-{_MONTHS.index(month) + 1:02d}-{day:02d}"

    return _FULL_DATE.sub(iso, text)


def contains(haystack: str, needle: str) -> bool:
    """Does `needle` occur in `haystack` as whole words, after normalising both?"""
    needle = normalize_answer(needle)
    return bool(needle) and f" {needle} " in f" {normalize_answer(haystack)} "


def overlaps(passage: str, gold: str) -> bool:
    """A retrieved passage matches a gold passage when either contains the other (normalised)."""
    return contains(passage, gold) or contains(gold, passage)


# --- retrieval, our question sets ---------------------------------------------------------------


def hit_at_k(relevant: Sequence[bool], k: int) -> float:
    """1 when a relevant item is among the first k, else 0."""
    return float(any(relevant[:k]))


def recall_at_k(found_units: Sequence[set[int]], total_units: int, k: int) -> float:
    """Share of the gold units (documents or passages) found in the first k results.

    `found_units[i]` holds the indices of the gold units that result i matches.
    """
    if total_units == 0:
        return 0.0
    found = set().union(*found_units[:k]) if found_units[:k] else set()
    return len(found) / total_units


def mrr_at_k(relevant: Sequence[bool], k: int = 10) -> float:
    """Reciprocal rank of the first relevant result within the first k (0 when none)."""
    for rank, is_relevant in enumerate(relevant[:k], start=1):
        if is_relevant:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(found_units: Sequence[set[int]], total_units: int, k: int = 10) -> float:
    """Binary-gain nDCG over gold units (documents or passages), in [0, 1].

    `found_units[i]` holds the indices of the gold units that result i matches. Each unit is credited
    once, at the first result that matches it: a result earns a gain of 1 when it matches a unit not
    credited before, else 0 (several chunks of one gold article count once). The ideal ranking has
    min(total_units, k) such results at the top.
    """
    credited: set[int] = set()
    dcg = 0.0
    for rank, units in enumerate(found_units[:k], start=1):
        if units - credited:
            dcg += 1.0 / math.log2(rank + 1)
            credited |= units
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(total_units, k) + 1))
    return dcg / ideal if ideal else 0.0


# --- retrieval, BEIR (as BEIR computes it with pytrec_eval / trec_eval) ----------------------------


def trec_order(scores: dict[str, float]) -> list[str]:
    """trec_eval's ranking: score descending, ties by document id descending."""
    return [doc for doc, _ in sorted(scores.items(), key=lambda item: (item[1], item[0]), reverse=True)]


def beir_ndcg(qrels: dict[str, int], scores: dict[str, float], k: int = 10) -> float:
    """trec_eval's ndcg_cut: gain = relevance grade, log2 discount, ideal from all judged grades."""
    ranking = trec_order(scores)[:k]
    dcg = sum(qrels.get(doc, 0) / math.log2(rank + 1) for rank, doc in enumerate(ranking, start=1))
    grades = sorted((g for g in qrels.values() if g > 0), reverse=True)[:k]
    ideal = sum(g / math.log2(rank + 1) for rank, g in enumerate(grades, start=1))
    return dcg / ideal if ideal else 0.0


def beir_recall(qrels: dict[str, int], scores: dict[str, float], k: int = 100) -> float:
    """trec_eval's recall at k: relevant (grade > 0) documents in the first k over all relevant."""
    relevant = {doc for doc, grade in qrels.items() if grade > 0}
    if not relevant:
        return 0.0
    return len(relevant & set(trec_order(scores)[:k])) / len(relevant)


def beir_mrr(qrels: dict[str, int], scores: dict[str, float], k: int = 10) -> float:
    """BEIR's MRR@k: reciprocal rank of the first relevant document among the first k."""
    for rank, doc in enumerate(trec_order(scores)[:k], start=1):
        if qrels.get(doc, 0) > 0:
            return 1.0 / rank
    return 0.0


# --- answers --------------------------------------------------------------------------------------


def answer_match(answer: str, acceptable: Iterable[str]) -> bool:
    """Does an acceptable answer appear in the answer, after normalising case, punctuation, articles
    and the way full dates are written?"""
    dated = same_dates(answer)
    return any(contains(answer, a) or contains(dated, same_dates(a)) for a in acceptable)


def token_f1(prediction: str, truth: str) -> float:
    """SQuAD token F1 between two texts."""
    predicted, expected = normalize_answer(prediction).split(), normalize_answer(truth).split()
    common = sum((Counter(predicted) & Counter(expected)).values())
    if not predicted or not expected or common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, truth: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(truth))


def best_sentence_scores(sentences: Sequence[str], acceptable: Sequence[str]) -> tuple[float, float]:
    """(exact match, F1) of the best-matching pair of answer sentence and acceptable answer."""
    pairs = [(s, a) for s in sentences for a in acceptable]
    if not pairs:
        return 0.0, 0.0
    return max(exact_match(s, a) for s, a in pairs), max(token_f1(s, a) for s, a in pairs)


# --- citations and refusal ------------------------------------------------------------------------


def citation_validity(answer: str, citation_numbers: Iterable[int]) -> float | None:
    """1.0 when every [n] marker in the answer resolves to a listed citation; None without markers."""
    markers = [int(n) for n in _MARKER.findall(answer)]
    if not markers:
        return None
    listed = set(citation_numbers)
    return float(all(n in listed for n in markers))


def citation_precision(
    cited_texts: Sequence[str], answers: Sequence[str], gold: Sequence[str]
) -> float | None:
    """Share of cited passages that contain an acceptable answer or a gold passage; None if none cited."""
    if not cited_texts:
        return None
    good = sum(
        any(contains(text, a) for a in answers) or any(overlaps(text, g) for g in gold)
        for text in cited_texts
    )
    return good / len(cited_texts)


def refusal_outcome(answerable: bool, refused: bool) -> str:
    """ "correct", "false_refusal" (answerable but refused) or "false_answer" (unanswerable but answered)."""
    if answerable == (not refused):
        return "correct"
    return "false_refusal" if answerable else "false_answer"


# --- latency ------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation, as numpy's default."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None
