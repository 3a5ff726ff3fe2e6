"""``shopguard scan host`` end to end: config, storage, the lead's reports, exit
codes, the score line; over SSH too."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from shopguard.cli.app import app

from .conftest import Sshd


def _config(tmp_path: Path, host: str, sshd: Sshd | None = None) -> Path:
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/root:/bin/sh\n")
    (etc / "group").write_text("root:x:0:\n")
    (etc / "shadow").write_text("root:*:1::::::\n")
    (etc / "sudoers").write_text("root ALL=(ALL) ALL\n")
    keys = f'ssh_key = "{sshd.user_key}"\nknown_hosts = "{sshd.known_hosts}"\n' if sshd else ""
    cfg = tmp_path / "shopguard.toml"
    cfg.write_text(
        f'[[stores]]\nname = "shop"\nstorefront_url = "https://shop.example/"\nhost = "{host}"\n{keys}'
        f'[stores.hosting]\netc = "{etc}"\n'
    )
    return cfg


def test_scan_host_json_through_storage_and_reports(tmp_path: Path) -> None:
    cfg = _config(tmp_path, "local")
    db = f"sqlite:///{tmp_path / 'sg.db'}"
    res = CliRunner().invoke(
        app,
        [
            "scan",
            "host",
            "--store",
            "shop",
            "-c",
            str(cfg),
            "--db",
            db,
            "--format",
            "json",
            "--fail-on",
            "critical",
        ],
    )
    assert res.exit_code == 1, res.output  # the UID-0 'toor' account is critical
    doc = json.loads(res.stdout)
    assert doc["run"]["kind"] == "scan-host" and doc["run"]["checks_run"] >= 20
    uid0 = [f for f in doc["findings"] if f["check_id"] == "hosting.accounts.uid0"]
    assert uid0 and uid0[0]["severity"] == "critical" and uid0[0]["status"] == "new"
    hosting_row = next(r for r in doc["litmus"] if r["protocol"] == "hosting")
    assert hosting_row["status"] == "gaps"
    assert "Hardening score" in res.stderr and "Formula: score = max(0, 100" in res.stderr
    again = CliRunner().invoke(app, ["report", str(doc["run"]["id"]), "--db", db, "-f", "sarif"])
    assert again.exit_code == 0, again.output
    sarif = json.loads(again.stdout)
    assert any(r["ruleId"] == "hosting.accounts.uid0" for r in sarif["runs"][0]["results"])


def test_scan_host_over_ssh_table(tmp_path: Path, sshd: Sshd) -> None:
    cfg = _config(tmp_path, sshd.url, sshd)
    res = CliRunner().invoke(
        app,
        [
            "scan",
            "host",
            "--store",
            "shop",
            "-c",
            str(cfg),
            "--db",
            f"sqlite:///{tmp_path / 'x.db'}",
            "--fail-on",
            "critical",
            "--only",
            "hosting.accounts,hosting.sudo",
        ],
    )
    assert res.exit_code == 1, res.output  # toor (UID 0) seen over SSH
    assert "Hardening score 75/100 (critical 1; 0 check(s) not completed)" in res.stdout
    assert "Hosting" in res.stdout
    wrong = CliRunner().invoke(
        app, ["scan", "host", "--only", "scanning.web", "--db", f"sqlite:///{tmp_path / 'x.db'}"]
    )
    assert wrong.exit_code == 2 and "scan host runs hosting checks only" in wrong.output


def test_scan_host_unreachable_and_bad_target(tmp_path: Path, own_sshd: Sshd) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    res = CliRunner().invoke(
        app,
        [
            "scan",
            "host",
            own_sshd.url,
            "--ssh-key",
            str(own_sshd.user_key),
            "--known-hosts",
            str(own_sshd.known_hosts),
            "--db",
            db,
            "-f",
            "json",
        ],
    )
    assert res.exit_code == 3
    assert f"shopguard hosts trust {own_sshd.url}" in res.stderr
    bad = CliRunner().invoke(app, ["scan", "host", "http://example.com", "--db", db])
    assert bad.exit_code == 2 and "expected 'local' or ssh://user@host:port" in bad.output
