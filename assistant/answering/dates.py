"""How news writes dates and editions: month names, years, quarters ("Q3 2019", "third quarter"),
seasons and editions ("Season 17", "90th"), full dates, and the dateline a search snippet opens with
("Jul 14, 2018 ..."). Patterns and small readers shared by the question constraints, the named-thing
reader and the candidate answers.
"""

from __future__ import annotations

import datetime as dt
import re

from assistant.library.parsing import DATELINE, MONTH  # noqa: F401 (the package's one dateline and month)

MONTH_NAMES = "january february march april may june july august september october november december".split()

YEAR = re.compile(r"(?<![\d$.,])((?:19|20)\d\d)(?![\d,]|\.\d)")  # not in "$2019" or "2,019"

YEAR_WORD = re.compile(r"\b(?:19|20)\d\d\b")  # any year-looking word, as in "Dec 2020" or "2020-21"

FUTURE_YEARS = 5  # a "year" further ahead than this is a name's number ("Cyberpunk 2077"), not a time


def in_reach(year: str | int, today: dt.date | None = None) -> bool:
    """Can this year-looking number be a time, not a title's number: at most FUTURE_YEARS ahead?"""
    return int(year) <= (today or dt.date.today()).year + FUTURE_YEARS


QUARTER = re.compile(
    r"\b(?:q([1-4])|([1-4])q|(first|second|third|fourth|1st|2nd|3rd|4th) quarter)\b", re.IGNORECASE
)

QUARTER_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4}

EDITION_WORDS = (
    "season series episode edition volume part chapter round stage leg week game book phase gen "
    "generation".split()
)

EDITION = re.compile(rf"\b({'|'.join(EDITION_WORDS)})\s+(\d{{1,3}}|[ivx]{{1,5}})\b", re.IGNORECASE)

ORDINAL_EDITION = re.compile(
    rf"\b(\d{{1,3}})(?:st|nd|rd|th)\s+({'|'.join(EDITION_WORDS)}|[A-Z][a-z]+)", re.IGNORECASE
)

ORDINAL_WORDS = (
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
    "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth".split()
)

# "the first season", "the tenth and final season"
ORDINAL_WORD_EDITION = re.compile(
    rf"\b({'|'.join(ORDINAL_WORDS)})\s+(?:and (?:final|last)\s+)?({'|'.join(EDITION_WORDS)})\b", re.IGNORECASE
)


# A date given as a plan ("slated for July", "will arrive on December 6th", "set to launch in May"),
# which answers when something is to happen but not when it happened ...
PLANNED = re.compile(
    r"\b(?:will|won['’]t|shall|slated|scheduled|set to|due (?:to|out|for|in|on)|planned|planning|"
    r"plans? to|aims? to|expected|expects?|tipped|target(?:s|ed|ing)?)\b|['’]ll\b",
    re.IGNORECASE,
)
# ... and a date given as a guess ("most likely in late fall 2020", "might be a 2022 game"), which
# answers neither
GUESSED = re.compile(
    r"\b(?:likely|probably|possibly|perhaps|maybe|could|might|may (?:be|have|come|arrive|launch|"
    r"release|debut|premiere|land)|rumou?r\w*|speculat\w*|predict\w*|guess\w*|hop(?:e|es|ing) (?:to|for))\b",
    re.IGNORECASE,
)
# ... and a date of a plan given up ("the original release date was April 16"), which answers nothing
SUPERSEDED = re.compile(
    r"\b(?:original|initial|first|earlier|previous|old)\s+(?:planned\s+|scheduled\s+|target\s+)?"
    r"(?:release|launch|premiere|air|opening)?\s*date\b|\b(?:originally|initially|previously|first)\s+"
    r"(?:planned|scheduled|slated|set|due|expected|targeted|intended)\b|\bwas supposed to\b|"
    r"\b(?:delayed|postponed|pushed back|moved) from\b",
    re.IGNORECASE,
)
# ... and a date an announcement is dated by ("unveils the game's release date in 2019", "announced
# during an E3 2019 trailer"), which says when it was announced, not when it happens
ANNOUNCED_AT = re.compile(
    r"\b(?:announc|unveil|reveal|confirm)\w*\s+(?:[\w'’]+\s+){0,4}?(?:on|in|at|during)\s+"
    r"(?:(?:an?|the|its)\s+)?(?:[A-Z]\w*\s+)?$",
    re.IGNORECASE,
)
CLAUSE_BREAK = re.compile(r",(?!\s*(?:19|20)\d\d\b)|[;(—–]|\.\.\.|…|\b(?:and|but|while|whereas)\b")
# "When was it released?", "What year did it open?": asks what happened, not what is planned
PAST_WHEN = re.compile(
    r"\b(?:when|what (?:date|day|year|month|time))\s+(?:was|were|did|had)\b", re.IGNORECASE
)


