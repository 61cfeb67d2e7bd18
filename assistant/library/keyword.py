"""Stage 6a, store -> keyword index: a BM25 index (bm25s) over the chunks of the Chroma collection,
with the chunks themselves beside it.

The index is built from the collection alone, so every process pointed at one Chroma server can build
its own. It holds each chunk's text and stored metadata as well as its words: hybrid search then turns
both rankings into passages without a second round trip to Chroma. Which version of each article is
current (the one its full-text record names) is kept too, so stale versions are dropped in memory.

When the collection changes (its generation token, which ingestion changes on every write, no longer
matches), `update_keyword_index` reads only the articles whose recorded version changed and re-scores
BM25 from the words already held; `LiveKeywordIndex` does that off to the side while queries go on
with the index they have (`live_index.py`). The copy on disk is in `keyword_cache.py`.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np
import orjson
from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.utils import metadata_dict_to_node

from assistant.library.store import Store, is_served

log = logging.getLogger(__name__)

WORD = re.compile(r"(?u)\b\w\w+\b")  # bm25s's (and scikit-learn's) word pattern
# Past this share of the articles changed, reading the whole collection is cheaper than the changes.
FULL_REBUILD_SHARE = 0.25
FULL_REBUILD_MIN = 50  # articles; fewer changed are always read alone
# A query word held by more than this share of the chunks is looked up only in the chunks that may rank.
COMMON_SHARE = 0.1
SAMPLE_PAST = 64  # the k-th best of more than this many times k scores is bounded from a sample first


@functools.cache
def bm25s() -> ModuleType:
    """The bm25s module, its logger quieted (it sets DEBUG on itself when imported)."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased words of two or more characters, bm25s's English stopwords removed, no stemming:
    the words `bm25s.tokenize(texts, stopwords="en")` gives, without its per-call progress bars
    (which cost more than the splitting when one question is tokenized).

    Without stemming "represent" does not match "representative": on our question set stemming
    cost more top-1 hits than it won.
    """
    stopwords = _stopwords()
    return [[w for w in WORD.findall(text.lower()) if w not in stopwords] for text in texts]


@functools.cache
def _stopwords() -> frozenset[str]:
    return frozenset(bm25s().stopwords.STOPWORDS_EN)


@dataclass(frozen=True)
class Chunk:
    """One chunk as the index keeps it: its text, its stored metadata (JSON, decoded only for the
    chunks a query returns) and its words as numbers in the index's vocabulary."""

    id: str
    text: str
    metadata: str
    doc_id: str
    version: str
    source: str
    published: int  # YYYYMMDD, 0 when unknown
    words: np.ndarray

    def node(self) -> TextNode:
        """The chunk as llama-index's Chroma store would give it back (`metadata_dict_to_node`),
        decoded with orjson: about half the time, which a hybrid query spends on every passage."""
        stored = orjson.loads(self.metadata)
        if stored.get("_node_type", "TextNode") != "TextNode":
            return metadata_dict_to_node(stored, text=self.text)
        node = TextNode.from_dict(orjson.loads(stored["_node_content"]))
        node.set_content(self.text)
        return node


