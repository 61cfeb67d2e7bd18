"""Question analysis, question text -> `Question`: what kind of answer it wants, what it is about and
what pins it down, read once from spaCy's parse of the question.

- the answer type, from the question word and the noun it asks about ("which *city*": a place,
  "how much": an amount, "who": a name); "why", "what" and "how" questions want a sentence;
- the focus: that noun, or the role asked about ("who is the *director*"), with the words that
  qualify it ("the *junior* race"), and the question's own verbs and content lemmas;
- the constraints: years, the named things it mentions, and the period a relative time phrase
  names, resolved against the day the question is asked (`timeline.py`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from assistant.answering.timeline import Period, asked_period, years_in

# Entity labels (OntoNotes) each answer type accepts; the first is the one it prefers.
TYPE_LABELS = {
    "person": ("PERSON", "ORG", "NORP", "GPE"),
    "organisation": ("ORG", "PERSON", "NORP", "GPE"),
    "date": ("DATE", "TIME"),
    "place": ("GPE", "LOC", "FAC", "ORG"),
    "number": ("CARDINAL", "QUANTITY", "MONEY", "PERCENT"),
    "money": ("MONEY",),
    "duration": ("DATE", "TIME", "QUANTITY", "CARDINAL"),
    "time": ("TIME", "DATE", "CARDINAL", "QUANTITY"),
    "thing": ("WORK_OF_ART", "PRODUCT", "EVENT", "ORG", "LAW", "FAC"),
    "any": (),
}
# Closed classes of generic nouns that say what kind of thing a "which/what NOUN" question wants.
PERSON_NOUNS = frozenset(
    "person people man woman men women player athlete runner rider driver winner champion actor actress "
    "director author writer singer artist official minister diplomat leader spokesperson spokesman "
    "spokeswoman chair chairman chairwoman president head founder coach manager captain candidate pair duo "
    "member representative mayor governor judge referee chief officer employee resident student".split()
)
THING_NOUNS = frozenset(
    "movie film book song show series album novel play game app product device brand model award prize "
    "vehicle car phone ship title".split()
)
KIND_NOUNS = frozenset("kind type sort form".split())  # "what kind of X": the X
ORG_NOUNS = frozenset("company firm team club agency organisation organization party band group body".split())
PLACE_NOUNS = frozenset(
    "city country countries state town village venue stadium place location nation continent region county "
    "capital street square park district neighbourhood neighborhood island river site hall".split()
)
TIME_NOUNS = frozenset("date day year month time week season weekday hour decade".split())
PAYING_VERBS = frozenset("cost pay spend charge earn raise fine".split())
AMOUNT_NOUNS = frozenset("price cost fee fare salary budget revenue rate amount value worth".split())
_WH = re.compile(r"\b(who|whom|whose|when|where|which|what|why|how)\b", re.IGNORECASE)
_QUALIFIERS = ("amod", "poss", "compound", "nmod")
_NOT_NAMES = frozenset("DATE TIME CARDINAL ORDINAL QUANTITY MONEY PERCENT NORP".split())
_LIGHT_VERBS = frozenset("be do have will would can could shall should may might must get".split())


@dataclass(frozen=True)
class Question:
    text: str
    answer_type: str  # a key of TYPE_LABELS
    labels: tuple[str, ...]
    focus: str  # lemma of the noun asked about ("director"), or ""
    qualifiers: dict[str, frozenset[str]]  # noun lemma -> the words that qualify it in the question
    verbs: frozenset[str]  # lemmas of the question's own verbs
    lemmas: frozenset[str]  # content lemmas, lower case
    names: tuple[str, ...]  # named things it mentions ("the Riverside Marathon", "2024" excluded)
    years: tuple[int, ...]
    period: Period | None
    asked_on: dt.date
    counted: str = ""  # "how many *runners*": the noun the number counts
    role: str = ""  # the grammatical role of what is asked ("subject" in "who won?"), when it tells
    current: bool = False  # asks for a value as it is now: present tense, no year or period
    words: frozenset[str] = field(default_factory=frozenset)  # lower-case words, for overlap

    @property
    def typed(self) -> bool:
        return self.answer_type != "any"


def analyse_question(
    text: str, doc, asked_on: dt.date, kind_of: Callable[[str], str] | None = None
) -> Question:
    """The analysis of a question from its parse (`doc`), asked on `asked_on`. `kind_of` tells what
    kind of answer a noun outside the closed classes asks for ("which *comedian*": a person)."""
    everything = [t for t in doc if not t.is_space]
    # a quiz may state the context first: the question word is read in the sentence that asks
    asking = [s for s in doc.sents if _WH.search(s.text)]
    tokens = [t for t in (asking[-1] if asking else doc) if not t.is_space]
    lowered = [t.lower_ for t in tokens]
    wh_index = next((i for i, w in enumerate(lowered) if _WH.fullmatch(w)), None)
    wh = lowered[wh_index] if wh_index is not None else ""
    following = lowered[wh_index + 1] if wh_index is not None and wh_index + 1 < len(lowered) else ""
    focus_token, own = _focus(tokens, wh_index)
    focus = focus_token.lemma_.lower() if focus_token is not None else ""
    answer_type, counted = _answer_type(wh, following, focus if own else "", tokens, wh_index)
    if answer_type == "thing" and kind_of is not None:
        answer_type = kind_of(focus)
    years = tuple(years_in(text, asked_on))
    period = asked_period(text, asked_on)
    names = _names(doc)
    lemmas = frozenset(
        t.lemma_.lower()
        for t in everything
        if t.is_alpha and not t.is_stop and t.lower_ not in ("who", "whom")
    )
    verbs = frozenset(
        t.lemma_.lower()
        for t in everything
        if t.pos_ in ("VERB", "AUX") and t.lemma_.lower() not in _LIGHT_VERBS
    )
    qualifiers = {
        t.lemma_.lower(): frozenset(
            c.lower_ for c in t.children if c.dep_ in _QUALIFIERS and c.is_alpha and not _is_wh(c)
        )
        for t in everything
        if t.pos_ in ("NOUN", "PROPN")
    }
    past = any(t.tag_ in ("VBD", "VBN") for t in everything)
    role = ""
    if wh_index is not None and answer_type in ("person", "organisation", "thing", "number", "money"):
        asked = tokens[wh_index]
        if asked.head.pos_ in ("NOUN", "PROPN") and asked.dep_ in ("det", "amod", "advmod"):
            asked = asked.head  # "which runner": the runner's role
        if not any(t.lemma_ == "be" and t.dep_ == "ROOT" for t in tokens):
            role = grammatical_role(asked)
    return Question(
        text=text,
        answer_type=answer_type,
        labels=TYPE_LABELS[answer_type],
        focus=focus,
        qualifiers={k: v for k, v in qualifiers.items() if v},
        verbs=verbs,
        lemmas=lemmas,
        names=names,
        years=years,
        period=period,
        asked_on=asked_on,
        counted=counted,
        role=role,
        current=not past and not years and period is None,
        words=frozenset(t.lower_ for t in everything if not t.is_punct),
    )


def grammatical_role(token) -> str:
    """The role a word plays in its clause: subject (a passive's agent too), object, or the
    preposition it follows ("to" in "awarded to X"); a coordinated word takes its head's role."""
    while token.dep_ == "conj" and token.head.i != token.i:
        token = token.head
    dep = token.dep_
    if dep in ("nsubj", "csubj") or (dep == "pobj" and token.head.dep_ == "agent"):
        return "subject"
    if dep in ("dobj", "nsubjpass", "dative", "oprd"):
        return "object"
    if dep == "pobj":
        return f"after {token.head.lower_}"
    return dep


def _is_wh(token) -> bool:
    return bool(_WH.fullmatch(token.lower_))


def _focus(tokens, wh_index: int | None):
    """The noun the question asks about, and whether it is the question word's own ("which *city*",
    "how many *runners*"); else the role or object asked about ("who is the *director*", "who won
    the *race*")."""
    if wh_index is None:
        return None, False
    after = tokens[wh_index + 1 :]
    for t in after[:4]:
        if t.pos_ in ("NOUN", "PROPN") and t.lower_ not in ("much", "many") and t.dep_ not in _QUALIFIERS:
            # "which European countries": the last noun of the run that follows
            run = t
            while run.i + 1 < len(tokens) + tokens[0].i and run.nbor(1).pos_ == "NOUN":
                run = run.nbor(1)
            return run, True
        if t.pos_ in ("VERB", "AUX") and (t.lemma_.lower() not in _LIGHT_VERBS or t.i == wh_index + 1):
            break  # "what do students pay": no noun of the question word's own
    for t in after:
        if t.pos_ == "NOUN" and t.dep_ not in _QUALIFIERS:
            while t.i + 1 < len(tokens) + tokens[0].i and t.nbor(1).pos_ == "NOUN":
                t = t.nbor(1)
            return t, False
    return None, False


def _answer_type(wh: str, following: str, focus: str, tokens, wh_index: int | None) -> tuple[str, str]:
    if wh in ("who", "whom", "whose"):
        after = tokens[wh_index + 1 :] if wh_index is not None else []
        # "who is Jane Roe?" asks for a description, not a name
        describe = len(after) > 1 and after[0].lemma_ == "be" and after[1].pos_ == "PROPN"
        if describe and not any(t.pos_ == "NOUN" for t in after[1:]):
            return "any", ""
        return "person", ""
    if wh == "when":
        return "date", ""
    if wh == "where":
        return "place", ""
    if wh == "how":
        if following == "many":
            return "number", focus
        if following == "much":
            money = focus in AMOUNT_NOUNS or any(t.lemma_.lower() in PAYING_VERBS for t in tokens)
            return ("money" if money or not focus else "number"), focus
        if following in ("long",):
            return "duration", ""
        if following in ("old",):
            return "number", ""
        return "any", ""
    if wh in ("which", "what"):
        if focus in ("time", "hour"):
            return "time", ""
        if focus in TIME_NOUNS:
            return "date", ""
        if focus in PERSON_NOUNS:
            return "person", ""
        if focus in ORG_NOUNS:
            return "organisation", ""
        if focus in PLACE_NOUNS:
            return "place", ""
        if focus in AMOUNT_NOUNS and following in ("is", "was", "are", "were", "the", focus):
            return "money", ""
        if focus in THING_NOUNS or (wh == "which" and focus and focus not in KIND_NOUNS):
            return "thing", ""
        if any(t.lemma_.lower() in PAYING_VERBS for t in tokens):
            return "money", ""
    return "any", ""


def _names(doc) -> tuple[str, ...]:
    """Named things of the question: its entities (dates and numbers aside) and runs of proper nouns."""
    found = [e.text for e in doc.ents if e.label_ not in _NOT_NAMES]
    run: list[str] = []
    for t in list(doc) + [None]:
        if t is not None and t.pos_ == "PROPN" and t.i > 0:
            run.append(t.text)
            continue
        if run:
            found.append(" ".join(run))
            run = []
    seen, names = set(), []
    for name in found:
        key = name.lower().removeprefix("the ")
        if key not in seen and not any(key in s for s in seen):
            seen.add(key)
            names.append(name)
    return tuple(names)
