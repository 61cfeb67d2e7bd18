"""Dated news quizzes -> our format: in, weekly JSON-lines files of multiple-choice questions with the day
each was asked and of the articles found for them; out, OUT/corpus/ (one dated article a file) and
OUT/questions.jsonl (`asked_on` on every question). `python -m assistant.evaluation.convert dated SRC OUT`."""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import html
import json
import re
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from assistant.errors import AssistantError
from assistant.evaluation.convert import (
    CORPUS_DIR,
    NAME_HASH_CHARS,
    QUESTIONS_FILE,
    TITLE_WORDS,
    _lines,
    _swap_in,
    read_rows,
)
from assistant.evaluation.metrics import normalize_answer

COMMAND = "dated"
QUESTION_SUFFIX = "_qa.jsonl"
ARTICLE_SUFFIXES = ("_gold.jsonl", "_gcs.jsonl")
QUESTION_FIELDS = ("question_id", "question_date", "question_sentence", "choices")
OUTPUTS = (CORPUS_DIR, QUESTIONS_FILE)
ON_OR_BEFORE, ONLY_LATER, NOWHERE = "on-or-before", "only-later", "nowhere"
_TAG = re.compile(r"<[a-zA-Z/!][^>]*>")
_QUOTES = "\"'“”‘’"


@dataclass(frozen=True)
class Article:
    title: str
    source: str
    published: str  # YYYY-MM-DD, empty when unknown
    url: str
    text: str


@dataclass(frozen=True)
class DatedSummary:
    questions: int
    answerable: int
    only_later: int  # unanswerable: only articles published after the day asked hold the answer
    nowhere: int  # unanswerable: no article holds the answer
    articles: int  # search results and linked articles
    passages: int  # the quizzes' own explanation paragraphs
    skipped: int  # not answered yet, or no question text
    renamed: int  # an id already used by a different question, given a suffix
    first_asked: str
    last_asked: str


def find_sources(source: Path) -> tuple[list[Path], list[Path]]:
    """(question files, article files) under a folder, or for one question file: it and the files of its
    week beside it (those whose names open with the same `PREFIX_`)."""
    source = Path(source)
    if source.is_dir():
        files = sorted(p for p in source.rglob("*.jsonl") if p.is_file())
    elif source.is_file():
        week = source.name.split("_")[0] + "_"
        files = sorted(p for p in source.parent.glob(f"{week}*.jsonl") if p.is_file())
        if source not in files or not source.name.endswith(QUESTION_SUFFIX):
            raise AssistantError(f"{source} is not a question file (a name ending {QUESTION_SUFFIX})")
    else:
        raise AssistantError(f"cannot read {source}: no such file or folder")
    questions = [p for p in files if p.name.endswith(QUESTION_SUFFIX)]
    if not questions:
        raise AssistantError(f"{source} holds no question files (names ending {QUESTION_SUFFIX})")
    return questions, [p for p in files if p.name.endswith(ARTICLE_SUFFIXES)]


def load_questions(paths: list[Path]) -> tuple[list[dict[str, Any]], int, int]:
    """The answered questions of the files, checked, each once: (questions, skipped, renamed).

    A question file (name ending `_qa.jsonl`) holds one object a line: `question_id`, `question_date`
    (YYYY/MM/DD or YYYY-MM-DD), `question_sentence`, `choices`, `answer` (indexes into `choices`, as
    strings; missing or empty in a week not answered yet: skipped), and optionally `question_source`,
    `question_url` and `evidence` (the quiz's paragraph explaining the answer, in HTML). The same question
    in several files (a week's file and one gathering weeks) is kept once; a different question under an
    id already taken gets `-2`, `-3`, ...
    """
    questions: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    skipped = renamed = 0
    for path in paths:
        for number, row in read_rows(path):
            where = f"{path}:{number}"
            missing = [name for name in QUESTION_FIELDS if name not in row]
            if missing:
                raise AssistantError(f"{where}: missing field(s) {', '.join(missing)}")
            key, whole = str(row["question_id"]), json.dumps(row, sort_keys=True)
            if whole in seen:
                continue
            seen.add(whole)
            question = plain(str(row["question_sentence"]))
            if not question or not row.get("answer"):
                skipped += 1
                continue
            qid, n = key, 1
            while qid in questions:
                n += 1
                qid = f"{key}-{n}"
            renamed += n > 1
            choices = _choices(row["choices"], where)
            questions[qid] = {
                "id": qid,
                "question": question,
                "answers": _answers(row["answer"], choices, where),
                "asked_on": _day(row["question_date"], f"{where}: question_date"),
                "choices": choices,
                "quiz": row,
            }
    return list(questions.values()), skipped, renamed


