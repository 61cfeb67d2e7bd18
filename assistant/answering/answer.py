"""Stage 7, passages -> answer: the extractive and LLM answerers, citations and refusal.

Every claim in an answer ends with a marker [n]; citation n names the article and the exact span of
its text (`start_char`/`end_char`) that backs the claim, so one marker is one span. The extractive
answerer quotes article sentences and can't invent text. The LLM answerer's output is checked after
generation: markers that point at no passage are dropped, each sentence is compared with the passages
it cites, sentences without markers are attributed to the passage that supports them, and sentences
that no passage supports are flagged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from llama_index.core.schema import NodeWithScore

from assistant.answering.grounding import Sentence, overlap, passage_sentences, split_marked_sentences, terms
from assistant.answering.prompts import load_prompt
from assistant.config import Settings
from assistant.library.embeddings import Embedder
from assistant.modes import AnswerMode

EXTRACTIVE = AnswerMode.EXTRACTIVE
LLM = AnswerMode.LLM


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
    # a refusal's nearest miss: {"citation": Citation, "mismatch": "about 2021, not 2022"}
    closest: dict | None = None
    constraints: list[str] = field(default_factory=list)  # what the question pins down, in words
    time: dict | None = None  # how a relative time phrase ("last week") was resolved
    short_answer: str = ""  # the answer itself (a name, a date, an amount), when the question asks for one
    reported_on: str = ""  # YYYY-MM-DD of the article the short answer comes from, when dated

    @property
    def status(self) -> str:
        """answered, refused, or closest (refused, with the nearest passage and why it does not answer)."""
        if not self.refused:
            return "answered"
        return "closest" if self.closest else "refused"

    @classmethod
    def from_json(cls, data: dict) -> Answer:
        """The answer back from `to_json` (as a conversation stores it), for showing it again; the
        retrieved passages' texts are not kept, so `retrieved` holds only their ids and scores."""
        closest = data.get("closest")
        return cls(
            question=data.get("question", ""),
            answer=data.get("answer", ""),
            refused=bool(data.get("refused")),
            mode=data.get("mode", ""),
            citations=[Citation(**c) for c in data.get("citations", [])],
            related=data.get("related", []),
            sentences=[AnswerSentence(**s) for s in data.get("sentences", [])],
            warnings=data.get("warnings", []),
            timings_ms=data.get("timings_ms", {}),
            standalone_question=data.get("standalone_question", ""),
            confidence=data.get("confidence", 0.0),
            retrieved=data.get("retrieved", []),
            closest={"mismatch": closest["mismatch"], "citation": Citation(**closest["citation"])}
            if closest
            else None,
            constraints=data.get("constraints", []),
            time=data.get("time"),
            short_answer=data.get("short_answer", ""),
            reported_on=data.get("reported_on", ""),
        )

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "standalone_question": self.standalone_question,
            "answer": self.answer,
            "short_answer": self.short_answer,
            "reported_on": self.reported_on,
            "refused": self.refused,
            "status": self.status,
            "closest": (
                {"mismatch": self.closest["mismatch"], "citation": asdict(self.closest["citation"])}
                if self.closest
                else None
            ),
            "constraints": self.constraints,
            "time": self.time,
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


def refusal_text() -> str:
    return load_prompt("refusal").render()


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
        dropped += sum(not 1 <= m <= len(passages) for m in markers)  # a repeated [1][1] is not dropped
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
