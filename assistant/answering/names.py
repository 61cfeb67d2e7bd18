"""Named things: the names a question gives ("Wimbledon", "Pixel 5a", "The Crown", quoted titles),
and whether a text mentions them: every number or code of a name with the word before it, a name of
several words with two of them side by side, a person's last name standing alone, a word give or
take its ending ("German" for "Germany"). And when a sentence names another thing in the asked one's
place: another title of its series ("Xenoblade Chronicles 3" for "Xenoblade Chronicles 2"), a body
named after it ("NFL Players Association" for "NFL").
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from assistant.answering.dates import EDITION, MONTH_NAMES, QUARTER, YEAR, in_reach
from assistant.answering.grounding import STOPWORDS
from assistant.answering.places import country_of

_PERSON_NAME = re.compile(r"[A-Z][a-z]+(?:-[A-Z][a-z]+)? [A-Z][a-z]+(?:-[A-Z][a-z]+)?")  # "Marco Rubio"

_CAPITALISED_WORDS = re.compile(r"[A-Z][\w'’-]*(?:[ \t]+[A-Z][\w'’-]*)*")  # runs, on one line

_ACRONYM = re.compile(r"\b(?:[a-z]\.){2,}", re.IGNORECASE)

# Named things in a question: quoted titles, then runs of capitalised words or words with digits.
QUOTED = re.compile(r"[\"“]([A-Z0-9][\w\s'’:,.!?&-]{1,79})[\"”]")  # a title, not code or markup

_NAME_WORD = r"(?:[A-Z]|[a-z]+[A-Z])[\w'’.&-]*"  # "Wimbledon", "U.S.", "iPhone"

_CAPITALISED_RUN = re.compile(
    rf"{_NAME_WORD}(?:\s+(?:\d+[a-z]?\b|(?:(?:of|the|and|de|for|in)\s+)?{_NAME_WORD}))*"
)

QUESTION_WORDS = frozenset(
    "who whom whose what which when where why how is are was were do does did will would can could "
    "has have had the a an in on at name list tell".split()
)


def named_things(question: str) -> list[str]:
    """Quoted titles and capitalised names of the question ("Wimbledon", "Pixel 5a", "The Crown"),
    without the question words, years and quarters."""
    found = [m.group(1).strip() for m in QUOTED.finditer(question)]
    rest = QUOTED.sub(" ", question)
    for run in _CAPITALISED_RUN.finditer(rest):
        words = run.group(0).split()
        # the question's first word is capitalised by sentence case: "Some in Washington" is "Washington"
        dropped = QUESTION_WORDS | STOPWORDS if not rest[: run.start()].strip() else QUESTION_WORDS
        while words and (words[0].lower() in dropped or YEAR.fullmatch(words[0])):
            words.pop(0)
        while words and (words[-1].lower() in STOPWORDS or _is_year(words[-1])):
            words.pop()
        name = " ".join(words).strip("?,!:;'’")
        name = without_full_stop(name)
        name = re.sub(r"['’]s$", "", name)
        name = EDITION.sub("", name).strip()  # "Season 17" is checked as an edition
        if not name or QUARTER.fullmatch(name) or name.isdigit():
            continue
        if not any(c.isupper() for c in name) or name.lower() in MONTH_NAMES:
            continue
        if name.lower().removesuffix("'s").removesuffix("’s") in STOPWORDS:
            continue
        found.append(name)
    return list(dict.fromkeys(found))


def without_full_stop(name: str) -> str:
    """The name without a sentence's closing full stop: "Foundation." is "Foundation", while an
    abbreviation keeps its dots ("U.S.")."""
    return name if re.search(r"\.\w", name) else name.rstrip(".")


def _is_year(word: str) -> bool:
    """A year, not a title's number: "Wimbledon 2019", not "Cyberpunk 2077"."""
    return bool(YEAR.fullmatch(word)) and in_reach(word)


