"""The question analysis and the one date reader: answer type, focus, qualifiers, role, years and
the period a relative time phrase names, resolved against the day the question is asked."""

import datetime as dt

import pytest

from assistant.answering.question import analyse_question
from assistant.answering.timeline import asked_period, published_day, years_in
from assistant.library.parsing import Parser, chunk_sentences

ASKED = dt.date(2026, 12, 6)


@pytest.fixture(scope="module")
def parser() -> Parser:
    return Parser()


def analysed(parser: Parser, text: str, asked_on: dt.date = ASKED):
    return analyse_question(text, parser.parse([text])[0], asked_on)


def test_a_year_followed_by_a_comma_is_read():
    assert years_in("In 2019, who won the cup?", ASKED) == [2019]


@pytest.mark.parametrize(
    "text", ["It cost $2019 in all.", "A crowd of 2,019 came.", "Version 2019.1 is out."]
)
def test_a_price_a_count_or_a_version_is_no_year(text: str):
    assert years_in(text, ASKED) == []


def test_a_number_far_ahead_of_the_day_asked_is_a_name_not_a_year():
    assert years_in("The Skyline 2077 console sold out in 2021.", ASKED) == [2021]


def test_this_week_is_the_seven_days_up_to_the_day_asked():
    period = asked_period("What did the council decide this week?", ASKED)
    assert period is not None
    assert (period.since, period.until) == (dt.date(2026, 11, 30), ASKED)
    assert period.describe() == "this week (30 Nov - 6 Dec 2026)"


def test_relative_time_follows_the_day_asked_not_today():
    period = asked_period("Who resigned last month?", dt.date(2022, 3, 15))
    assert period is not None
    assert (period.since, period.until) == (dt.date(2022, 2, 1), dt.date(2022, 2, 28))


def test_recently_reaches_back_thirty_days():
    period = asked_period("Which bridge reopened recently?", ASKED)
    assert period is not None and period.since == dt.date(2026, 11, 6)


def test_a_question_without_relative_time_has_no_period():
    assert asked_period("Who won the junior race in 2024?", ASKED) is None


@pytest.mark.parametrize("value, day", [("2024-05-02", dt.date(2024, 5, 2)), ("", None), ("soon", None)])
def test_published_day(value: str, day):
    assert published_day(value) == day


@pytest.mark.parametrize(
    "question, answer_type",
    [
        ("Who won the junior race in 2024?", "person"),
        ("When does the new ferry service start?", "date"),
        ("Where will the summit be held?", "place"),
        ("How many runners finished the race?", "number"),
        ("How much does a monthly pass cost?", "money"),
        ("Which three northern towns objected to the plan?", "place"),
        ("Which company bought the mill?", "organisation"),
        ("What film won the jury prize?", "thing"),
        ("What do students pay for a month of travel?", "money"),
        ("Why did the council close the library on Sundays?", "any"),
        ("Who is Jane Roe?", "any"),
        ("What kind of signals could the delay send?", "any"),
    ],
)
def test_answer_type(parser: Parser, question: str, answer_type: str):
    assert analysed(parser, question).answer_type == answer_type


def test_focus_qualifiers_and_role(parser: Parser):
    question = analysed(parser, "Who won the junior race in 2024?")
    assert question.focus == "race"
    assert question.qualifiers["race"] == {"junior"}
    assert question.role == "subject"
    assert question.years == (2024,)
    assert not question.current


def test_a_role_noun_is_the_focus(parser: Parser):
    question = analysed(parser, "Who is the race director?")
    assert question.answer_type == "person" and question.focus == "director"


def test_a_present_tense_question_without_time_asks_for_the_current_value(parser: Parser):
    assert analysed(parser, "How much does a monthly pass cost?").current
    assert not analysed(parser, "How much did a monthly pass cost in 2023?").current


def test_named_things_leave_dates_and_numbers_out(parser: Parser):
    question = analysed(parser, "Did the Harbour Trust meet in Port Vell on 3 May 2024?")
    assert any("Harbour Trust" in name for name in question.names)
    assert not any("2024" in name for name in question.names)


def test_chunk_sentences_leave_headings_out_and_split_snippets():
    text = "Ferry Fares Rise\nJan 5, 2024 ... The mayor approved the rise ... Riders objected to the plan."
    spans = [text[s:e] for s, e in chunk_sentences(text, title="Ferry Fares Rise")]
    assert "Ferry Fares Rise" not in spans
    assert spans[-2:] == ["The mayor approved the rise", "Riders objected to the plan."]


def test_stored_parses_read_back_as_the_same_sentences(parser: Parser):
    text = "The junior title went to Ana Roe. The senior race was won by Lee Park in 2:31."
    [encoded] = parser.annotate([(text, "", "")])
    stored = parser.stored(encoded)
    assert set(stored) == {
        "The junior title went to Ana Roe.",
        "The senior race was won by Lee Park in 2:31.",
    }
    doc = stored["The senior race was won by Lee Park in 2:31."]
    assert [e.text for e in doc.ents if e.label_ == "PERSON"] == ["Lee Park"]
    assert any(t.dep_ == "agent" for t in doc)
