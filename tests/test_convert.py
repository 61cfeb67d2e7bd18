"""The RGB converter, on small hand-written files of RGB's shape (the real data is CC BY-NC-SA and is
never kept in the repository): the files it writes, ingesting and scoring them, and bad input."""

import json
import subprocess
import sys

import pytest

from assistant.config import Settings
from assistant.evaluation.convert import main, negative_passages, passage_name
from assistant.evaluation.datasets import load_question_set
from assistant.evaluation.runner import RunConfig, run_question_set
from assistant.library.corpus import FoundFile, read_article
from assistant.pipeline import Assistant

SHARED_NEGATIVE = "Official Lakeshore Bowl XIV ticket packages are now available for the game in Northgate."
RGB_ROWS = [
    {
        "id": 0,
        "query": "Lakeshore Bowl 2021 location",
        "answer": "Eastport, Calder",
        "fakeanswer": "Westbrook, Arden",
        "positive_wrong": ["Lakeshore Bowl XI was played at Kestrel Park in Westbrook, Arden."],
        "positive": [
            "The game was played on February 7, 2021, at Kestrel Park in Eastport, Calder, the "
            "home ground of the Eastport Gulls.",
            "Feb 7, 2021 ... Lakeshore Bowl 2021 will take place at Kestrel Park in Eastport, Calder.",
        ],
        "negative": [SHARED_NEGATIVE, "The Redwater Foxes won Lakeshore Bowl X in Southport in 2020."],
    },
    {
        "id": 1,
        "query": "When was the film Saltmarsh released?",
        "answer": [["July 21 2017", "Jul 21, 2017", "21 July 2017"]],
        "fakeanswer": "June 2 2016",
        "positive_wrong": ["Saltmarsh was released in the United Kingdom on 2 June 2016."],
        "positive": [
            "Saltmarsh, directed by Ilse Varga, was released in the United Kingdom on 21 July 2017."
        ],
        "negative": [
            SHARED_NEGATIVE,
            "  Saltmarsh is a village in northern Norland, near the Veran border.  ",
        ],
    },
]
PASSAGES = {p.strip() for row in RGB_ROWS for p in row["positive"] + row["negative"]}


