"""Questions have a date: "this week" is read against the day a question is asked (`asked_on` in a
question set, `--as-of` on the command line, `as_of` in the API, the chat's "As of" box), and a
refusal for a period no article is from says so and names the newest article's date."""

import datetime as dt
import json

import pytest
from starlette.testclient import TestClient

from assistant.answering.timeline import Period
from assistant.cli import main
from assistant.pipeline import Assistant, as_of_date, empty_period_text

QUESTION = "What happened this week?"
# invented articles, both published in the seven days up to Friday 6 March 2026
ARTICLES = {
    "reading-room.md": (
        "---\ntitle: Alderbrook library opens a reading room\nsource: Valley Courier\n"
        "published: 2026-03-03\n---\n"
        "Much happened this week in Alderbrook: the riverside library opened a reading room for "
        "children, with two hundred new picture books and a corner for quiet study.\n\n"
        "The room is open every afternoon and on Saturday mornings."
    ),
    "footbridge.md": (
        "---\ntitle: Footbridge over the Wend reopens\nsource: Valley Courier\n"
        "published: 2026-03-05\n---\n"
        "The footbridge over the river Wend reopened on Thursday after a month of repairs to its "
        "railings.\n\nCyclists are asked to walk across it at busy times."
    ),
}
IN_THE_WEEK = "2026-03-06"  # a Friday of that week
LATER = "2026-06-10"  # a Wednesday three months on, in a week no article is from
REFUSAL_THRESHOLD = 0.55
NO_ARTICLES_LATER = "No articles from this week (4 Jun - 10 Jun 2026); the newest is from 5 Mar 2026."


@pytest.fixture
def dated_index(embedded_settings, embedder, tmp_path, monkeypatch):
    folder = tmp_path / "articles"
    folder.mkdir()
    for name, text in ARTICLES.items():
        (folder / name).write_text(text)
    # the threshold these tests were written against, for the commands they run too
    monkeypatch.setenv("ASSISTANT_REFUSAL_THRESHOLD", str(REFUSAL_THRESHOLD))
    assistant = Assistant(embedded_settings.replace(refusal_threshold=REFUSAL_THRESHOLD), embedder)
    assert sorted(assistant.library.ingest([folder]).added) == sorted(ARTICLES)
    yield assistant
    assistant.close()


def test_this_week_is_read_against_the_day_asked(dated_index):
    answered = dated_index.ask(QUESTION, as_of=dt.date.fromisoformat(IN_THE_WEEK))
    assert not answered.refused and "reading room" in answered.answer
    assert (answered.time["since"], answered.time["until"]) == ("2026-02-28", "2026-03-06")
    refused = dated_index.ask(QUESTION, as_of=dt.date.fromisoformat(LATER))
    assert refused.refused and refused.answer == NO_ARTICLES_LATER
    assert (refused.time["since"], refused.time["until"]) == ("2026-06-04", "2026-06-10")


def test_the_library_tells_the_newest_date_within_a_period(dated_index):
    library = dated_index.library
    assert library.newest_published() == "2026-03-05"
    assert library.newest_published("2026-03-01", "2026-03-04") == "2026-03-03"
    assert library.newest_published("2026-03-06", "2026-06-30") == ""


def test_the_period_and_the_newest_date_are_written_for_people():
    week = Period("this week", dt.date(2026, 11, 30), dt.date(2026, 12, 6), dt.date(2026, 12, 6))
    assert empty_period_text(week, "2022-11-11") == (
        "No articles from this week (30 Nov - 6 Dec 2026); the newest is from 11 Nov 2022."
    )
    turn_of_year = Period("last week", dt.date(2025, 12, 29), dt.date(2026, 1, 4), dt.date(2026, 1, 11))
    assert empty_period_text(turn_of_year, "") == (
        "No articles from last week (29 Dec 2025 - 4 Jan 2026); none of the articles has a published date."
    )
    yesterday = Period("yesterday", dt.date(2026, 5, 1), dt.date(2026, 5, 1), dt.date(2026, 5, 2))
    assert empty_period_text(yesterday, "2026-04-30").startswith("No articles from yesterday (1 May 2026);")


def test_an_as_of_date_is_read_or_refused_in_one_line():
    assert as_of_date("") is None and as_of_date(None) is None
    assert as_of_date(" 2026-03-06 ") == dt.date(2026, 3, 6)
    for bad in ("2026-13-01", "6 March 2026", "yesterday", "2026-3-6"):
        with pytest.raises(Exception, match=rf"^as-of date '{bad}' is not a date; use YYYY-MM-DD$"):
            as_of_date(bad)
    with pytest.raises(Exception, match="^as-of date '0001-01-01' is not between 1800-01-01 and 2199-12-31$"):
        as_of_date("0001-01-01")


