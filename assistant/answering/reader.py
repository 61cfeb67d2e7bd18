"""Stage 7, passages -> extractive answer: the general reader.

The question is analysed once (`question.py`); the passages' sentences come parsed from the index
(`library/parsing.py`); every candidate answer is described by the signals of `features.py` and
weighed by a logistic model fitted on several question sets at once (`reader.json`, written by
`python -m assistant.evaluation.fit`). Its output is a probability that the candidate answers the
question; the best candidate's is the answer's confidence, and below the fitted threshold (the one
that maximises right answers minus twice the wrong ones over the pooled sets) the reader refuses.
The answer quotes the sentence that holds the best candidate, and gives the candidate itself as the
short answer.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from llama_index.core.schema import NodeWithScore

from assistant.answering.answer import Answer, AnswerSentence, CitationBuilder, refused
from assistant.answering.features import FEATURES, Candidate, candidates
from assistant.answering.grounding import Sentence, passage_sentences, tidy
from assistant.answering.question import Question, analyse_question
from assistant.config import Settings
from assistant.library.embeddings import Embedder
from assistant.library.parsing import PARSES_KEY, Parser
from assistant.modes import AnswerMode

EXTRACTIVE = AnswerMode.EXTRACTIVE
MODEL_FILE = Path(__file__).with_name("reader.json")
NEAR_DUPLICATE_COSINE = 0.9


# What the calibrator reads of a question's best candidate, besides its score, its lead over the best
# other answer and its share of the candidates' weight.
CALIBRATION_FEATURES = (
    "semantic", "semantic_gap", "clause_semantic", "lexical", "clause", "focus", "focus_path", "role",
    "descriptor", "qualifier_conflict", "type_preferred", "names_sentence", "names_passage", "year_match",
    "year_conflict", "article_year_conflict", "agreement", "out_of_period", "sentence_answer",
)  # fmt: skip
_BASE_INPUTS = ("score", "margin", "share", *CALIBRATION_FEATURES)
# A close match means less in a search snippet than in an article's text: each input has a second
# weight that applies to snippets only.
CALIBRATION_INPUTS = (*_BASE_INPUTS, "snippet", *(f"snippet*{name}" for name in _BASE_INPUTS))


@dataclass(frozen=True)
class Linear:
    """A linear function of standardised inputs."""

    weights: tuple[float, ...]
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        if rows.size == 0:
            return np.zeros(0)
        return ((rows - np.array(self.mean)) / np.array(self.scale)) @ np.array(self.weights) + self.bias

    @classmethod
    def zero(cls, width: int) -> Linear:
        return cls(tuple([0.0] * width), 0.0, tuple([0.0] * width), tuple([1.0] * width))

    def to_json(self) -> dict:
        return {
            "weights": [round(w, 6) for w in self.weights],
            "bias": round(self.bias, 6),
            "mean": [round(m, 6) for m in self.mean],
            "scale": [round(x, 6) for x in self.scale],
        }

    @classmethod
    def from_json(cls, data: dict) -> Linear:
        return cls(tuple(data["weights"]), data["bias"], tuple(data["mean"]), tuple(data["scale"]))


@dataclass(frozen=True)
class Model:
    """The fitted reader: a ranker that scores candidates against each other (a conditional logit),
    a calibrator that turns the best one's evidence into the probability it answers the question,
    and the refusal threshold on that probability."""

    ranker: Linear
    calibrator: Linear
    threshold: float

    def scores(self, rows: np.ndarray) -> np.ndarray:
        return self.ranker(rows)

    def confidence(self, candidates: list[Candidate], scores: np.ndarray) -> float:
        if not candidates:
            return 0.0
        z = self.calibrator(calibration_row(candidates, scores)[None, :])[0]
        return float(1 / (1 + np.exp(-z)))


def calibration_row(candidates: list[Candidate], scores: np.ndarray) -> np.ndarray:
    """The calibrator's inputs (CALIBRATION_INPUTS) for a question's candidates and their scores."""
    best = int(np.argmax(scores))
    key = candidates[best].key if candidates[best].label != "SENTENCE" else None
    others = [
        float(z)
        for c, z in zip(candidates, scores, strict=True)
        if (c.key != key if key is not None else c is not candidates[best])
    ]
    weights = np.exp(scores - scores[best])
    held = sum(w for c, w in zip(candidates, weights, strict=True) if key is not None and c.key == key) or 1.0
    features = dict(zip(FEATURES, candidates[best].features, strict=True))
    base = np.array(
        [
            float(scores[best]),
            float(scores[best] - max(others, default=scores[best] - 10.0)),
            held / weights.sum(),
        ]
        + [features[name] for name in CALIBRATION_FEATURES]
    )
    snippet = features["snippet"]
    return np.concatenate([base, [snippet], snippet * base])


@functools.cache
def load_model(path: Path = MODEL_FILE) -> Model:
    data = json.loads(path.read_text(encoding="utf-8"))
    if tuple(data["features"]) != FEATURES or tuple(data["calibration_inputs"]) != CALIBRATION_INPUTS:
        raise ValueError(f"{path} was fitted on other features; run python -m assistant.evaluation.fit")
    return Model(Linear.from_json(data["ranker"]), Linear.from_json(data["calibrator"]), data["threshold"])


@dataclass
class Reading:
    """What the reader found: the question's analysis, the candidates with their probabilities, and
    the choice."""

    question: Question
    sentences: list[Sentence]
    candidates: list[Candidate]
    scores: np.ndarray  # the ranker's score of each candidate
    vectors: np.ndarray
    chosen: list[int] = field(default_factory=list)  # sentence indices to quote
    answer: str = ""  # the short answer: the best candidate span
    confidence: float = 0.0
    closest: int | None = None  # the best sentence, when it names years but not the asked one

    @property
    def constraints(self) -> list[str]:
        parts = [str(y) for y in self.question.years] + list(self.question.names)
        if self.question.period:
            parts.append(self.question.period.describe())
        return parts

    @property
    def time(self) -> dict | None:
        return self.question.period.to_json() if self.question.period else None


def sentence_docs(sentences: list[Sentence], passages: list[NodeWithScore], parser: Parser) -> list:
    """The parse of each sentence: stored with its chunk at ingest, else parsed now."""
    stored: dict[str, object] = {}
    for p in passages:
        encoded = p.node.metadata.get(PARSES_KEY)
        if encoded:
            stored.update(parser.stored(encoded))
    missing = [s.text for s in sentences if s.text not in stored]
    parsed = dict(zip(missing, parser.parse(missing), strict=True)) if missing else {}
    return [stored.get(s.text) or parsed[s.text] for s in sentences]


def read(
    question: str,
    query: str,
    passages: list[NodeWithScore],
    embedder: Embedder,
    parser: Parser,
    *,
    asked_on: dt.date | None = None,
    model: Model | None = None,
) -> Reading:
    """Every candidate answer of the passages with the probability that it answers the question."""
    asked_on = asked_on or dt.date.today()
    kind_of = noun_kinds(embedder)
    analysed = analyse_question(query, parser.parse([query])[0], asked_on, kind_of)
    if query != question:  # a follow-up: what is asked comes from the question itself
        own = analyse_question(question, parser.parse([question])[0], asked_on, kind_of)
        analysed = _merge(own, analysed)
    sentences = passage_sentences(passages)
    if not sentences:
        return Reading(analysed, [], [], np.zeros(0), np.zeros((0, embedder.dimension)))
    docs = sentence_docs(sentences, passages, parser)
    vectors = np.array(embedder.encode_cached([s.text for s in sentences]))
    similarity = vectors @ np.array(embedder.get_query_embedding(question))
    if query != question:
        similarity = (similarity + vectors @ np.array(embedder.get_query_embedding(query))) / 2
    meta = [{**p.node.metadata, "_text": p.node.get_content()} for p in passages]
    asked = np.array(embedder.get_query_embedding(question))

    def closeness(texts: list[str]) -> np.ndarray:
        return np.array(embedder.encode_cached(texts)) @ asked

    found = candidates(analysed, sentences, docs, similarity, meta, query, _alike(embedder), closeness)
    rows = np.array([c.features for c in found]) if found else np.zeros((0, len(FEATURES)))
    model = model or load_model()
    scores = model.scores(rows)
    reading = Reading(analysed, sentences, found, scores, vectors)
    reading.confidence = model.confidence(found, scores)
    return reading


def choose(reading: Reading, settings: Settings) -> Reading:
    """The candidate to answer with, the sentences to quote and the confidence."""
    if not reading.candidates:
        return reading
    best = int(np.argmax(reading.scores))
    winner = reading.candidates[best]
    reading.answer = winner.text if winner.label != "SENTENCE" else ""
    chosen = [winner.sentence]
    if winner.label == "SENTENCE":
        # a further sentence is quoted when its weight is at least companion_ratio of the best one's
        floor = reading.scores[best] + math.log(settings.companion_ratio)
        order = np.argsort(-reading.scores)
        for i in order[1:]:
            if len(chosen) >= settings.max_answer_sentences or reading.scores[i] < floor:
                break
            s = reading.candidates[i].sentence
            if max(float(reading.vectors[s] @ reading.vectors[j]) for j in chosen) < NEAR_DUPLICATE_COSINE:
                chosen.append(s)
    reading.chosen = sorted(chosen, key=lambda s: (reading.sentences[s].passage, reading.sentences[s].start))
    year_conflict = FEATURES.index("year_conflict")
    if winner.features[year_conflict]:
        reading.closest = winner.sentence
    return reading


def answer_from(question: str, passages: list[NodeWithScore], reading: Reading, settings: Settings) -> Answer:
    """Quote the chosen sentences, each with its marker, the short answer first; or refuse."""
    threshold = refusal_threshold(settings)
    if not passages or not reading.chosen or reading.confidence < threshold:
        return refusal(question, passages, reading)
    builder = CitationBuilder(passages)
    sentences = []
    for i in reading.chosen:
        sentence = reading.sentences[i]
        n = builder.cite(sentence.passage, sentence.start, sentence.end)
        sentences.append(AnswerSentence(tidy(sentence.text), [n]))
    answer = builder.answer(question, EXTRACTIVE, sentences, reading.confidence)
    answer.short_answer = reading.answer
    best = reading.candidates[int(np.argmax(reading.scores))]
    answer.reported_on = passages[reading.sentences[best.sentence].passage].node.metadata.get("published", "")
    return answer


def refusal(question: str, passages: list[NodeWithScore], reading: Reading, mode: str = EXTRACTIVE) -> Answer:
    """The refusal, carrying the closest passage and its mismatch when the asked year ruled it out."""
    answer = refused(question, mode, passages, reading.confidence)
    if reading.closest is not None:
        sentence = reading.sentences[reading.closest]
        builder = CitationBuilder(passages)
        n = builder.cite(sentence.passage, sentence.start, sentence.end)
        years = " and ".join(str(y) for y in reading.question.years)
        answer.closest = {"citation": builder.citations[n - 1], "mismatch": f"not about {years}"}
    return answer


def refusal_threshold(settings: Settings) -> float:
    """The configured threshold, else the fitted one."""
    if settings.refusal_threshold is not None:
        return settings.refusal_threshold
    return load_model().threshold


# What each kind of answer is, in words: a noun outside the closed classes of `question.py` ("which
# comedian") asks for the kind it is closest to in meaning, when clearly so.
KINDS = {
    "person": "a person, someone",
    "organisation": "a company, team or organization",
    "place": "a place, city, country or region",
    "date": "a date, day, year or time",
    "money": "a price or amount of money",
    "thing": "a thing, product or work",
}
KIND_MARGIN = 0.05  # the closest kind must be this much closer than the next


def noun_kinds(embedder: Embedder):
    """The kind of answer a noun asks for, by its closeness in meaning to each of KINDS."""

    def kind_of(noun: str) -> str:
        if not noun:
            return "thing"
        vectors = np.array(embedder.encode_cached([noun, *KINDS.values()]))
        closeness = vectors[1:] @ vectors[0]
        first, second = np.sort(closeness)[::-1][:2]
        return list(KINDS)[int(np.argmax(closeness))] if first - second >= KIND_MARGIN else "thing"

    return kind_of


def _alike(embedder: Embedder):
    """How alike two words are in meaning (cosine of their embeddings)."""

    def alike(a: str, b: str) -> float:
        first, second = embedder.encode_cached([a, b])
        return float(np.dot(first, second))

    return alike


def _merge(own: Question, standalone: Question) -> Question:
    """A follow-up's analysis: its own answer type and focus, the standalone query's words and names."""
    from dataclasses import replace

    return replace(
        own,
        lemmas=own.lemmas | standalone.lemmas,
        names=tuple(dict.fromkeys(own.names + standalone.names)),
        years=own.years or standalone.years,
        words=own.words | standalone.words,
    )