def write_rgb(path, rows=RGB_ROWS):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_rgb_file_becomes_a_corpus_and_a_question_set(tmp_path):
    source = write_rgb(tmp_path / "en_fact.json")
    out = tmp_path / "rgb"
    run = [sys.executable, "-m", "assistant.evaluation.convert", "rgb", str(source), str(out)]
    result = subprocess.run(run, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    wrote = f"wrote 2 questions to {out / 'questions.jsonl'} and 6 passages to {out / 'corpus'}/"
    assert wrote in result.stdout and len(PASSAGES) == 6, "the shared negative is written once"
    rows = [json.loads(line) for line in (out / "questions.jsonl").read_text().splitlines()]
    assert rows == [
        {"id": "rgb-0", "question": "Lakeshore Bowl 2021 location", "answers": ["Eastport, Calder"]},
        {"id": "rgb-1", "question": "When was the film Saltmarsh released?",
         "answers": ["July 21 2017", "Jul 21, 2017", "21 July 2017"]},
    ]  # fmt: skip
    cases, problems = load_question_set(out / "questions.jsonl")
    assert problems == [] and [c.gold_passages for c in cases] == [[], []]
    other_years = [json.loads(line) for line in (out / "other-years.jsonl").read_text().splitlines()]
    assert other_years == [
        {"id": "rgb-0-2022", "question": "Lakeshore Bowl 2022 location", "answerable": False}
    ], "the year after the latest any passage mentions (2021), for the one question naming a year"

    negatives = sorted(f.name for f in (out / "negatives").iterdir())
    assert negatives == sorted(
        {passage_name(p.strip()) for p in RGB_ROWS[0]["negative"] + RGB_ROWS[1]["negative"]}
    ), "the negatives, the shared one once"
    rejection = [json.loads(line) for line in (out / "negative-rejection.jsonl").read_text().splitlines()]
    assert [(r["id"], r["answerable"]) for r in rejection] == [("rgb-0-neg", False), ("rgb-1-neg", False)]

    files = sorted((out / "corpus").iterdir())
    assert [f.name for f in files] == sorted(passage_name(p) for p in PASSAGES)  # the shared one once
    articles = [read_article(FoundFile(f, out / "corpus")) for f in files]
    assert {a.text for a in articles} == PASSAGES, "each passage is the whole article text, verbatim"
    for article in articles:
        assert article.title == " ".join(article.text.split()[:8]) and article.title != article.text
    assert not any("Westbrook" in a.text or "2016" in a.text for a in articles), "positive_wrong is left out"

    before = {f.name: f.read_bytes() for f in files}
    assert main(["rgb", str(source), str(out)]) == 0
    assert {f.name: f.read_bytes() for f in (out / "corpus").iterdir()} == before, "a rerun is stable"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["en_fact.json", "rgb"], "no staging left over"


def test_negative_rejection_corpus_holds_no_positive_and_no_answer():
    rows = [
        {"positive": ["Tanaka won the Harlow Cup in 2019."], "answer": ["Mira Tanaka"]},
        {"positive": ["Okafor won in 2018."], "answer": ["Lena Okafor"]},
    ]
    texts = [
        "Tanaka won the Harlow Cup in 2019.",
        "Okafor won in 2018.",
        "A profile of MIRA TANAKA, the left-hander.",  # holds an answer, in other case
        "The Harlow Cup starts on Monday.",
    ]
    passages = {passage_name(t): t for t in texts}
    assert negative_passages(rows, passages) == [passage_name("The Harlow Cup starts on Monday.")]


def test_converted_set_ingests_and_scores_with_answers_as_gold(tmp_path, embedder):
    out = tmp_path / "rgb"
    assert main(["rgb", str(write_rgb(tmp_path / "en_fact.json")), str(out)]) == 0
    assistant = Assistant(Settings(index_dir=tmp_path / "index"), embedder)
    report = assistant.library.ingest([out / "corpus"])
    assert len(report.added) == len(PASSAGES) and report.failed == [] and report.duplicates == []
    _, texts, _ = assistant.store.all_chunks()
    assert sorted(texts) == sorted(PASSAGES), "one chunk per passage, its text verbatim"
    cases, _ = load_question_set(out / "questions.jsonl")
    summary, rows = run_question_set(
        assistant, cases, [RunConfig("hybrid", "extractive", 3)], set_name="questions.jsonl"
    )
    [run] = summary["runs"]
    assert run["metrics"]["hit@k"] == 1.0 and run["metrics"]["recall@k"] == 1.0
    assert 0.0 < run["metrics"]["ndcg@10"] <= 1.0


def without(field):
    return [RGB_ROWS[0], {k: v for k, v in RGB_ROWS[1].items() if k != field}]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read {source}: No such file or directory"),
        (
            json.dumps(RGB_ROWS, indent=1),
            "{source}:1: not a JSON line (Expecting value); RGB files hold one JSON object per line",
        ),
        ("\n".join(json.dumps(r) for r in RGB_ROWS) + "\n[1, 2]\n", "{source}:3: not a JSON object"),
        (without("positive"), "{source}:2: missing field(s) positive"),
        (without("query"), "{source}:2: missing field(s) query"),
        (
            [RGB_ROWS[0], {**RGB_ROWS[1], "answer": 17}],
            "{source}:2: answer must be a string or a list of lists of strings",
        ),
        (
            [RGB_ROWS[0], {**RGB_ROWS[1], "negative": "one passage"}],
            "{source}:2: negative must be a list of strings",
        ),
        ("\n\n", "{source} holds no questions"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, content, message):
    source = tmp_path / "en_fact.json"
    if isinstance(content, list):
        write_rgb(source, content)
    elif content is not None:
        source.write_text(content)
    out = tmp_path / "out"
    assert main(["rgb", str(source), str(out)]) == 1
    captured = capsys.readouterr()
    assert captured.err == f"error: {message.format(source=source)}\n" and captured.out == ""
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ([] if content is None else ["en_fact.json"])


def test_a_folder_that_is_not_a_conversion_is_left_alone(tmp_path, capsys):
    out = tmp_path / "notes"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    assert main(["rgb", str(write_rgb(tmp_path / "en_fact.json")), str(out)]) == 1
    assert capsys.readouterr().err == (
        f"error: {out} exists and is not an earlier conversion (corpus/ and questions.jsonl only); "
        "choose a new or empty folder\n"
    )
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
