"""External question sets -> our format: a folder of passages for `assistant ingest` and a JSONL set for
`assistant eval`. RGB (Chen et al., "Benchmarking Large Language Models in Retrieval-Augmented
Generation"): `python -m assistant.evaluation.convert rgb PATH/en_fact.json OUT/`.

RGB is licensed CC BY-NC-SA: this module only reads a local copy; neither the data nor anything converted
from it may be committed to this repository.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import re
import shutil
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError

RGB_FIELDS = ("id", "query", "answer", "positive", "negative")
CORPUS_DIR = "corpus"
QUESTIONS_FILE = "questions.jsonl"
# Each question that names a year, asked again about a year no passage mentions: the articles cannot
# answer it, so the right answer is a refusal (the "2022 Varga Prize" case, with only 2021 reports).
OTHER_YEARS_FILE = "other-years.jsonl"
# RGB's "negative rejection": every question asked of the passages that do not answer it. NEGATIVES_DIR
# holds the corpus less every passage that is a question's positive or holds one of its answers, so no
# question can be answered from it and each should be refused.
NEGATIVES_DIR = "negatives"
NEGATIVES_FILE = "negative-rejection.jsonl"
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
NAME_HASH_CHARS = 16  # hex digits of sha256 in a passage's file name: stable, and no clash in practice
TITLE_WORDS = 8
EXIT_BAD_INPUT = 1


def read_rows(path: Path, hint: str = "") -> Iterable[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of a JSON-lines file; AssistantError names the
    first bad line (`hint` follows the message of a line that is not JSON)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise AssistantError(f"cannot read {path}: {reason}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise AssistantError(f"{path}:{number}: not a JSON line ({exc.msg}){hint}") from None
        if not isinstance(row, dict):
            raise AssistantError(f"{path}:{number}: not a JSON object")
        yield number, row


def load_rgb(path: Path) -> list[dict[str, Any]]:
    """The questions of an RGB file (JSON lines), checked; AssistantError names the first bad line."""
    rows = []
    for number, row in read_rows(path, hint="; RGB files hold one JSON object per line"):
        missing = [name for name in RGB_FIELDS if name not in row]
        if missing:
            raise AssistantError(f"{path}:{number}: missing field(s) {', '.join(missing)}")
        if not isinstance(row["query"], str) or not row["query"].strip():
            raise AssistantError(f"{path}:{number}: query must be a non-empty string")
        for name in ("positive", "negative"):
            if not isinstance(row[name], list) or not all(isinstance(p, str) for p in row[name]):
                raise AssistantError(f"{path}:{number}: {name} must be a list of strings")
        try:
            row["answer"] = rgb_answers(row["answer"])
        except ValueError as exc:
            raise AssistantError(f"{path}:{number}: {exc}") from None
        rows.append(row)
    if not rows:
        raise AssistantError(f"{path} holds no questions")
    return rows


def rgb_answers(answer: Any) -> list[str]:
    """RGB's `answer`, a string or a list of lists of variant strings, as one flat list of strings.

    In sets whose answer has several parts (a list per part), any variant of any part then counts.
    """
    if isinstance(answer, str):
        flat = [answer]
    elif isinstance(answer, list):
        flat = []
        for item in answer:
            variants = item if isinstance(item, list) else [item]
            if not all(isinstance(v, str) for v in variants):
                raise ValueError("answer must be a string or a list of lists of strings")
            flat.extend(variants)
    else:
        raise ValueError("answer must be a string or a list of lists of strings")
    answers = list(dict.fromkeys(a.strip() for a in flat if a.strip()))  # unique, in order
    if not answers:
        raise ValueError("answer is empty")
    return answers


def passage_name(text: str) -> str:
    """A passage's file name, from a hash of its text: the same passage gets the same name every run."""
    return hashlib.sha256(text.encode()).hexdigest()[:NAME_HASH_CHARS] + ".txt"


def passage_file(text: str) -> str:
    """The file for one passage. Front matter gives the title (its first words), so the corpus reader
    does not take the first line as the title, and the passage is indexed verbatim as the article's text."""
    title = " ".join(text.split()[:TITLE_WORDS])
    return f"---\ntitle: {title}\n---\n{text}\n"


