"""Grounding: how well a sentence answers a question, and whether a sentence is backed by a passage.

Pure text logic shared by the answerers: content terms, the kind of answer a question asks for, the
sentences of retrieved passages with their offsets in the article, and `[n]` citation markers.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from llama_index.core.schema import NodeWithScore

from assistant.library.chunking import sentence_spans
from assistant.library.parsing import chunk_sentences

STOPWORDS = frozenset(
    "a about above after again against all also am an and any are as at be because been before being "
    "below between both but by can could did do does doing down during each even few for from further "
    "had has have having he her here hers herself him himself his how i if in into is it its itself "
    "just me might more most much must my myself no nor not now of off on once only or other our ours "
    "ourselves out over own same shall she should so some such than that the their theirs them "
    "themselves then there these they this those through to too under until up upon us very was we "
    "were what when where which while who whom whose why will with would you your yours yourself "
    "yourselves according article articles say said says tell told".split()
)
TITLE_WORDS = frozenset(
    "secretary state deputy minister ministers president vice prime chancellor department foreign "
    "affairs general senator ambassador spokesperson spokesman spokeswoman official officials".split()
)
PLACE_WORDS = frozenset(
    "house street square hall palace office building headquarters city river sea ocean island islands "
    "bay park airport station bridge council parliament ministry agency union".split()
)
MONTHS = "January February March April June July August September October November December"
WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday"
_DATE = re.compile(  # capitalised month names; "May" only next to a number or after "in"
    rf"\b(?:{'|'.join(MONTHS.split() + WEEKDAYS.split())}|May \d|\d{{1,2}} May|in May|(?:19|20)\d\d|"
    r"(?i:yesterday|today|tomorrow|tonight)|\d{1,2}:\d\d|\d{1,2}\s?(?i:a\.m\.|p\.m\.|am|pm))\b"
)
NUMBER_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve fifteen twenty thirty forty fifty "
    "hundred hundreds thousand thousands million millions billion billions dozen dozens"
)
_NUMBER = re.compile(rf"\d|\b(?:{'|'.join(NUMBER_WORDS.split())})\b", re.IGNORECASE)
_AGE = re.compile(r"\b\d+[- ]years?[- ]old\b|\baged? \d+|\bborn (?:in|on)\b", re.IGNORECASE)
_WORD = re.compile(r"(?:[^\W\d_]\.){2,}|[^\W_]+(?:[’'-][^\W_]+)*")  # "U.S." stays one word
_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+")
MARKER = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_TRAILING_MARKERS = re.compile(r"([.!?])((?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])+)")


@functools.cache
def _porter():
    from nltk.stem.porter import PorterStemmer

    return PorterStemmer()


# Irregular forms the stemmer leaves apart: "won" and "winner" match "win", "spoke" matches "speak".
IRREGULAR = {
    "won": "win", "wins": "win", "winning": "win", "winner": "win", "winners": "win", "spoke": "speak",
    "spoken": "speak", "went": "go", "gone": "go", "bought": "buy", "sold": "sell", "paid": "pay",
    "chose": "choose", "chosen": "choose", "took": "take", "taken": "take", "met": "meet",
    "held": "hold", "beaten": "beat", "founded": "found", "founder": "found",
}  # fmt: skip


@functools.lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return _porter().stem(IRREGULAR.get(word, word))


def terms(text: str) -> list[str]:
    """Stemmed content words: lower-cased, possessives and stopwords dropped."""
    words = (w.lower().replace("’", "'").rstrip(".") for w in _WORD.findall(text))
    return [_stem(w.removesuffix("'s")) for w in words if w.removesuffix("'s") not in STOPWORDS]


def overlap(wanted: list[str], found: list[str]) -> float:
    """Share of the distinct `wanted` terms that occur in `found` (0 when nothing is wanted)."""
    wanted_set = set(wanted)
    return len(wanted_set & set(found)) / len(wanted_set) if wanted_set else 0.0


@dataclass(frozen=True)
class QuestionKind:
    """What an answer must contain: a name, a date, a place, a number or amount (of `counted`), an
    age, a named thing (a film, a product), or anything."""

    kind: str  # "name", "date", "place", "number", "money", "age", "thing" or "any"
    counted: str = ""  # stemmed noun after "how many/much", which the answer must mention


PLACE_NOUNS = (
    "city cities country countries state states town venue stadium place location nation nations "
    "continent region county capital capitals"
)
THING_NOUNS = (
    "movie film book song show game album series novel play app product device headset car model brand award"
)
PEOPLE_NOUNS = (
    "person people actor actress director player team company club singer author writer artist band group "
    "firm organisation organization man woman athlete driver candidate official officials minister "
    "diplomat leader spokesperson politician agency"
)
MONEY_WORDS = re.compile(
    r"\b(?:cost|costs|pay|paid|worth|price|prices|sell|sold|spend|spent|raise|raised|revenue|revenues|"
    r"earn|earned|earnings|salary|budget|valuation|profit|profits|sales|acquire|acquired|buy|bought)\b"
)
_LEAD = r"(?:and |so |but |then )?"


def question_kind(question: str) -> QuestionKind:
    q = question.lower().strip()
    if re.match(
        rf"{_LEAD}(?:when\b|(?:on |at |by |in )?what (?:date|day|time|year|month)\b)", q
    ) or re.search(
        r"\b(?:what|which) (?:date|day|time|year|month)\b|\b(?:release|premiere|launch|air) date\b|"
        r"\bdate (?:of|for)\b",
        q,
    ):
        return QuestionKind("date")
    match = re.search(r"\bhow (?:many|much)\s+([^\W\d_]+)", q)
    if match:  # "how many troops" must mention troops; "how much does it cost" any amount
        counted = match.group(1)
        if re.search(r"\bhow much\b", q) and (MONEY_WORDS.search(q) or counted in ("money", "cash")):
            return QuestionKind("money")
        return QuestionKind("number", "" if counted in STOPWORDS else _stem(counted))
    if re.search(r"\bhow old\b", q):
        return QuestionKind("age")
    if re.match(
        rf"{_LEAD}what (?:is|was|were|are) (?:the )?\S+(?:'s)? (?:revenue|price|cost|salary|budget|"
        r"valuation|profit|sales|net worth)\b",
        q,
    ) or re.search(r"\b(?:revenue|price|cost|salary|budget|valuation|profit|net worth) (?:of|in|for)\b", q):
        return QuestionKind("money")
    if re.match(rf"{_LEAD}where\b", q) or re.search(
        rf"\b(?:which|what) (?:{'|'.join(PLACE_NOUNS.split())})\b|\blocation\b", q
    ):
        return QuestionKind("place")
    if re.search(rf"\b(?:which|what) (?:{'|'.join(PEOPLE_NOUNS.split())})\b", q):
        return QuestionKind("name")
    if re.search(rf"\b(?:which|what) (?:{'|'.join(THING_NOUNS.split())})\b|\bwhat is the name of\b", q):
        return QuestionKind("thing")
    if re.match(rf"{_LEAD}(?:who|whom)\b", q) and not re.match(
        rf"(?i:{_LEAD}who (?:is|was|are|were)) [A-Z][\w.-]*\b(?!['’]s)", question.strip()
    ):  # "who went?" and "who is Germany's foreign minister?" want a name; "who is Oana Lungescu?"
        # wants a description
        return QuestionKind("name")
    return QuestionKind("any")


def new_person_names(sentence: str, asked: str) -> list[str]:
    """Names the question does not mention: runs of two or more capitalised words, titles split off
    ("Secretary of State Christopher Landau" gives "Christopher Landau"), place names ("White House")
    left out. A "who" answer needs one."""
    known = {w.lower() for w in _WORD.findall(asked)}
    found = []
    for run in _NAME.findall(sentence):
        parts: list[list[str]] = [[]]
        for word in run.split():
            if word.lower() in TITLE_WORDS or (word.lower() in STOPWORDS and not parts[-1]):
                # a title ends a name; a capitalised "With" or "While" before one is no part of it
                parts.append([])
            else:
                parts[-1].append(word)
        for words in parts:
            lowered = [w.lower() for w in words]
            if len(words) >= 2 and lowered[-1] not in PLACE_WORDS and not set(lowered) & known:
                found.append(" ".join(words))
    return found


def unknown_names(question: str, text: str) -> list[str]:
    """Multi-word names in the question (e.g. "Olaf Scholz") of which no word appears in `text`."""
    lowered = text.lower()
    return [
        name
        for name in _NAME.findall(question)
        if not any(part.lower() in lowered for part in name.split()[1:])
    ]


@dataclass
class Sentence:
    """A sentence of a retrieved passage, with its place in the article."""

    passage: int  # index into the retrieved passages
    start: int  # offsets into the article text
    end: int
    text: str


def passage_sentences(passages: list[NodeWithScore]) -> list[Sentence]:
    """Sentences of the passages (`library.parsing.chunk_sentences`: a search snippet's cuts apart,
    headings left out), each once where chunks overlap."""
    seen: set[tuple[str, int]] = set()
    sentences = []
    for index, result in enumerate(passages):
        meta = result.node.metadata
        text = result.node.get_content()
        for s, e in chunk_sentences(text, meta.get("title", ""), meta.get("section", "")):
            key = (meta["doc_id"], meta["start_char"] + s)
            if key in seen:
                continue
            seen.add(key)
            sentences.append(Sentence(index, meta["start_char"] + s, meta["start_char"] + e, text[s:e]))
    return sentences


def split_marked_sentences(answer: str) -> list[tuple[str, list[int]]]:
    """Split generated text into sentences, each with the marker numbers it carries (markers removed)."""
    answer = _TRAILING_MARKERS.sub(r"\2\1", answer)  # "said so. [1]" -> "said so [1]."
    result = []
    for s, e in sentence_spans(answer):
        chunk = answer[s:e]
        numbers = [int(n) for group in MARKER.findall(chunk) for n in re.split(r"[,;]", group)]
        text = " ".join(MARKER.sub("", chunk).split())
        if re.fullmatch(r"[\W\d]*", text):  # a stray marker or punctuation: belongs to the previous
            if result and numbers:
                result[-1][1].extend(numbers)
            continue
        result.append((text, numbers))
    return result


def tidy(text: str) -> str:
    """One line, single spaces: how an article sentence is quoted in an answer. Bracketed numbers the
    article itself holds ("[2]", "[-1]") become "(2)", so they cannot pass for the answer's markers."""
    return _ARTICLE_MARKER.sub(r"(\1)", " ".join(text.split()))


_ARTICLE_MARKER = re.compile(r"\[\s*(-?\d{1,4})\s*\]")
