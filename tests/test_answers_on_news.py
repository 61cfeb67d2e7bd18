"""Answers on many short, overlapping news reports: the year, quarter, season and names a question
states are honoured, answers are of the asked kind, echoes of the question are never the answer, and
a question the reports do not answer is refused, with the closest passage and why it does not answer.
"""

import datetime as dt
import json

import pytest

from assistant.cli import main
from assistant.pipeline import Assistant

REPORTS = {
    "harlow-cup-2018.txt": (
        "2018-07-14",
        "Okafor takes the title",
        "Lena Okafor beat Petra Holm 6-3, 6-3 to win the women's singles title at the Harlow Cup. "
        "The left-hander lost only one set in the whole tournament.",
    ),
    "harlow-cup-2019.txt": (
        "2019-07-13",
        "Tanaka takes the title",
        "Mira Tanaka beat Petra Holm 6-2, 6-2 to win the women's singles title at the Harlow Cup. "
        "The 24-year-old needed less than an hour on the main court.",
    ),
    "harlow-cup-preview.txt": (
        "2019-06-28",
        "Who will win at the Harlow Cup?",
        "Who will win the women's singles title at the Harlow Cup in 2019? Petra Holm is the favourite "
        "of the bookmakers this year.",
    ),
    "varga-prize-2021.txt": (
        "2021-10-07",
        "Literature prize announced",
        "The Aldmoor Academy awarded the 2021 Varga Prize in Literature to the novelist Tomas "
        "Brenner. He was born in Port Ellery and lives in Carrow.",
    ),
    "lakeshore-bowl-faq.txt": (
        "2021-08-09",
        "Lakeshore Bowl questions",
        "What is the location and date for the Lakeshore Bowl in 2022? Fans have been asking for months.",
    ),
    "lakeshore-bowl-2022.txt": (
        "2022-02-14",
        "Herons win at home",
        "Lakeshore Bowl XII was played on February 13, 2022, at Kestrel Park in Millbrook, Calder. "
        "The Millbrook Herons beat the Eastport Gulls 23-20.",
    ),
    "corvane-q2.txt": (
        "2019-07-24",
        "Corvane second quarter",
        "Corvane reported revenue of $6.35 billion in the second quarter of 2019.",
    ),
    "corvane-q3.txt": (
        "2019-10-23",
        "Corvane third quarter",
        "Corvane reported revenue of $6.3 billion in the third quarter of 2019, and a surprise profit.",
    ),
    "lantern-house-s3.txt": (
        "2019-08-10",
        "The Lantern House returns",
        "Season 3 of The Lantern House premiered on Brightwave on November 17, 2019, with Hana Lind as "
        "the matriarch.",
    ),
    "lantern-house-s4.txt": (
        "2020-09-01",
        "The Lantern House season 4",
        "Season 4 of The Lantern House premieres on Brightwave on November 15, 2020, and introduces Clara.",
    ),
    "harbor-quest-preview.txt": (
        "2017-04-13",
        "Harbor Quest 2 dated",
        "Harbor Quest 2 release date slated for July, the studio told fans at its spring showcase.",
    ),
    "harbor-quest-review.txt": (
        "2017-08-02",
        "Harbor Quest 2 review",
        "Harbor Quest 2 is a puzzle game for the Orbit console. It was released on July 21, 2017, to warm "
        "reviews from players and critics.",
    ),
    "harbor-quest-series.txt": (
        "2022-04-26",
        "The Harbor Quest series",
        "Harbor Quest 1 on the Orbit Mini released in 2015 is still played online, and Harbor Quest 2 has "
        "its own crowd.",
    ),
}


@pytest.fixture(scope="module")
def news(tmp_path_factory, embedder) -> Assistant:
    root = tmp_path_factory.mktemp("news")
    articles = root / "articles"
    articles.mkdir()
    for name, (published, title, text) in REPORTS.items():
        (articles / name).write_text(f"---\ntitle: {title}\npublished: {published}\n---\n{text}\n")
    from assistant.config import Settings

    assistant = Assistant(Settings(index_dir=root / "index"), embedder)
    assert len(assistant.library.ingest([articles]).added) == len(REPORTS)
    return assistant


