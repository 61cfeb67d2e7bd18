"""A least-recently-used cache for batch work: the results of an expensive function of many texts,
kept per text, so that only the texts not seen recently are computed, together in one batch."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

Value = TypeVar("Value")


class BatchCache(Generic[Value]):
    """Up to `entries` results, one per text; safe to share between threads (the computation itself
    runs outside the lock, so two threads may compute the same new text once each)."""

    def __init__(self, entries: int) -> None:
        self.entries = entries
        self._items: OrderedDict[str, Value] = OrderedDict()
        self._lock = threading.Lock()

    def get_many(self, texts: list[str], compute: Callable[[list[str]], Iterable[Value]]) -> list[Value]:
        """The result for each text, computing those not cached in one call of `compute`."""
        with self._lock:
            known = {t: self._items[t] for t in texts if t in self._items}
            for text in known:
                self._items.move_to_end(text)
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        fresh = dict(zip(missing, compute(missing), strict=True)) if missing else {}
        with self._lock:
            self._items.update(fresh)
            while len(self._items) > self.entries:
                self._items.popitem(last=False)
        return [known[t] if t in known else fresh[t] for t in texts]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
