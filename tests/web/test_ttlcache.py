"""The dashboard's short-lived cache: fresh hits, single-flight refresh, stale while refreshing."""

from __future__ import annotations

import threading
import time

from shopguard.web.ttlcache import TTLCache


def test_a_fresh_entry_is_not_recomputed_and_an_expired_one_is() -> None:
    cache: TTLCache[int] = TTLCache(0.2)
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert cache.get("k", compute) == 1
    assert cache.get("k", compute) == 1
    time.sleep(0.25)
    assert cache.get("k", compute) == 2
    assert len(calls) == 2


def test_only_one_thread_recomputes_and_the_others_get_the_previous_value() -> None:
    cache: TTLCache[str] = TTLCache(0.05)
    cache.get("k", lambda: "old")
    time.sleep(0.1)
    started = threading.Event()
    release = threading.Event()
    computed: list[str] = []

    def slow() -> str:
        computed.append("new")
        started.set()
        release.wait(5)
        return "new"

    refresher = threading.Thread(target=lambda: cache.get("k", slow))
    refresher.start()
    assert started.wait(5)
    # While the refresh runs, every other reader gets the previous value at once.
    others = [cache.get("k", slow) for _ in range(5)]
    release.set()
    refresher.join(5)
    assert others == ["old"] * 5
    assert computed == ["new"]
    assert cache.get("k", slow) == "new"


def test_a_first_computation_is_waited_for_not_repeated() -> None:
    cache: TTLCache[int] = TTLCache(10)
    calls: list[int] = []
    gate = threading.Event()

    def compute() -> int:
        calls.append(1)
        gate.wait(5)
        return 42

    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("k", compute))) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.1)
    gate.set()
    for t in threads:
        t.join(5)
    assert results == [42] * 4
    assert len(calls) == 1


def test_a_failed_computation_raises_and_the_next_reader_computes_again() -> None:
    cache: TTLCache[int] = TTLCache(10)

    def boom() -> int:
        raise RuntimeError("database went away")

    try:
        cache.get("k", boom)
    except RuntimeError as exc:
        assert "database" in str(exc)
    else:
        raise AssertionError("the failure was swallowed")
    assert cache.get("k", lambda: 7) == 7


def test_clear_drops_entries_and_a_value_computed_before_the_clear_is_not_kept() -> None:
    cache: TTLCache[str] = TTLCache(10)
    entered = threading.Event()
    gate = threading.Event()

    def before_write() -> str:
        entered.set()
        gate.wait(5)
        return "before the write"

    t = threading.Thread(target=lambda: cache.get("k", before_write))
    t.start()
    assert entered.wait(5)
    cache.clear()  # a triage happened while the slow aggregate was running
    gate.set()
    t.join(5)
    assert cache.get("k", lambda: "after the write") == "after the write"


def test_the_oldest_entries_are_dropped_past_the_limit() -> None:
    cache: TTLCache[int] = TTLCache(10, max_entries=3)
    for i in range(5):
        cache.get(i, lambda i=i: i)
    assert len(cache) == 3
    assert cache.get(0, lambda: -1) == -1


def test_in_background_mode_an_expired_entry_is_served_at_once_and_refreshed_behind() -> None:
    cache: TTLCache[str] = TTLCache(0.05, background=True)
    cache.get("k", lambda: "old")
    time.sleep(0.1)
    refreshed = threading.Event()
    gate = threading.Event()

    def slow() -> str:
        gate.wait(5)
        refreshed.set()
        return "new"

    started = time.monotonic()
    assert cache.get("k", slow) == "old"  # not waiting for the slow refresh
    assert time.monotonic() - started < 1
    gate.set()
    assert refreshed.wait(5)
    for _ in range(100):  # the refresh thread stores its value just after computing it
        if cache.get("k", lambda: "recomputed") == "new":
            break
        time.sleep(0.01)
    assert cache.get("k", lambda: "recomputed") == "new"


def test_in_background_mode_a_failing_refresh_keeps_the_old_value_until_it_is_far_too_old() -> None:
    cache: TTLCache[str] = TTLCache(0.05, background=True)
    cache.get("k", lambda: "old")
    time.sleep(0.1)

    def boom() -> str:
        raise RuntimeError("database went away")

    assert cache.get("k", boom) == "old"
    time.sleep(0.6)  # more than ten TTLs: the caller must now wait for a fresh value, and sees the failure
    try:
        cache.get("k", boom)
    except RuntimeError:
        pass
    else:
        raise AssertionError("a value far past its age was served")
