"""`shopguard users create-admin` and the dashboard's tables on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from shopguard.db import open_database
from shopguard.web import auditlog
from shopguard.web.models import WebUser
from shopguard.web.passwords import verify_password

from .conftest import build_env, login


def _sg(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SHOPGUARD_HOME": str(tmp_path / "home")}
    return subprocess.run(
        [sys.executable, "-m", "shopguard", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_create_admin_has_no_default_password(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sg.db'}"
    r = _sg(
        tmp_path, "users", "create-admin", "boss@shop.example", "--password-stdin", "--db", url, stdin="\n"
    )
    assert r.returncode == 2 and "at least 12 characters" in r.stderr
    r = _sg(tmp_path, "users", "create-admin", "boss@shop.example", "--password-stdin", "--db", url,
            stdin="a-long-enough-secret-9\n")  # fmt: skip
    assert r.returncode == 0, r.stderr
    r = _sg(tmp_path, "users", "create-admin", "boss@shop.example", "--password-stdin", "--db", url,
            stdin="a-long-enough-secret-9\n")  # fmt: skip
    assert r.returncode == 2 and "exists" in r.stderr
    db = open_database(url)
    with db() as s:
        user = s.scalar(select(WebUser))
        assert user is not None and user.role == "owner"
        assert user.password_hash.startswith("$argon2id$")
        assert verify_password(user.password_hash, "a-long-enough-secret-9")
        assert auditlog.verify(s).entries == 1
    db.kw["bind"].dispose()


def test_login_audit_and_overview_on_postgresql(postgres_url: str) -> None:
    env = build_env(postgres_url)
    try:
        assert login(env.client(), "owner@shop.example").status_code == 303
        assert login(env.client(), "owner@shop.example", "wrong-password-1").status_code == 400
        with env.db() as s:
            rep = auditlog.verify(s)
        assert rep.ok and rep.entries == 2
        client, _ = env.session_client("analyst@shop.example")
        rows = client.get("/api/v1/overview").json()
        assert [r["store"] for r in rows] == ["beta", "alpha"]
        assert rows[0]["protocols"]["pci"] == "gaps" and rows[1]["protocols"]["pci"] == "ready"
    finally:
        env.db.kw["bind"].dispose()


def test_serve_refuses_several_workers_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sg.db'}"
    r = _sg(tmp_path, "serve", "--workers", "2", "--port", "1", "--db", url)
    assert r.returncode == 2 and "needs PostgreSQL" in r.stderr


def test_serve_refuses_a_tls_key_others_can_read(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("-----BEGIN CERTIFICATE-----\n")
    key.write_text("-----BEGIN PRIVATE KEY-----\n")
    key.chmod(0o644)
    url = f"sqlite:///{tmp_path / 'sg.db'}"
    r = _sg(tmp_path, "serve", "--port", "1", "--db", url, "--tls-cert", str(cert), "--tls-key", str(key))
    assert r.returncode == 2 and "readable by its owner only" in r.stderr and "chmod 600" in r.stderr
    r = _sg(tmp_path, "serve", "--port", "1", "--db", url, "--tls-cert", str(cert))
    assert r.returncode == 2 and "--tls-cert and --tls-key go together" in r.stderr
    r = _sg(
        tmp_path,
        "serve",
        "--port",
        "1",
        "--db",
        url,
        "--tls-cert",
        str(tmp_path / "no.pem"),
        "--tls-key",
        str(key),
    )
    assert r.returncode == 2 and "no such file" in r.stderr
    key.chmod(0o600)
    r = _sg(tmp_path, "serve", "--port", "1", "--db", url, "--tls-cert", str(cert), "--tls-key", str(key))
    assert r.returncode == 2 and "not a PEM certificate and its matching key" in r.stderr
