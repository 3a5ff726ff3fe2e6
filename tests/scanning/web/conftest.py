"""Fixtures for the web-scan tests: stores pointing at loopback servers and a way
to run one registered check through the real runner."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

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


@pytest.fixture
def store_for():
    return make_store


@pytest.fixture(scope="session")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 / localhost (made with openssl)."""
    import subprocess

    d = tmp_path_factory.mktemp("cert")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "30",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def tls_site(self_signed):
    from webscan_servers import Site, serve

    stack = []

    def make(routes):
        cm = serve(Site(routes), tls=self_signed)
        site = cm.__enter__()
        stack.append(cm)
        return site

    yield make
    for cm in stack:
        cm.__exit__(None, None, None)
