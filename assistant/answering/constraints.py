"""Question constraints: what a question pins down, and whether a passage sentence honours it.

Question in: the years, quarters, editions ("Season 17", "90th"), categories (men's, singles), named
things and relative time ("last year", "yesterday") it names. Sentence and passage in: a verdict,
matched or in conflict, with the mismatch said in words ("about 2018, not 2019"). A year belongs to
the event when the quoted sentence names it; failing that the passage's title, section or text;
failing that the passage's date (its published date, or the dateline a news snippet opens with),
which is weaker evidence. How dates and editions are written is in `dates.py`, how named things are
found and mentioned in `names.py`.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field

from assistant.answering.dates import (
    DATELINE,
    EDITION,
    FULL_DATE,
    ORDINAL_EDITION,
    QUARTER,
    YEAR,
    arabic,
    dateline_day,
    editions_in,
    in_reach,
    ordinal,
    ordinal_word_editions,
    quarter_of,
    strip_dateline,
)
from assistant.answering.grounding import QuestionKind, new_person_names, terms
from assistant.answering.names import (
    QUOTED,
    NameIndex,
    larger_body,
    mentions,
    name_index,
    named_things,
    sibling_title,
)
from assistant.answering.places import mentions_country
from assistant.answering.roles import asked_roles, office_elsewhere
from assistant.answering.timeline import asked_period

# Categories that exclude each other: a report on the women's final does not answer who won the men's.
FACETS = (
    ("men's", "women's"),
    ("men", "women"),
    ("male", "female"),
    ("boys", "girls"),
    ("singles", "doubles"),
)

_FACET_WORD = {word: pair for pair in FACETS for word in pair}

# Asking when something starts or comes out ("When does season 4 premiere?").
_STARTS = re.compile(
    r"\b(?:premieres?|premiered|release[sd]?|debuts?|debuted|starts?|begins?|airs?|come out)\b", re.I
)

YEAR_WINDOW = 10  # a year further than this from the asked one is rarely the same event's (a birth year)


@dataclass(frozen=True)
class TimeResolution:
    """How a relative time phrase of the question was read."""

    phrase: str
    since: str  # YYYY-MM-DD, inclusive
    until: str
    basis: str  # what it was resolved against

    def to_json(self) -> dict:
        return {"phrase": self.phrase, "since": self.since, "until": self.until, "basis": self.basis}


@dataclass(frozen=True)
class Constraints:
    """What the question pins down; empty fields pin nothing."""

    years: tuple[int, ...] = ()
    quarters: tuple[int, ...] = ()
    editions: tuple[tuple[str, str], ...] = ()  # ("season", "17"), ("th", "90") for "90th ..."
    entities: tuple[str, ...] = ()  # named things the passage must mention
    facets: tuple[str, ...] = ()  # of FACETS: "men's", "singles"
    time: TimeResolution | None = None
    premiere: bool = False  # asks when a season starts: a later episode's date is not that
    ordinals: tuple[tuple[str, str], ...] = ()  # ("92", "academy"): the 93rd Academy Awards are others
    offices: tuple[tuple[str, str, bool], ...] = ()  # ("president", "NFL", held now: "who is")

    @property
    def empty(self) -> bool:
        return not (self.years or self.quarters or self.editions or self.entities or self.facets or self.time)

    def describe(self) -> list[str]:
        parts = [str(y) for y in self.years]
        parts += [f"Q{q}" for q in self.quarters]
        parts += [f"{word} {n}" if word != "th" else ordinal(n) for word, n in self.editions]
        parts += list(self.entities) + list(self.facets)
        if self.time:
            parts.append(f"{self.time.phrase} ({self.time.since}..{self.time.until})")
        return parts


@dataclass
class Verdict:
    """How a sentence (with its passage) fares against the question's constraints."""

    matched: float = 0.0  # evidence for, 0-1
    conflicts: list[str] = field(default_factory=list)  # each mismatch, in words
    unmentioned: list[str] = field(default_factory=list)  # named things of the question it never names
    unverified: list[str] = field(default_factory=list)  # constraints it neither meets nor breaks
    off_subject: bool = False  # its article names none of the question's named things

    def mismatch(self) -> str:
        return "; ".join(self.conflicts + self.unverified)

    @property
    def ok(self) -> bool:
        return not self.conflicts


