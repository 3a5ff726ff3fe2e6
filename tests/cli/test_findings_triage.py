"""``shopguard findings accept --expires``: default, maximum (from [findings]) and bad dates."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from shopguard.checks import CheckRun, Outcome
from shopguard.cli.app import app
from shopguard.db import open_database
from shopguard.db.base import utcnow
from shopguard.db.repository import begin_run, finish_run, record_check
from shopguard.findings import Finding, Severity

F = Finding("scanning.web.headers.hsts", Severity.HIGH, "No HSTS", "https://demo.example/")


def _db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'sg.db'}"
    db = open_database(url)
    run = begin_run(db, ["demo"], "all")
    record_check(db, run, CheckRun("scanning.web.headers", "demo", Outcome.OK, [F]))
    finish_run(db, run)
    db.kw["bind"].dispose()
    return url


def _sg(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(app, list(args))
    return res.exit_code, res.output


def test_accept_with_expiry_default_maximum_and_bad_values(tmp_path: Path) -> None:
    url = _db(tmp_path)
    fp = F.fingerprint[:10]
    base = ("findings", "accept", fp, "--store", "demo", "--reason", "CDN adds it", "--db", url)
    code, out = _sg(*base, "--expires", "next week")
    assert code == 2 and "--expires 'next week'" in out
    code, out = _sg(*base, "--expires", "400d")
    assert code == 2 and "at most 365 days ahead" in out
    code, out = _sg(*base)
    default = (utcnow().date() + timedelta(days=90)).isoformat()
    assert code == 0 and f"until {default}" in out
    day = (utcnow().date() + timedelta(days=20)).isoformat()
    code, out = _sg(*base, "--expires", day)
    assert code == 0 and f"until {day}" in out
    code, out = _sg("findings", "list", "--json", "--db", url)
    (row,) = json.loads(out)
    assert row["triage"] == "accepted_risk" and row["triage_expires_at"].startswith(day)
    assert row["triage_lapsed"] is False


def test_the_configured_maximum_applies(tmp_path: Path) -> None:
    url = _db(tmp_path)
    cfg = tmp_path / "shopguard.toml"
    cfg.write_text(
        '[[stores]]\nname = "demo"\nstorefront_url = "https://demo.example"\nplatform = "woocommerce"\n\n'
        "[findings]\naccept_risk_default_days = 7\naccept_risk_max_days = 30\n"
    )
    fp = F.fingerprint[:10]
    base = ("findings", "accept", fp, "--store", "demo", "--reason", "short", "--db", url, "-c", str(cfg))
    code, out = _sg(*base, "--expires", "31d")
    assert code == 2 and "at most 30 days ahead" in out
    code, out = _sg(*base)
    assert code == 0 and f"until {(utcnow().date() + timedelta(days=7)).isoformat()}" in out