@dataclass
class KeywordIndex:
    """BM25 over every current chunk, the chunks themselves, and the per-chunk fields filters need."""

    generation: str
    chunks: list[Chunk]
    vocab: dict[str, int]
    recorded: dict[str, str]  # doc_id -> the version its full-text record names
    unrecorded: bool  # some chunks' articles have no record (an index from before records were kept)
    bm25: Any = None  # scored from the chunks' words when not given (a cached copy gives its own)
    doc_ids: np.ndarray = field(init=False)
    sources: np.ndarray = field(init=False)
    published: np.ndarray = field(init=False)
    _rows: dict[str, int] = field(init=False)
    _ceilings: dict[int, float] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.doc_ids = np.array([c.doc_id for c in self.chunks], dtype=object)
        self.sources = np.array([c.source for c in self.chunks], dtype=object)
        self.published = np.array([c.published for c in self.chunks], dtype=np.int64)
        self._rows = {c.id: row for row, c in enumerate(self.chunks)}
        if self.bm25 is None:
            self.bm25 = bm25s().BM25()
            if self.chunks:
                self.bm25.index(([c.words.tolist() for c in self.chunks], self.vocab), show_progress=False)

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the k best chunks with a positive score, best first."""
        words = Counter(self.vocab[w] for w in tokenize([query])[0] if w in self.vocab)
        if not words or not self.chunks:
            return []
        common = {w for w in words if self._postings(w)[0].size > COMMON_SHARE * len(self.chunks)}
        found = self._best_skipping(words, common, k, mask) if 0 < len(common) < len(words) else None
        if found is None:
            scores = self._scores(words)
            rows = np.flatnonzero(scores > 0)
            if mask is not None:
                rows = rows[mask[rows]]
            found = rows, scores[rows]
        rows, scores = found
        if len(rows) > k:  # the k best (with any tied at the k-th score), then only those sorted
            best = scores >= _kth_largest(scores, k)
            rows, scores = rows[best], scores[best]
        order = np.argsort(-scores, kind="stable")[:k]
        return [(self.chunks[i].id, float(s)) for i, s in zip(rows[order], scores[order], strict=True)]

    def _best_skipping(
        self, words: Counter[int], common: set[int], k: int, mask: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """The chunks that can be among the k best, with their scores, found without going through
        the common words' long postings (the MaxScore method): the rarer words pick the candidates;
        a common word adds at most its highest score in any chunk, so each common word in turn is
        looked up only for the candidates that can still reach the k-th best with every word yet to
        come. None when a chunk holding only common words could rank among the k best (then every
        chunk is scored)."""
        partial = self._scores(Counter({w: n for w, n in words.items() if w not in common}))
        rows = np.flatnonzero(partial > 0)  # on booleans: six times faster than on the scores
        if mask is not None:
            rows = rows[mask[rows]]
        if len(rows) < k:
            return None
        scores = partial[rows]
        ceilings = {w: words[w] * self._ceiling(w) for w in common}
        most_from_common = remaining = sum(ceilings.values())
        for word in sorted(common, key=ceilings.__getitem__, reverse=True):
            # a candidate that cannot reach the k-th best even with every word still to come is out
            keep = scores + remaining >= _kth_largest(scores, k)
            rows, scores = rows[keep], scores[keep]
            held, data = self._postings(word)
            at = np.minimum(np.searchsorted(held, rows), held.size - 1)
            hit = held[at] == rows
            scores[hit] += words[word] * data[at[hit]]
            remaining -= ceilings[word]
        if _kth_largest(scores, k) <= most_from_common:
            return None  # a chunk holding none of the rarer words could rank among the k
        return rows, scores

    def _scores(self, words: Counter[int]) -> np.ndarray:
        """Each chunk's BM25 score for these word numbers (each counted as often as the query has
        it): the sum of the words' precomputed scores, read from their postings and added up by
        `bincount` in one pass (in float64; two to three times faster than adding word by word)."""
        postings = [self._postings(word) for word in words]
        if not postings:
            return np.zeros(len(self.chunks))
        held = np.concatenate([chunks for chunks, _ in postings])
        weights = np.concatenate([n * data for n, (_, data) in zip(words.values(), postings, strict=True)])
        return np.bincount(held, weights=weights, minlength=len(self.chunks))

    def _postings(self, word: int) -> tuple[np.ndarray, np.ndarray]:
        """The chunks holding the word, in row order, and its BM25 score in each (a column of
        bm25s's score matrix)."""
        matrix = self.bm25.scores
        start, end = matrix["indptr"][word], matrix["indptr"][word + 1]
        return matrix["indices"][start:end], matrix["data"][start:end]

    def _ceiling(self, word: int) -> float:
        """The word's highest score in any chunk."""
        if word not in self._ceilings:
            self._ceilings[word] = float(self._postings(word)[1].max())
        return self._ceilings[word]

    def nodes(self, ids: Iterable[str]) -> dict[str, TextNode]:
        """The held chunks among these ids, as nodes (ids the index does not hold are left out)."""
        return {i: self.chunks[self._rows[i]].node() for i in ids if i in self._rows}

    def is_current(self, node: TextNode) -> bool:
        """False for a chunk of an article version that the article's record no longer names."""
        return is_served(
            self.recorded.get(str(node.metadata.get("doc_id", ""))), node.metadata.get("content_hash")
        )


def _kth_largest(values: np.ndarray, k: int) -> float:
    """The k-th largest of at least k values. From a long array an evenly spaced sample is taken
    first: its k-th largest is never above the whole array's, so the values at or above it hold the
    k largest, and only those are partitioned (BM25 scores repeat a lot, which slows partitioning)."""
    if len(values) > SAMPLE_PAST * k:
        step = math.isqrt(len(values) // k)  # a sample and a remainder of about sqrt(n * k) each
        values = values[values >= _kth_largest(values[::step], k)]
    return float(np.partition(values, len(values) - k)[len(values) - k])


def build_keyword_index(store: Store, generation: str) -> KeywordIndex:
    """Read every chunk and every article record of the collection and index them."""
    recorded = store.recorded_versions()
    ids, texts, metas = store.all_chunks()
    vocab: dict[str, int] = {}
    chunks = _chunks(ids, texts, metas, recorded, vocab)
    unrecorded = any(c.doc_id not in recorded for c in chunks)
    return KeywordIndex(generation, chunks, vocab, recorded, unrecorded)


def update_keyword_index(old: KeywordIndex, store: Store, generation: str) -> KeywordIndex | None:
    """The index for the collection as it is now, reading only the articles whose recorded version
    differs from the one held; BM25 is re-scored over all chunks from the words already held. None
    when a full build is needed: the old index cannot tell what changed (some of its articles have
    no record), or most of the articles did."""
    if old.unrecorded:
        return None
    recorded = store.recorded_versions()
    held = {c.doc_id: c.version for c in old.chunks}
    changed = [doc_id for doc_id, version in recorded.items() if held.get(doc_id) != version]
    removed = set(held) - set(recorded)
    if len(changed) + len(removed) > max(FULL_REBUILD_MIN, FULL_REBUILD_SHARE * len(held)):
        return None
    dropped = removed | set(changed)
    kept = [c for c in old.chunks if c.doc_id not in dropped]
    vocab = dict(old.vocab)  # words of removed chunks stay in the vocabulary, unused
    ids, texts, metas = store.chunks_of(changed)
    fresh = _chunks(ids, texts, metas, recorded, vocab)
    return KeywordIndex(generation, kept + fresh, vocab, recorded, unrecorded=False)


def _chunks(
    ids: list[str],
    texts: list[str],
    metas: list[dict[str, Any]],
    recorded: dict[str, str],
    vocab: dict[str, int],
) -> list[Chunk]:
    """Chunks of the recorded versions (or of articles with no record), their words added to
    `vocab`. Chunks of other versions are leftovers of an update still running or cut short."""
    rows = [
        (i, text, meta)
        for i, text, meta in zip(ids, texts, metas, strict=True)
        if is_served(recorded.get(meta["doc_id"]), meta.get("content_hash"))
    ]
    words = tokenize([text for _, text, _ in rows])
    return [
        Chunk(
            id=i,
            text=text,
            metadata=json.dumps(meta),
            doc_id=meta["doc_id"],
            version=str(meta.get("content_hash", "")),
            source=str(meta.get("source", "")),
            published=int(meta.get("published_int", 0)),
            words=np.array([vocab.setdefault(w, len(vocab)) for w in chunk_words], dtype=np.int32),
        )
        for (i, text, meta), chunk_words in zip(rows, words, strict=True)
    ]
