"""A small process-wide store of computed values, shared by every session (issue 15): the last ``size`` keys,
the least recently used dropped first. Values are shared, never changed by a reader; a key must hold everything a
value depends on (and, for anything a user may not see, the user)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Hashable, TypeVar

V = TypeVar("V")


class Kept:
    def __init__(self, size: int):
        self.size = size
        self._values: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The value kept for ``key``, else ``compute()`` kept (computed outside the lock: two sessions may compute
        the same value at once; both results are equal and one is kept)."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]  # type: ignore[return-value]
        value = compute()
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value
