"""A small thread-safe cache whose entries live a few seconds.

The dashboard's expensive aggregates (counts over 100,000 findings, the overview table) are
the same for every user with the same scope, and a few seconds of staleness is invisible on
pages that already refresh from runs that take minutes. The process's own writes clear it
(``WebContext.invalidate``), so a user always sees the effect of what they just did.

Refreshing is single-flight: when an entry has expired, one thread recomputes it while the
others keep getting the previous value, instead of every request in flight running the same
slow aggregate at once (which is what made the tail latency seconds long under load). With
``background=True`` that thread is not a request's: the request that finds the entry expired
starts the refresh and is answered from the previous value, so no page load waits for an
aggregate except the very first one, or one whose entry is far past its age (a refresh that
keeps failing must not leave a stale value in place for ever; the failure then shows).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")
log = logging.getLogger(__name__)
STALE_AT_MOST = 10
"""A value older than this many TTLs is not served while refreshing: the caller waits."""


class TTLCache(Generic[V]):
    def __init__(self, ttl_s: float, max_entries: int = 256, background: bool = False) -> None:
        self.ttl_s = ttl_s
        self.background = background
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
                age = time.monotonic() - hit[0] if hit is not None else 0.0
                if hit is not None and age <= self.ttl_s:
                    self._items.move_to_end(key)
                    return hit[1]
                usable = hit is not None and age <= self.ttl_s * STALE_AT_MOST
                running = self._computing.get(key)
                if running is None:
                    done = self._computing[key] = threading.Event()
                    generation = self._generation
                    break
                if hit is not None and usable:
                    return hit[1]
            running.wait()
            # The computation finished (or failed): loop to read it or compute it ourselves.
        if hit is not None and usable and self.background:
            threading.Thread(
                target=self._refresh, args=(key, compute, generation, done), name="cache-refresh", daemon=True
            ).start()
            return hit[1]
        try:
            return self._store(key, compute(), generation)
        finally:
            self._finish(key, done)

    def _refresh(
        self, key: Hashable, compute: Callable[[], V], generation: int, done: threading.Event
    ) -> None:
        try:
            self._store(key, compute(), generation)
        except Exception:
            log.exception("refreshing a dashboard figure failed; the previous value is kept for now")
        finally:
            self._finish(key, done)

    def _store(self, key: Hashable, value: V, generation: int) -> V:
        with self._lock:
            if generation == self._generation:
                self._items[key] = (time.monotonic(), value)
                self._items.move_to_end(key)
                while len(self._items) > self.max_entries:
                    self._items.popitem(last=False)
        return value

    def _finish(self, key: Hashable, done: threading.Event) -> None:
        with self._lock:
            self._computing.pop(key, None)
        done.set()

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._generation += 1

    def __len__(self) -> int:
        return len(self._items)
