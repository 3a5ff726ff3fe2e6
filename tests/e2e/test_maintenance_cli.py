"""`shopguard scan deps`, `audit`, `inventory` and `maintenance plan` as a user runs them."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopguard.cli.app import app

_REPO = Path(__file__).resolve().parents[2]
SHARED = next(
    (p for p in (_REPO.parent / "shared" / "data", _REPO.parent.parent / "shared" / "data") if p.exists()),
    _REPO.parent / "shared" / "data",
)


@pytest.fixture(scope="module")
def synced_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`shopguard vulndb sync --from ...` with the shared real data, run once for this module."""
    home = tmp_path_factory.mktemp("home")
    old = os.environ.get("SHOPGUARD_HOME")
    os.environ["SHOPGUARD_HOME"] = str(home)
    try:
        result = CliRunner().invoke(
            app,
            [
                "vulndb",
                "sync",
                "--no-eol",
                "--from",
                str(SHARED / "advisories" / "osv-PyPI-all.zip"),
                "--from",
                str(SHARED / "advisories" / "friendsofphp-security-advisories.tar.gz"),
                "--from",
                str(SHARED / "retirejs" / "jsrepository.json"),
            ],
        )
    finally:
        if old is None:
            os.environ.pop("SHOPGUARD_HOME", None)
        else:
            os.environ["SHOPGUARD_HOME"] = old
    assert result.exit_code == 0, result.output
    return home / "vulndb"


@pytest.fixture
def synced_home(synced_once: Path) -> Path:
    dest = Path(os.environ["SHOPGUARD_HOME"]) / "vulndb"
    shutil.copytree(synced_once, dest)
    return dest


@pytest.fixture
def demo_shop(tmp_path: Path) -> Path:
    """Like the demo shop: jQuery 1.12.4 shipped as js/jquery-1.12.4.min.js (its real header line)."""
    root = tmp_path / "shop"
    (root / "js").mkdir(parents=True)
    (root / "js" / "jquery-1.12.4.min.js").write_text(
        "/*! jQuery v1.12.4 | (c) jQuery Foundation | jquery.org/license */\n!function(a,b){}(window);\n"
    )
    (root / "requirements.txt").write_text("Django==3.0.0\nJinja2==2.10\n")
    return root


def test_scan_deps_json_reports_the_demo_jquery(demo_shop: Path, synced_home: Path, sqlite_url: str) -> None:
    result = CliRunner().invoke(app, ["scan", "deps", str(demo_shop), "--format", "json", "--db", sqlite_url])
    assert result.exit_code == 1, result.output  # high findings: exit 1 by default
    report = json.loads(result.stdout)
    vulns = {
        f["evidence"]["component"]: f
        for f in report["findings"]
        if f["check_id"] == "maintenance.vulnerabilities"
    }
    assert {"jquery", "Django", "Jinja2"} == set(vulns)
    assert "CVE-2019-11358" in vulns["jquery"]["refs"]["cve"]
    assert vulns["jquery"]["location"].endswith("js/jquery-1.12.4.min.js")
    ok = CliRunner().invoke(
        app, ["scan", "deps", str(demo_shop), "--format", "json", "--db", sqlite_url, "--fail-on", "never"]
    )
    assert ok.exit_code == 0


def test_scan_deps_without_database_says_what_to_do(demo_shop: Path, sqlite_url: str) -> None:
    result = CliRunner().invoke(app, ["scan", "deps", str(demo_shop), "--format", "json", "--db", sqlite_url])
    assert result.exit_code == 3
    assert "shopguard vulndb sync" in result.output


def test_audit_with_config_includes_maintenance(demo_shop: Path, synced_home: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "shopguard.toml"
    cfg.write_text(
        f'[[stores]]\nname = "demo"\nstorefront_url = "http://127.0.0.1:8080/"\nweb_roots = ["{demo_shop}"]\n'
        "[stores.maintenance]\ninventory_host = false\n"
    )
    result = CliRunner().invoke(
        app,
        [
            "audit",
            "-c",
            str(cfg),
            "--only",
            "maintenance",
            "--format",
            "json",
            "--db",
            f"sqlite:///{tmp_path}/a.db",
        ],
    )
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    row = next(r for r in report["litmus"] if r["protocol"] == "maintenance")
    assert row["status"] == "gaps"


def test_inventory_json_and_plan(demo_shop: Path, synced_home: Path) -> None:
    inv = CliRunner().invoke(app, ["inventory", str(demo_shop), "--format", "json"])
    assert inv.exit_code == 0, inv.output
    comps = {c["name"]: c for c in json.loads(inv.stdout)["components"]}
    assert comps["jquery"]["purl"] == "pkg:npm/jquery@1.12.4" and comps["jquery"]["kind"] == "js-file"
    plan = CliRunner().invoke(app, ["maintenance", "plan", str(demo_shop), "--format", "json"])
    assert plan.exit_code == 0, plan.output
    items = json.loads(plan.stdout)
    assert [i["rank"] for i in items] == list(range(1, len(items) + 1))
    jq = next(i for i in items if i["component"] == "jquery")
    assert jq["target"] == "3.5.0" and "npm pack jquery@3.5.0" in jq["command"]
    table = CliRunner().invoke(app, ["maintenance", "plan", str(demo_shop)])
    assert table.exit_code == 0 and "Libraries (PHP, JavaScript, Python)" in table.stdout


def test_inventory_usage_errors(tmp_path: Path) -> None:
    missing = CliRunner().invoke(app, ["inventory", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "no such file or folder" in missing.output
    bad = CliRunner().invoke(app, ["inventory", str(tmp_path), "--format", "xml"])
    assert bad.exit_code == 2 and "expected table, json or cyclonedx" in bad.output


def test_inventory_table_to_a_file(demo_shop: Path, synced_home: Path, tmp_path: Path) -> None:
    out = tmp_path / "inventory.txt"
    result = CliRunner().invoke(app, ["inventory", str(demo_shop), "--output", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "pkg:npm/jquery@1.12.4" in text and "pkg:pypi/django@3.0.0" in text and "3 components" in text
