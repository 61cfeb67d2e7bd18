"""Stage 7, passages -> extractive answer: quote the sentences that answer the question, or refuse.

Every sentence of the retrieved passages is scored for relevance (cosine similarity to the question
and the IDF-weighted share of the question's words it holds), then held to what the question asks:

- the kind of answer: "who" needs a person or organisation the question does not name, "when" a
  date, "where" a place, "how much" an amount (named entities from spaCy, with patterns besides);
- the question's constraints (years, quarters, editions, named things: `constraints.py`), read in
  the sentence, then its passage and the passage's date;
- the asked relation: a sentence that names the subject but shares no word of what is asked about
  it ("favourite food"), and is not close in meaning, scores RELATION_PENALTY less, which most often
  takes it under the refusal threshold;
- not an echo: a sentence that only restates the question (a question-shaped snippet, a headline)
  is never the answer.

When several passages offer answers of the asked kind, each candidate gathers the scores of the
passages holding it and the best-supported one is quoted. The answer is refused below the
confidence threshold; when the best sentence failed only a constraint, the refusal carries it as
the "closest passage" with the mismatch in words.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np
from llama_index.core.schema import NodeWithScore

from assistant.answer import Answer, AnswerSentence, CitationBuilder, refused
from assistant.config import Settings
from assistant.constraints import (
    DATELINE,
    Constraints,
    Verdict,
    analyse,
    check,
    named_things,
    passage_context,
)
from assistant.embeddings import Embedder
from assistant.entities import EntityRecognizer
from assistant.grounding import (
    _AGE,
    _DATE,
    _NUMBER,
    NUMBER_WORDS,
    STOPWORDS,
    TITLE_WORDS,
    QuestionKind,
    Sentence,
    new_person_names,
    overlap,
    passage_sentences,
    question_kind,
    terms,
    tidy,
    unknown_names,
)

EXTRACTIVE = "extractive"
NEAR_DUPLICATE_COSINE = 0.9
KIND_EVIDENCE = 0.2  # a sentence holding the asked kind of answer is evidence in itself
CONSTRAINT_EVIDENCE = 0.1  # times the share of the question's constraints the sentence satisfies
AGREEMENT_EVIDENCE = 0.05  # per further passage that gives the same answer (at most two)
CONTEXT_BONUS = 0.1
CONTEXT_OVERLAP = 0.5  # share of a sentence's terms found in the previous answer to count as repeating it
RELATION_COSINE = 0.5  # a sentence sharing no word of the asked relation must be at least this close,
RELATION_PENALTY = 0.15  # or it loses this much
ECHO_SHARE = 0.8  # a sentence whose words are this much the question's own restates it
UNMENTIONED_PENALTY = 0.15  # per named thing of the question the passage never names
VOTE_MARGIN = 0.1
PROXIMITY_FLOOR = 0.5  # weight of a candidate far from every question word
PROXIMITY_CHARS = 40  # sentences this close to the best one vote for their candidate answers
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
_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
COMPETING = re.compile(
    r"\b(?:won|win|wins|winner|winners|beat|beaten|defeated|lost|runner-up|runners-up|champions?|"
    r"finalists?|qualified|medals?|title)\b",
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
# Words that frame a question rather than name what is asked ("what is the release date of X").
FRAME_WORDS = frozenset(
    terms(
        "name date time year day month release released happen happened new current latest recent "
        "take place location first last"
    )  # fmt: skip
)


@dataclass
class Scored:
    sentence: Sentence
    semantic: float
    lexical: float
    answers: list[tuple[str, float]]  # candidate answers of the asked kind, each with a weight
    fits: bool  # holds an answer of the asked kind
    verdict: Verdict = field(default_factory=Verdict)
    relation: bool = True  # shares the asked relation (a word of it, or closeness in meaning)
    echo: bool = False
    bonus: float = 0.0

    @property
    def score(self) -> float:
        missing = UNMENTIONED_PENALTY * len(self.verdict.unmentioned)
        unrelated = 0.0 if self.relation else RELATION_PENALTY
        return self.semantic * 0.5 + self.lexical * 0.5 + self.bonus - missing - unrelated

    @property
    def eligible(self) -> bool:
        return self.fits and self.verdict.ok and not self.echo


@dataclass
class Choice:
    """The extractive answerer's decision before refusal: the chosen sentences and the evidence."""

    scored: list[Scored]
    vectors: np.ndarray
    chosen: list[int]
    confidence: float
    answer: str = ""  # the candidate answer quoted, when the question asks for a kind of answer
    closest: int | None = None  # the best sentence that failed a constraint, when it beats the chosen one
    constraints: Constraints = field(default_factory=Constraints)
    margin: float = 1.0  # the chosen answer's lead over the next candidate, 0-1
    agreeing: int = 1  # articles giving the chosen answer


