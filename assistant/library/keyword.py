"""Stage 6a, store -> keyword index: a BM25 index (bm25s) over the chunks of the Chroma collection.

The index is built from the collection alone, so every process pointed at one Chroma server can build
its own. It is cached on disk under the index folder and rebuilt when the collection's generation
(a token ingestion changes on every write) no longer matches the cached one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.library.store import Store

log = logging.getLogger(__name__)

KEYWORD_SUBDIR = "keyword"
CACHE_FORMAT = 1
STOPWORDS = "en"


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased words of two or more characters, English stopwords removed, no stemming.

    Without stemming "represent" does not match "representative": on our question set stemming
    cost more top-1 hits than it won.
    """
    import bm25s

    return bm25s.tokenize(texts, stopwords=STOPWORDS, return_ids=False, show_progress=False)


@dataclass
class KeywordIndex:
    """BM25 over every chunk, plus the per-chunk fields filters need."""

    generation: str
    ids: list[str]
    doc_ids: np.ndarray
    sources: np.ndarray
    published: np.ndarray  # YYYYMMDD, 0 when unknown
    bm25: object

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the k best chunks with a positive score, best first."""
        tokens = tokenize([query])[0]
        if not tokens or not self.ids:
            return []
        scores = self.bm25.get_scores(tokens)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]


def load_keyword_index(store: Store, cache_root: Path) -> KeywordIndex:
    """The cached index when it matches the collection's generation, else a fresh build."""
    generation = store.generation()
    folder = _cache_folder(store, cache_root)
    cached = _read_cache(folder, generation)
    if cached is not None:
        return cached
    index = build_keyword_index(store, generation)
    _write_cache(index, folder)
    return index


def build_keyword_index(store: Store, generation: str) -> KeywordIndex:
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets DEBUG on itself

    ids, texts, metas = store.all_chunks()
    bm25 = bm25s.BM25()
    if ids:
        bm25.index(tokenize(texts), show_progress=False)
    return KeywordIndex(
        generation=generation,
        ids=ids,
        doc_ids=np.array([m["doc_id"] for m in metas], dtype=object),
        sources=np.array([m.get("source", "") for m in metas], dtype=object),
        published=np.array([m.get("published_int", 0) for m in metas], dtype=np.int64),
        bm25=bm25,
    )


def _cache_folder(store: Store, cache_root: Path) -> Path:
    where = f"{store.settings.chroma_url or 'embedded'}|{store.settings.collection}"
    return cache_root / KEYWORD_SUBDIR / hashlib.sha256(where.encode()).hexdigest()[:16]


def _read_cache(folder: Path, generation: str) -> KeywordIndex | None:
    import bm25s

    try:
        meta = json.loads((folder / "chunks.json").read_text())
        if meta["format"] != CACHE_FORMAT or meta["generation"] != generation or not meta["ids"]:
            return None
        bm25 = bm25s.BM25.load(str(folder / "bm25"))
    except FileNotFoundError:
        return None  # no cache yet
    except (OSError, ValueError, KeyError) as exc:
        log.warning("keyword index cache in %s unreadable (%s); rebuilding it", folder, exc)
        return None
    return KeywordIndex(
        generation=generation,
        ids=meta["ids"],
        doc_ids=np.array(meta["doc_ids"], dtype=object),
        sources=np.array(meta["sources"], dtype=object),
        published=np.array(meta["published"], dtype=np.int64),
        bm25=bm25,
    )


def _write_cache(index: KeywordIndex, folder: Path) -> None:
    """Write to a temporary folder and rename it into place, so readers never see half a cache."""
    if not index.ids:
        return
    staging: Path | None = None
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".tmp-"))
        index.bm25.save(str(staging / "bm25"), show_progress=False)
        meta = {
            "format": CACHE_FORMAT,
            "generation": index.generation,
            "ids": index.ids,
            "doc_ids": index.doc_ids.tolist(),
            "sources": index.sources.tolist(),
            "published": index.published.tolist(),
        }
        (staging / "chunks.json").write_text(json.dumps(meta))
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
    except OSError as exc:  # a read-only or full disk only costs a rebuild next time: say so, once
        log.warning("keyword index cache not written to %s: %s", folder, exc.strerror or exc)
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


class LiveKeywordIndex:
    """Keeps the keyword index in memory and reloads it when the collection has changed.

    The generation is checked at most once every `check_interval_s`, so a busy server pays for one
    metadata read a second, not one per question.
    """

    def __init__(self, store: Store, cache_root: Path, check_interval_s: float = 1.0) -> None:
        self._store = store
        self._cache_root = cache_root
        self._check_interval_s = check_interval_s
        self._index: KeywordIndex | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()  # one check or rebuild at a time; the others wait for it

    def get(self) -> KeywordIndex:
        index = self._index
        if index is not None and time.monotonic() - self._checked_at < self._check_interval_s:
            return index
        with self._lock:
            now = time.monotonic()
            if self._index is None or now - self._checked_at >= self._check_interval_s:
                if self._index is None or self._index.generation != self._store.generation():
                    self._index = load_keyword_index(self._store, self._cache_root)
                self._checked_at = now
            return self._index