@pytest.mark.parametrize(
    ("question", "fact", "wrong"),
    [
        ("Who won the women's singles Harlow Cup in 2019?", "Mira Tanaka", "Okafor"),
        ("Who won the women's singles Harlow Cup in 2018?", "Lena Okafor", "Tanaka"),
        ("What was Corvane's revenue in Q3 2019?", "$6.3 billion", "$6.35 billion"),
        ("When does season 4 of The Lantern House premiere?", "November 15, 2020", "November 17"),
        ("When did season 3 of The Lantern House premiere?", "November 17, 2019", "November 15"),
        ("Who was awarded the 2021 Varga Prize in Literature?", "Tomas Brenner", "Okafor"),
    ],
)
def test_the_answer_honours_the_year_quarter_and_season_asked(news, question, fact, wrong):
    answer = news.ask(question)
    assert not answer.refused
    assert fact in answer.answer and wrong not in answer.answer
    assert answer.status == "answered"
    assert any(fact in c.quote for c in answer.citations)


def test_a_question_shaped_snippet_is_never_the_answer(news):
    answer = news.ask("What is the location and date for the Lakeshore Bowl in 2022?")
    assert "Kestrel Park" in answer.answer or "February 13, 2022" in answer.answer
    assert "What is the location" not in answer.answer
    preview = news.ask("Who will win the women's singles title at the Harlow Cup in 2019?")
    assert "Who will win" not in preview.answer


def test_a_year_no_report_covers_is_refused_with_the_closest_passage(news):
    answer = news.ask("Who won the 2022 Varga Prize in Literature?")
    assert answer.refused and answer.status == "closest"
    assert answer.closest["mismatch"] == "about 2021, not 2022"
    assert "Brenner" in answer.closest["citation"].quote
    assert answer.citations == []
    body = answer.to_json()
    assert body["status"] == "closest" and body["closest"]["mismatch"] == "about 2021, not 2022"
    assert body["constraints"] == ["2022", "Varga Prize in Literature"]
    later = news.ask("Who won the women's singles Harlow Cup in 2024?")
    assert later.refused and "not 2024" in later.closest["mismatch"]


def test_a_release_date_is_quoted_where_it_is_stated_in_full_and_for_the_asked_title(news):
    answer = news.ask("When was Harbor Quest 2 released?")
    assert not answer.refused
    assert "July 21, 2017" in answer.citations[0].quote, "the full date first, not 'slated for July'"
    assert "2015" not in answer.answer, "that is Harbor Quest 1"


def test_the_asked_relation_must_be_there(news):
    assert news.ask("What is Mira Tanaka's favorite food?").refused
    assert news.ask("How many children does Tomas Brenner have?").refused


def test_relative_time_is_resolved_and_shown(news):
    answer = news.ask("Who won the women's singles Harlow Cup this year?")
    today = dt.date.today()
    assert answer.time == {  # asked today: this year so far
        "phrase": "this year",
        "since": f"{today.year}-01-01",
        "until": today.isoformat(),
        "basis": f"asked on {today.isoformat()}",
    }
    assert answer.refused, "no report is from this year"


def test_cli_json_and_text_show_the_closest_passage(news, capsys):
    index = str(news.settings.index_dir)
    assert main(["--index-dir", index, "ask", "--json", "Who won the 2022 Varga Prize in Literature?"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["status"] == "closest" and body["refused"] is True
    assert main(["--index-dir", index, "ask", "Who won the 2022 Varga Prize in Literature?"]) == 0
    out = capsys.readouterr().out
    assert "I could not find the answer to that in the articles." in out
    assert "Closest passage, not an answer (about 2021, not 2022):" in out
