"""The dated news-quiz converter, on small invented weekly files of its input shape (real quiz data and the
articles found for it are never kept in the repository): the corpus and question set it writes, which
questions the dated articles can answer, and bad input as one line."""

import hashlib
import json
import subprocess
import sys

import pytest

from assistant.evaluation.convert import main
from assistant.evaluation.convert_dated import convert_dated
from assistant.evaluation.datasets import load_question_set
from assistant.library.corpus import FoundFile, read_article

QUIZ = "https://quiz.example/week-1"
LIBRARY_URL = "https://www.paper.example/2030/01/02/library.html"
BRIDGE_URL = "https://news.example/2030/01/20/bridge"


def question(number, sentence, choices, answer, date="2030/01/04", evidence="", qid=None):
    return {
        "question_id": qid or f"20300104_{number}",
        "question_date": date,
        "question_source": "Example Weekly",
        "question_url": QUIZ,
        "question_sentence": sentence,
        "choices": choices,
        "answer": answer,
        "evidence": evidence,
    }


QUESTIONS = [
    question(0, 'Which town opened a <a href="https://x.example">new library</a> this week?',
             ["Lakemoor", "Pinecrest", "Ashford Vale", "Millbrook"], ["0"]),
    question(1, "Which town will host the bridge festival?", ["Oldharbor", "Redcliff"], ["1"]),
    question(2, "What did the council recently approve?", ["A park", "“Night Market”", "A tax"], ["1"],
             evidence="The council approved a <b>Night Market</b> for the square, starting in March."),
    question(3, "How many lanterns were lit?", ["100", "200", "300", "400"], ["2"]),
    question(4, "Which quiz is not answered yet?", ["One", "Two"], []),
]  # fmt: skip
CLASH = question(9, "Which choir sang at the opening?", ["Bluebell", "Harbor Voices"], ["0"],
                 date="2030-01-11", qid="20300104_0")  # fmt: skip
ARTICLES = [
    {"question_id": "20300104_0", "search_result": [
        {"url": LIBRARY_URL, "title": "Library opens #1 in the county", "publish_date": "2030/01/02",
         "text": "Lakemoor opened its new library on Tuesday.\n\nThe Bluebell choir sang."},
        {"url": "https://paper.example/empty", "title": "Nothing", "text": "", "publish_date": "2030/01/02"},
    ]},
    {"question_id": "20300104_1", "search_result": [
        {"url": BRIDGE_URL, "title": "Bridge festival", "publish_date": "2030/01/20",
         "text": "Redcliff hosted the bridge festival at the weekend."},
    ]},
]  # fmt: skip
GOLD = [
    {"question_id": "20300104_0", "search_result": [
        {"url": LIBRARY_URL, "publish_date": "2030/01/03", "text": "A later crawl of the same page."},
        {"url": "https://paper.example/gone"},
    ]},
]  # fmt: skip


