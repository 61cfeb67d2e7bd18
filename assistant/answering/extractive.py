"""Stage 7, passages -> extractive answer: quote the sentences that answer the question, or refuse.

Every sentence of the retrieved passages is scored for relevance (cosine similarity to the question
and the IDF-weighted share of the question's words it holds), then held to what the question asks:

- the kind of answer: "who" needs a person or organisation the question does not name, "when" a
  date, "where" a place, "how much" an amount (named entities from spaCy, with patterns besides);
- the question's constraints (years, quarters, editions, named things: `constraints.py`), read in
  the sentence, then its passage and the passage's date;
- the asked relation: a sentence that names the subject (a named thing of the question) but shares
  no word of what is asked about it ("favourite food"), and is not close in meaning, scores
  RELATION_PENALTY less, which most often takes it under the refusal threshold;
- the relation, when it is one words can tell (`relations.py`): a sentence that states no outcome
  never answers "who won", one that states no purchase never answers "who bought";
- not an echo: a sentence that only restates the question (a question-shaped snippet, a headline)
  is never the answer.

When several passages offer answers of the asked kind, each candidate gathers the scores of the
passages holding it and the best-supported one is quoted, first from a sentence that states it in
full ("July 21, 2017" rather than "July"). The answer is refused below the
confidence threshold; when the best sentence failed only a constraint, the refusal carries it as
the "closest passage" with the mismatch in words.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np
from llama_index.core.schema import NodeWithScore

from assistant.answering.answer import Answer, AnswerSentence, CitationBuilder, refused
from assistant.answering.candidates import FRAME_WORDS, answer_key, candidates, merge_partial
from assistant.answering.constraints import (
    Constraints,
    Verdict,
    analyse,
    check,
    passage_context,
)
from assistant.answering.dates import YEAR_WORD
from assistant.answering.entities import EntityRecognizer
from assistant.answering.grounding import (
    Sentence,
    overlap,
    passage_sentences,
    question_kind,
    terms,
    tidy,
    unknown_names,
)
from assistant.answering.names import as_written, named_things
from assistant.answering.relations import asked_relations, states
from assistant.config import Settings
from assistant.library.embeddings import Embedder
from assistant.modes import AnswerMode

EXTRACTIVE = AnswerMode.EXTRACTIVE
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
VOTE_MARGIN = 0.1  # sentences this close to the best one vote for their candidate answers
DEFAULT_REFUSAL_THRESHOLD = 0.55  # `assistant calibrate` on the seed set


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
    states: bool = True  # states the relation asked about, when it is one of `relations.RELATIONS`
    bonus: float = 0.0

    @property
    def score(self) -> float:
        missing = UNMENTIONED_PENALTY * len(self.verdict.unmentioned)
        unrelated = 0.0 if self.relation else RELATION_PENALTY
        return self.semantic * 0.5 + self.lexical * 0.5 + self.bonus - missing - unrelated

    @property
    def eligible(self) -> bool:
        ok = self.verdict.ok and not self.verdict.off_subject
        return self.fits and ok and self.states and not self.echo


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
    # names typed in lower case are read as the passages write them
    written = " ".join(p.node.get_content() for p in passages)
    written_query = as_written(query, written)
    question = written_query if question == query else as_written(question, written)
    query = written_query
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
    answers = candidates(kind, sentences, question, asked, recognizer)
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
    outcome_of = asked_relations(query)  # "who won": a sentence must state an outcome
    subject = {t for name in constraints.entities for t in terms(name)}
    follow_up = query != question  # what is asked may lie in the earlier turn's words
    question_terms = set(terms(asked))
    scored = []
    for s, sim, found, held in zip(sentences, similarity, sentence_terms, answers, strict=True):
        heading_terms = set(terms(contexts[s.passage].heading))
        scored.append(
            Scored(
                s,
                float(sim),
                sum(w for t, w in weights.items() if t in found) / total,
                held,
                fits=bool(held) if kind.kind != "any" else True,
                verdict=check(constraints, s.text, contexts[s.passage]),
                relation=follow_up
                or not relation
                or not subject & found  # only a sentence naming the subject must say what is asked of it
                or bool(relation & (found | heading_terms))
                or sim >= RELATION_COSINE,
                echo=_is_echo(s.text, found, question_terms, held),
                states=states(outcome_of, s.text, query),
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
    answer, agreeing = "", 1
    if kind.kind != "any":
        articles = [p.node.metadata.get("doc_id", "") for p in passages]
        answer, agreeing, eligible = _vote(scored, eligible, articles)
    ranked = sorted(eligible, key=lambda i: _rank_key(scored[i], answer), reverse=True)
    if constraints.years and all(scored[i].verdict.unverified for i in eligible):
        # nothing says the answer is about the asked year: the nearest miss, not an answer
        return Choice(scored, vectors, [], 0.0, closest=ranked[0], constraints=constraints)
    best = scored[ranked[0]]
    # the answer quoted in full comes first ("released on July 21, 2017" before "slated for July");
    # the confidence stays that of the best sentence giving it in any form
    ranked.sort(key=lambda i: not _states_in_full(scored[i], answer))
    confidence = best.score + CONSTRAINT_EVIDENCE * best.verdict.matched
    if kind.kind != "any":
        confidence += KIND_EVIDENCE + AGREEMENT_EVIDENCE * min(agreeing - 1, 2)
    chosen = [ranked[0]]
    for i in ranked[1:]:
        if len(chosen) >= settings.max_answer_sentences:
            break
        evidence = _rank_key(scored[i])[0] + (KIND_EVIDENCE if kind.kind != "any" else 0.0)
        close_enough = scored[
            i
        ].score >= best.score * settings.companion_ratio and evidence >= refusal_threshold(settings)
        repeats = max(float(vectors[i] @ vectors[j]) for j in chosen) >= NEAR_DUPLICATE_COSINE
        if close_enough and not repeats:
            chosen.append(i)
    chosen.sort(key=lambda i: (scored[i].sentence.passage, scored[i].sentence.start))
    if closest is not None and scored[closest].score <= best.score:
        closest = None  # the nearest miss is worth showing only when it beats what was found
    return Choice(
        scored, vectors, chosen, min(confidence, 1.0), answer=answer, closest=closest,
        constraints=constraints, agreeing=agreeing,
    )  # fmt: skip


def answer_extractively(
    question: str, passages: list[NodeWithScore], choice: Choice, settings: Settings
) -> Answer:
    """Quote the chosen sentences, each followed by its marker; or refuse (see `choose`)."""
    if should_refuse(question, passages, choice.confidence, settings):
        return refusal(question, EXTRACTIVE, passages, choice)
    builder = CitationBuilder(passages)
    sentences = []
    for i in choice.chosen:
        sentence = choice.scored[i].sentence
        n = builder.cite(sentence.passage, sentence.start, sentence.end)
        sentences.append(AnswerSentence(tidy(sentence.text), [n]))
    return builder.answer(question, EXTRACTIVE, sentences, choice.confidence)


def refusal(question: str, mode: str, passages: list[NodeWithScore], choice: Choice) -> Answer:
    """The refusal, carrying the closest passage and its mismatch when a constraint ruled it out."""
    answer = refused(question, mode, passages, choice.confidence)
    if choice.closest is not None:
        closest = choice.scored[choice.closest]
        builder = CitationBuilder(passages)
        n = builder.cite(closest.sentence.passage, closest.sentence.start, closest.sentence.end)
        answer.closest = {"citation": builder.citations[n - 1], "mismatch": closest.verdict.mismatch()}
    return answer


def should_refuse(
    question: str, passages: list[NodeWithScore], confidence: float, settings: Settings
) -> bool:
    if not passages or confidence <= 0 or confidence < refusal_threshold(settings):
        return True
    text = " ".join(p.node.get_content() for p in passages)
    return bool(unknown_names(question, text))


def refusal_threshold(settings: Settings) -> float:
    """The configured threshold, else DEFAULT_REFUSAL_THRESHOLD."""
    return DEFAULT_REFUSAL_THRESHOLD if settings.refusal_threshold is None else settings.refusal_threshold


# --- the parts --------------------------------------------------------------------------------


def _vote(scored: list[Scored], eligible: list[int], articles: list[str]) -> tuple[str, int, list[int]]:
    """The candidate answer best supported across articles. The sentences within VOTE_MARGIN of the
    best vote: each article adds, for each candidate, its best such sentence's score times the
    candidate's weight (so one article's repetitions count once), and, when the question states
    constraints, times how well the sentence meets them. Returns the answer, how many
    articles give it, and the eligible sentences that hold it."""
    constrained = any(scored[i].verdict.matched or scored[i].verdict.unverified for i in eligible)
    top = max(_rank_key(scored[i])[0] for i in eligible)
    voters = [i for i in eligible if _rank_key(scored[i])[0] >= top - VOTE_MARGIN]
    shown: dict[str, str] = {}
    for i in eligible:
        for candidate, _ in scored[i].answers:
            shown.setdefault(answer_key(candidate), candidate)
    shown.pop("", None)
    if not shown:
        return "", 1, eligible
    # "July" and "July 21, 2017" are one answer, even when the fuller form is in a sentence that
    # does not vote
    group = merge_partial(list(shown))
    totals: dict[str, dict[str, float]] = defaultdict(dict)
    for i in voters:
        item = scored[i]
        article = articles[item.sentence.passage]
        strength = item.score * (0.5 + 0.5 * item.verdict.matched if constrained else 1.0)
        for candidate, weight in item.answers:
            key = answer_key(candidate)
            if key:
                votes = totals[group[key]]
                votes[article] = max(votes.get(article, 0.0), strength * weight)
    if not totals:
        return "", 1, eligible
    winner = max(totals, key=lambda k: (sum(totals[k].values()), max(totals[k].values())))
    members = {k for k in shown if group[k] == winner}
    holding = [i for i in eligible if any(answer_key(c) in members for c, _ in scored[i].answers)]
    agreeing = len({articles[scored[i].sentence.passage] for i in holding})
    return shown[winner], agreeing, holding


def _rank_key(item: Scored, answer: str = "") -> tuple[float, float]:
    """Sentences rank by relevance and the share of the question's constraints they satisfy; among
    those giving the chosen answer, the surer and fuller mention of it wins (a date with its year)."""
    key = answer_key(answer)
    weight = max((w for c, w in item.answers if key and key in answer_key(c)), default=0.0)
    return (item.score + CONSTRAINT_EVIDENCE * item.verdict.matched + KIND_EVIDENCE * weight, item.semantic)


def _states_in_full(item: Scored, answer: str) -> bool:
    key = answer_key(answer)
    return any(answer_key(c) == key for c, _ in item.answers)


def _relation_terms(question: str) -> set[str]:
    """The question's words for what is asked, beyond the named things and the question's frame."""
    named = {t for name in named_things(question) for t in terms(name)}
    return set(terms(YEAR_WORD.sub(" ", question))) - named - FRAME_WORDS


def _is_echo(text: str, found: set[str], question_terms: set[str], held: list) -> bool:
    """Does the sentence only restate the question (a question-shaped snippet, a headline echo)?"""
    if text.rstrip().rstrip("…. ").endswith("?"):
        return True
    return bool(found) and not held and len(found & question_terms) >= ECHO_SHARE * len(found)
