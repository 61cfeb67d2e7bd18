"""Candidate answers: the answers of the asked kind that a passage sentence holds, each weighted by
how surely it answers.

Sentences in, (candidate, weight) pairs out. "Who" wants a person or organisation, "when" a date,
"where" a place or venue, "how much" an amount, "which film" a named thing: typed by spaCy's entity
recogniser (`entities.py`) with patterns beside it. A candidate weighs more when it is of the surest
type for the question, states a full date, stands next to the question's words, and, for "who won",
stands on the asked side of the result. A date given as a guess ("most likely in late fall") is no
candidate, nor is one in a clause about another title of the asked series ("Splatoon 1 ... released
in 2015" for Splatoon 2), nor a date that follows a version number ("2.0.0 (Released September
13, 2018)" dates an update), nor a name credited with another part of a film than the one asked
("directed by Tony Bancroft" for who stars in it); a date given as a plan ("slated for July") weighs
less when the question asks what happened.
"""

from __future__ import annotations

import re

from assistant.answering.dates import (
    DATELINE,
    FULL_DATE,
    MONTH_NAMES,
    PAST_WHEN,
    YEAR_WORD,
    certainty,
    clause_end,
    clause_start,
    in_reach,
)
from assistant.answering.entities import EntityRecognizer
from assistant.answering.grounding import (
    _AGE,
    _DATE,
    _NUMBER,
    NUMBER_WORDS,
    STOPWORDS,
    TITLE_WORDS,
    QuestionKind,
    Sentence,
    new_person_names,
    terms,
)
from assistant.answering.names import named_things, sibling_title, subtitled, within
from assistant.answering.relations import ANNOUNCEMENT

