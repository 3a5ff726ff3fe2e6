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


RETIRE_TEST_COPY = Path("/work/shared/data/retirejs/jsrepository.json")


@pytest.fixture(autouse=True)
def _retire_test_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The retire.js repository comes from the shared test copy, never the internet."""
    here = Path(__file__).resolve()
    shared = next(
        (
            p / "shared/data/retirejs/jsrepository.json"
            for p in here.parents
            if (p / "shared/data/retirejs/jsrepository.json").is_file()
        ),
        RETIRE_TEST_COPY,
    )
    monkeypatch.setenv("SHOPGUARD_RETIREJS_FILE", str(shared))


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory):
    from webscan_nginx import make_certs

    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="session")
def hardened_nginx(tmp_path_factory: pytest.TempPathFactory, certs):
    from webscan_nginx import free_port, hardened_servers, run_nginx, write_site

    d = tmp_path_factory.mktemp("nginx-good")
    root = d / "www"
    write_site(root, bad=False)
    https_port, http_port = free_port(), free_port()
    with run_nginx(
        d / "run", hardened_servers(root, https_port, http_port, certs), https_port, http_port, root
    ) as n:
        yield n


@pytest.fixture(scope="session")
def bad_nginx(tmp_path_factory: pytest.TempPathFactory, certs):
    from webscan_nginx import bad_servers, free_port, run_nginx, write_site

    d = tmp_path_factory.mktemp("nginx-bad")
    root = d / "www"
    write_site(root, bad=True)
    https_port, http_port = free_port(), free_port()
    with run_nginx(
        d / "run", bad_servers(root, https_port, http_port, certs), https_port, http_port, root
    ) as n:
        yield n
