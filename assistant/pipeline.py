"""The question path: a question (or a conversation's next turn) in; passages and a cited answer out.

The CLI, the web app and the evaluation runner all hold one `Assistant` per process, so the embedding
model is loaded once and the store is opened once (`resources.py`); its `library` (`library.py`)
holds the articles and every change to them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import NodeWithScore, QueryBundle

from assistant.answering.answer import (
    EXTRACTIVE,
    LLM,
    Answer,
    answer_prompt,
    ground_generated_answer,
    passage_summary,
)
from assistant.answering.grounding import terms
from assistant.answering.llm import LLMBackend, LLMFailure, build_llm
from assistant.answering.offline import Decision, OfflineReader
from assistant.answering.prompts import load_prompt
from assistant.answering.reader import Model, Reading, choose, read
from assistant.answering.retrieval import Filters, build_retriever, load_reranker
from assistant.answering.timeline import Period, describe_day
from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.library.articles import Library
from assistant.library.chunking import sentence_spans
from assistant.library.corpus import EARLIEST_DATE, LATEST_DATE, day
from assistant.library.embeddings import Embedder
from assistant.library.live_index import LiveKeywordIndex
from assistant.library.resources import Resources
from assistant.library.store import Store
from assistant.records.database import Database, database_url
from assistant.records.uploads import KeptUploads

MAX_QUERY_CHARS = 2000
FOLLOW_UP_WORDS = frozenset(
    "he she they it him her them his hers their theirs its this that these those there instead also "
    "else then other same one".split()
)
HISTORY_TURNS = 3  # earlier turns shown to the condensing prompt


@dataclass(frozen=True)
class Event:
    """One step of a streamed answer: a piece of text, a notice, or the finished answer."""

    kind: str  # "token", "notice" or "answer"
    text: str = ""
    answer: Answer | None = None


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_MARKUP = re.compile(r"</?[A-Za-z][^<>]{0,200}>")  # HTML tags pasted into a question mean nothing to search
_SURROGATE = re.compile("[\ud800-\udfff]")


class Assistant:
    """The question path: search, then an answer (extractive, or an LLM's with checked citations),
    for one question or a conversation. Its `library` holds the articles and changes them; both share
    the model, the store and the keyword index (`resources`)."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.resources = Resources(settings, embedder)
        # the project's database (conversations, feedback, sources, uploads, shared rate limits):
        # nothing connects until it is first used
        self.database = Database(database_url(settings))
        self.library = Library(self.resources, KeptUploads(self.database, settings.uploads_dir))
        self.settings = settings
        self._llm: LLMBackend | None = build_llm(settings)
        self._reranker: BaseNodePostprocessor | None = None
        self.reader = OfflineReader(settings, self.resources)
        # searching and choosing sentences hold vectors and parses per passage: a bounded number of
        # questions at once keeps memory flat however many arrive (the rest wait their turn)
        self._working = threading.BoundedSemaphore(settings.max_concurrent_answers)

    @property
    def mode_label(self) -> str:
        """How answers are made, for display: the LLM's name, or offline extractive."""
        return f"LLM: {self._llm.label}" if self._llm else "offline extractive"

    @property
    def embedder(self) -> Embedder:
        return self.resources.embedder

    @property
    def store(self) -> Store:
        return self.resources.store

    @property
    def keywords(self) -> LiveKeywordIndex:
        return self.resources.keywords

    def close(self) -> None:
        """Release the store's Chroma client and the database's connections (commands call this when
        they end)."""
        self.resources.close()
        self.database.close()

    def warm_up(self) -> None:
        """Load the model, the sentence splitter and the store before the first question (servers
        call this at start)."""
        self.embedder.get_query_embedding("warm up")
        sentence_spans("Warm up. The sentence splitter loads its data once.")
        self.reader.warm_up()
        with contextlib.suppress(AssistantError):  # no index yet: the first question will say so
            self.keywords.get()

    def search(
        self,
        query: str,
        *,
        k: int | None = None,
        retriever: str | None = None,
        filters: Filters = Filters(),
        as_of: dt.date | None = None,
    ) -> list[NodeWithScore]:
        """The k passages that best match the query, best first: reordered by the reranker, if set,
        then by what the query pins down (a passage about another year goes down; one of an article
        dated after `as_of`, the day asked, is left out)."""
        query = clean_query(query)
        k = k or self.settings.top_k
        reranker = self.reranker
        pool = max(k, self.settings.constraint_candidates)
        pool = max(pool, self.settings.rerank_candidates) if reranker else pool
        results = self.retriever(k=pool, retriever=retriever, filters=filters).retrieve(QueryBundle(query))
        if reranker and results:
            results = reranker.postprocess_nodes(results, query_bundle=QueryBundle(query))
        if as_of is not None:  # what was written after the day asked cannot answer it
            results = [r for r in results if r.node.metadata.get("published", "") <= as_of.isoformat()]
        if self.settings.constraint_candidates:
            results = self.reader.rerank(query, results, as_of)
        return results[:k]

    def read(
        self,
        question: str,
        *,
        history: list[dict] | None = None,
        k: int | None = None,
        retriever: str | None = None,
        filters: Filters = Filters(),
        as_of: dt.date | None = None,
        model: Model | None = None,
    ) -> tuple[list[NodeWithScore], Reading]:
        """The passages found for a question and the general reader's reading of them, before any
        refusal: what `assistant.evaluation.fit` learns from."""
        question = clean_query(question)
        turns = asked_turns(history)
        standalone = self._standalone(question, turns, False, [])
        with self._working:
            passages = self.search(standalone, k=k, retriever=retriever, filters=filters, as_of=as_of)
            reading = read(
                question, standalone, passages, self.embedder, self.reader.parser, asked_on=as_of, model=model
            )
        return passages, choose(reading, self.settings)

    def retriever(
        self, *, k: int, retriever: str | None = None, filters: Filters = Filters()
    ) -> BaseRetriever:
        """The llama-index retriever of the ranking alone (hybrid, dense or bm25): k passages, before
        any reordering."""
        return build_retriever(
            retriever or self.settings.retriever,
            self.store,
            self.embedder,
            self.keywords,
            self.settings,
            k=k,
            filters=filters,
        )

    @property
    def reranker(self) -> BaseNodePostprocessor | None:
        if self.settings.reranker and self._reranker is None:
            with self.resources.lock:  # loaded once, however many questions arrive together
                if self._reranker is None:
                    self._reranker = load_reranker(self.settings.reranker, self.settings.rerank_candidates)
        return self._reranker

    def ask(self, question: str, **options) -> Answer:
        """Answer a question; see `ask_stream` for the options."""
        for event in self.ask_stream(question, **options):
            if event.kind == "answer":
                assert event.answer is not None
                return event.answer
        raise AssertionError("ask_stream always ends with an answer")

    def ask_stream(
        self,
        question: str,
        *,
        history: list[dict] | None = None,
        k: int | None = None,
        retriever: str | None = None,
        filters: Filters = Filters(),
        mode: str | None = None,
        as_of: dt.date | None = None,
    ) -> Iterator[Event]:
        """Answer a question, yielding text as it is produced and then the finished Answer.

        `history` holds earlier turns, `{"question": ..., "answer": ...}`, oldest first. `mode` is
        "llm" or "extractive"; by default the LLM answers when one is configured. `as_of` is the day
        the question is asked (default today): relative time ("this week", "yesterday") is read
        against it, and a refusal for a period no article was published in says so.
        """
        question = clean_query(question)
        use_llm = self._choose_mode(mode)
        timings: dict[str, float] = {}
        warnings: list[str] = []

        turns = asked_turns(history)
        started = time.perf_counter()
        standalone = self._standalone(question, turns, use_llm, warnings)
        if standalone != question:
            timings["condense"] = _ms_since(started)
        started = time.perf_counter()
        with self._working:
            passages = self.search(standalone, k=k, retriever=retriever, filters=filters, as_of=as_of)
        timings["retrieve"] = _ms_since(started)

        started = time.perf_counter()
        answer: Answer | None = None
        context = str(turns[-1].get("answer", "")) if turns and standalone != question else ""
        with self._working:
            decision = self.reader.decide(question, standalone, passages, as_of=as_of, context=context)
        if use_llm:
            if decision.refuse:
                answer = decision.refusal(question, passages, LLM)
                self._explain_empty_period(answer, decision)
            else:
                try:
                    pieces = []
                    for piece in self._llm.stream(answer_prompt(standalone, passages)):
                        pieces.append(piece)
                        yield Event("token", piece)
                    answer = ground_generated_answer(
                        question, "".join(pieces), passages, self.embedder, self.settings, decision.confidence
                    )
                except LLMFailure as failure:
                    notice = f"{failure}; showing the offline extractive answer instead."
                    warnings.append(notice[0].upper() + notice[1:])
                    yield Event("notice", warnings[-1])
        if answer is None:
            with self._working:
                answer = decision.answer(question, passages, self.settings)
            self._explain_empty_period(answer, decision)
            yield Event("token", answer.answer)
        timings["answer"] = _ms_since(started)
        answer.standalone_question = standalone
        answer.constraints = decision.constraints
        answer.time = decision.time
        answer.retrieved = [passage_summary(p) for p in passages]
        answer.warnings = warnings + answer.warnings
        answer.timings_ms = timings
        yield Event("answer", answer=answer)

    def _explain_empty_period(self, answer: Answer, decision: Decision) -> None:
        """A refusal of a question naming a period ("this week") that no indexed article was
        published in says so, and how recent the newest article is."""
        period = decision.period
        if not answer.refused or period is None:
            return
        if not self.library.newest_published(period.since.isoformat(), period.until.isoformat()):
            answer.answer = empty_period_text(period, self.library.newest_published())

    def _choose_mode(self, mode: str | None) -> bool:
        if mode not in (None, LLM, EXTRACTIVE):
            raise AssistantError(f"unknown answer mode {mode!r}; choose llm or extractive")
        if mode == LLM and self._llm is None:
            raise AssistantError("no LLM is configured; set ASSISTANT_LLM_URL and ASSISTANT_LLM_MODEL")
        return self._llm is not None and mode != EXTRACTIVE

    def _standalone(self, question: str, turns: list[dict], use_llm: bool, warnings: list[str]) -> str:
        """The question with what it refers to from earlier turns made explicit."""
        if not turns:
            return question
        if use_llm:
            transcript = "\n".join(
                f"User: {clean_query(t['question'])}\nAssistant: {str(t.get('answer', ''))[:600]}"
                for t in turns[-HISTORY_TURNS:]
            )
            prompt = load_prompt("condense").render(history=transcript, question=question)
            try:
                condensed = " ".join(self._llm.complete(prompt).split())
            except LLMFailure as failure:
                warnings.append(f"Could not rewrite the follow-up question ({failure}).")
            else:
                if condensed and len(condensed) <= MAX_QUERY_CHARS:
                    return condensed
        if is_follow_up(question):
            return f"{clean_query(turns[-1]['question'])} {question}"
        return question


def as_of_date(text: str | None) -> dt.date | None:
    """The day a question is asked, from YYYY-MM-DD; None (today) when empty."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        asked = dt.date.fromisoformat(day(text))
    except ValueError:
        raise AssistantError(f"as-of date {text!r} is not a date; use YYYY-MM-DD") from None
    if not EARLIEST_DATE <= text <= LATEST_DATE:
        raise AssistantError(f"as-of date {text!r} is not between {EARLIEST_DATE} and {LATEST_DATE}")
    return asked


def empty_period_text(period: Period, newest: str) -> str:
    """The refusal for a period no article is from: "No articles from this week (30 Nov - 6 Dec
    2026); the newest is from 11 Nov 2022." `newest` is the newest article's date, "" if none has one."""
    latest = (
        f"the newest is from {describe_day(dt.date.fromisoformat(newest))}"
        if newest
        else "none of the articles has a published date"
    )
    return f"No articles from {period.describe()}; {latest}."


def asked_turns(history: list[dict] | None) -> list[dict]:
    """The earlier turns that hold a question, oldest first."""
    return [t for t in history or [] if isinstance(t, dict) and str(t.get("question", "")).strip()]


def is_follow_up(question: str) -> bool:
    """Does the question lean on an earlier turn (a pronoun, "instead", or almost no content)?"""
    words = {w.lower() for w in re.findall(r"[\w']+", question)}
    return bool(words & FOLLOW_UP_WORDS) or len(terms(question)) < 2


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def clean_query(query: str) -> str:
    """Control characters and HTML tags become spaces; empty, oversized and undecodable queries are
    refused."""
    if _SURROGATE.search(query):  # bytes that were not UTF-8 (argv) or a lone \ud800 escape (JSON)
        raise AssistantError("the question holds characters that are not valid Unicode text")
    query = " ".join(_MARKUP.sub(" ", _CONTROL.sub(" ", query)).split())
    if not query:
        raise AssistantError("the question is empty; type a question about the articles")
    if len(query) > MAX_QUERY_CHARS:
        raise AssistantError(
            f"the question is {len(query):,} characters long; the limit is {MAX_QUERY_CHARS:,}"
        )
    return query