# Words that frame a question rather than name what is asked ("what is the release date of X").
FRAME_WORDS = frozenset(
    terms(
        "name date time year day month release released happen happened new current latest recent "
        "take place location first last"
    )  # fmt: skip
)
PROXIMITY_FLOOR = 0.5  # weight of a candidate far from every question word
PROXIMITY_CHARS = 40
KIND_LABELS = {
    "name": {"PERSON", "ORG", "NORP", "GPE"},
    "date": {"DATE", "TIME"},
    "place": {"GPE", "LOC", "FAC"},
    "number": {"CARDINAL", "QUANTITY", "MONEY", "PERCENT"},
    "money": {"MONEY"},
    "thing": {"WORK_OF_ART", "PRODUCT", "ORG", "EVENT", "PERSON", "LAW", "FAC", "GPE", "NORP"},
}
# How surely an entity of this label answers this kind of question; unlisted pairs weigh 1.
LABEL_WEIGHTS = {
    ("name", "ORG"): 0.85, ("name", "GPE"): 0.6, ("name", "NORP"): 0.6,
    ("thing", "PERSON"): 0.6, ("thing", "GPE"): 0.5,
}  # fmt: skip
_MONEY = re.compile(
    rf"[$€£]\s?\d[\d.,]*(?:\s?(?:million|billion|trillion|bn|m)\b)?|\b(?:\d[\d.,]*|{'|'.join(NUMBER_WORDS.split())})"
    r"\s+(?:million\s+|billion\s+)?(?:dollars|euros|pounds|yen|francs|yuan|rupees)\b",
    re.IGNORECASE,
)
_WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())
_MONTHS = "|".join(month[:3] for month in MONTH_NAMES)
COMPETING = re.compile(
    r"\b(?:won|win|wins|winner|winners|beat|beaten|defeated|lost|runner-up|runners-up|champions?|"
    r"finalists?|qualified|medals?|title)\b",
    re.IGNORECASE,
)
# Roles only a person holds: a question asking for one wants a person
PERSON_ROLES = (
    "actor actress director producer singer songwriter rapper author writer novelist poet artist athlete "
    "driver candidate minister diplomat spokesperson spokesman spokeswoman politician ceo president "
    "chairman chairwoman chairperson founder co-founder coach captain manager host anchor governor mayor "
    "senator chancellor premier king queen prince princess pope judge star"
)
# Deeds only a person does: "who directed Titanic" wants a person too
PERSON_DEEDS = "directed wrote composed painted starred sang played portrayed voiced narrated"
_PERSON_ROLE = re.compile(
    r"\b(?:who (?:is|was|are|were|will be)\s+(?:the\s+)?(?:[\w.]+['’]s\s+)?|which\s+|what\s+)(?:[\w'-]+\s+)?"
    rf"(?:{'|'.join(PERSON_ROLES.split())})\b|\bwho (?:{'|'.join(PERSON_DEEDS.split())})\b",
    re.IGNORECASE,
)
ROLE_CHARS = 30
ROLE_WEIGHT = 1.5  # the side a question asks for; the other side gets 1 - ROLE_WEIGHT / 3
_WIN_VERB = re.compile(
    r"\W*(?:\([^)]*\)\W*)?(?:\w+ )?(?:beat|beats|defeated|defeats|won|wins|claimed|clinched|captured|"
    r"triumphed|edged|overcame|outlasted|survived|thrashed|routed|crushed|stunned|upset|became champion|"
    r"crowned)\b",
    re.IGNORECASE,
)
_LOSE_VERB = re.compile(r"\W*(?:\w+ )?(?:lost|loses|fell|was beaten|were beaten)\b", re.IGNORECASE)
_BEAT_BEFORE = re.compile(
    r"\b(?:beat|beats|beating|defeated|defeats|defeating|over|against|past|to beat)\s+(?:the\s+)?$",
    re.IGNORECASE,
)
_LOSE_AFTER = re.compile(
    r"\b(?:lost to|fell to|losing to|beaten by|defeated by)\s+(?:the\s+)?$", re.IGNORECASE
)
_LOSER_QUESTION = re.compile(r"\b(?:runner-up|runners-up|lost|loser|losing|beaten|defeated)\b", re.IGNORECASE)
# Where something was said or done, when it is no place name: "on social media", "at a press conference"
_VENUE = re.compile(
    r"\b(?:on|at|in|during) (?:social media|television|TV|radio|(?:a|an|the) (?:press conference|"
    r"interview|statement|post|speech|summit|rally|hearing|briefing|broadcast))\b"
)
_PLACE_NAME = re.compile(
    r"\b(?:the )?(?:[A-Z][a-z]+ )+(?:House|Square|Hall|Palace|Building|Headquarters|Stadium|Arena|Park|"
    r"Airport|Station|Bridge|Centre|Center)\b"
)


