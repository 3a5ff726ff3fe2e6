from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterable
from typing import ClassVar

import pytest
from sqlalchemy import text

from shopguard.checks import (
    BaseCheck,
    CheckContext,
    Outcome,
    RecordsCheck,
    SelectorError,
    all_checks,
    run_checks,
    select,
)
from shopguard.config import Config, Store, parse_config
from shopguard.db import open_database
from shopguard.findings import Finding, Severity


def cfg(n: int = 1) -> Config:
    return parse_config(
        {"stores": [{"name": f"s{i}", "storefront_url": f"http://127.0.0.1:{9000 + i}/"} for i in range(n)]}
    )


class Yields(BaseCheck):
    id = "hosting.test.yields"

    async def run(self, ctx: CheckContext) -> AsyncIterator[Finding]:
        for i in range(2):
            await asyncio.sleep(0)
            yield Finding(self.id, Severity.HIGH, f"problem {i}", f"{ctx.store.name}:{i}")


class Returns(BaseCheck):
    id = "hosting.test.returns"

    def run(self, ctx: CheckContext) -> Iterable[Finding]:
        return [Finding(self.id + ".sub", Severity.LOW, "sub-finding", ctx.store.name)]


class Raises(BaseCheck):
    id = "hosting.test.raises"

    async def run(self, ctx: CheckContext) -> list[Finding]:
        raise PermissionError("cannot read /etc/shadow")


class Hangs(BaseCheck):
    id = "scanning.test.hangs"

    async def run(self, ctx: CheckContext) -> list[Finding]:
        await asyncio.sleep(60)
        return []


class WrongId(BaseCheck):
    id = "scanning.test.wrong"

    def run(self, ctx: CheckContext) -> list[Finding]:
        return [Finding("scanning.other", Severity.LOW, "x", "y")]


class OnlyS1(BaseCheck):
    id = "pci.test.only-s1"

    def applies(self, store: Store) -> bool:
        return store.name == "s1"

    def run(self, ctx: CheckContext) -> list[Finding]:
        return []


def test_errors_and_timeouts_are_recorded_and_the_run_goes_on() -> None:
    checks = [Yields(), Returns(), Raises(), Hangs(), WrongId()]
    c = cfg()
    start = time.monotonic()
    results = asyncio.run(run_checks(c, c.stores, checks, timeout=0.5))
    assert time.monotonic() - start < 5
    by_id = {r.check_id: r for r in results}
    assert by_id["hosting.test.yields"].outcome is Outcome.OK
    assert len(by_id["hosting.test.yields"].findings) == 2
    assert by_id["hosting.test.returns"].findings[0].check_id == "hosting.test.returns.sub"
    assert by_id["hosting.test.raises"].outcome is Outcome.ERROR
    assert "PermissionError: cannot read /etc/shadow" in by_id["hosting.test.raises"].message
    assert by_id["scanning.test.hangs"].outcome is Outcome.TIMEOUT
    assert "0.5 s" in by_id["scanning.test.hangs"].message
    assert by_id["scanning.test.wrong"].outcome is Outcome.ERROR
    assert "not under the check's id" in by_id["scanning.test.wrong"].message


def test_applies_concurrency_progress_and_callbacks() -> None:
    running = 0
    peak = 0

    class Slow(BaseCheck):
        id = "hosting.test.slow"

        async def run(self, ctx: CheckContext) -> list[Finding]:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.05)
            running -= 1
            return []

    c = cfg(3)
    seen: list[str] = []
    ticks: list[tuple[int, int | None]] = []
    results = asyncio.run(
        run_checks(
            c,
            c.stores,
            [Slow(), OnlyS1()],
            concurrency=2,
            on_result=lambda r: seen.append(f"{r.store}/{r.check_id}"),
            progress=lambda d, t: ticks.append((d, t)),
        )
    )
    assert len(results) == 4  # Slow on 3 stores + OnlyS1 on s1 only
    assert peak == 2
    assert sorted(seen) == sorted(f"{r.store}/{r.check_id}" for r in results)
    assert ticks[0] == (0, 4) and ticks[-1] == (4, 4)


def test_cancellation_propagates_and_closes_resources() -> None:
    closed: list[str] = []

    class Resource:
        async def aclose(self) -> None:
            closed.append("http")

    class UsesResource(BaseCheck):
        id = "scanning.test.resource"

        async def run(self, ctx: CheckContext) -> list[Finding]:
            await ctx.resources.get("http", Resource)
            await asyncio.sleep(30)
            return []

    async def main() -> None:
        c = cfg()
        task = asyncio.create_task(run_checks(c, c.stores, [UsesResource()]))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert closed == ["http"]


def test_selectors() -> None:
    checks = [Yields(), Returns(), Hangs(), OnlyS1()]
    assert [c.id for c in select(checks, ["hosting"])] == ["hosting.test.yields", "hosting.test.returns"]
    assert [c.id for c in select(checks, ["scanning.test"])] == ["scanning.test.hangs"]
    assert [c.id for c in select(checks, ["hosting.test.returns", "pci"])] == [
        "hosting.test.returns",
        "pci.test.only-s1",
    ]
    assert len(select(checks, None)) == 4
    with pytest.raises(SelectorError, match="matches no check"):
        select(checks, ["scanning.nothing"])
    # a prefix must end at a dot: "hosting.test.y" is not "hosting.test.yields"
    with pytest.raises(SelectorError):
        select(checks, ["hosting.test.y"])


def test_discovered_checks_have_valid_ids() -> None:
    ids = [c.id for c in all_checks()]
    assert len(ids) == len(set(ids))


class ReadsRecords(RecordsCheck):
    id = "pci.test.records"
    threads: ClassVar[list[int]] = []

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        self.threads.append(threading.get_ident())
        with self.records(ctx)() as s:
            stores = s.execute(text("SELECT 'records-ok'")).scalar_one()
        return [Finding(self.id, Severity.LOW, str(stores), ctx.store.name)]


class MonitoringRecords(ReadsRecords):
    id = "monitoring.test.records"


def test_records_check_evaluates_in_a_thread_and_reads_the_records(sqlite_url: str) -> None:
    c = cfg()
    check = ReadsRecords()
    results = asyncio.run(run_checks(c, c.stores, [check], db=open_database(sqlite_url)))
    assert results[0].outcome is Outcome.OK
    assert [f.title for f in results[0].findings] == ["records-ok"]
    assert check.threads and threading.get_ident() not in check.threads


def test_records_check_without_database_is_a_check_error_naming_the_protocol() -> None:
    c = cfg()
    results = asyncio.run(run_checks(c, c.stores, [ReadsRecords(), MonitoringRecords()], db=None))
    by_id = {r.check_id: r for r in results}
    pci = by_id["pci.test.records"]
    assert pci.outcome is Outcome.ERROR and pci.findings == []
    assert pci.message.startswith("RecordsUnavailable: ShopGuard's database is not available")
    assert "pci.test.records" in pci.message and "the pci protocol cannot be assessed" in pci.message
    mon = by_id["monitoring.test.records"]
    assert mon.outcome is Outcome.ERROR
    assert "monitoring.test.records" in mon.message and "the scanning protocol" in mon.message
