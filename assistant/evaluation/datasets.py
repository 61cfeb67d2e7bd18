"""Question sets: our JSONL format, llama-index LabelledRagDataset files, and BEIR folders.

JSONL, one object a line: `question` (required); optional `id`, `answers` (acceptable answer
strings), `answerable` (default true), `gold_doc_ids`, `gold_passages`, `filters`
(`{"doc_ids", "sources", "since", "until"}`), `history` (earlier turns), `asked_on` (the day the
question is asked, YYYY-MM-DD: "this week" is read against it). Other fields are kept.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError
from assistant.library.corpus import EARLIEST_DATE, LATEST_DATE, day

KNOWN_FIELDS = {
    "question", "id", "answers", "answerable", "gold_doc_ids", "gold_passages", "filters", "history",
    "asked_on",
}  # fmt: skip


@dataclass
class EvalCase:
    question: str
    id: str = ""
    answers: list[str] = field(default_factory=list)
    answerable: bool = True
    gold_doc_ids: list[str] = field(default_factory=list)
    gold_passages: list[str] = field(default_factory=list)
    filters: dict[str, Any] = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)
    asked_on: dt.date | None = None  # None: the set's --as-of, else today
    extra: dict[str, Any] = field(default_factory=dict)


def load_question_set(path: Path) -> tuple[list[EvalCase], list[str]]:
    """Cases from a JSONL set or a `rag_dataset.json`, and one message per bad entry."""
    path = Path(path)
    if path.suffix == ".json":
        return load_rag_dataset(path), []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise AssistantError(f"cannot read question set {path}: {exc}") from None
    cases, problems = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{number}: invalid JSON ({exc.msg})")
            continue
        if (
            not isinstance(row, dict)
            or not isinstance(row.get("question"), str)
            or not row["question"].strip()
        ):
            problems.append(f"{path}:{number}: no question")
            continue
        try:
            cases.append(_case(row, f"line-{number}"))
        except (TypeError, ValueError) as exc:
            problems.append(f"{path}:{number}: {exc}")
    return cases, problems


def _case(row: dict[str, Any], fallback_id: str) -> EvalCase:
    def strings(name: str) -> list[str]:
        value = row.get(name) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{name} must be a list of strings")
        return value

    filters = row.get("filters") or {}
    history = row.get("history") or []
    if not isinstance(filters, dict) or not isinstance(history, list):
        raise ValueError("filters must be an object and history a list")
    return EvalCase(
        question=row["question"],
        id=str(row.get("id") or fallback_id),
        answers=strings("answers"),
        answerable=bool(row.get("answerable", True)),
        gold_doc_ids=strings("gold_doc_ids"),
        gold_passages=strings("gold_passages"),
        filters=filters,
        history=history,
        asked_on=_asked_on(row.get("asked_on")),
        extra={k: v for k, v in row.items() if k not in KNOWN_FIELDS},
    )


def _asked_on(value: Any) -> dt.date | None:
    """The day a question is asked, from YYYY-MM-DD (as `pipeline.as_of_date` reads `--as-of`)."""
    if value is None or value == "":
        return None
    try:
        asked = dt.date.fromisoformat(day(value))
    except (TypeError, ValueError):
        raise ValueError(f"asked_on {value!r} is not a date; use YYYY-MM-DD") from None
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueError(f"asked_on {value!r} is not between {EARLIEST_DATE} and {LATEST_DATE}")
    return asked


def load_rag_dataset(path: Path) -> list[EvalCase]:
    """A llama-index LabelledRagDataset (`rag_dataset.json`): query, reference_answer, reference_contexts."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        examples = data["examples"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AssistantError(f"{path} is not a LabelledRagDataset file ({exc})") from None
    cases = []
    for number, example in enumerate(examples, start=1):
        cases.append(
            EvalCase(
                question=example["query"],
                id=f"example-{number}",
                answers=[example["reference_answer"]] if example.get("reference_answer") else [],
                gold_passages=list(example.get("reference_contexts") or []),
                extra={
                    "query_by": example.get("query_by"),
                    "reference_answer": example.get("reference_answer"),
                },
            )
        )
    return cases


@dataclass
class BeirSet:
    """A BEIR folder: corpus {doc_id: (title, text)}, queries {qid: text}, qrels {qid: {doc_id: grade}}."""

    corpus: dict[str, tuple[str, str]]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def load_beir(folder: Path, split: str = "test") -> BeirSet:
    folder = Path(folder)
    try:
        corpus = {}
        for line in (folder / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                corpus[str(row["_id"])] = (row.get("title") or "", row["text"])
        queries = {}
        for line in (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                queries[str(row["_id"])] = row["text"]
        qrels: dict[str, dict[str, int]] = {}
        with (folder / "qrels" / f"{split}.tsv").open(encoding="utf-8") as handle:
            reader = csv.reader(handle, delimiter="\t")
            next(reader, None)  # header: query-id, corpus-id, score
            for row in reader:
                if len(row) >= 3:
                    qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    except (OSError, ValueError, KeyError) as exc:
        raise AssistantError(
            f"{folder} is not a BEIR folder (corpus.jsonl, queries.jsonl, qrels/{split}.tsv): {exc}"
        ) from None
    queries = {qid: text for qid, text in queries.items() if qid in qrels}
    return BeirSet(corpus, queries, qrels)