def as_written(question: str, text: str) -> str:
    """The question with the names it types in lower case written as `text` writes them:
    "when was xenoblade chronicles 2 released?" asks about "Xenoblade Chronicles 2" when the
    passages write it so. A run of two or more of the question's words counts as a name when `text`
    capitalises each of its words in running text, after a word in lower case, and writes one of
    them nowhere in lower case: a headline's Title Case ("Release Date: June 19") is no name."""
    words = list(re.finditer(r"[\w'’-]+", question))
    lowered = {w.lower() for w in re.findall(r"\b[a-z][\w'’-]*", text)}
    written = question
    taken: set[int] = set()
    for size in range(min(4, len(words)), 1, -1):
        for first in range(len(words) - size + 1):
            run = words[first : first + size]
            span = set(range(first, first + size))
            letters = [w.group(0) for w in run if w.group(0)[0].isalpha()]
            if span & taken or len(letters) < 2 or any(not w[0].islower() for w in letters):
                continue
            if run[0].group(0) in STOPWORDS or run[-1].group(0) in STOPWORDS:
                continue
            phrase = question[run[0].start() : run[-1].end()]
            words_of_run = r"\s+".join(re.escape(w.group(0)) for w in run)
            pattern = rf"\b(?-i:[a-z][\w'’-]*)\s+({words_of_run})\b"
            for found in re.finditer(pattern, text, re.IGNORECASE):
                shown = found.group(1)
                capitals = [w for w in shown.split() if w[0].isalpha()]
                if all(w[0].isupper() for w in capitals) and any(w.lower() not in lowered for w in capitals):
                    written = written.replace(phrase, shown, 1)
                    taken |= span
                    break
    return written


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


def mentions(
    name: str,
    text_lower: str,
    words: Callable[[], set[str]],
    index: Callable[[], NameIndex] | None = None,
) -> bool:
    """Does the text (lower-cased, and its set of words) mention the named thing? A name of several
    words must appear with two of them side by side ("Maxwell Award", not "Brandon Maxwell ... CFDA
    Awards"; "British Open", not "US Open"), give or take their endings and the small words between;
    a person's name may be cut to its last word ("Rubio" for "Marco Rubio") where that word stands
    alone. `words` gives the text's set of words and stems, `index` its `name_index` (read from the
    text as written so that "US" is not the word "us"; worked out from `text_lower` when not given):
    each is asked for only when the cheaper tests cannot tell."""
    required, others = name_tokens(name)
    if not required and not others:
        return True
    if required:
        flat = " ".join(re.findall(r"[\w']+", text_lower))
        if any(f" {r} " not in f" {flat} " for r in required):
            return False
    if not others:
        return True
    # "Germany" is mentioned by "German": a word matches on its first letters, less its ending
    if len(others) == 1:
        (word,) = others
        return _stem_of(word) in text_lower or word in words()
    ordered = [w for w in _content_words(name) if not any(c.isdigit() for c in w)]  # numbers: `required`
    pairs = list(zip(ordered, ordered[1:], strict=False))
    person = _PERSON_NAME.fullmatch(name) is not None
    # the index files word pairs under their first three letters: without them, no need to build it
    plain = _ACRONYM.sub(lambda m: m.group(0).replace(".", ""), text_lower)
    if not any(a[:3] in plain and b[:3] in plain for a, b in pairs) and not (person and ordered[-1] in plain):
        return False
    index = index() if index else name_index(text_lower)
    for a, b in pairs:
        for x, y in ((a, b), (b, a)):  # "CEO of Facebook" is "Facebook CEO"
            if any(_same_word(x, u) and _same_word(y, v) for u, v in index.pairs.get((x[:3], y[:3]), ())):
                return True
    return person and ordered[-1] in index.alone


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


# A title numbered within its series: "Xenoblade Chronicles 2", "Pixel 5a", "Final Fantasy VII".
_NUMBERED_TITLE = re.compile(
    r"(?P<series>[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*)\s+(?P<number>\d{1,3}[a-z]?|[IVX]{1,4})"
)


