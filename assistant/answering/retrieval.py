"""Stage 6, question -> passages: dense, keyword (BM25) and hybrid retrievers as llama-index retrievers.

Hybrid, the default, fuses the dense and the keyword rankings with weighted reciprocal rank fusion:
score = sum over rankings of weight / (rrf_k + rank). Each ranking contributes its top candidates;
a passage found by only one of them still counts. Filters (article, source, date range) apply to both.
`ConstraintRanker` (the rules reader's) or `QuestionRanker` (the general reader's) then reorders the
candidates by what the question pins down.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import BaseNode, NodeWithScore, QueryBundle, TextNode

from assistant.answering.constraints import analyse, check, holds_kind, passage_context
from assistant.answering.grounding import question_kind
from assistant.answering.timeline import published_day, years_in
from assistant.config import Settings
from assistant.errors import AssistantError, DateFilterError, ModelLoadError
from assistant.library.corpus import day
from assistant.library.embeddings import Embedder, resolve_model
from assistant.library.keyword import KeywordIndex
from assistant.library.live_index import LiveKeywordIndex
from assistant.library.store import Store
from assistant.modes import RETRIEVERS, Retriever

# Ranking bookkeeping kept in a node's metadata for display (`passage_json`): our per-retriever scores,
# and the score llama-index's reranker keeps. A model must never read it: a reranker or an LLM shown
# "scores: 0.83" beside the passage judges the number, not the text.
RANKING_METADATA_KEYS = ("scores", "retrieval_score")

SPAN = re.compile(r"(\d{1,5})([dw])")  # a date filter given as days or weeks back from today
RANK_BOOST = 0.3  # a passage meeting all of the question's constraints gains this share of its score
RANK_PENALTY = 0.5  # one contradicting them loses this share
KIND_BOOST = 0.2  # a passage holding the kind of answer asked for (a full date for "when")


@dataclass(frozen=True)
class Filters:
    """Which chunks a question may draw on; empty fields do not filter."""

    doc_ids: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    since: str = ""  # YYYY-MM-DD, inclusive; or a span back from today: "7d", "2w"
    until: str = ""  # the same

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            value = getattr(self, name)
            span = SPAN.fullmatch(value.strip().lower()) if value else None
            if span:  # "7d", "2w": that many days or weeks back from today
                days = int(span.group(1)) * (7 if span.group(2) == "w" else 1)
                object.__setattr__(self, name, (dt.date.today() - dt.timedelta(days=days)).isoformat())
                continue
            try:
                if value:
                    day(value)
            except ValueError:
                raise DateFilterError(name, value) from None

    @property
    def empty(self) -> bool:
        return not (self.doc_ids or self.sources or self.since or self.until)

    def where(self) -> dict | None:
        """The same conditions as a Chroma `where` clause."""
        clauses: list[dict] = []
        if self.doc_ids:
            clauses.append({"doc_id": {"$in": list(self.doc_ids)}})
        if self.sources:
            clauses.append({"source": {"$in": list(self.sources)}})
        if self.since:
            clauses.append({"published_int": {"$gte": _day(self.since)}})
        if self.until:
            clauses.append({"published_int": {"$lte": _day(self.until)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def mask(self, doc_ids: np.ndarray, sources: np.ndarray, published: np.ndarray) -> np.ndarray:
        """The same conditions as a boolean mask over per-chunk arrays (for the keyword index)."""
        keep = np.ones(len(doc_ids), dtype=bool)
        if self.doc_ids:
            keep &= np.isin(doc_ids, list(self.doc_ids))
        if self.sources:
            keep &= np.isin(sources, list(self.sources))
        if self.since:
            keep &= published >= _day(self.since)
        if self.until:
            keep &= (published > 0) & (published <= _day(self.until))
        return keep


def _day(value: str) -> int:
    return int(value.replace("-", ""))


def record_scores(node: BaseNode, scores: dict[str, float | None]) -> None:
    """Keep the retrievers' scores on the node for display, hidden from the text an embedding model,
    a reranker or an LLM reads (`get_content` in EMBED and LLM modes)."""
    node.metadata["scores"] = scores
    for excluded in (node.excluded_embed_metadata_keys, node.excluded_llm_metadata_keys):
        excluded.extend(key for key in RANKING_METADATA_KEYS if key not in excluded)


class DenseRetriever(BaseRetriever):
    """Nearest chunks by cosine similarity of sentence-transformers embeddings."""

    def __init__(self, store: Store, embedder: Embedder, k: int, filters: Filters = Filters()):
        super().__init__()
        self._store, self._embedder, self._k, self._filters = store, embedder, k, filters

    def ranked_ids(self, query_bundle: QueryBundle) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity), best first, without fetching the chunks."""
        return self._store.nearest_ids(self._embed(query_bundle), self._k, self._filters.where())

    def _embed(self, query_bundle: QueryBundle) -> list[float]:
        return query_bundle.embedding or self._embedder.get_query_embedding(query_bundle.query_str)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        results = self._store.query(self._embed(query_bundle), self._k, self._filters.where())
        results = self._store.current_only(results)
        for result in results:
            record_scores(result.node, {"dense": result.score})
        return results


