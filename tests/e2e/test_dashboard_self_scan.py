"""Issue 11: ShopGuard's own outside-in web scan, run against its own dashboard on loopback,
finds nothing of medium or higher.

`shopguard serve` runs over TLS (a throwaway self-signed certificate for 127.0.0.1) as a
subprocess with a temp SHOPGUARD_HOME; the scan is the real `shopguard audit --only scanning.web`
through the CLI with a config whose store is the dashboard and whose CA bundle is that
certificate. The retire.js data is the shared test copy, so no network is attempted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import json
import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

RETIRE = "shared/data/retirejs/jsrepository.json"
MEDIUM_OR_HIGHER = {"medium", "high", "critical"}


def _retire_copy() -> Path:
    """The shared retire.js test copy: `shared/` sits beside the clone (CI) or the worktrees."""
    here = Path(__file__).resolve()
    for p in here.parents:
        if (p / RETIRE).is_file():
            return p / RETIRE
    raise AssertionError(f"{RETIRE} not found above {here}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _self_signed(d: Path) -> tuple[Path, Path]:
    """A certificate for IP 127.0.0.1 (SAN), key 0600. Valid 90 days like a Let's Encrypt
    certificate: the scan rightly flags one that is about to expire."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=90))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = d / "cert.pem", d / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    fd = os.open(key_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return cert_path, key_path


def _cli(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shopguard", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@contextlib.contextmanager
def _serve(tmp_path: Path, tls: bool) -> Iterator[tuple[str, Path, dict[str, str]]]:
    cert, key = _self_signed(tmp_path)
    env = {
        **os.environ,
        "SHOPGUARD_HOME": str(tmp_path / "home"),
        "SHOPGUARD_DB": f"sqlite:///{tmp_path / 'sg.db'}",
        "SHOPGUARD_RETIREJS_FILE": str(_retire_copy()),
    }
    made = _cli(
        env, "users", "create-admin", "owner@example.com", "--password-stdin", stdin="a long pass phrase 1\n"
    )
    assert made.returncode == 0, made.stdout + made.stderr
    port = _free_port()
    tls_args = ["--tls-cert", str(cert), "--tls-key", str(key)] if tls else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "shopguard", "serve", "--port", str(port), *tls_args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"{'https' if tls else 'http'}://127.0.0.1:{port}/"
    trust = ssl.create_default_context(cafile=str(cert))
    try:
        for _ in range(150):
            try:
                if httpx.get(f"{base}healthz", verify=trust, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
                time.sleep(0.1)
        else:
            raise AssertionError("shopguard serve did not start")
        yield base, cert, env
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[tuple[str, Path, dict[str, str]]]:
    with _serve(tmp_path, tls=True) as served:
        yield served


def _scan(tmp_path: Path, base: str, cert: Path, env: dict[str, str]) -> tuple[dict[str, Any], int]:
    """The real scan through the CLI. The dashboard has one port; the other scheme is probed on that
    same port (``http_port``/``https_port``), which is where a user would mistype it, and so the
    result does not depend on whatever else on this machine listens on :80 or :443."""
    port = urlsplit(base).port
    config = tmp_path / "shopguard.toml"
    config.write_text(
        f'[[stores]]\nname = "dashboard"\nstorefront_url = "{base}"\n'
        f'[stores.web]\nca_bundle = "{cert}"\nhttp_port = {port}\nhttps_port = {port}\n'
    )
    done = _cli(
        env,
        "audit",
        "--config",
        str(config),
        "--only",
        "scanning.web",
        "--format",
        "json",
        "--fail-on",
        "medium",
    )
    assert done.stdout, done.stderr
    return json.loads(done.stdout), done.returncode


def _serious(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (f["check_id"], f["severity"], f["title"])
        for f in report["findings"]
        if f["severity"] in MEDIUM_OR_HIGHER
    ]


def test_own_web_scan_finds_nothing_medium_or_higher(
    dashboard: tuple[str, Path, dict[str, str]], tmp_path: Path
) -> None:
    base, cert, env = dashboard
    # Login sets its CSRF cookie Secure over HTTPS (--cookie-secure auto follows the scheme).
    login = httpx.get(f"{base}login", verify=ssl.create_default_context(cafile=str(cert)))
    assert login.status_code == 200
    assert all("secure" in c.lower() for c in login.headers.get_list("set-cookie")), login.headers
    report, code = _scan(tmp_path, base, cert, env)
    assert _serious(report) == []
    assert report["run"]["errors"] == [], report["run"]["errors"]
    assert report["run"]["check_errors"] == 0
    assert report["run"]["checks_run"] >= 10  # the whole scanning.web family ran against the dashboard
    assert code == 0


def test_same_scan_flags_the_dashboard_over_plain_http(tmp_path: Path) -> None:
    """The control: the same scan of the same dashboard without TLS does see it and says so, so the
    clean result above is the dashboard's doing, not a scan that never reached it."""
    with _serve(tmp_path, tls=False) as (base, cert, env):
        report, code = _scan(tmp_path, base, cert, env)
    serious = {(check_id, severity) for check_id, severity, _ in _serious(report)}
    assert ("scanning.web.https", "high") in serious
    assert ("scanning.web.cookies", "medium") in serious
    assert report["run"]["check_errors"] == 0
    assert code == 1