def test_eval_asks_each_question_on_its_asked_on_day(dated_index, tmp_path, capsys):
    question_set = tmp_path / "dated.jsonl"
    lines = [
        {"id": "in-week", "question": QUESTION, "asked_on": IN_THE_WEEK, "answers": ["reading room"]},
        {"id": "later", "question": QUESTION, "asked_on": LATER, "answerable": False},
        {"id": "set-default", "question": QUESTION},
        {"id": "bad", "question": QUESTION, "asked_on": "2026-02-30"},
    ]
    question_set.write_text("".join(json.dumps(line) + "\n" for line in lines))
    out = tmp_path / "run"
    index = str(dated_index.settings.index_dir)
    code = main(
        ["--index-dir", index, "eval", str(question_set), "--as-of", LATER, "--out", str(out), "--json"]
    )
    assert code == 1  # the bad line is skipped and reported; the others are scored
    assert f"skipped: {question_set}:4: asked_on '2026-02-30' is not a date; use YYYY-MM-DD" in (
        capsys.readouterr().err
    )
    rows = {row["id"]: row for row in map(json.loads, (out / "results.jsonl").read_text().splitlines())}
    assert set(rows) == {"in-week", "later", "set-default"}
    assert rows["in-week"]["asked_on"] == IN_THE_WEEK and not rows["in-week"]["refused"]
    assert "reading room" in rows["in-week"]["answer"]
    for refused in ("later", "set-default"):  # the set's --as-of is the day of a line without asked_on
        assert rows[refused]["asked_on"] == LATER
        assert rows[refused]["refused"] and rows[refused]["answer"] == NO_ARTICLES_LATER


@pytest.mark.parametrize("command", ["ask", "eval"])
def test_a_bad_as_of_is_one_line_on_the_command_line(dated_index, tmp_path, capsys, command):
    question_set = tmp_path / "one.jsonl"
    question_set.write_text(json.dumps({"question": QUESTION}) + "\n")
    argument = QUESTION if command == "ask" else str(question_set)
    index = str(dated_index.settings.index_dir)
    assert main(["--index-dir", index, command, argument, "--as-of", "2026-13-01"]) == 2
    assert capsys.readouterr().err == "error: as-of date '2026-13-01' is not a date; use YYYY-MM-DD\n"


def test_ask_as_of_on_the_command_line(dated_index, capsys):
    index = str(dated_index.settings.index_dir)
    assert main(["--index-dir", index, "ask", QUESTION, "--as-of", LATER, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["refused"] and answer["answer"] == NO_ARTICLES_LATER


def test_the_api_takes_as_of_and_answers_a_bad_one_with_400(dated_index):
    from assistant.web.api import create_app

    with TestClient(create_app(dated_index, with_ui=False), base_url="http://127.0.0.1") as client:
        body = client.post("/api/ask", json={"question": QUESTION, "as_of": IN_THE_WEEK}).json()
        assert not body["refused"] and body["time"]["since"] == "2026-02-28"
        later = client.post("/api/ask", json={"question": QUESTION, "as_of": LATER}).json()
        assert later["refused"] and later["answer"] == NO_ARTICLES_LATER
        for path in ("/api/ask", "/api/ask/stream"):
            bad = client.post(path, json={"question": QUESTION, "as_of": "06/03/2026"})
            assert bad.status_code == 400
            assert bad.json() == {"error": "as-of date '06/03/2026' is not a date; use YYYY-MM-DD"}


def test_the_chat_sends_its_as_of_box_with_each_question(embedded_settings, embedder):
    from assistant.records.conversations import Conversations
    from assistant.records.database import Database, database_url
    from assistant.records.feedback import FeedbackLog
    from assistant.web.guard import Guard
    from assistant.web.history import ChatHistory
    from assistant.web.ui import build_chat

    assistant = Assistant(embedded_settings, embedder)
    database = Database(database_url(embedded_settings))
    history = ChatHistory(Conversations(database))
    demo = build_chat(assistant, FeedbackLog(database), history, Guard(embedded_settings), compact=False)
    [respond] = [fn for fn in demo.fns.values() if fn.name == "respond"]
    [box] = [c for c in respond.inputs if getattr(c, "label", None) == "As of (YYYY-MM-DD)"]
    assert box.visible and not box.value and box.placeholder == "today"  # empty: today
