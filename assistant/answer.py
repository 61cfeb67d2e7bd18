"""Stage 7, passages -> answer: the extractive and LLM answerers, citations and refusal.

Every claim in an answer ends with a marker [n]; citation n names the article and the exact span of
its text (`start_char`/`end_char`) that backs the claim, so one marker is one span. The extractive
answerer quotes article sentences and can't invent text. The LLM answerer's output is checked after
generation: markers that point at no passage are dropped, each sentence is compared with the passages
it cites, sentences without markers are attributed to the passage that supports them, and sentences
that no passage supports are flagged.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field

import numpy as np
from llama_index.core.schema import NodeWithScore

from assistant.config import Settings
from assistant.embeddings import Embedder
from assistant.grounding import (
    Sentence,
    fits_kind,
    overlap,
    passage_sentences,
    question_kind,
    split_marked_sentences,
    terms,
    tidy,
    unknown_names,
)
from assistant.prompts import load_prompt

EXTRACTIVE = "extractive"
LLM = "llm"
NEAR_DUPLICATE_COSINE = 0.9
KIND_EVIDENCE = 0.2
CONTEXT_BONUS = 0.1
CONTEXT_OVERLAP = 0.5  # share of a sentence's terms found in the previous answer to count as repeating it


@dataclass(frozen=True)
class Citation:
    """Marker `n`: the span [start_char, end_char) of article `doc_id`, inside the passage `text`."""

    n: int
    doc_id: str
    title: str
    source: str
    section: str
    start_char: int
    end_char: int
    quote: str  # the cited span itself
    text: str  # the whole retrieved passage
    passage_start: int
    passage_end: int
    score: float  # the passage's retrieval score
    chunk_id: str


@dataclass
class AnswerSentence:
    text: str
    citations: list[int]
    supported: bool = True


@dataclass
class Answer:
    question: str
    answer: str
    refused: bool
    mode: str
    citations: list[Citation] = field(default_factory=list)
    related: list[dict] = field(default_factory=list)
    sentences: list[AnswerSentence] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    standalone_question: str = ""
    confidence: float = 0.0
    retrieved: list[dict] = field(default_factory=list)  # every retrieved passage, best first

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "standalone_question": self.standalone_question,
            "answer": self.answer,
            "refused": self.refused,
            "mode": self.mode,
            "confidence": round(self.confidence, 4),
            "citations": [asdict(c) for c in self.citations],
            "related": self.related,
            "sentences": [asdict(s) for s in self.sentences],
            "warnings": self.warnings,
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "retrieved": [
                {"chunk_id": p["chunk_id"], "doc_id": p["doc_id"], "score": p["score"]}
                for p in self.retrieved
            ],
        }


@dataclass
class Scored:
    sentence: Sentence
    semantic: float
    lexical: float
    fits: bool
    bonus: float = 0.0

    @property
    def score(self) -> float:
        return self.semantic * 0.5 + self.lexical * 0.5 + self.bonus


def refusal_text() -> str:
    return load_prompt("refusal").render()


def score_sentences(
    question: str, query: str, passages: list[NodeWithScore], embedder: Embedder, context: str = ""
) -> tuple[list[Scored], np.ndarray]:
    """Each passage sentence scored against the question, and the sentences' vectors.

    Semantic: cosine similarity to the question (averaged with the standalone `query` when a
    follow-up was expanded). Lexical: the IDF-weighted share of question terms the sentence contains,
    the IDF taken over the candidate sentences, so that words every passage shares count for little;
    the question's own words weigh double those carried over from earlier turns.

    `context` is the previous answer in a conversation: a follow-up is most often answered next to
    it, so sentences of the passage it came from gain CONTEXT_BONUS, and sentences that repeat it
    lose as much.
    """
    sentences = passage_sentences(passages)
    if not sentences:
        return [], np.zeros((0, embedder.dimension))
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
    scored = [
        Scored(
            s,
            float(sim),
            sum(w for t, w in weights.items() if t in found) / total,
            fits_kind(kind, s.text, asked),
        )
        for s, sim, found in zip(sentences, similarity, sentence_terms, strict=True)
    ]
    if context:
        earlier = terms(context)
        repeats = [overlap(earlier, list(found)) >= CONTEXT_OVERLAP for found in sentence_terms]
        in_context = {s.sentence.passage for s, repeat in zip(scored, repeats, strict=True) if repeat}
        for item, repeat in zip(scored, repeats, strict=True):
            if repeat:
                item.bonus = -CONTEXT_BONUS
            elif item.sentence.passage in in_context:
                item.bonus = CONTEXT_BONUS
    return scored, vectors


def confidence_of(question: str, scored: list[Scored]) -> float:
    """How well the best sentence of the right kind answers the question: the refusal signal.

    When the question asks for a name, date or number, a sentence holding one is evidence in itself.
    """
    best = max((s.score for s in scored if s.fits), default=0.0)
    if best and question_kind(question).kind != "any":
        best += KIND_EVIDENCE
    return min(best, 1.0)


def should_refuse(
    question: str, passages: list[NodeWithScore], confidence: float, settings: Settings
) -> bool:
    if not passages or confidence <= 0 or confidence < settings.refusal_threshold:
        return True
    text = " ".join(p.node.get_content() for p in passages)
    return bool(unknown_names(question, text))


def answer_extractively(
    question: str,
    query: str,
    passages: list[NodeWithScore],
    embedder: Embedder,
    settings: Settings,
    context: str = "",
) -> Answer:
    """Quote the passage sentences that best answer the question, each followed by its marker."""
    scored, vectors = score_sentences(question, query, passages, embedder, context)
    confidence = confidence_of(question, scored)
    if should_refuse(question, passages, confidence, settings):
        return refused(question, EXTRACTIVE, passages, confidence)
    ranked = sorted((i for i, s in enumerate(scored) if s.fits), key=lambda i: scored[i].score, reverse=True)
    best = scored[ranked[0]].score
    chosen = [ranked[0]]
    for i in ranked[1:]:
        if len(chosen) >= settings.max_answer_sentences:
            break
        close_enough = scored[i].score >= max(settings.refusal_threshold, best * settings.companion_ratio)
        repeats = max(float(vectors[i] @ vectors[j]) for j in chosen) >= NEAR_DUPLICATE_COSINE
        if close_enough and not repeats:
            chosen.append(i)
    chosen.sort(key=lambda i: (scored[i].sentence.passage, scored[i].sentence.start))
    builder = CitationBuilder(passages)
    sentences = []
    for i in chosen:
        sentence = scored[i].sentence
        n = builder.cite(sentence.passage, sentence.start, sentence.end)
        sentences.append(AnswerSentence(tidy(sentence.text), [n]))
    return builder.answer(question, EXTRACTIVE, sentences, confidence)


def refused(question: str, mode: str, passages: list[NodeWithScore], confidence: float) -> Answer:
    return Answer(
        question=question,
        answer=refusal_text(),
        refused=True,
        mode=mode,
        related=CitationBuilder(passages).related(),
        confidence=confidence,
    )


def render(sentences: list[AnswerSentence]) -> str:
    return " ".join(
        s.text + "".join(f" [{n}]" for n in s.citations) if s.citations else s.text for s in sentences
    )


class CitationBuilder:
    """Numbers cited spans in order of first use; the same span always gets the same number."""

    def __init__(self, passages: list[NodeWithScore]) -> None:
        self.passages = passages
        self.citations: list[Citation] = []
        self._numbers: dict[tuple[str, int, int], int] = {}

    def cite(self, passage: int, start: int, end: int) -> int:
        result = self.passages[passage]
        key = (result.node.node_id, start, end)
        if key not in self._numbers:
            meta = result.node.metadata
            text = result.node.get_content()
            offset = meta["start_char"]
            self._numbers[key] = len(self.citations) + 1
            self.citations.append(
                Citation(
                    n=self._numbers[key],
                    doc_id=meta["doc_id"],
                    title=meta["title"],
                    source=meta.get("source", ""),
                    section=meta.get("section", ""),
                    start_char=start,
                    end_char=end,
                    quote=text[start - offset : end - offset],
                    text=text,
                    passage_start=offset,
                    passage_end=meta["end_char"],
                    score=float(result.score or 0.0),
                    chunk_id=result.node.node_id,
                )
            )
        return self._numbers[key]

    def related(self) -> list[dict]:
        cited = {c.chunk_id for c in self.citations}
        return [passage_summary(p) for p in self.passages if p.node.node_id not in cited]

    def answer(self, question: str, mode: str, sentences: list[AnswerSentence], confidence: float) -> Answer:
        """The answer made of these sentences, citing what was cited through this builder."""
        return Answer(
            question=question,
            answer=render(sentences),
            refused=False,
            mode=mode,
            citations=self.citations,
            related=self.related(),
            sentences=sentences,
            confidence=confidence,
        )


def passage_summary(result: NodeWithScore) -> dict:
    meta = result.node.metadata
    return {
        "doc_id": meta["doc_id"],
        "title": meta["title"],
        "source": meta.get("source", ""),
        "section": meta.get("section", ""),
        "start_char": meta["start_char"],
        "end_char": meta["end_char"],
        "text": result.node.get_content(),
        "score": float(result.score or 0.0),
        "chunk_id": result.node.node_id,
    }


def passage_json(result: NodeWithScore) -> dict:
    """A search result as `assistant search --json` and /api/search give it."""
    return {
        **passage_summary(result),
        "published": result.node.metadata.get("published", ""),
        "score": round(float(result.score or 0.0), 6),
        "scores": result.node.metadata.get("scores", {}),
    }


# --- the LLM answerer ---------------------------------------------------------------------------


def answer_prompt(question: str, passages: list[NodeWithScore]) -> str:
    numbered = "\n\n".join(
        f"[{i}] {p.node.metadata['title']}"
        + (f" - {p.node.metadata['section']}" if p.node.metadata.get("section") else "")
        + f'\n"""\n{p.node.get_content()}\n"""'
        for i, p in enumerate(passages, start=1)
    )
    return load_prompt("answer").render(passages=numbered, question=question, refusal=refusal_text())


def ground_generated_answer(
    question: str,
    generated: str,
    passages: list[NodeWithScore],
    embedder: Embedder,
    settings: Settings,
    confidence: float,
) -> Answer:
    """Turn raw LLM output into an Answer whose markers all resolve to checked spans."""
    if _is_refusal(generated):
        answer = refused(question, LLM, passages, confidence)
        answer.warnings.append("The language model found no answer in the retrieved passages.")
        return answer
    parts = split_marked_sentences(generated)
    sources = passage_sentences(passages)
    if not parts or not sources:
        return refused(question, LLM, passages, confidence)
    source_vectors = np.array(embedder.encode_cached([s.text for s in sources]))
    part_vectors = np.array(embedder.encode([text for text, _ in parts]))
    builder = CitationBuilder(passages)
    sentences: list[AnswerSentence] = []
    dropped = 0
    for (text, markers), vector in zip(parts, part_vectors, strict=True):
        valid = [m for m in dict.fromkeys(markers) if 1 <= m <= len(passages)]
        dropped += len(markers) - len(valid)
        support = _support(text, vector, sources, source_vectors)
        candidates = [i for i in range(len(sources)) if sources[i].passage + 1 in valid] or range(
            len(sources)
        )  # cited passages first; no (valid) marker: attribute to whichever passage supports it
        best = max(candidates, key=lambda i: support[i])
        if support[best] >= settings.support_threshold:
            source = sources[best]
            sentences.append(AnswerSentence(text, [builder.cite(source.passage, source.start, source.end)]))
        else:
            sentences.append(AnswerSentence(text, [], supported=False))
    answer = builder.answer(question, LLM, sentences, confidence)
    if dropped:
        answer.warnings.append(f"Removed {dropped} citation marker(s) that pointed at no passage.")
    unsupported = sum(not s.supported for s in sentences)
    if unsupported:
        answer.warnings.append(
            f"{unsupported} sentence(s) are not supported by the retrieved passages; they carry no citation."
        )
    return answer


def _support(
    text: str, vector: np.ndarray, sources: list[Sentence], source_vectors: np.ndarray
) -> list[float]:
    """For each source sentence: how well it backs `text` (semantic and lexical coverage, 0-1)."""
    wanted = terms(text)
    semantic = source_vectors @ vector
    return [
        0.5 * float(sim) + 0.5 * overlap(wanted, terms(s.text))
        for s, sim in zip(sources, semantic, strict=True)
    ]


def _is_refusal(generated: str) -> bool:
    normalised = " ".join(terms(generated))
    return bool(normalised) and " ".join(terms(refusal_text())) in normalised