def score_sentences(
    question: str,
    query: str,
    passages: list[NodeWithScore],
    embedder: Embedder,
    recognizer: EntityRecognizer | None,
    *,
    context: str = "",
    today: dt.date | None = None,
) -> tuple[list[Scored], np.ndarray, Constraints]:
    """Each passage sentence scored against the question and checked against what it asks.

    Semantic: cosine similarity to the question (averaged with the standalone `query` when a
    follow-up was expanded). Lexical: the IDF-weighted share of question terms the sentence contains,
    the IDF taken over the candidate sentences, so that words every passage shares count for little;
    the question's own words weigh double those carried over from earlier turns.

    `context` is the previous answer in a conversation: a follow-up is most often answered next to
    it, so sentences of the passage it came from gain CONTEXT_BONUS, and sentences that repeat it
    lose as much.
    """
    sentences = passage_sentences(passages)
    constraints = analyse(query, today)
    if not sentences:
        return [], np.zeros((0, embedder.dimension)), constraints
    vectors = np.array(embedder.encode_cached([s.text for s in sentences]))
    similarity = vectors @ np.array(embedder.get_query_embedding(question))
    if query != question:
        similarity = (similarity + vectors @ np.array(embedder.get_query_embedding(query))) / 2
    sentence_terms = [set(terms(s.text)) for s in sentences]
    document_frequency = Counter(t for found in sentence_terms for t in found)
    own = set(terms(question))
    weights = {
        t: math.log((len(sentences) + 1) / (document_frequency[t] + 0.5)) * (2 if t in own else 1)
        for t in own | set(terms(query))
    }
    total = sum(weights.values()) or 1.0
    kind = question_kind(question)
    asked = f"{question} {query}"
    answers = _candidates(kind, sentences, question, asked, recognizer)
    articles: dict[str, list[str]] = defaultdict(list)
    for p in passages:
        articles[p.node.metadata.get("doc_id", "")].append(p.node.get_content())
    contexts = [
        passage_context(
            p.node.get_content(),
            p.node.metadata.get("title", ""),
            p.node.metadata.get("section", ""),
            p.node.metadata.get("published", ""),
            "\n".join(articles[p.node.metadata.get("doc_id", "")]),
        )
        for p in passages
    ]
    relation = _relation_terms(question)
    follow_up = query != question  # what is asked may lie in the earlier turn's words
    question_terms = set(terms(asked))
    scored = []
    for s, sim, found, candidates in zip(sentences, similarity, sentence_terms, answers, strict=True):
        heading_terms = set(terms(contexts[s.passage].heading))
        scored.append(
            Scored(
                s,
                float(sim),
                sum(w for t, w in weights.items() if t in found) / total,
                candidates,
                fits=bool(candidates) if kind.kind != "any" else True,
                verdict=check(constraints, s.text, contexts[s.passage]),
                relation=follow_up
                or not relation
                or bool(relation & (found | heading_terms))
                or sim >= RELATION_COSINE,
                echo=_is_echo(s.text, found, question_terms, candidates),
            )
        )
    if context:
        earlier = terms(context)
        repeats = [overlap(earlier, list(found)) >= CONTEXT_OVERLAP for found in sentence_terms]
        in_context = {s.sentence.passage for s, repeat in zip(scored, repeats, strict=True) if repeat}
        for item, repeat in zip(scored, repeats, strict=True):
            if repeat:
                item.bonus = -CONTEXT_BONUS
            elif item.sentence.passage in in_context:
                item.bonus = CONTEXT_BONUS
    return scored, vectors, constraints


