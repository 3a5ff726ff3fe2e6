"""A small thread-safe cache whose entries live a few seconds.

The dashboard's expensive aggregates (counts over 100,000 findings, the overview table) are
the same for every user with the same scope, and a few seconds of staleness is invisible on
pages that already refresh from runs that take minutes. The process's own writes clear it
(``WebContext.invalidate``), so a user always sees the effect of what they just did.

Refreshing is single-flight: when an entry has expired, one request recomputes it while the
others keep getting the previous value, instead of every request in flight running the same
slow aggregate at once (which is what made the tail latency seconds long under load).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class TTLCache(Generic[V]):
    def __init__(self, ttl_s: float, max_entries: int = 256) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._items: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._computing: dict[Hashable, threading.Event] = {}
        self._generation = 0
        """Bumped by ``clear``: a value computed before a clear is not stored after it."""

    def get(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The value for ``key``: cached if younger than the TTL; else, if another thread is
        already recomputing it, the previous value (or, for a first computation, that
        thread's result); else ``compute()``, stored."""
        while True:
            with self._lock:
                hit = self._items.get(key)
                if hit is not None and time.monotonic() - hit[0] <= self.ttl_s:
                    self._items.move_to_end(key)
                    return hit[1]
                running = self._computing.get(key)
                if running is None:
                    done = self._computing[key] = threading.Event()
                    generation = self._generation
                    break
                if hit is not None:
                    return hit[1]
            running.wait()
            # The first computation finished (or failed): loop to read it or compute it ourselves.
        try:
            value = compute()
            with self._lock:
                if generation == self._generation:
                    self._items[key] = (time.monotonic(), value)
                    self._items.move_to_end(key)
                    while len(self._items) > self.max_entries:
                        self._items.popitem(last=False)
            return value
        finally:
            with self._lock:
                self._computing.pop(key, None)
            done.set()

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._generation += 1

    def __len__(self) -> int:
        return len(self._items)