def candidates(
    kind: QuestionKind,
    sentences: list[Sentence],
    question: str,
    asked: str,
    recognizer: EntityRecognizer | None,
) -> list[list[tuple[str, float]]]:
    """For each sentence, the answers of the asked kind it holds that the question does not name,
    each weighted by how surely it is of that kind (a country answers "who" less surely than a
    person does)."""
    if kind.kind == "any":
        return [[] for _ in sentences]
    known = {w.lower().strip("'’.,") for w in re.findall(r"[\w'’.]+", asked)}
    known |= {w.lower() for name in named_things(asked) for w in name.split()}
    labels = KIND_LABELS.get(kind.kind, set())
    if kind.kind == "name" and not COMPETING.search(question):
        labels = labels - {"GPE", "NORP"}  # a country answers "who won", not "who said"
    credit = _credit_asked(question) if kind.kind in ("name", "thing") else ""
    if kind.kind == "name" and (_PERSON_ROLE.search(question) or credit == "act"):
        labels = {"PERSON"}  # "who is the lead actress", "who is starring": a person, not a studio
    typed = recognizer.entities([s.text for s in sentences]) if recognizer else [() for _ in sentences]
    role = _result_role(question) if kind.kind in ("name", "place", "thing") else (lambda *_: 1.0)
    anchors = set(terms(question)) - FRAME_WORDS
    years = {year for year in YEAR_WORD.findall(asked) if in_reach(year)}  # not "Cyberpunk 2077"
    past = bool(PAST_WHEN.search(question))
    announcement = bool(ANNOUNCEMENT.asked.search(question))
    titles = named_things(asked)
    result = []
    for sentence, entities in zip(sentences, typed, strict=True):
        text = sentence.text
        dateline = DATELINE.match(text)
        body = dateline.end() if dateline else 0  # a snippet's own date answers nothing
        found = [
            (e.text, LABEL_WEIGHTS.get((kind.kind, e.label), 1.0) * _specificity(kind, e.text), e.start)
            for e in entities
            if e.start >= body
            and e.label in labels
            and _is_new(e.text, known, kind)
            and _plausible(kind, e.text)
        ]
        if kind.kind == "name" and not _is_headline(text[body:]):
            typed_other = [e for e in entities if e.label not in labels]
            found += [
                (name, 1.0, start)
                for name in new_person_names(text[body:], asked)
                if not _typed_as_other(start := text.find(name, body), len(name), typed_other)
            ]
        elif kind.kind == "place":
            found += [
                (m.group(0), 0.8, m.start())
                for pattern in (_PLACE_NAME, _VENUE)
                for m in pattern.finditer(text, body)
                if _is_new(m.group(0), known, kind)
            ]
        elif kind.kind == "date":
            found += [(m.group(0), 0.9, m.start()) for m in FULL_DATE.finditer(text, body)]
            found += [
                (m.group(0), 0.5 * _specificity(kind, m.group(0)), m.start())
                for m in _DATE.finditer(text, body)
                if _is_new(m.group(0), known, kind)
            ]
        elif kind.kind == "number" and not found:
            found = [(m.group(0), 0.5, m.start()) for m in _NUMBER.finditer(text, body)]
        elif kind.kind == "money" and not found:
            found = [(m.group(0), 0.8, m.start()) for m in _MONEY.finditer(text, body)]
        elif kind.kind == "age":
            found = [(m.group(0), 1.0, m.start()) for m in _AGE.finditer(text, body)]
        if kind.counted and kind.counted not in text.lower():
            found = []
        # "Splatoon 1 on the Wii U released in 2015" does not date Splatoon 2
        found = [
            (c, w, start) for c, w, start in found if not _about_sibling(text, start, len(c), titles, asked)
        ]
        if credit:  # "directed by Tony Bancroft" does not answer who stars in it
            found = [(c, w, start) for c, w, start in found if _credited(text, start) in ("", credit)]
        if kind.kind == "date" and not _VERSION_ASKED.search(question):
            # "2.0.0 (Released September 13, 2018)" dates an update, not the game
            found = [
                (c, w, start) for c, w, start in found if not _VERSION.search(text, max(0, start - 30), start)
            ]
        if kind.kind == "date":
            # "slated for July" does not say when it came out, "most likely in late fall" nothing
            found = [
                (c, w * certainty(text, start, past=past, announcement=announcement), start)
                for c, w, start in found
            ]
            found = [(c, w, start) for c, w, start in found if w > 0]
        if kind.kind == "date" and years and any(_other_year(c, years) for c, _, _ in found):
            # "the 2021 draft" is not on a day of 2020, nor on the weekday named with it
            found = [(c, w, start) for c, w, start in found if set(YEAR_WORD.findall(c)) & years]
        places = _anchor_offsets(text, body, anchors, years)
        result.append(
            [(c, w * _proximity(start, len(c), places) * role(text, start, len(c))) for c, w, start in found]
        )
    return result


def _result_role(question: str):
    """For "who won" questions, the side of a result a candidate stands on: "Halep beat Williams"
    names the winner first, so the name before a winning verb gains and the one after loses; a
    question about the runner-up wants the other side."""
    if not COMPETING.search(question):
        return lambda *_: 1.0
    wants_loser = bool(_LOSER_QUESTION.search(question))

    def weight(text: str, start: int, length: int) -> float:
        after = text[start + length : start + length + ROLE_CHARS]
        before = text[max(0, start - ROLE_CHARS) : start]
        winner = bool(_WIN_VERB.match(after)) or bool(_LOSE_AFTER.search(before))
        loser = bool(_BEAT_BEFORE.search(before)) or bool(_LOSE_VERB.match(after))
        if winner == loser:
            return 1.0
        return ROLE_WEIGHT if winner != wants_loser else 1 - ROLE_WEIGHT / 3

    return weight