def sibling_title(name: str, sentence: str) -> str:
    """The other member of a numbered series the sentence names instead of the asked one: for
    "Xenoblade Chronicles 2", "Xenoblade Chronicles 3" or "Xenoblade Chronicles: Definitive
    Edition"; "" when the sentence names the asked one too, or the series' name alone
    ("Cyberpunk's release" for "Cyberpunk 2077")."""
    numbered = _numbered_title(name)
    if numbered is None or numbered.asked.search(sentence):
        return ""
    for other in numbered.series.finditer(sentence):
        rest = (other.group("rest") or "").strip()
        renumbered = re.fullmatch(r"\d+[a-z]?|[IVX]{1,4}", rest) and rest.lower() != numbered.number
        if rest.startswith(":") or renumbered:
            return f"{other.group('name')}{'' if rest.startswith(':') else ' '}{rest}".strip()
    return ""


@dataclass(frozen=True)
class _NumberedTitle:
    asked: re.Pattern  # the title itself
    series: re.Pattern  # the series' name and what follows it
    number: str


@functools.lru_cache(maxsize=256)
def _numbered_title(name: str) -> _NumberedTitle | None:
    """The patterns a question's numbered title is looked for with, made once per name rather than
    once per sentence checked."""
    match = _NUMBERED_TITLE.fullmatch(name.strip())
    if not match:
        return None
    series = re.escape(match.group("series"))
    return _NumberedTitle(
        re.compile(rf"\b{re.escape(name.strip())}\b", re.IGNORECASE),
        re.compile(rf"\b(?P<name>{series})(?P<rest>:\s+(?:[A-Z][\w'’-]*\s*)+|\s+\w+)?"),
        match.group("number").lower(),
    )


# A body named after another, not the same one: "NFL Players Association" is not the NFL, "Nintendo
# of America" not Nintendo. Company forms ("LEGO Group", "Apple Inc.") and roles ("NATO Secretary
# General") are the body itself, so only these heads, and "of" a country or continent, make another.
_BODY_HEADS = (
    "Association|Union|Federation|Foundation|Institute|Society|Council|Committee|Commission|Academy|"
    "Fund|Trust|Museum"
)
_CONTINENTS = frozenset("Africa America Americas Asia Europe Oceania".split())


def within(part: str, text: str) -> bool:
    """Does `text` hold `part` as whole words, in any case ("LEGO" in "the LEGO Group"; "US" is not in
    "Russia", nor "Pixel 5" in "Pixel 5a")?"""
    return bool(re.search(rf"(?<!\w){re.escape(part)}(?!\w)", text, re.IGNORECASE))


def subtitled(name: str, text: str) -> str:
    """Another work the text names by the asked title and a subtitle ("Cyberpunk 2077: Phantom
    Liberty" for "Cyberpunk 2077"); "" when it also names the title on its own, or names neither."""
    found = ""
    for match in re.finditer(
        rf"(?<![\w.]){re.escape(name.strip())}(?![\w])(?P<subtitle>(?-i::\s+[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*))?",
        text,
        re.IGNORECASE,
    ):
        if not match.group("subtitle"):
            return ""
        found = found or match.group(0)
    return found


def larger_body(name: str, sentence: str) -> str:
    """The other organisation the sentence names in place of the asked one, by a longer name built
    on it ("NFL Players Association" for "NFL", "Nintendo of America" for "Nintendo"); "" when the
    sentence also names the asked one on its own ("United States of America" is the United States),
    or names none."""
    pattern = _larger_body_pattern(name.strip())
    found = ""
    for match in pattern.finditer(sentence):
        longer, place = match.group("longer"), match.group("place")
        if not longer and not (place and (place in _CONTINENTS or country_of(place))):
            return ""  # named on its own (at least once)
        if place and country_of(name):
            return ""
        found = found or match.group(0)
    return found


@functools.lru_cache(maxsize=256)
def _larger_body_pattern(name: str) -> re.Pattern:
    return re.compile(
        rf"(?<![\w.])(?i:{re.escape(name)})(?![\w])"
        rf"(?P<longer>(?:\s+[A-Z][\w'’-]*){{0,2}}?\s+(?:{_BODY_HEADS})\b)?"
        rf"(?:\s+of\s+(?P<place>[A-Z][a-z]+))?"
    )
