"""The general reader (`ASSISTANT_READER=general`) on invented local news: each case is a way a
reader of patterns went wrong. (Two such cases it still gets wrong are listed in docs/reader.md.)

The answer is the candidate the question's structure points at (the category, the role, the event's
year), read from parses stored at ingest; a year elsewhere in the sentence is no conflict; the date
a plan is announced is not the date it happens; and a current value comes from the newest report.
"""

import datetime as dt

import pytest

from assistant.answering.features import FEATURES
from assistant.config import Settings
from assistant.library.parsing import PARSES_KEY
from assistant.pipeline import Assistant

REPORTS = {
    "river-run-2024.txt": (
        "2024-04-15",
        "River run draws a record field",
        "The men's title went to Dario Kessel in 2:19:30, while the women's race was won by Mara Lindqvist "
        "in 2:36:12. Race director Priya Oduya said 2,340 runners started.",
    ),
    "cup-final.txt": (
        "2022-05-30",
        "Northport lift the cup",
        "Northport won the 2022 county cup final, their first title since 1986, beating Eastfield 2-1 at "
        "the Marsh Road ground.",
    ),
    "league-president.txt": (
        "2025-03-10",
        "League names a new president",
        "On Monday, the Valley Football League named Jane Doe as its new president. She replaces Colin "
        "Reyes, who retired after nine years.",
    ),
    "book-prize.txt": (
        "2023-10-05",
        "Book prize goes to a first novel",
        "The jury awarded the Halden Book Prize to Tomas Brenner for his first novel, The Salt Road. "
        "The prize is worth $12,000.",
    ),
    "game-launch.txt": (
        "2022-11-14",
        "Harbor Quest gets a date",
        "Brightwell Games confirmed on Monday that Harbor Quest 3 launches on March 3, 2023, for the Orbit "
        "console.",
    ),
    "fares-2023.txt": (
        "2023-01-09",
        "Bus pass goes up",
        "A monthly bus pass in Kellhaven now costs $85, up from $72, the transit board said.",
    ),
    "fares-2025.txt": (
        "2025-01-13",
        "Bus pass goes up again",
        "A monthly bus pass in Kellhaven now costs $98, the transit board said, blaming fuel costs.",
    ),
}


@pytest.fixture(scope="module")
def news(tmp_path_factory, embedder) -> Assistant:
    root = tmp_path_factory.mktemp("reader")
    articles = root / "articles"
    articles.mkdir()
    for name, (published, title, text) in REPORTS.items():
        (articles / name).write_text(f"---\ntitle: {title}\npublished: {published}\n---\n{text}\n")
    assistant = Assistant(Settings(index_dir=root / "index", reader="general"), embedder)
    assert len(assistant.library.ingest([articles]).added) == len(REPORTS)
    return assistant


@pytest.mark.parametrize(
    ("question", "answer", "not_answer"),
    [
        ("Who won the women's race?", "Mara Lindqvist", "Dario Kessel"),
        ("Who won the 2022 county cup final?", "Northport", "Eastfield"),
        ("Who is the president of the Valley Football League?", "Jane Doe", "Colin Reyes"),
        ("Who won the Halden Book Prize?", "Tomas Brenner", "The Salt Road"),
        ("When does Harbor Quest 3 launch?", "March 3, 2023", "Monday"),
        ("How much does a monthly bus pass cost in Kellhaven?", "$98", "$85"),
    ],
)
def test_the_candidate_chosen_is_the_one_the_question_points_at(news, question, answer, not_answer):
    _, reading = news.read(question, as_of=dt.date(2025, 6, 1))
    assert answer in reading.answer, reading.answer
    assert not_answer not in reading.answer


def test_a_year_elsewhere_in_the_sentence_is_no_conflict(news):
    passages, reading = news.read("Who won the 2022 county cup final?")
    best = reading.candidates[int(reading.scores.argmax())]
    assert best.text == "Northport"
    assert best.features[FEATURES.index("year_conflict")] == 0.0


def test_passages_carry_their_parses_from_ingest(news):
    passages = news.search("Who won the Halden Book Prize?")
    assert all(p.node.metadata.get(PARSES_KEY) for p in passages)


def test_an_article_written_after_the_day_asked_is_not_read(news):
    passages = news.search("How much does a monthly bus pass cost in Kellhaven?", as_of=dt.date(2024, 6, 1))
    assert passages and all(p.node.metadata.get("published", "") <= "2024-06-01" for p in passages)
    reply = news.ask("How much does a monthly bus pass cost in Kellhaven?", as_of=dt.date(2024, 6, 1))
    assert "$98" not in reply.answer


def test_a_question_the_reports_do_not_answer_is_refused(news):
    assert news.ask("Who won the women's race in 2019?").refused
    assert news.ask("What is the recipe for a chocolate cake?").refused
