"""The relation a question asks about, for the few relations news asks most and words alone can tell:
who won (a contest's outcome), who came second, who bought what, who founded what, who died, when
something came out and when it was announced ("announced on January 23" does not say when it came out).

A sentence answers such a question only if it states that relation in some form: "Halep beat
Williams" or "the 2019 champion" state an outcome, "Serena Williams and Johanna Konta meet in the
first round" does not, however close it is to "Who won Wimbledon in 2019?", nor does an indirect
question ("results, and who is winning the race"). Each family lists the words that ask about the
relation and the words that state it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Relation:
    name: str
    asked: re.Pattern  # the question asks about it
    stated: re.Pattern  # a sentence states it
    pending: re.Pattern | None = None  # ... or only says it is still to come ("will be announced")


def _words(pattern: str) -> re.Pattern:
    return re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE)


OUTCOME = Relation(
    "outcome",
    _words(r"won|win|wins|winners?|beat|beaten|defeated|runners?-up|champions?|finalists?|medals?"),
    _words(
        r"won|wins?|winning|winners?|beat|beats|beating|beaten|defeat(?:s|ed|ing)?|lost|loses|los(?:ing|er)|"
        r"runners?-up|champions?|championships?|titles?|victory|victories|victorious|triumph\w*|crowned|"
        r"clinch\w*|captur\w*|claim\w*|gold|silver|bronze|medals?|took home|finished (?:first|second)|"
        r"edged|overcame|outlasted|routed|upset|swept|prevailed"
    ),
    _words(
        r"(?:will|would|to) be (?:announced|named|revealed|decided|awarded|crowned|presented|determined)|"
        r"(?:will|could|would|might|may|hopes? to|bids? to|set to|expected to) (?:win|claim|capture|clinch|"
        r"defend)|shot at|chance to win|favou?rites? to win|contenders?"
    ),
)
LOSS = Relation(
    "loss",
    _words(r"runners?-up|loser|lost to|losing finalist|was beaten|were beaten|finished second"),
    _words(
        r"runners?-up|lost|loses|losing|loser|beat|beats|beaten|defeat(?:s|ed|ing)?|over|against|edged|"
        r"finalists?|second place|finished second|silver"
    ),
)
ACQUISITION = Relation(
    "acquisition",
    _words(r"acquired?|acquires|acquisition|bought|buys?|purchased?"),
    _words(
        r"acqui\w*|bought|buys?|buying|buyer|purchas\w*|takeover|took over|taken over|merg\w*|deal|"
        r"sold|sells?|sale"
    ),
)
FOUNDING = Relation(
    "founding",
    _words(r"founded|co-founded|founders?|established"),  # not "found": "Where was the wreck found?"
    _words(r"found(?:s|ed|ing|ers?)|co-?found\w*|establish\w*|started|creat\w*|launch\w*|set up|formed"),
)
DEATH = Relation(
    "death",
    _words(r"died|dies?|death|killed|passed away"),
    _words(r"died|dies|dead|death|killed|passed away|obituary|late|funeral"),
)
RELEASE = Relation(
    "release",
    _words(r"released?|release date|come out|came out|launch(?:ed)?|launch date|hit (?:shelves|stores)"),
    _words(
        r"releas\w*|launch\w*|came out|comes? out|out now|arriv\w*|debut\w*|available|availability|"
        r"hits?|hit (?:shelves|stores)|on sale|in stores|ship(?:s|ped|ping)?|drops?|dropped|premier\w*|"
        r"air(?:s|ed)?|opened|opens|published|issued|rolled out|rolls out"
    ),
)
ANNOUNCEMENT = Relation(
    "announcement",
    _words(r"announced|unveiled|revealed"),
    _words(
        r"announc\w*|unveil\w*|reveal\w*|introduc\w*|launch\w*|debut\w*|present\w*|show(?:ed|n|s)? off|"
        r"showcas\w*|confirm\w*|official|officially|teas\w*|event"
    ),
)
RELATIONS = (OUTCOME, LOSS, ACQUISITION, FOUNDING, DEATH, RELEASE, ANNOUNCEMENT)
_FUTURE_QUESTION = _words(r"will|would|could|might|going to|expected to|favou?rites?")


# "see who is winning", "and which team won": a wh-word after a word that asks or reports a question,
# at most two words before the match ("Biden, who won", "the player who won" state it)
_ASKING = re.compile(
    r"\b(?:see|find out|found out|know|learn|check|shows?|tells?|reveal\w*|decid\w*|determin\w*|"
    r"predict\w*|guess\w*|wonder\w*|ask\w*|about|over|and|or)\s+(?:who|which)(?:\s+[\w'’-]+){0,2}\s+$",
    re.IGNORECASE,
)


def asked_relations(question: str) -> tuple[Relation, ...]:
    """The relations of RELATIONS the question asks about."""
    return tuple(r for r in RELATIONS if r.asked.search(question))


def states(relations: tuple[Relation, ...], sentence: str, question: str = "") -> bool:
    """Does the sentence state every asked relation (in some form), as done rather than still to
    come ("the winner will be announced on Monday"), unless the question asks what is to come?"""
    future = bool(_FUTURE_QUESTION.search(question))
    return all(
        _says(r.stated, sentence) and (future or not (r.pending and r.pending.search(sentence)))
        for r in relations
    )


def _says(words: re.Pattern, sentence: str) -> bool:
    """Does the sentence use one of the words other than in an indirect question ("see who is
    winning", "which team won"), which names the relation without stating it?"""
    return any(not _ASKING.search(sentence, 0, m.start()) for m in words.finditer(sentence))
