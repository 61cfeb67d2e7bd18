"""Stage 7, passages -> the offline answer or refusal, by the reader the settings name.

Two readers answer offline (`ASSISTANT_READER`): `rules` (the default), the rules written for answer
kinds, constraints and relations (`extractive.py` and the modules it uses), and `general`, which
reads parses stored at ingest and weighs every candidate with a model fitted on several question
sets (`reader.py`). Both give a `Decision`: how sure they are, and the answer or refusal to show.
The LLM answerer uses the same decision to know when to refuse before it writes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from llama_index.core.schema import NodeWithScore, QueryBundle

from assistant.answering import extractive, reader
from assistant.answering.answer import Answer
from assistant.answering.entities import EntityRecognizer
from assistant.answering.question import analyse_question
from assistant.answering.retrieval import ConstraintRanker, QuestionRanker
from assistant.answering.timeline import Period
from assistant.config import Settings
from assistant.library.embeddings import Embedder
from assistant.library.parsing import Parser
from assistant.library.resources import Resources
from assistant.modes import Reader


@dataclass
class Decision:
    """A reader's verdict on the passages: the confidence, whether to refuse, and what the question
    pinned down (in words, and the period a relative time phrase named)."""

    confidence: float
    refuse: bool
    constraints: list[str]
    time: dict | None
    period: Period | None
    _answer: object  # the reader's own choice (extractive.Choice or reader.Reading)

    def answer(self, question: str, passages: list[NodeWithScore], settings: Settings) -> Answer:
        """The extractive answer, or the refusal."""
        if isinstance(self._answer, reader.Reading):
            return reader.answer_from(question, passages, self._answer, settings)
        answer = extractive.answer_extractively(question, passages, self._answer, settings)
        if not answer.refused:
            answer.short_answer = self._answer.answer
        return answer

    def refusal(self, question: str, passages: list[NodeWithScore], mode: str) -> Answer:
        if isinstance(self._answer, reader.Reading):
            return reader.refusal(question, passages, self._answer, mode)
        return extractive.refusal(question, mode, passages, self._answer)


class OfflineReader:
    """The reader the settings name, with the models it needs (loaded on first use)."""

    def __init__(self, settings: Settings, resources: Resources) -> None:
        self.settings = settings
        self.resources = resources  # the embedding model, shared and loaded on first use
        self.parser = Parser()
        self.recognizer = EntityRecognizer()

    @property
    def embedder(self) -> Embedder:
        return self.resources.embedder

    @property
    def general(self) -> bool:
        return self.settings.reader == Reader.GENERAL

    def warm_up(self) -> None:
        (self.parser if self.general else self.recognizer).warm_up()

    def ranker(self, query: str, as_of: dt.date | None):
        """The postprocessor that reorders retrieved passages by what the query pins down."""
        if not self.general:
            return ConstraintRanker(today=as_of)
        asked_on = as_of or dt.date.today()
        question = analyse_question(query, self.parser.parse([query])[0], asked_on)
        period = question.period
        return QuestionRanker(
            years=question.years,
            names=question.names,
            asked_on=asked_on,
            since=period.since if period else None,
            until=period.until if period else None,
        )

    def rerank(self, query: str, passages: list[NodeWithScore], as_of: dt.date | None) -> list[NodeWithScore]:
        return self.ranker(query, as_of).postprocess_nodes(passages, query_bundle=QueryBundle(query))

    def decide(
        self,
        question: str,
        standalone: str,
        passages: list[NodeWithScore],
        *,
        as_of: dt.date | None = None,
        context: str = "",
    ) -> Decision:
        """How the reader answers these passages (`context`: the previous answer of a follow-up)."""
        if self.general:
            reading = reader.choose(
                reader.read(question, standalone, passages, self.embedder, self.parser, asked_on=as_of),
                self.settings,
            )
            refuse = not passages or not reading.chosen or reading.confidence < self.threshold
            return Decision(
                reading.confidence,
                refuse,
                reading.constraints,
                reading.time,
                reading.question.period,
                reading,
            )
        choice = extractive.choose(
            question, standalone, passages, self.embedder, self.recognizer, self.settings,
            context=context, today=as_of,
        )  # fmt: skip
        time = choice.constraints.time
        period = (
            Period(
                time.phrase,
                dt.date.fromisoformat(time.since),
                dt.date.fromisoformat(time.until),
                as_of or dt.date.today(),
            )
            if time
            else None
        )
        return Decision(
            choice.confidence,
            extractive.should_refuse(question, passages, choice.confidence, self.settings),
            choice.constraints.describe(),
            time.to_json() if time else None,
            period,
            choice,
        )

    @property
    def threshold(self) -> float:
        """The refusal threshold: the configured one, else the reader's own."""
        return (
            reader.refusal_threshold(self.settings)
            if self.general
            else extractive.refusal_threshold(self.settings)
        )
