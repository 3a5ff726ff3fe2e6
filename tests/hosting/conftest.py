"""Fixtures for the hosting tests: a real sshd on a loopback port (shared with the
maintenance tests, in tests/support/sg_sshd.py), world-readable scratch folders
(nginx/PHP workers run as other users), and a helper that runs hosting checks
through the real runner."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from sg_sshd import Sshd, free_port, own_sshd, sshd, start_sshd, stop, store_for, wait_port

from shopguard.checks import CheckRun, all_checks, run_checks, select
from shopguard.config import Config, Store


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A folder every user can traverse (nginx and PHP-FPM workers read from it)."""
    d = Path(tempfile.mkdtemp(prefix="sg-hosting-"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def run_hosting(
    store: Store, selectors: Sequence[str] = ("hosting",), timeout: float = 60
) -> dict[str, CheckRun]:
    """Run the selected hosting checks through the real runner; check id -> result."""
    cfg = Config(stores=(store,))
    results = asyncio.run(run_checks(cfg, [store], select(all_checks(), list(selectors)), timeout=timeout))
    return {r.check_id: r for r in results}


def ids(run: CheckRun) -> set[str]:
    assert run.outcome.value == "ok", run.message
    return {f.check_id for f in run.findings}


__all__ = [
    "Sshd",
    "free_port",
    "ids",
    "own_sshd",
    "run_hosting",
    "scratch",
    "sshd",
    "start_sshd",
    "stop",
    "store_for",
    "wait_port",
]