class KeywordRetriever(BaseRetriever):
    """Chunks ranked by BM25 over their words."""

    def __init__(self, store: Store, keywords: LiveKeywordIndex, k: int, filters: Filters = Filters()):
        super().__init__()
        self._store, self.keywords, self._k, self._filters = store, keywords, k, filters

    def ranked_ids(self, query: str, index: KeywordIndex | None = None) -> list[tuple[str, float]]:
        index = index or self.keywords.get()
        mask = None
        if not self._filters.empty:
            mask = self._filters.mask(index.doc_ids, index.sources, index.published)
        return index.search(query, self._k, mask)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        index = self.keywords.get()
        ranked = self.ranked_ids(query_bundle.query_str, index)
        nodes = held_nodes(index, self._store, [chunk_id for chunk_id, _ in ranked])
        results = []
        for chunk_id, score in ranked:
            if chunk_id in nodes:  # a chunk deleted since the index was loaded is skipped
                record_scores(nodes[chunk_id], {"bm25": score})
                results.append(NodeWithScore(node=nodes[chunk_id], score=score))
        return results


class HybridRetriever(BaseRetriever):
    """Dense and keyword rankings fused by weighted reciprocal rank fusion."""

    def __init__(
        self,
        dense: DenseRetriever,
        keyword: KeywordRetriever,
        store: Store,
        k: int,
        *,
        rrf_k: int,
        dense_weight: float,
        keyword_weight: float,
    ) -> None:
        super().__init__()
        self._dense, self._keyword, self._store, self._k = dense, keyword, store, k
        self._rrf_k, self._weights = rrf_k, (dense_weight, keyword_weight)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        # Both rankings are ids and scores only (one round trip to Chroma, for the dense one); the
        # winners' content comes from the keyword index, which holds every chunk it has indexed.
        index = self._keyword.keywords.get()
        dense = self._dense.ranked_ids(query_bundle)
        keyword = self._keyword.ranked_ids(query_bundle.query_str, index)
        fused = reciprocal_rank_fusion(
            [[chunk_id for chunk_id, _ in dense], [chunk_id for chunk_id, _ in keyword]],
            self._weights,
            self._rrf_k,
        )[: self._k]
        nodes = held_nodes(index, self._store, [chunk_id for chunk_id, _ in fused])
        dense_scores = dict(dense)
        keyword_scores = dict(keyword)
        results = []
        for chunk_id, score in fused:
            if chunk_id not in nodes:
                continue
            node = nodes[chunk_id]
            record_scores(
                node,
                {"dense": dense_scores.get(chunk_id), "bm25": keyword_scores.get(chunk_id), "fused": score},
            )
            results.append(NodeWithScore(node=node, score=score))
        return results


def held_nodes(index: KeywordIndex, store: Store, ids: list[str]) -> dict[str, TextNode]:
    """The nodes of these chunk ids, from the keyword index's copy, and from the store for chunks
    written since the index was last brought up to date; chunks of an article version that is no
    longer current are left out."""
    nodes = index.nodes(ids)
    missing = [chunk_id for chunk_id in ids if chunk_id not in nodes]
    if missing:
        nodes |= store.get_nodes(missing)
    return {chunk_id: node for chunk_id, node in nodes.items() if index.is_current(node)}


def reciprocal_rank_fusion(
    rankings: list[list[str]], weights: tuple[float, ...], rrf_k: int
) -> list[tuple[str, float]]:
    """Fuse ranked id lists: each id scores sum(weight / (rrf_k + rank)), rank starting at 1."""
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (rrf_k + rank)
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))


def build_retriever(
    kind: str,
    store: Store,
    embedder: Embedder,
    keywords: LiveKeywordIndex,
    settings: Settings,
    *,
    k: int,
    filters: Filters = Filters(),
) -> BaseRetriever:
    """The retriever named by `kind` (hybrid, dense or bm25), returning k passages."""
    candidates = max(k, settings.fusion_candidates)
    if kind == Retriever.DENSE:
        return DenseRetriever(store, embedder, k, filters)
    if kind == Retriever.BM25:
        return KeywordRetriever(store, keywords, k, filters)
    if kind == Retriever.HYBRID:
        return HybridRetriever(
            DenseRetriever(store, embedder, candidates, filters),
            KeywordRetriever(store, keywords, candidates, filters),
            store,
            k,
            rrf_k=settings.rrf_k,
            dense_weight=settings.dense_weight,
            keyword_weight=settings.keyword_weight,
        )
    raise AssistantError(f"unknown retriever {kind!r}; choose one of {', '.join(RETRIEVERS)}")