def analyse(question: str, today: dt.date | None = None) -> Constraints:
    """The constraints a question states."""
    today = today or dt.date.today()
    text = QUOTED.sub(lambda m: m.group(0).replace("?", ""), question)
    years = tuple(dict.fromkeys(int(y) for y in YEAR.findall(text) if in_reach(y, today)))
    quarters = tuple(dict.fromkeys(quarter_of(m) for m in QUARTER.finditer(text)))
    # "92nd Academy": its number is an edition to find, and the name after it tells another edition
    ordinals = tuple(dict.fromkeys((m.group(1), m.group(2).lower()) for m in ORDINAL_EDITION.finditer(text)))
    editions = tuple(
        dict.fromkeys(
            [(m.group(1).lower(), arabic(m.group(2))) for m in EDITION.finditer(text)]
            + ordinal_word_editions(text)
            + [("th", number) for number, _ in ordinals]
        )
    )
    time = _relative_time(question, today)
    if time and not years and time.since[:4] == time.until[:4] and time.since[5:] == "01-01":
        years = (int(time.since[:4]),)  # "this year" pins the year like "in 2026" does
    entities = tuple(named_things(question))
    return Constraints(
        years=years,
        quarters=quarters,
        editions=editions,
        entities=entities,
        facets=tuple(dict.fromkeys(_facets(question))),
        time=time,
        premiere=bool(_STARTS.search(question)) and _asks_whole_season({word for word, _ in editions}),
        ordinals=ordinals,
        offices=tuple(asked_roles(question, list(entities))),
    )


@dataclass(frozen=True)
class PassageContext:
    """What a passage says about when it is from, besides its sentences."""

    heading: str  # title and section
    body: str  # the passage text, dateline removed
    dated: int | None  # year of the published date or the dateline
    published: str  # YYYY-MM-DD or ""
    article: str = ""  # all retrieved text of its article: where a named thing may be mentioned

    @functools.cached_property
    def lowered(self) -> str:
        """The lower-cased text a named thing is looked for in."""
        return self.text.lower()

    @functools.cached_property
    def words(self) -> set[str]:
        """The text's words and stems; worked out once per passage, however many of its sentences
        are checked, and only when a name is not found by a plain look at the text."""
        return set(re.findall(r"[\w']+", self.lowered)) | set(terms(self.lowered))

    @functools.cached_property
    def names(self) -> NameIndex:
        return name_index(self.text)

    def mentions(self, name: str) -> bool:
        """Does the passage, or what was retrieved of its article, name the thing, under any of its
        names ("Moscow" is named by "Russia")? Worked out once per name, not once per sentence."""
        if name not in self._mentioned:
            lowered = self.lowered
            named = mentions(name, lowered, lambda: self.words, lambda: self.names)
            self._mentioned[name] = named or mentions_country(name, self.text)
        return self._mentioned[name]

    @functools.cached_property
    def _mentioned(self) -> dict[str, bool]:
        return {}

    @property
    def text(self) -> str:
        return f"{self.heading}\n{self.body}\n{self.article}"


def passage_context(text: str, title: str, section: str, published: str, article: str = "") -> PassageContext:
    match = DATELINE.match(text)
    dated = None
    if published[:4].isdigit():
        dated = int(published[:4])
    elif match and (match.group("y1") or match.group("y2")):
        dated = int(match.group("y1") or match.group("y2"))
    if not published and match and (match.group("y1") or match.group("y2")):
        published = dateline_day(match.group(0))
    body = text[match.end() :] if match else text
    return PassageContext(f"{title}\n{section}", body, dated, published, article)


def check(constraints: Constraints, sentence: str, context: PassageContext) -> Verdict:
    """Does the sentence, read in its passage, satisfy the question's constraints?"""
    verdict = Verdict()
    if constraints.empty:
        return verdict
    sentence = strip_dateline(sentence)
    checks = 0
    for year in constraints.years:
        checks += 1
        _check_year(year, sentence, context, verdict)
    for quarter in constraints.quarters:
        checks += 1
        _check_quarter(quarter, sentence, context, verdict)
    for edition in constraints.editions:
        checks += 1
        _check_edition(edition, sentence, context, verdict)
    for facet in constraints.facets:
        checks += 1
        _check_facet(facet, sentence, context, verdict)
    if constraints.premiere:
        _check_premiere(sentence, verdict)
    for number, named in constraints.ordinals:
        _check_ordinal(number, named, sentence, verdict)
    for office, body, now in constraints.offices:
        if other := office_elsewhere(office, body, now, sentence):
            verdict.conflicts.append(f"about {other}, not the {office} of {body}")
    for name in constraints.entities:
        checks += 1
        # "Xenoblade Chronicles: Definitive Edition" for "Xenoblade Chronicles 2", the NFL Players
        # Association for the NFL
        sibling = sibling_title(name, sentence) or larger_body(name, sentence)
        if sibling:
            verdict.conflicts.append(f"about {sibling}, not {name}")
        elif context.mentions(name):
            verdict.matched += 1  # "Moscow" is mentioned by "Russia", "Washington" by "the U.S."
        else:  # a paraphrase may name it otherwise ("the alliance" for "NATO")
            verdict.unmentioned.append(name)
    # a US Open report for a question about the British Open
    verdict.off_subject = bool(constraints.entities) and len(verdict.unmentioned) == len(constraints.entities)
    if constraints.time and not constraints.years and context.published:
        checks += 1
        if constraints.time.since <= context.published <= constraints.time.until:
            verdict.matched += 1
        else:
            verdict.conflicts.append(f"dated {context.published}, not {constraints.time.phrase}")
    verdict.matched /= max(checks, 1)
    return verdict