# The credits of a film, a show or a record: who directed it is not who stars in it
CREDITS = {
    "direct": r"direct(?:ed|s|or|ors|ing)?|filmmaker",
    # "play" only with a role: a player in a final is no cast member
    "act": r"star(?:s|red|ring)?|actor|actress|cast|portray\w*|play(?:s|ed|ing)? (?:the )?(?:role|part)",
    "write": r"wr[io]te|written|writer|screenwriter|author|novelist",
    "produce": r"produc(?:ed|er|ers)",
    "compose": r"compos(?:ed|er)",
}
_CREDIT_ASKED = {name: re.compile(rf"\b(?:{words})\b", re.IGNORECASE) for name, words in CREDITS.items()}
# the credit that introduces a name: "directed by Tony Bancroft and", "starring", "director"
_CREDIT_BEFORE = re.compile(
    rf"\b(?P<credit>{'|'.join(f'(?P<{name}>{words})' for name, words in CREDITS.items())})(?:\s+by)?\s+"
    r"(?:(?:[A-Z][\w.'’-]*\s+){1,3}(?:and|&)\s+)?$",
)
_VERSION = re.compile(r"\b(?:v?\d+\.\d+\.\d+|v\d+\.\d+|(?:version|update|patch)\s+\d[\d.]*)\b", re.IGNORECASE)
_VERSION_ASKED = re.compile(r"\b(?:version|update|patch)\b", re.IGNORECASE)


def _credit_asked(question: str) -> str:
    """The one credit a "who" question asks for ("Who directed Titanic?": direct), or ""."""
    asked = [name for name, pattern in _CREDIT_ASKED.items() if pattern.search(question)]
    return asked[0] if len(asked) == 1 else ""


def _credited(text: str, start: int) -> str:
    """The credit named right before a name: "direct" for "directed by Tony Bancroft and Barry Cook"."""
    found = _CREDIT_BEFORE.search(text, max(0, start - 60), start)
    if not found:
        return ""
    return next(name for name in CREDITS if found.group(name))


def _about_sibling(text: str, start: int, length: int, titles: list[str], asked: str) -> bool:
    """Is the candidate in a clause that names another title of an asked numbered series, or the
    asked title with a subtitle ("Cyberpunk 2077: Phantom Liberty", an expansion), and not the asked
    title itself?"""
    clause = text[clause_start(text, start) : clause_end(text, start + length)]
    for title in titles:
        other = sibling_title(title, clause) or subtitled(title, clause)
        if other and not within(other, asked):
            return True  # another work than the one asked, which the question does not name itself
    return False


def _typed_as_other(start: int, length: int, entities) -> bool:
    """Capitalised words the recogniser typed as something the question does not ask for ("The Shape
    of Water" a work; "the 2018 Academy Awards" an organisation when a person is asked for)."""
    return any(e.start <= start and start + length <= e.end for e in entities)


def _is_headline(text: str) -> bool:
    """Title Case text ("Vanguard's New CEO Says Advisors' Jobs ..."), where capitalised words are
    no sign of a name."""
    words = re.findall(r"[A-Za-z][\w'’]*", text)
    long_words = [w for w in words if len(w) > 3]
    return len(long_words) >= 3 and sum(w[0].isupper() for w in long_words) >= 0.7 * len(long_words)


def _other_year(candidate: str, years: set[str]) -> bool:
    found = set(YEAR_WORD.findall(candidate))
    return bool(found) and not found & years