def load_reranker(model: str, candidates: int) -> BaseNodePostprocessor:
    """llama-index's cross-encoder postprocessor over a sentence-transformers CrossEncoder.

    It scores (question, passage) pairs jointly, which separates close candidates better than either
    ranking; no cross-encoder ships with the install, so it is off unless ASSISTANT_RERANKER is set.
    """
    from llama_index.core.postprocessor import SentenceTransformerRerank

    try:
        return SentenceTransformerRerank(
            model=resolve_model(model), top_n=candidates, device="cpu", keep_retrieval_score=True
        )
    except Exception as exc:  # like the embedding model: any load failure means "can't use it"
        raise ModelLoadError(
            f"cannot load reranker {model!r} ({type(exc).__name__}); set ASSISTANT_RERANKER to a local "
            "CrossEncoder folder, or to an empty value to turn reranking off"
        ) from exc


class QuestionRanker(BaseNodePostprocessor):
    """Reorders retrieved passages by what the question pins down: a passage that names an asked
    year (or is dated in it) gains up to RANK_BOOST of its score; one that names only other years,
    or misses a named thing of the question, loses RANK_PENALTY of it. Order among passages with the
    same verdict is kept."""

    years: tuple[int, ...] = ()
    names: tuple[str, ...] = ()
    asked_on: dt.date | None = None  # passages of articles dated later are left out
    since: dt.date | None = None  # the period the question names, if any
    until: dt.date | None = None

    @classmethod
    def class_name(cls) -> str:
        return "QuestionRanker"

    def _postprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        asked_on = self.asked_on or dt.date.today()
        rescored = []
        for result in nodes:
            meta = result.node.metadata
            published = published_day(meta.get("published", ""))
            if published and published > asked_on:
                continue  # written after the day the question is asked
            text = f"{meta.get('title', '')} {meta.get('section', '')} {result.node.get_content()}"
            factor = 1.0
            if self.since and self.until and published:
                factor += RANK_BOOST if self.since <= published <= self.until else -RANK_PENALTY
            if self.years:
                stated = set(years_in(text, asked_on))
                if stated & set(self.years):
                    factor += RANK_BOOST
                elif published and published.year in self.years:
                    factor += RANK_BOOST / 2
                elif stated:
                    factor -= RANK_PENALTY
            lowered = text.lower()
            missing = sum(not any(w in lowered for w in re.findall(r"\w{3,}", n.lower())) for n in self.names)
            factor *= (1 - RANK_PENALTY / 2) ** missing
            rescored.append(NodeWithScore(node=result.node, score=float(result.score or 0.0) * factor))
        return sorted(rescored, key=lambda r: -(r.score or 0.0))


class ConstraintRanker(BaseNodePostprocessor):
    """Reorders retrieved passages by the query's constraints: a passage that satisfies them gains up
    to RANK_BOOST of its score, one that contradicts them (another year, another season, a missing
    name) loses RANK_PENALTY of it. Order among passages with the same verdict is kept."""

    today: dt.date | None = None

    @classmethod
    def class_name(cls) -> str:
        return "ConstraintRanker"

    def _postprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        if not nodes or query_bundle is None:
            return nodes
        constraints = analyse(query_bundle.query_str, self.today)
        kind = question_kind(query_bundle.query_str)
        if constraints.empty and kind.kind == "any":
            return nodes
        rescored = []
        for result in nodes:
            meta = result.node.metadata
            context = passage_context(
                result.node.get_content(), meta.get("title", ""), meta.get("section", ""),
                meta.get("published", ""),
            )  # fmt: skip
            verdict = check(constraints, "", context)
            factor = 1 - RANK_PENALTY if verdict.conflicts else 1 + RANK_BOOST * verdict.matched
            if kind.kind != "any" and holds_kind(kind, context.body, query_bundle.query_str):
                factor *= 1 + KIND_BOOST
            factor *= (1 - RANK_PENALTY / 2) ** len(verdict.unmentioned)
            rescored.append(NodeWithScore(node=result.node, score=float(result.score or 0.0) * factor))
        return sorted(rescored, key=lambda r: -(r.score or 0.0))