def convert_rgb(source: Path, out: Path) -> tuple[int, int]:
    """Write OUT/corpus/ (one file per distinct passage), OUT/questions.jsonl, and two unanswerable
    variants: OUT/other-years.jsonl (against the same corpus) and OUT/negative-rejection.jsonl
    (against OUT/negatives/); returns (questions, passages).

    Everything is written into a temporary folder beside OUT and renamed into place, so OUT is either
    the complete conversion or what it was before. An OUT holding anything but an earlier conversion is
    left alone.
    """
    rows = load_rgb(source)
    out = Path(out)
    if out.exists() and not _replaceable(out):
        raise AssistantError(
            f"{out} exists and is not an earlier conversion ({CORPUS_DIR}/ and {QUESTIONS_FILE} only); "
            "choose a new or empty folder"
        )
    passages: dict[str, str] = {}
    for row in rows:
        for text in row["positive"] + row["negative"]:
            text = text.strip()
            if text:
                passages.setdefault(passage_name(text), text)
    cases = [{"id": f"rgb-{row['id']}", "question": row["query"], "answers": row["answer"]} for row in rows]
    questions = _lines(cases)
    other_years = _lines(other_year_cases(cases, passages))
    negatives = negative_passages(rows, passages)
    rejection = _lines(
        {"id": f"{c['id']}-neg", "question": c["question"], "answerable": False} for c in cases
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.tmp-"))
    try:
        for folder, names in ((CORPUS_DIR, passages), (NEGATIVES_DIR, negatives)):
            (staging / folder).mkdir()
            for name in names:
                (staging / folder / name).write_text(passage_file(passages[name]), encoding="utf-8")
        (staging / QUESTIONS_FILE).write_text(questions, encoding="utf-8")
        (staging / OTHER_YEARS_FILE).write_text(other_years, encoding="utf-8")
        (staging / NEGATIVES_FILE).write_text(rejection, encoding="utf-8")
        staging.chmod(0o755)  # mkdtemp makes it private; OUT should read like any other folder
        _swap_in(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return len(rows), len(passages)


def other_year_cases(cases: list[dict], passages: dict[str, str]) -> list[dict]:
    """Unanswerable variants: every year in a question replaced by the year after the latest one any
    passage mentions, so no passage can be about it."""
    this_year = dt.date.today().year  # "Starfall 2099" is a name, not a year
    mentioned = [int(y) for text in passages.values() for y in _YEAR.findall(text) if int(y) <= this_year]
    unseen = str(max(mentioned, default=2000) + 1)
    return [
        {"id": f"{case['id']}-{unseen}", "question": _YEAR.sub(unseen, case["question"]), "answerable": False}
        for case in cases
        if _YEAR.search(case["question"])
    ]


def negative_passages(rows: list[dict[str, Any]], passages: dict[str, str]) -> list[str]:
    """The names of the passages that answer no question: neither any question's positive nor holding
    any of the answers (compared without case)."""
    positive = {passage_name(text.strip()) for row in rows for text in row["positive"]}
    answers = [a.lower() for row in rows for a in row["answer"]]
    return sorted(
        name
        for name, text in passages.items()
        if name not in positive and not any(a in text.lower() for a in answers)
    )


def _lines(cases: Iterable[dict]) -> str:
    return "".join(json.dumps(case, ensure_ascii=False) + "\n" for case in cases)


def _replaceable(out: Path) -> bool:
    """An empty folder, or one holding nothing but an earlier conversion's output."""
    written = {CORPUS_DIR, QUESTIONS_FILE, OTHER_YEARS_FILE, NEGATIVES_DIR, NEGATIVES_FILE}
    return out.is_dir() and {p.name for p in out.iterdir()} <= written


def _swap_in(staging: Path, out: Path) -> None:
    if not out.exists():
        staging.rename(out)
        return
    old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old-"))
    old.rmdir()  # only its unique name is wanted
    out.rename(old)
    try:
        staging.rename(out)
    except BaseException:
        old.rename(out)
        raise
    shutil.rmtree(old)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m assistant.evaluation.convert",
        description="Convert an external question set into a corpus folder and a JSONL question set.",
    )
    formats = parser.add_subparsers(dest="format", required=True, metavar="FORMAT")
    rgb = formats.add_parser("rgb", help="RGB (en_fact.json, en.json, ...), JSON lines")
    rgb.add_argument("source", type=Path, help="the RGB file, e.g. en_fact.json")
    rgb.add_argument(
        "out",
        type=Path,
        help=f"output folder: OUT/{CORPUS_DIR}/, OUT/{QUESTIONS_FILE}, OUT/{OTHER_YEARS_FILE}, "
        f"OUT/{NEGATIVES_DIR}/, OUT/{NEGATIVES_FILE}",
    )
    from assistant.evaluation import convert_dated as dated  # it uses this module's helpers: loaded here

    dated.add_dated_command(formats)
    args = parser.parse_args(argv)
    try:
        if args.format == dated.COMMAND:
            written = dated.run_dated_command(args)
        else:
            questions, passages = convert_rgb(args.source, args.out)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:  # the output folder cannot be written
        print(f"error: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.format == dated.COMMAND:
        print(written)
        return 0
    corpus, question_set = args.out / CORPUS_DIR, args.out / QUESTIONS_FILE
    print(f"wrote {questions} questions to {question_set} and {passages} passages to {corpus}/")
    print(f"unanswerable variants (a year no passage mentions): {args.out / OTHER_YEARS_FILE}")
    print(
        f"negative rejection (no answering passage): {args.out / NEGATIVES_FILE}, "
        f"against {args.out / NEGATIVES_DIR}/"
    )
    print(f"next: assistant --index-dir DIR ingest {corpus}; assistant --index-dir DIR eval {question_set}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