def _asks_whole_season(edition_words: set[str]) -> bool:
    return bool(edition_words & {"season", "series"}) and "episode" not in edition_words


def _check_premiere(sentence: str, verdict: Verdict) -> None:
    """A sentence dating a later episode of the season ("Season 11, Episode 17: October 2, 2022")
    and not its first does not say when the season starts."""
    episodes = editions_in(sentence, "episode")
    later = sorted((n for n in episodes if n.isdigit() and int(n) > 1), key=int)
    if later and "1" not in episodes:
        verdict.conflicts.append(f"about episode {later[0]}, not the season's first")


def _check_ordinal(number: str, named: str, sentence: str, verdict: Verdict) -> None:
    """The same name after another ordinal ("the 93rd Academy Awards" for the 92nd) is another
    edition; other ordinals ("21st century") say nothing."""
    same_name = {m.group(1) for m in ORDINAL_EDITION.finditer(sentence) if m.group(2).lower() == named}
    if same_name and number not in same_name:
        other = ordinal(min(same_name, key=int))
        verdict.conflicts.append(f"about the {other} {named}, not the {ordinal(number)}")


def _check_year(year: int, sentence: str, context: PassageContext, verdict: Verdict) -> None:
    near = lambda found: {y for y in found if y != year and abs(y - year) <= YEAR_WINDOW}  # noqa: E731
    passage = f"{context.heading}\n{context.body}"
    for text, weight in ((sentence, 1.0), (passage, 0.75)):  # the sentence first, then its passage
        found = {int(y) for y in YEAR.findall(text)}
        if year in found:
            verdict.matched += weight
            return
        if near(found):
            verdict.conflicts.append(f"about {_years(near(found))}, not {year}")
            return
    if context.dated == year:
        verdict.matched += 0.4
    elif context.dated is None:
        verdict.unverified.append(f"gives no year; the question asks about {year}")
    elif context.dated == year + 1:  # a result is often reported, or a prize awarded, the next year
        verdict.unverified.append(f"dated {context.dated}; the question asks about {year}")
    else:
        verdict.conflicts.append(f"from {context.dated}, not {year}")


def _check_facet(facet: str, sentence: str, context: PassageContext, verdict: Verdict) -> None:
    """The sentence, else its passage, names the asked category, or only the one excluding it."""
    for text, weight in ((sentence, 1.0), (f"{context.heading}\n{context.body}", 0.75)):
        found = set(_facets(text))
        if facet in found:
            verdict.matched += weight
            return
        others = found & set(_FACET_WORD[facet]) - {facet}
        if others:
            verdict.conflicts.append(f"about {', '.join(sorted(others))}, not {facet}")
            return


def _facets(text: str) -> list[str]:
    words = re.findall(r"[a-z]+(?:['’]s)?", text.lower().replace("’", "'"))
    return [w for w in words if w in _FACET_WORD]


def _check_quarter(quarter: int, sentence: str, context: PassageContext, verdict: Verdict) -> None:
    for text, weight in ((sentence, 1.0), (f"{context.heading}\n{context.body}", 0.75)):
        found = {quarter_of(m) for m in QUARTER.finditer(text)}
        if quarter in found:
            verdict.matched += weight
            return
        if found:
            verdict.conflicts.append(f"about {', '.join(f'Q{q}' for q in sorted(found))}, not Q{quarter}")
            return


def _check_edition(
    edition: tuple[str, str], sentence: str, context: PassageContext, verdict: Verdict
) -> None:
    word, number = edition
    for text, weight in ((sentence, 1.0), (f"{context.heading}\n{context.body}", 0.75)):
        found = editions_in(text, word)
        if number in found:
            verdict.matched += weight
            return
        if found and word != "th":
            label = f"{word} {', '.join(sorted(found))}"
            verdict.conflicts.append(f"about {label}, not {word} {number}")
            return


def _years(years: set[int]) -> str:
    return " and ".join(str(y) for y in sorted(years))


def _relative_time(question: str, today: dt.date) -> TimeResolution | None:
    """The period a relative time phrase names, read by the package's one date reader (`timeline`)."""
    period = asked_period(question, today)
    if period is None:
        return None
    return TimeResolution(
        period.phrase, period.since.isoformat(), period.until.isoformat(), f"asked on {today}"
    )


_AMOUNT = re.compile(r"[$€£]\s?\d|\b\d+(?:[.,]\d+)?\s?(?:million|billion|trillion|bn|m)\b", re.IGNORECASE)


def holds_kind(kind: QuestionKind, body: str, question: str) -> bool:
    """A cheap pattern check, for ranking, that a passage holds the kind of answer asked for."""
    if kind.kind == "date":
        return bool(FULL_DATE.search(body))
    if kind.kind == "money":
        return bool(_AMOUNT.search(body))
    if kind.kind in ("number", "age"):
        return bool(re.search(r"\d", body))
    if kind.kind == "name":
        return bool(new_person_names(body, question))
    return True  # places and named things have no pattern cheap and sure enough to rank by