def write_lines(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def write_weeks(folder):
    """Two weeks: the first with search results and linked articles, and a file gathering both weeks
    that repeats the first week's questions."""
    week = folder / "2030"
    week.mkdir(parents=True)
    write_lines(week / "20300104_qa.jsonl", QUESTIONS)
    write_lines(week / "20300104_gcs.jsonl", ARTICLES)
    write_lines(week / "20300104_gold.jsonl", GOLD)
    write_lines(week / "20300104_qa_nota.jsonl", [{"not": "read"}])
    write_lines(week / "20300111_qa.jsonl", [CLASH])
    write_lines(week / "20300104-20300111_qa.jsonl", QUESTIONS + [CLASH])
    return folder


def named(key):
    return hashlib.sha256(key.encode()).hexdigest()[:16] + ".txt"


def test_weekly_files_become_a_dated_corpus_and_question_set(tmp_path):
    source, out = write_weeks(tmp_path / "weeks"), tmp_path / "dated"
    run = [sys.executable, "-m", "assistant.evaluation.convert", "dated", str(source), str(out)]
    result = subprocess.run(run, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "wrote 5 questions (asked 2030-01-04 to 2030-01-11)" in result.stdout
    assert "2 articles and 1 explanation paragraphs" in result.stdout
    assert "answerable: 3; unanswerable: 2 (1 held only by later articles, 1 by none)" in result.stdout
    assert "skipped 1 unanswered, renamed 1" in result.stdout

    rows = [json.loads(line) for line in (out / "questions.jsonl").read_text().splitlines()]
    assert [(r["id"], r["answers"], r["answerable"], r["answer_in_corpus"]) for r in rows] == [
        ("20300104_0", ["Lakemoor"], True, "on-or-before"),  # an article two days before
        ("20300104_1", ["Redcliff"], False, "only-later"),  # only an article after the day asked
        ("20300104_2", ["Night Market"], True, "on-or-before"),  # the quiz's explanation, that day
        ("20300104_3", ["300"], False, "nowhere"),
        ("20300104_0-2", ["Bluebell"], True, "on-or-before"),  # an id already taken: a suffix
    ]
    first = rows[0]
    assert first["question"] == "Which town opened a new library this week?", "links are plain text"
    assert first["asked_on"] == "2030-01-04" and first["choices"][2] == "Ashford Vale"
    assert rows[2]["choices"] == ["A park", "Night Market", "A tax"], "quotes around a title dropped"
    cases, problems = load_question_set(out / "questions.jsonl")
    assert problems == [] and [str(c.asked_on) for c in cases][-1] == "2030-01-11"

    explanation = "The council approved a Night Market for the square, starting in March."
    names = sorted(p.name for p in (out / "corpus").iterdir())
    assert names == sorted([named(LIBRARY_URL), named(BRIDGE_URL), named(explanation)])
    library = read_article(FoundFile(out / "corpus" / named(LIBRARY_URL), out / "corpus"))
    assert (library.title, library.source, library.published, library.url) == (
        "Library opens #1 in the county",
        "paper.example",
        "2030-01-02",
        LIBRARY_URL,
    ), "the first crawl of a page is kept, with its front matter"
    assert library.text.startswith("Lakemoor opened its new library")
    passage = read_article(FoundFile(out / "corpus" / named(explanation), out / "corpus"))
    assert (passage.text, passage.published, passage.source, passage.url) == (
        explanation,
        "2030-01-04",
        "Example Weekly",
        QUIZ,
    )
    assert passage.title == "The council approved a Night Market for the"

    before = {p.name: p.read_bytes() for p in (out / "corpus").iterdir()}
    assert main(["dated", str(source), str(out)]) == 0
    assert {p.name: p.read_bytes() for p in (out / "corpus").iterdir()} == before, "a rerun is stable"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dated", "weeks"], "no staging left over"


def test_one_week_and_articles_only(tmp_path):
    source = write_weeks(tmp_path / "weeks") / "2030" / "20300104_qa.jsonl"
    summary = convert_dated(source, tmp_path / "out", explanations=False)
    assert (summary.questions, summary.articles, summary.passages) == (4, 2, 0), "the week's files only"
    rows = [json.loads(line) for line in (tmp_path / "out" / "questions.jsonl").read_text().splitlines()]
    assert [r["answer_in_corpus"] for r in rows] == ["on-or-before", "only-later", "nowhere", "nowhere"]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("{not json\n", "{source}:1: not a JSON line (Expecting property name enclosed in double quotes)"),
        ("[1, 2]\n", "{source}:1: not a JSON object"),
        ([{k: v for k, v in QUESTIONS[0].items() if k != "choices"}], "{source}:1: missing field(s) choices"),
        ([QUESTIONS[1], {**QUESTIONS[0], "answer": ["7"]}],
         "{source}:2: answer '7' is not an index into the 4 choices"),
        ([{**QUESTIONS[0], "question_date": "next Friday"}],
         "{source}:1: question_date 'next Friday' is not a date (YYYY/MM/DD or YYYY-MM-DD)"),
        ([QUESTIONS[4]], "{folder} holds no answered questions"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, rows, message):
    folder = tmp_path / "weeks"
    folder.mkdir()
    source = folder / "20300104_qa.jsonl"
    if isinstance(rows, str):
        source.write_text(rows)
    else:
        write_lines(source, rows)
    out = tmp_path / "out"
    assert main(["dated", str(folder), str(out)]) == 1
    captured = capsys.readouterr()
    assert captured.err == f"error: {message.format(source=source, folder=folder)}\n" and captured.out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["weeks"], "nothing written"


def test_missing_source_and_foreign_output_folder(tmp_path, capsys):
    assert main(["dated", str(tmp_path / "none"), str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err == f"error: cannot read {tmp_path / 'none'}: no such file or folder\n"
    out = tmp_path / "notes"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    assert main(["dated", str(write_weeks(tmp_path / "weeks")), str(out)]) == 1
    assert capsys.readouterr().err == (
        f"error: {out} exists and is not an earlier conversion (corpus/ and questions.jsonl only); "
        "choose a new or empty folder\n"
    )
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