def _anchor_offsets(text: str, body: int, anchors: set[str], years: set[str]) -> list[int]:
    """Where the sentence uses the question's words or names its year: an answer is most often
    found next to them ("2020, Dominic Thiem"; "Thiem won the title")."""
    offsets = []
    for m in re.finditer(r"[\w'’]+", text[body:]):
        stems = terms(m.group(0))
        if m.group(0) in years or (stems and stems[0] in anchors):
            offsets.append(body + m.start())
    return offsets


def _proximity(start: int, length: int, places: list[int]) -> float:
    """1 next to a question word, falling towards PROXIMITY_FLOOR forty characters away and beyond."""
    if not places or start < 0:
        return 1.0
    distance = min(abs(p - start) if p < start else max(0, p - start - length) for p in places)
    return PROXIMITY_FLOOR + (1 - PROXIMITY_FLOOR) / (1 + distance / PROXIMITY_CHARS)


def _specificity(kind: QuestionKind, text: str) -> float:
    """A "when" question is answered best by a full date: day, month and year."""
    if kind.kind != "date":
        return 1.0
    has_year = bool(re.search(r"\b(?:1[6-9]|20)\d\d\b", text))
    has_month = bool(re.search(rf"\b(?:{_MONTHS})", text, re.IGNORECASE))
    has_day = bool(re.search(r"\b\d{1,2}(?:st|nd|rd|th)?\b", text)) and has_month
    has_time = bool(re.search(r"\d:\d\d|\b(?:a\.m\.|p\.m\.|am|pm)\b", text))
    return 1.0 if (has_day and has_year) or has_time else 0.8 if has_day else 0.6 if has_month else 0.4


def _plausible(kind: QuestionKind, text: str) -> bool:
    """Entities the recogniser labels right but that cannot answer: "the months ahead" for "when",
    "Secretary of State" (a title, not a name) for "who"; and one it mislabels: "E3 2019", an
    event's code and year, is no date."""
    if kind.kind == "date":
        coded = re.search(r"\b(?![Qq][1-4]\b)[A-Za-z]+\d+[A-Za-z]*\b(?<!\d(?:st|nd|rd|th))", text)
        return bool(_DATE.search(text) or re.search(r"\d", text)) and not coded
    if kind.kind in ("name", "place", "thing"):
        words = [w.lower().strip(".,'’") for w in text.split()]
        return any(w not in TITLE_WORDS and w not in STOPWORDS for w in words)
    return True


def _is_new(text: str, known: set[str], kind: QuestionKind) -> bool:
    """Is the candidate something the question does not already say? A name sharing a word with the
    question is the question's own ("Marco Rubio" for "Rubio"); a date or amount only when all of
    its words are (the question's year may well be in the answer's date)."""
    words = [w.lower().strip("'’.,") for w in re.findall(r"[\w'’.]+", text)]
    words = [w.removesuffix("'s").removesuffix("’s") for w in words if w not in STOPWORDS]
    if not words:
        return False
    if kind.kind in ("name", "place", "thing"):
        return not any(w in known for w in words)
    return not all(w in known for w in words)


def answer_key(candidate: str) -> str:
    """Candidates that are the same answer get the same key: case, articles, weekdays, ordinal
    suffixes and month spellings ("Thursday, Nov. 15th" and "November 15, 2020" share "nov 15")."""
    words = re.findall(r"[\w$.]+", candidate.lower())
    words = [w.strip(".") for w in words if w not in ("the", "a", "an", "of", "on") and w not in _WEEKDAYS]
    words = [re.sub(r"^(\d+)(?:st|nd|rd|th)$", r"\1", w) for w in words]
    words = [w[:3] if re.fullmatch(rf"(?i:{_MONTHS})[a-z]*", w) else w for w in words]
    return " ".join(w for w in words if w).strip()


def merge_partial(keys: list[str]) -> dict[str, str]:
    """Map "halep" to "simona halep": a candidate whose words all lie in a longer one is the same."""
    mapping = {}
    for key in keys:
        words = set(key.split())
        longer = [k for k in keys if k != key and words < set(k.split())]
        mapping[key] = max(longer, key=len) if longer else key
    return mapping
