"""Offices and the bodies they belong to: "Who is the president of the NFL?" asks for the NFL's
president, so "Las Vegas Raiders president Sandra Douglass Morgan" does not answer it, even in a
sentence that names the NFL elsewhere. A sentence whose every mention of the office belongs to another
body (named before it, "Raiders president", or after it, "president of the Raiders", or the body the
sentence opens with, "The Las Vegas Raiders hired ... as their new team president") is about that
body's office; one that names the asked body with the office, or the office alone, may answer. Asked
who holds it now ("Who is ..."), a sentence naming only a former holder ("Sepp Blatter, the former
president of FIFA") does not answer either.
"""

from __future__ import annotations

import re

from assistant.answering.names import larger_body, within, without_full_stop
from assistant.answering.places import country_of

ROLES = (
    "president|ceo|chief executive|chairman|chairwoman|chair|director|coach|manager|head|leader|founder|"
    "owner|governor|mayor|secretary general|spokesperson|spokesman|spokeswoman|captain"
)
_ROLE = re.compile(rf"\b(?:{ROLES})(?:e?s)?\b", re.IGNORECASE)  # "presidents of CONCACAF" too
_NAME_RUN = r"[A-Z][\w.&'’-]*(?:\s+[A-Z][\w.&'’-]*)*"
_BEFORE = re.compile(rf"({_NAME_RUN})(?:['’]s)?\s+$")
_AFTER = re.compile(rf"\s+of\s+(?:the\s+)?({_NAME_RUN})")
_FORMER = re.compile(r"\b(?:former|ex-?|then-?|onetime|one-time|previous|past|late)\s*$", re.IGNORECASE)
_NOW = re.compile(r"\bwho(?:\s+is|['’]s)\b", re.IGNORECASE)  # asks who holds it now
# "their new team president": the office of the body the sentence opens with
_POSSESSIVE = re.compile(r"\b(?:its|their)\s+(?:[\w-]+\s+){0,2}$", re.IGNORECASE)
_SUBJECT = re.compile(rf"\s*({_NAME_RUN})")
# Words that open a run of capitals without naming a body: "The president", "Former Google CEO", "It".
_OPENERS = frozenset(
    "the a an its his her their former then new acting interim vice deputy ex it they he she we this".split()
)


def asked_roles(question: str, names: list[str]) -> list[tuple[str, str, bool]]:
    """(office, body, held now) for each office the question asks about: "the president of the NFL",
    "Nintendo's CEO", "the Google CEO"; held now when it asks "who is"."""
    now = bool(_NOW.search(question))
    pairs = []
    for name in names:
        named_with_office = re.fullmatch(rf"({ROLES})\s+of\s+(?:the\s+)?(.+)", name, re.IGNORECASE)
        if named_with_office:  # "CEO of Lego" read as one name
            pairs.append((named_with_office.group(1).lower(), named_with_office.group(2), now))
            continue
        body = re.escape(name)
        pattern = rf"\b({ROLES})\s+of\s+(?:the\s+)?{body}\b|\b{body}(?:['’]s)?\s+({ROLES})\b"
        office = re.search(pattern, question, re.IGNORECASE)
        if office:
            pairs.append(((office.group(1) or office.group(2)).lower(), name, now))
    return pairs


def office_elsewhere(office: str, body: str, now: bool, sentence: str) -> str:
    """What the sentence names instead of the asked office ("the president of Las Vegas Raiders",
    "a former president"), when every mention of the office is another body's or, asked who holds it
    now, a former holder's; "" when any mention is the asked body's or stands alone."""
    other = ""
    for mention in _ROLE.finditer(sentence):
        if mention.group(0).lower() not in (office, f"{office}s", f"{office}es"):
            continue
        if now and _FORMER.search(sentence[max(0, mention.start() - 30) : mention.start()]):
            other = other or f"a former {office}"
            continue
        holder = _holder(sentence, mention.start(), mention.end())
        if country_of(holder) and not country_of(body):
            holder = ""  # "Australian director Justin Kurzel": a nationality, not another body
        if not holder or _same_body(holder, body):
            return ""
        other = other or f"the {office} of {holder}"
    return other


def _holder(sentence: str, start: int, end: int) -> str:
    named = _AFTER.match(sentence, end)  # "CEO of The LEGO Foundation." names the LEGO Foundation
    if not named:
        before = sentence[max(0, start - 80) : start]
        named = _SUBJECT.match(sentence) if _POSSESSIVE.search(before[-30:]) else _BEFORE.search(before)
    words = without_full_stop(named.group(1)).split() if named else []
    while words and words[0].lower() in _OPENERS:
        words.pop(0)
    return " ".join(words)


def _same_body(holder: str, body: str) -> bool:
    """ "FIFA" for FIFA, "the LEGO Group" for Lego, "U.S." for the United States, "National Football
    League" for the NFL; not "the LEGO Foundation" for Lego."""
    if larger_body(body, holder):
        return False  # "the LEGO Foundation" is not Lego
    if within(body, holder) or within(holder, body):
        return True
    initials = "".join(word[0] for word in holder.split() if word[0].isupper())
    if initials == body.replace(".", ""):
        return True
    country = country_of(body)
    return country is not None and country is country_of(holder)