def choose(
    question: str,
    query: str,
    passages: list[NodeWithScore],
    embedder: Embedder,
    recognizer: EntityRecognizer | None,
    settings: Settings,
    *,
    context: str = "",
    today: dt.date | None = None,
) -> Choice:
    """The sentences to quote and the confidence that they answer the question."""
    scored, vectors, constraints = score_sentences(
        question, query, passages, embedder, recognizer, context=context, today=today
    )
    kind = question_kind(question)
    eligible = [i for i, s in enumerate(scored) if s.eligible]
    failed = [i for i, s in enumerate(scored) if s.fits and s.verdict.conflicts and not s.echo]
    closest = max(failed, key=lambda i: scored[i].score) if failed else None
    if not eligible:
        return Choice(scored, vectors, [], 0.0, closest=closest, constraints=constraints)
    answer, agreeing, margin = "", 1, 1.0
    if kind.kind != "any":
        articles = [p.node.metadata.get("doc_id", "") for p in passages]
        answer, agreeing, eligible, margin = _vote(scored, eligible, articles)
    ranked = sorted(eligible, key=lambda i: _rank_key(scored[i], answer), reverse=True)
    if constraints.years and all(scored[i].verdict.unverified for i in eligible):
        # nothing says the answer is about the asked year: the nearest miss, not an answer
        return Choice(scored, vectors, [], 0.0, closest=ranked[0], constraints=constraints)
    best = scored[ranked[0]]
    confidence = best.score + CONSTRAINT_EVIDENCE * best.verdict.matched
    if kind.kind != "any":
        confidence += KIND_EVIDENCE + AGREEMENT_EVIDENCE * min(agreeing - 1, 2)
    chosen = [ranked[0]]
    for i in ranked[1:]:
        if len(chosen) >= settings.max_answer_sentences:
            break
        evidence = _rank_key(scored[i])[0] + (KIND_EVIDENCE if kind.kind != "any" else 0.0)
        close_enough = (
            scored[i].score >= best.score * settings.companion_ratio
            and evidence >= settings.refusal_threshold
        )
        repeats = max(float(vectors[i] @ vectors[j]) for j in chosen) >= NEAR_DUPLICATE_COSINE
        if close_enough and not repeats:
            chosen.append(i)
    chosen.sort(key=lambda i: (scored[i].sentence.passage, scored[i].sentence.start))
    if closest is not None and scored[closest].score <= best.score:
        closest = None  # the nearest miss is worth showing only when it beats what was found
    return Choice(
        scored, vectors, chosen, min(confidence, 1.0), answer=answer, closest=closest,
        constraints=constraints, margin=margin, agreeing=agreeing,
    )  # fmt: skip


def answer_extractively(
    question: str,
    query: str,
    passages: list[NodeWithScore],
    embedder: Embedder,
    recognizer: EntityRecognizer | None,
    settings: Settings,
    *,
    context: str = "",
    today: dt.date | None = None,
) -> Answer:
    """Quote the passage sentences that best answer the question, each followed by its marker."""
    choice = choose(question, query, passages, embedder, recognizer, settings, context=context, today=today)
    if should_refuse(question, passages, choice.confidence, settings):
        answer = refused(question, EXTRACTIVE, passages, choice.confidence)
        if choice.closest is not None:
            closest = choice.scored[choice.closest]
            builder = CitationBuilder(passages)
            n = builder.cite(closest.sentence.passage, closest.sentence.start, closest.sentence.end)
            answer.closest = {
                "citation": builder.citations[n - 1],
                "mismatch": closest.verdict.mismatch(),
            }
        return answer
    builder = CitationBuilder(passages)
    sentences = []
    for i in choice.chosen:
        sentence = choice.scored[i].sentence
        n = builder.cite(sentence.passage, sentence.start, sentence.end)
        sentences.append(AnswerSentence(tidy(sentence.text), [n]))
    return builder.answer(question, EXTRACTIVE, sentences, choice.confidence)


def should_refuse(
    question: str, passages: list[NodeWithScore], confidence: float, settings: Settings
) -> bool:
    if not passages or confidence <= 0 or confidence < settings.refusal_threshold:
        return True
    text = " ".join(p.node.get_content() for p in passages)
    return bool(unknown_names(question, text))


# --- the parts --------------------------------------------------------------------------------