def _choices(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        raise AssistantError(f"{where}: choices must be a list of strings")
    return [unquote(plain(c)) for c in value]


def _answers(value: Any, choices: list[str], where: str) -> list[str]:
    """The chosen choices' text: `answer` is a list of indexes ("0" is the first choice)."""
    indexes = value if isinstance(value, list) else [value]
    picked = []
    for index in indexes:
        if not str(index).strip().isdigit() or int(index) >= len(choices):
            raise AssistantError(f"{where}: answer {index!r} is not an index into the {len(choices)} choices")
        picked.append(choices[int(index)])
    answers = list(dict.fromkeys(a for a in picked if a))
    if not answers:
        raise AssistantError(f"{where}: the chosen choice is empty")
    return answers


def plain(text: str) -> str:
    """Text without HTML tags and entities, its whitespace collapsed (quiz text may hold links)."""
    return " ".join(html.unescape(_TAG.sub("", text)).split())


def unquote(text: str) -> str:
    """A choice without the quotation marks around a title ('"The Show"' -> 'The Show')."""
    if (
        len(text) > 2
        and text[0] in _QUOTES
        and text[-1] in _QUOTES
        and not any(q in text[1:-1] for q in _QUOTES)
    ):
        return text[1:-1].strip()
    return text


def _day(value: Any, what: str) -> str:
    """YYYY-MM-DD from YYYY/MM/DD or YYYY-MM-DD; AssistantError otherwise."""
    try:
        return dt.date.fromisoformat(str(value).strip().replace("/", "-")).isoformat()
    except ValueError:
        raise AssistantError(f"{what} {value!r} is not a date (YYYY/MM/DD or YYYY-MM-DD)") from None


def load_articles(paths: list[Path]) -> dict[str, Article]:
    """The articles of the files by file name (a hash of the URL), each URL once.

    An article file (name ending `_gold.jsonl`, the articles a quiz's explanation links to, or
    `_gcs.jsonl`, web search results fetched around the day asked) holds one object a line:
    `question_id` and `search_result`, a list of `{url, title, text, publish_date}`. Results without text
    are left out. A URL found again keeps its first version: files are read in name order and names open
    with the week, so that is the earliest crawl, and a page updated later does not bring later news.
    """
    articles: dict[str, Article] = {}
    for path in paths:
        for number, row in read_rows(path):
            results = row.get("search_result")
            if not isinstance(results, list):
                raise AssistantError(f"{path}:{number}: search_result must be a list")
            for result in results:
                if not isinstance(result, dict) or not isinstance(result.get("url"), str):
                    raise AssistantError(f"{path}:{number}: a search result without a url")
                text = result.get("text")
                if not isinstance(text, str) or not text.strip():
                    continue
                url = result["url"].strip()
                name = file_name(url)
                if name in articles:
                    continue
                try:
                    published = _day(result["publish_date"], "") if result.get("publish_date") else ""
                except AssistantError:
                    published = ""  # an unreadable date: indexed without one
                title = str(result.get("title") or "").strip()
                articles[name] = Article(title, _site(url), published, url, text.strip())
    return articles


def _site(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


def explanation_passages(questions: list[dict[str, Any]]) -> dict[str, Article]:
    """Each quiz's explanation paragraph as a passage of its own, dated the day the question was asked
    and credited to the quiz, by file name (a hash of its text)."""
    passages: dict[str, Article] = {}
    for case in questions:
        quiz = case["quiz"]
        text = plain(str(quiz.get("evidence") or ""))
        if text:
            source, url = str(quiz.get("question_source") or ""), str(quiz.get("question_url") or "")
            passages.setdefault(file_name(text), Article("", source, case["asked_on"], url, text))
    return passages


def file_name(key: str) -> str:
    """A corpus file's name from a hash of its URL (or text): the same article gets the same name."""
    return hashlib.sha256(key.encode()).hexdigest()[:NAME_HASH_CHARS] + ".txt"


def article_file(article: Article) -> str:
    """Front matter (title, source, published, url) and the text. Values are quoted, so a '#' in a
    title is not read as a comment; an article without a title gets its first words."""
    title = " ".join(article.title.split()) or " ".join(article.text.split()[:TITLE_WORDS])
    meta = {"title": title, "source": article.source, "published": article.published, "url": article.url}
    lines = [f'{key}: "{" ".join(value.split())}"' for key, value in meta.items() if value.strip()]
    return "---\n" + "\n".join(lines) + "\n---\n" + article.text + "\n"


def earliest_mentions(answers: set[str], articles: Iterable[Article]) -> dict[str, str]:
    """For each normalised answer some dated article holds (as whole words, normalised): the earliest
    published date of those holding it. Each answer is looked for only in articles with its longest word."""
    by_word: dict[str, list[str]] = defaultdict(list)
    for answer in answers:
        if answer:
            by_word[max(answer.split(), key=len)].append(answer)
    found: dict[str, str] = {}
    for article in articles:
        if not article.published:
            continue
        text = f" {normalize_answer(article.title + ' ' + article.text)} "
        for word in set(text.split()) & by_word.keys():
            for answer in by_word[word]:
                if f" {answer} " in text and article.published < found.get(answer, "9999"):
                    found[answer] = article.published
    return found


def answer_in_corpus(case: dict[str, Any], found: dict[str, str]) -> str:
    """Where the corpus holds one of the question's answers: ON_OR_BEFORE (an article published on or
    before `asked_on`: answerable), ONLY_LATER (only articles published after it) or NOWHERE.

    A string test, as the scorer's: a paraphrased answer counts as absent, a common word as present.
    """
    dates = [found[a] for a in (normalize_answer(x) for x in case["answers"]) if a in found]
    if any(first <= case["asked_on"] for first in dates):
        return ON_OR_BEFORE
    return ONLY_LATER if dates else NOWHERE


def convert_dated(source: Path, out: Path, *, explanations: bool = True) -> DatedSummary:
    """Write OUT/corpus/ (the articles and, with `explanations`, the quizzes' explanation paragraphs) and
    OUT/questions.jsonl from the question and article files under SOURCE (a folder, or one question file
    with its week's files beside it).

    Everything is written into a temporary folder beside OUT and renamed into place, so OUT is either
    the complete conversion or what it was before. An OUT holding anything but an earlier conversion is
    left alone.
    """
    out = Path(out)
    if out.exists() and not (out.is_dir() and {p.name for p in out.iterdir()} <= set(OUTPUTS)):
        raise AssistantError(
            f"{out} exists and is not an earlier conversion ({CORPUS_DIR}/ and {QUESTIONS_FILE} only); "
            "choose a new or empty folder"
        )
    question_files, article_files = find_sources(source)
    questions, skipped, renamed = load_questions(question_files)
    if not questions:
        raise AssistantError(f"{source} holds no answered questions")
    articles = load_articles(article_files)
    passages = explanation_passages(questions) if explanations else {}
    corpus = articles | {name: p for name, p in passages.items() if name not in articles}
    answers = {normalize_answer(a) for case in questions for a in case["answers"]}
    found = earliest_mentions(answers, corpus.values())
    cases = []
    for case in questions:
        where = answer_in_corpus(case, found)
        cases.append(
            {"id": case["id"], "question": case["question"], "answers": case["answers"],
             "answerable": where == ON_OR_BEFORE, "asked_on": case["asked_on"],
             "choices": case["choices"], "answer_in_corpus": where}
        )  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.tmp-"))
    try:
        (staging / CORPUS_DIR).mkdir()
        for name, article in corpus.items():
            (staging / CORPUS_DIR / name).write_text(article_file(article), encoding="utf-8")
        (staging / QUESTIONS_FILE).write_text(_lines(cases), encoding="utf-8")
        staging.chmod(0o755)  # mkdtemp makes it private; OUT should read like any other folder
        _swap_in(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    days = sorted(case["asked_on"] for case in cases)
    wheres = [case["answer_in_corpus"] for case in cases]
    return DatedSummary(
        questions=len(cases), answerable=wheres.count(ON_OR_BEFORE), only_later=wheres.count(ONLY_LATER),
        nowhere=wheres.count(NOWHERE), articles=len(articles), passages=len(corpus) - len(articles),
        skipped=skipped, renamed=renamed, first_asked=days[0], last_asked=days[-1],
    )  # fmt: skip


def add_dated_command(formats: Any) -> None:
    """The `dated` subcommand of `python -m assistant.evaluation.convert`."""
    dated = formats.add_parser(COMMAND, help="dated news quizzes: weekly *_qa.jsonl with *_gold/_gcs.jsonl")
    dated.add_argument("source", type=Path, help="a folder of weekly files, or one *_qa.jsonl file")
    dated.add_argument("out", type=Path, help=f"output folder: OUT/{CORPUS_DIR}/, OUT/{QUESTIONS_FILE}")
    dated.add_argument(
        "--no-explanations",
        dest="explanations",
        action="store_false",
        help="leave the quizzes' explanation paragraphs out of the corpus (articles only)",
    )


def run_dated_command(args: argparse.Namespace) -> str:
    """Convert as the parsed arguments say; what to print once done."""
    s = convert_dated(args.source, args.out, explanations=args.explanations)
    corpus, question_set = args.out / CORPUS_DIR, args.out / QUESTIONS_FILE
    return "\n".join(
        [
            f"wrote {s.questions} questions (asked {s.first_asked} to {s.last_asked}) to {question_set} and "
            f"{s.articles} articles and {s.passages} explanation paragraphs to {corpus}/",
            f"answerable: {s.answerable}; unanswerable: {s.only_later + s.nowhere} ({s.only_later} held only "
            f"by later articles, {s.nowhere} by none); skipped {s.skipped} unanswered, renamed {s.renamed}",
            f"next: assistant --index-dir DIR ingest {corpus}; assistant --index-dir DIR eval {question_set}",
        ]
    )
