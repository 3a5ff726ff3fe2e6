"""`shopguard audit` against the real demo shop: findings, litmus, exit code, reports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
from demo.run import DemoHandle

import shopguard.reports

SCHEMA = Path(shopguard.reports.__file__).parent / "schemas" / "report-1.json"


def sg(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shopguard", *args], capture_output=True, text=True, timeout=300
    )


def test_audit_finds_the_demo_weaknesses(demo_shop: DemoHandle, demo_config: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'sg.db'}"
    r = sg("audit", "--config", str(demo_config), "--format", "json", "--db", db,
           "--only", "scanning.web.reachable,scanning.web.server-banner,scanning.web.https")  # fmt: skip
    assert r.returncode == 1, r.stderr  # high findings (no HTTPS) at the default --fail-on high
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    assert doc["run"]["check_errors"] == 0, doc["run"]["errors"]
    by_check: dict[str, list[dict[str, object]]] = {}
    for f in doc["findings"]:
        by_check.setdefault(str(f["check_id"]), []).append(f)

    banners = " ".join(json.dumps(f) for f in by_check.get("scanning.web.server-banner", []))
    assert "Apache/2.4.29" in banners and "PHP/7.2.24" in banners
    https = by_check["scanning.web.https"]
    assert https[0]["severity"] == "high" and "4.2.1" in https[0]["refs"]["pci"]  # type: ignore[index]
    assert "scanning.web.reachable" not in by_check  # the shop is up: nothing to report
    litmus = {row["protocol"]: row["status"] for row in doc["litmus"]}
    assert litmus["scanning"] == "gaps"
    assert litmus["insurance"] == "not_assessed"

    # The same run renders again from storage, in every format.
    run_id = str(doc["run"]["id"])
    html = tmp_path / "report.html"
    assert sg("report", run_id, "--db", db, "--format", "html", "--output", str(html)).returncode == 0
    assert "Apache/2.4.29" in html.read_text()
    again = json.loads(sg("report", run_id, "--db", db, "--format", "json").stdout)
    assert [f["fingerprint"] for f in again["findings"]] == [f["fingerprint"] for f in doc["findings"]]

    # A second run: the same findings, now "open"; --fail-on never exits 0.
    r2 = sg("audit", "--config", str(demo_config), "--format", "json", "--db", db, "--fail-on", "never",
            "--only", "scanning.web.https")  # fmt: skip
    assert r2.returncode == 0, r2.stderr
    assert {f["status"] for f in json.loads(r2.stdout)["findings"]} == {"open"}


def test_unreachable_store_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    cfg = tmp_path / "shopguard.toml"
    cfg.write_text(f'[[stores]]\nname = "gone"\nstorefront_url = "http://127.0.0.1:{port}/"\n')
    r = sg("audit", "--config", str(cfg), "--format", "json", "--db", f"sqlite:///{tmp_path / 'x.db'}",
           "--only", "scanning.web.reachable")  # fmt: skip
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    [f] = doc["findings"]
    assert f["check_id"].startswith("scanning.web.reachable") and f["severity"] == "high"