def _candidates(
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
    typed = recognizer.entities([s.text for s in sentences]) if recognizer else [() for _ in sentences]
    role = _result_role(question) if kind.kind in ("name", "place", "thing") else (lambda *_: 1.0)
    anchors = set(terms(question)) - FRAME_WORDS
    years = set(re.findall(r"\b(?:19|20)\d\d\b", asked))
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
            found += [(name, 1.0, text.find(name, body)) for name in new_person_names(text[body:], asked)]
        elif kind.kind == "place":
            found += [
                (m.group(0), 0.8, m.start())
                for pattern in (_PLACE_NAME, _VENUE)
                for m in pattern.finditer(text, body)
                if _is_new(m.group(0), known, kind)
            ]
        elif kind.kind == "date":
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
        if kind.kind == "date" and years:  # "the 2021 draft" is not on a day of 2020
            found = [(c, w, start) for c, w, start in found if not _other_year(c, years)]
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


def _is_headline(text: str) -> bool:
    """Title Case text ("Vanguard's New CEO Says Advisors' Jobs ..."), where capitalised words are
    no sign of a name."""
    words = re.findall(r"[A-Za-z][\w'’]*", text)
    long_words = [w for w in words if len(w) > 3]
    return len(long_words) >= 3 and sum(w[0].isupper() for w in long_words) >= 0.7 * len(long_words)


def _other_year(candidate: str, years: set[str]) -> bool:
    found = set(re.findall(r"\b(?:19|20)\d\d\b", candidate))
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
    "Secretary of State" (a title, not a name) for "who"."""
    if kind.kind == "date":
        return bool(_DATE.search(text) or re.search(r"\d", text))
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


def _vote(
    scored: list[Scored], eligible: list[int], articles: list[str]
) -> tuple[str, int, list[int], float]:
    """The candidate answer best supported across articles. The sentences within VOTE_MARGIN of the
    best vote: each article adds, for each candidate, its best such sentence's score times the
    candidate's weight (so one article's repetitions count once), and, when the question states
    constraints, times how well the sentence meets them. Returns the answer, how many
    articles give it, the eligible sentences that hold it, and its margin over the runner-up (0-1)."""
    constrained = any(scored[i].verdict.matched or scored[i].verdict.unverified for i in eligible)
    top = max(_rank_key(scored[i])[0] for i in eligible)
    voters = [i for i in eligible if _rank_key(scored[i])[0] >= top - VOTE_MARGIN]
    support: dict[str, dict[str, float]] = defaultdict(dict)
    shown: dict[str, str] = {}
    for i in voters:
        item = scored[i]
        for candidate, weight in item.answers:
            key = _answer_key(candidate)
            if not key:
                continue
            shown.setdefault(key, candidate)
            article = articles[item.sentence.passage]
            strength = item.score * weight * (0.5 + 0.5 * item.verdict.matched if constrained else 1.0)
            support[key][article] = max(support[key].get(article, 0.0), strength)
    if not support:
        return "", 1, eligible, 1.0
    keys = _merge_partial(list(support))
    totals: dict[str, dict[str, float]] = defaultdict(dict)
    for key, passages in support.items():
        for passage, value in passages.items():
            target = totals[keys[key]]
            target[passage] = max(target.get(passage, 0.0), value)
    ranked = sorted(totals, key=lambda k: (sum(totals[k].values()), max(totals[k].values())), reverse=True)
    winner = ranked[0]
    runner_up = sum(totals[ranked[1]].values()) if len(ranked) > 1 else 0.0
    margin = 1 - runner_up / (sum(totals[winner].values()) or 1.0)
    members = {k for k in support if keys[k] == winner}
    holding = [i for i in eligible if any(_answer_key(c) in members for c, _ in scored[i].answers)]
    agreeing = len({articles[scored[i].sentence.passage] for i in holding})
    return shown.get(winner, winner), agreeing, holding, margin


def _answer_key(candidate: str) -> str:
    """Candidates that are the same answer get the same key: case, articles, ordinal suffixes and
    month spellings ("Nov. 15th" and "November 15, 2020" share "nov 15")."""
    words = re.findall(r"[\w$.]+", candidate.lower())
    words = [w.strip(".") for w in words if w not in ("the", "a", "an", "of", "on")]
    words = [re.sub(r"^(\d+)(?:st|nd|rd|th)$", r"\1", w) for w in words]
    words = [w[:3] if re.fullmatch(rf"(?i:{_MONTHS})[a-z]*", w) else w for w in words]
    return " ".join(w for w in words if w).strip()


def _merge_partial(keys: list[str]) -> dict[str, str]:
    """Map "halep" to "simona halep": a candidate whose words all lie in a longer one is the same."""
    mapping = {}
    for key in keys:
        words = set(key.split())
        longer = [k for k in keys if k != key and words < set(k.split())]
        mapping[key] = max(longer, key=len) if longer else key
    return mapping


def _rank_key(item: Scored, answer: str = "") -> tuple[float, float]:
    """Sentences rank by relevance and the share of the question's constraints they satisfy; among
    those giving the chosen answer, the surer and fuller mention of it wins (a date with its year)."""
    key = _answer_key(answer)
    weight = max((w for c, w in item.answers if key and key in _answer_key(c)), default=0.0)
    return (item.score + CONSTRAINT_EVIDENCE * item.verdict.matched + KIND_EVIDENCE * weight, item.semantic)


def _relation_terms(question: str) -> set[str]:
    """The question's words for what is asked, beyond the named things and the question's frame."""
    named = {t for name in named_things(question) for t in terms(name)}
    return set(terms(re.sub(r"\b(?:19|20)\d\d\b", " ", question))) - named - FRAME_WORDS


def _is_echo(text: str, found: set[str], question_terms: set[str], candidates: list[str]) -> bool:
    """Does the sentence only restate the question (a question-shaped snippet, a headline echo)?"""
    if text.rstrip().rstrip("…. ").endswith("?"):
        return True
    return bool(found) and not candidates and len(found & question_terms) >= ECHO_SHARE * len(found)
