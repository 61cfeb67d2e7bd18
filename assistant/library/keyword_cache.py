"""The keyword index's copy on disk, under the index folder: what a restarting process reads instead
of every chunk of the collection.

A cached index may be older than the collection: `LiveKeywordIndex` then brings it up to date by
reading only the articles that changed since. The copy is written to a temporary folder and renamed
into place, so readers never see half of one; a copy that cannot be read or written costs a full
build, and says so in the log once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
from pathlib import Path

import numpy as np

from assistant.library.keyword import Chunk, KeywordIndex, bm25s
from assistant.library.store import Store

log = logging.getLogger("assistant.library.keyword")

KEYWORD_SUBDIR = "keyword"
CACHE_FORMAT = 3
FIELDS = ("id", "text", "metadata", "doc_id", "version", "source", "published")


def cache_folder(store: Store, cache_root: Path) -> Path:
    where = f"{store.settings.chroma_url or 'embedded'}|{store.settings.collection}"
    return cache_root / KEYWORD_SUBDIR / hashlib.sha256(where.encode()).hexdigest()[:16]


def read_cache(store: Store, cache_root: Path) -> KeywordIndex | None:
    """The cached index of this store's collection, whatever generation it was built at; None when
    there is none or it cannot be read."""
    return read_folder(cache_folder(store, cache_root))


def write_cache(store: Store, cache_root: Path, index: KeywordIndex) -> None:
    write_folder(index, cache_folder(store, cache_root))


def read_folder(folder: Path) -> KeywordIndex | None:
    try:
        meta = json.loads((folder / "chunks.json").read_text())
        if meta.get("format") != CACHE_FORMAT:
            return None
        words = np.load(folder / "words.npy")
        bounds = np.load(folder / "bounds.npy")
        columns = [meta[name] for name in FIELDS]
        chunks = [
            Chunk(*row, words=words[bounds[n] : bounds[n + 1]])
            for n, row in enumerate(zip(*columns, strict=True))
        ]
        vocab = {word: n for n, word in enumerate(meta["vocab"])}
        bm25 = bm25s().BM25.load(str(folder / "bm25"), show_progress=False)
        bm25.vocab_dict = vocab  # the same words and numbers, one dict
        return KeywordIndex(meta["generation"], chunks, vocab, meta["recorded"], meta["unrecorded"], bm25)
    except FileNotFoundError:
        return None  # no cache yet
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        log.warning("keyword index cache in %s unreadable (%s); rebuilding it", folder, exc)
        return None


def write_folder(index: KeywordIndex, folder: Path) -> None:
    if not index.chunks:
        return
    staging: Path | None = None
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".tmp-"))
        meta = {
            "format": CACHE_FORMAT,
            "generation": index.generation,
            "recorded": index.recorded,
            "unrecorded": index.unrecorded,
            "vocab": sorted(index.vocab, key=index.vocab.__getitem__),
        } | {name: [getattr(c, name) for c in index.chunks] for name in FIELDS}
        (staging / "chunks.json").write_text(json.dumps(meta))
        index.bm25.save(str(staging / "bm25"), show_progress=False)  # its scores: no re-scoring at start
        lengths = [len(c.words) for c in index.chunks]
        np.save(staging / "words.npy", np.concatenate([c.words for c in index.chunks]).astype(np.int32))
        np.save(staging / "bounds.npy", np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
    except OSError as exc:  # a read-only or full disk only costs a rebuild next time: say so, once
        log.warning("keyword index cache not written to %s: %s", folder, exc.strerror or exc)
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
