"""Fixtures for the web-scan tests: certificates, TLS sites, Debian nginx (good and bad),
and the retire.js test copy. Helpers live in webscan_helpers.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


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
