"""Dates, text -> years and periods: the one date reader of the question path.

A question is asked on a day (`asked_on`: an eval set's date, `ask --as-of`, or today), and its
relative time ("this week", "recently", "last month") is the period before that day. Years are
four-digit numbers in reach of that day: not a price ("$2019"), not a count ("2,019"), not a name's
number further ahead than FUTURE_YEARS.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

MONTH_NAMES = "january february march april may june july august september october november december".split()
FUTURE_YEARS = 5
_YEAR = re.compile(r"(?<![\d$€£.,])((?:1[89]|2[01])\d\d)(?![\d]|,\d|\.\d)")
# phrase -> (days back to the start, days back to the end) of the period before the day asked
_RELATIVE_DAYS = {
    "today": (0, 0),
    "tonight": (0, 0),
    "yesterday": (1, 1),
    "this week": (6, 0),
    "past week": (6, 0),
    "last week": (13, 7),
    "recently": (30, 0),
    "lately": (30, 0),
    "this month": None,
    "last month": None,
    "this year": None,
    "last year": None,
}
_RELATIVE = re.compile(r"\b(" + "|".join(_RELATIVE_DAYS) + r")\b", re.IGNORECASE)


@dataclass(frozen=True)
class Period:
    """The days a relative time phrase of the question names."""

    phrase: str
    since: dt.date
    until: dt.date
    basis: dt.date  # the day the question was asked

    def to_json(self) -> dict:
        return {
            "phrase": self.phrase,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "basis": f"asked on {self.basis.isoformat()}",
        }

    def describe(self) -> str:
        """'this week (30 Nov - 6 Dec 2026)'."""
        if self.since == self.until:
            return f"{self.phrase} ({_day(self.since, True)})"
        same_year = self.since.year == self.until.year
        return f"{self.phrase} ({_day(self.since, not same_year)} - {_day(self.until, True)})"


def _day(day: dt.date, with_year: bool) -> str:
    return f"{day.day} {day:%b}" + (f" {day.year}" if with_year else "")


def describe_day(day: dt.date) -> str:
    return _day(day, True)


def years_in(text: str, asked_on: dt.date) -> list[int]:
    """The years a text names, in order, each once."""
    found = [int(m.group(1)) for m in _YEAR.finditer(text)]
    return list(dict.fromkeys(y for y in found if y <= asked_on.year + FUTURE_YEARS))


def asked_period(text: str, asked_on: dt.date) -> Period | None:
    """The period a relative time phrase of the question names, or None."""
    match = _RELATIVE.search(text)
    if not match:
        return None
    phrase = match.group(1).lower()
    days = _RELATIVE_DAYS[phrase]
    if days is not None:
        back_start, back_end = days
        return Period(
            phrase, asked_on - dt.timedelta(days=back_start), asked_on - dt.timedelta(days=back_end), asked_on
        )
    if phrase.endswith("month"):
        first = asked_on.replace(day=1)
        if phrase == "last month":
            end = first - dt.timedelta(days=1)
            return Period(phrase, end.replace(day=1), end, asked_on)
        return Period(phrase, first, asked_on, asked_on)
    year = asked_on.year - (phrase == "last year")
    return Period(phrase, dt.date(year, 1, 1), min(dt.date(year, 12, 31), asked_on), asked_on)


def published_day(value: str) -> dt.date | None:
    """An article's published date (YYYY-MM-DD, or longer ISO), or None when it has none."""
    try:
        return dt.date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None