def clause_start(text: str, start: int) -> int:
    """Where the clause holding offset `start` begins: after the last comma, semicolon, dash,
    ellipsis or conjunction before it."""
    begin = 0
    for found in CLAUSE_BREAK.finditer(text):  # the whole text: "16, 2020" needs what follows
        if found.end() > start:
            break
        begin = found.end()
    return begin


def clause_end(text: str, end: int) -> int:
    """Where the clause holding offset `end` ends."""
    found = CLAUSE_BREAK.search(text, end)
    return found.start() if found else len(text)


PLANNED_WEIGHT = 0.5  # a plan most often came true, but a statement of what happened is surer


def certainty(text: str, start: int, *, past: bool, announcement: bool = False) -> float:
    """How surely the date at `start` of `text` says when it happened: 0 when it is given as a
    guess, as a plan given up ("the original release date was April 16") or, unless the question
    asks when something was announced, as an announcement's date; PLANNED_WEIGHT when as a plan and
    the question asks what happened; else 1. Read in the words before the date, back to
    the start of its clause."""
    clause = text[clause_start(text, start) : max(start, 0)]
    if GUESSED.search(clause) or SUPERSEDED.search(clause):
        return 0.0
    if not announcement and ANNOUNCED_AT.search(clause):
        return 0.0
    return PLANNED_WEIGHT if past and PLANNED.search(clause) else 1.0


def strip_dateline(sentence: str) -> str:
    match = DATELINE.match(sentence)
    return sentence[match.end() :] if match else sentence


def editions_in(text: str, word: str) -> set[str]:
    if word == "th":
        return {m.group(1) for m in ORDINAL_EDITION.finditer(text)}
    found = {arabic(m.group(2)) for m in EDITION.finditer(text) if m.group(1).lower() == word}
    for m in re.finditer(rf"\b(\d{{1,3}})(?:st|nd|rd|th)\s+{word}\b", text, re.IGNORECASE):
        found.add(m.group(1))
    found |= {number for named, number in ordinal_word_editions(text) if named == word}
    return found


def ordinal_word_editions(text: str) -> list[tuple[str, str]]:
    """Editions written with an ordinal word: "the first season" gives ("season", "1")."""
    return [
        (m.group(2).lower(), str(ORDINAL_WORDS.index(m.group(1).lower()) + 1))
        for m in ORDINAL_WORD_EDITION.finditer(text)
    ]


def ordinal(number: str) -> str:
    n = int(number)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def quarter_of(match: re.Match) -> int:
    if match.group(1) or match.group(2):
        return int(match.group(1) or match.group(2))
    return QUARTER_WORDS[match.group(3).lower()]


def arabic(value: str) -> str:
    roman = {"i": 1, "v": 5, "x": 10}
    if value.isdigit():
        return str(int(value))
    total, previous = 0, 0
    for char in reversed(value.lower()):
        number = roman[char]
        total += -number if number < previous else number
        previous = max(previous, number)
    return str(total)


def dateline_day(dateline: str) -> str:
    match = re.search(
        r"([A-Za-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})|(\d{1,2})\s+([A-Za-z]+)\.?,?\s+(\d{4})", dateline
    )
    if not match:
        return ""
    month_word, day, year = (
        (match.group(1), match.group(2), match.group(3))
        if match.group(1)
        else (match.group(5), match.group(4), match.group(6))
    )
    months = [m[:3] for m in MONTH_NAMES]
    if month_word[:3].lower() not in months:
        return ""
    return f"{year}-{months.index(month_word[:3].lower()) + 1:02d}-{int(day):02d}"


FULL_DATE = re.compile(
    rf"\b(?:{MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?:19|20)\d\d|\d{{1,2}}\s+{MONTH},?\s+(?:19|20)\d\d)\b"
)
