"""Helpers for the web-scan tests: stores pointing at loopback servers and a way to run
registered checks through the real runner."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shopguard.checks import CheckRun, all_checks, run_checks
from shopguard.config import Config, Store, WebScan
from shopguard.findings import Finding


def make_store(url: str, checkout: str | None = None, basket: str | None = None, **web: Any) -> Store:
    return Store(
        name="t",
        storefront_url=url,
        checkout_url=checkout,
        basket_url=basket,
        web=WebScan(**web),
    )


async def run_web_checks(store: Store, ids: Sequence[str], timeout: float = 30) -> dict[str, CheckRun]:
    checks = [c for c in all_checks() if c.id in ids]
    assert len(checks) == len(ids), f"unknown check ids among {ids}"
    results = await run_checks(Config(stores=(store,)), [store], checks, timeout=timeout)
    return {r.check_id: r for r in results}


async def findings_of(store: Store, check_id: str, timeout: float = 30) -> list[Finding]:
    run = (await run_web_checks(store, [check_id], timeout))[check_id]
    assert not run.errored, run.message
    return run.findings
