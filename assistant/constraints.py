"""Question constraints: what a question pins down, and whether a passage sentence honours it.

Question in: the years, quarters, editions ("Season 17", "90th"), named things and relative time
("last year", "yesterday") it names. Sentence and passage in: a verdict, matched or in conflict, with
the mismatch said in words ("about 2018, not 2019"). A year belongs to the event when the quoted
sentence names it; failing that the passage's title, section or text; failing that the passage's
date (its published date, or the dateline a news snippet opens with), which is weaker evidence.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field

from assistant.grounding import STOPWORDS, QuestionKind, new_person_names, terms
from assistant.places import mentions_country

MONTH_NAMES = "january february march april may june july august september october november december".split()
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
# A snippet's leading date: "Jul 14, 2018 ...", "14 July 2018 -", "3 days ago ..."
DATELINE = re.compile(
    rf"^\s*(?:{_MONTH}\s+\d{{1,2}},?\s+(?P<y1>(?:19|20)\d\d)|\d{{1,2}}\s+{_MONTH},?\s+(?P<y2>(?:19|20)\d\d)"
    r"|\d+\s+(?:minutes?|hours?|days?|weeks?)\s+ago)\s*(?:\.\.\.|…|-|–|—|·|\|)\s*"
)
_YEAR = re.compile(r"(?<![\d$.,])((?:19|20)\d\d)(?![\d,]|\.\d)")  # not in "$2019" or "2,019"
YEAR_WORD = re.compile(r"\b(?:19|20)\d\d\b")  # any year-looking word, as in "Dec 2020" or "2020-21"
_QUARTER = re.compile(
    r"\b(?:q([1-4])|([1-4])q|(first|second|third|fourth|1st|2nd|3rd|4th) quarter)\b", re.IGNORECASE
)
_QUARTER_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4}
EDITION_WORDS = (
    "season series episode edition volume part chapter round stage leg week game book phase gen "
    "generation".split()
)
_EDITION = re.compile(rf"\b({'|'.join(EDITION_WORDS)})\s+(\d{{1,3}}|[ivx]{{1,5}})\b", re.IGNORECASE)
_ORDINAL_EDITION = re.compile(
    rf"\b(\d{{1,3}})(?:st|nd|rd|th)\s+({'|'.join(EDITION_WORDS)}|[A-Z][a-z]+)", re.IGNORECASE
)
_ORDINAL_WORDS = (
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
    "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth".split()
)
_PERSON_NAME = re.compile(r"[A-Z][a-z]+(?:-[A-Z][a-z]+)? [A-Z][a-z]+(?:-[A-Z][a-z]+)?")  # "Marco Rubio"
_CAPITALISED_WORDS = re.compile(r"[A-Z][\w'’-]*(?:[ \t]+[A-Z][\w'’-]*)*")  # runs, on one line
_ACRONYM = re.compile(r"\b(?:[a-z]\.){2,}", re.IGNORECASE)
# Named things in a question: quoted titles, then runs of capitalised words or words with digits.
_QUOTED = re.compile(r"[\"“]([A-Z0-9][\w\s'’:,.!?&-]{1,79})[\"”]")  # a title, not code or markup
_NAME_WORD = r"(?:[A-Z]|[a-z]+[A-Z])[\w'’.&-]*"  # "Wimbledon", "U.S.", "iPhone"
_CAPITALISED_RUN = re.compile(
    rf"{_NAME_WORD}(?:\s+(?:\d+[a-z]?\b|(?:(?:of|the|and|de|for|in)\s+)?{_NAME_WORD}))*"
)
QUESTION_WORDS = frozenset(
    "who whom whose what which when where why how is are was were do does did will would can could "
    "has have had the a an in on at name list tell".split()
)
RELATIVE = {
    "today": (0, "day"), "yesterday": (-1, "day"), "this week": (0, "week"), "last week": (-1, "week"),
    "this month": (0, "month"), "last month": (-1, "month"), "this year": (0, "year"),
    "last year": (-1, "year"), "next year": (1, "year"),
}  # fmt: skip
# Categories that exclude each other: a report on the women's final does not answer who won the men's.
FACETS = (
    ("men's", "women's"),
    ("men", "women"),
    ("male", "female"),
    ("boys", "girls"),
    ("singles", "doubles"),
)
_FACET_WORD = {word: pair for pair in FACETS for word in pair}
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

    @property
    def empty(self) -> bool:
        return not (self.years or self.quarters or self.editions or self.entities or self.facets or self.time)

    def describe(self) -> list[str]:
        parts = [str(y) for y in self.years]
        parts += [f"Q{q}" for q in self.quarters]
        parts += [f"{word} {n}" if word != "th" else _ordinal(n) for word, n in self.editions]
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
    text = _QUOTED.sub(lambda m: m.group(0).replace("?", ""), question)
    years = tuple(dict.fromkeys(int(y) for y in _YEAR.findall(text) if int(y) <= today.year + 5))
    quarters = tuple(dict.fromkeys(_quarter(m) for m in _QUARTER.finditer(text)))
    editions = tuple(
        dict.fromkeys(
            [(m.group(1).lower(), _arabic(m.group(2))) for m in _EDITION.finditer(text)]
            + [("th", m.group(1)) for m in _ORDINAL_EDITION.finditer(text)]
        )
    )
    time = _relative_time(question, today)
    if time and not years and time.since[:4] == time.until[:4] and time.since[5:] == "01-01":
        years = (int(time.since[:4]),)  # "this year" pins the year like "in 2026" does
    return Constraints(
        years=years,
        quarters=quarters,
        editions=editions,
        entities=tuple(named_things(question)),
        facets=tuple(dict.fromkeys(_facets(question))),
        time=time,
    )


def named_things(question: str) -> list[str]:
    """Quoted titles and capitalised names of the question ("Wimbledon", "Pixel 5a", "The Crown"),
    without the question words, years and quarters."""
    found = [m.group(1).strip() for m in _QUOTED.finditer(question)]
    rest = _QUOTED.sub(" ", question)
    for run in _CAPITALISED_RUN.finditer(rest):
        words = run.group(0).split()
        # the question's first word is capitalised by sentence case: "Some in Washington" is "Washington"
        dropped = QUESTION_WORDS | STOPWORDS if not rest[: run.start()].strip() else QUESTION_WORDS
        while words and (words[0].lower() in dropped or _YEAR.fullmatch(words[0])):
            words.pop(0)
        while words and (words[-1].lower() in STOPWORDS or _YEAR.fullmatch(words[-1])):
            words.pop()
        name = " ".join(words).strip("?,!:;'’")
        name = name if re.search(r"\.\w", name) else name.rstrip(".")  # "U.S." keeps its dot
        name = re.sub(r"['’]s$", "", name)
        name = _EDITION.sub("", name).strip()  # "Season 17" is checked as an edition
        if not name or _QUARTER.fullmatch(name) or name.isdigit():
            continue
        if not any(c.isupper() for c in name) or name.lower() in MONTH_NAMES:
            continue
        if name.lower().removesuffix("'s").removesuffix("’s") in STOPWORDS:
            continue
        found.append(name)
    return list(dict.fromkeys(found))


def name_tokens(name: str) -> tuple[set[str], set[str]]:
    """(phrases that must all appear, words of which half must appear): numbers and codes such as
    "5a" or "II" tell editions and models apart, so they are required together with the word before
    them ("chronicles 2", not any "2"); other words are not."""
    words = [w.removesuffix("'s").removesuffix("’s") for w in re.findall(r"[\w'’]+", name.lower())]
    words = [w.strip("'’") for w in words if w.strip("'’")]
    required, others = set(), set()
    for i, word in enumerate(words):
        if any(c.isdigit() for c in word) or re.fullmatch(r"[ivx]{2,4}", word):
            required.add(f"{words[i - 1]} {word}" if i else word)
        elif word not in STOPWORDS:
            others.add(word)
    return required, others


def mentions(name: str, text_lower: str, words: set[str], index: NameIndex | None = None) -> bool:
    """Does the text (lower-cased, and its set of words) mention the named thing? A name of several
    words must appear with two of them side by side ("Maxwell Award", not "Brandon Maxwell ... CFDA
    Awards"; "British Open", not "US Open"), give or take their endings and the small words between;
    a person's name may be cut to its last word ("Rubio" for "Marco Rubio") where that word stands
    alone. `index` is the text's `name_index`, read from the text as written so that "US" is not the
    word "us"; worked out from `text_lower` when not given."""
    required, others = name_tokens(name)
    if not required and not others:
        return True
    flat = " ".join(re.findall(r"[\w']+", text_lower))
    if any(f" {r} " not in f" {flat} " for r in required):
        return False
    if not others:
        return True
    # "Germany" is mentioned by "German": a word matches on its first letters, less its ending
    if len(others) == 1:
        (word,) = others
        return word in words or word[: max(4, len(word) - 2)] in text_lower
    ordered = [w for w in _content_words(name) if not any(c.isdigit() for c in w)]  # numbers: `required`
    index = index or name_index(text_lower)
    for a, b in zip(ordered, ordered[1:], strict=False):
        for x, y in ((a, b), (b, a)):  # "CEO of Facebook" is "Facebook CEO"
            if any(_same_word(x, u) and _same_word(y, v) for u, v in index.pairs.get((x[:3], y[:3]), ())):
                return True
    return _PERSON_NAME.fullmatch(name) is not None and ordered[-1] in index.alone


@dataclass(frozen=True)
class NameIndex:
    """Where a text may name things: each two neighbouring content words (lower-cased, filed under
    their first three letters), and the capitalised words that stand alone, with no capitalised word
    beside them ("Rubio has", not "US Open" or "Open Era")."""

    pairs: dict[tuple[str, str], set[tuple[str, str]]]
    alone: frozenset[str]


def name_index(text: str) -> NameIndex:
    words = _content_words(text)
    pairs: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for a, b in zip(words, words[1:], strict=False):
        pairs.setdefault((a[:3], b[:3]), set()).add((a, b))
    runs = (m.group(0).split() for m in _CAPITALISED_WORDS.finditer(text))
    alone = frozenset(run[0].lower().removesuffix("'s").removesuffix("’s") for run in runs if len(run) == 1)
    return NameIndex(pairs, alone)


def _content_words(text: str) -> list[str]:
    """The words of the text as written, lower-cased, less stopwords; "U.S." and "US" are a word,
    "us" is not."""
    text = _ACRONYM.sub(lambda m: m.group(0).replace(".", ""), text)
    words = (w.removesuffix("'s").removesuffix("’s").strip("'’") for w in re.findall(r"[\w'’]+", text))
    return [w.lower() for w in words if w and (w.lower() not in STOPWORDS or w.isupper())]


def _same_word(a: str, b: str) -> bool:
    """One word, give or take its ending: "award" and "awards", "definite" and "definitive"."""
    return a.startswith(_stem_of(b)) or b.startswith(_stem_of(a))


def _stem_of(word: str) -> str:
    return word[: max(4, len(word) - 2)]


@dataclass(frozen=True)
class PassageContext:
    """What a passage says about when it is from, besides its sentences."""

    heading: str  # title and section
    body: str  # the passage text, dateline removed
    dated: int | None  # year of the published date or the dateline
    published: str  # YYYY-MM-DD or ""
    article: str = ""  # all retrieved text of its article: where a named thing may be mentioned

    @functools.cached_property
    def words(self) -> tuple[str, set[str]]:
        """The lower-cased text a named thing is looked for in, and its words and stems; worked out
        once per passage, however many of its sentences are checked."""
        lowered = self.text.lower()
        return lowered, set(re.findall(r"[\w']+", lowered)) | set(terms(lowered))

    @functools.cached_property
    def names(self) -> NameIndex:
        return name_index(self.text)

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
        published = _dateline_day(match.group(0))
    body = text[match.end() :] if match else text
    return PassageContext(f"{title}\n{section}", body, dated, published, article)


def strip_dateline(sentence: str) -> str:
    match = DATELINE.match(sentence)
    return sentence[match.end() :] if match else sentence


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
    passage_lower, passage_words = context.words
    for name in constraints.entities:
        checks += 1
        if mentions(name, passage_lower, passage_words, context.names) or mentions_country(
            name, context.text
        ):
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


def _check_year(year: int, sentence: str, context: PassageContext, verdict: Verdict) -> None:
    near = lambda found: {y for y in found if y != year and abs(y - year) <= YEAR_WINDOW}  # noqa: E731
    passage = f"{context.heading}\n{context.body}"
    for text, weight in ((sentence, 1.0), (passage, 0.75)):  # the sentence first, then its passage
        found = {int(y) for y in _YEAR.findall(text)}
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
        found = {_quarter(m) for m in _QUARTER.finditer(text)}
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
        found = _editions_in(text, word)
        if number in found:
            verdict.matched += weight
            return
        if found and word != "th":
            label = f"{word} {', '.join(sorted(found))}"
            verdict.conflicts.append(f"about {label}, not {word} {number}")
            return


def _editions_in(text: str, word: str) -> set[str]:
    if word == "th":
        return {m.group(1) for m in _ORDINAL_EDITION.finditer(text)}
    found = {_arabic(m.group(2)) for m in _EDITION.finditer(text) if m.group(1).lower() == word}
    for m in re.finditer(rf"\b(\d{{1,3}})(?:st|nd|rd|th)\s+{word}\b", text, re.IGNORECASE):
        found.add(m.group(1))
    for m in re.finditer(rf"\b({'|'.join(_ORDINAL_WORDS)})\s+{word}\b", text, re.IGNORECASE):
        found.add(str(_ORDINAL_WORDS.index(m.group(1).lower()) + 1))
    return found


def _ordinal(number: str) -> str:
    n = int(number)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _quarter(match: re.Match) -> int:
    if match.group(1) or match.group(2):
        return int(match.group(1) or match.group(2))
    return _QUARTER_WORDS[match.group(3).lower()]


def _arabic(value: str) -> str:
    roman = {"i": 1, "v": 5, "x": 10}
    if value.isdigit():
        return str(int(value))
    total, previous = 0, 0
    for char in reversed(value.lower()):
        number = roman[char]
        total += -number if number < previous else number
        previous = max(previous, number)
    return str(total)


def _years(years: set[int]) -> str:
    return " and ".join(str(y) for y in sorted(years))


def _relative_time(question: str, today: dt.date) -> TimeResolution | None:
    lowered = question.lower()
    for phrase, (offset, unit) in RELATIVE.items():
        if re.search(rf"\b{phrase}\b", lowered):
            since, until = _period(today, offset, unit)
            return TimeResolution(phrase, since.isoformat(), until.isoformat(), f"today, {today.isoformat()}")
    return None


def _period(today: dt.date, offset: int, unit: str) -> tuple[dt.date, dt.date]:
    if unit == "day":
        day = today + dt.timedelta(days=offset)
        return day, day
    if unit == "week":
        start = today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=offset)
        return start, start + dt.timedelta(days=6)
    if unit == "month":
        month = today.month - 1 + offset
        start = dt.date(today.year + month // 12, month % 12 + 1, 1)
        following = dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
        return start, following - dt.timedelta(days=1)
    year = today.year + offset
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def _dateline_day(dateline: str) -> str:
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
    rf"\b(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?:19|20)\d\d|\d{{1,2}}\s+{_MONTH},?\s+(?:19|20)\d\d)\b"
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
