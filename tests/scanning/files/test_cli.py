"""``shopguard scan files`` and ``shopguard files allow`` through the real CLI and storage."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from typer.testing import CliRunner

from shopguard.cli.app import app
from shopguard.db import open_database
from shopguard.db.repository import load_run, set_triage
from shopguard.findings import Triage

from .conftest import CLEAN, MALICIOUS

runner = CliRunner()


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "www"
    (root / "js").mkdir(parents=True)
    shutil.copy(MALICIOUS / "js" / "checkout-helper.js", root / "js" / "checkout-helper.js")
    shutil.copy(MALICIOUS / "php" / "favicon_backdoor.ico", root / "favicon.ico")
    shutil.copy(CLEAN / "settings.php", root / "settings.php")
    return root


def _scan(*args: str) -> tuple[int, str, str]:
    res = runner.invoke(app, ["scan", "files", *args])
    return res.exit_code, res.stdout, res.stderr


def test_scan_files_json_reports_each_file_with_rule_and_excerpt(tmp_path: Path, sqlite_url: str) -> None:
    root = _tree(tmp_path)
    code, out, err = _scan(str(root), "--format", "json", "--db", sqlite_url)
    assert code == 1, err  # critical findings, default --fail-on high
    report = json.loads(out)
    malware = {f["location"]: f for f in report["findings"] if f["check_id"] == "scanning.files.malware"}
    assert set(malware) == {str(root / "js" / "checkout-helper.js"), str(root / "favicon.ico")}
    skimmer = malware[str(root / "js" / "checkout-helper.js")]
    assert skimmer["severity"] == "critical"
    assert skimmer["evidence"]["matches"][0]["rule"] == "SG_JS_Card_Skimmer"
    assert skimmer["evidence"]["confidence"] == "high"
    assert "6.4.3" in skimmer["refs"]["pci"] and "5.3.2" in skimmer["refs"]["pci"]
    assert skimmer["remediation"]
    summary = [f for f in report["findings"] if f["check_id"] == "scanning.files.malware.summary"]
    assert summary[0]["evidence"]["scanned"] == 3


def test_sarif_and_clean_tree_exit_zero(tmp_path: Path, sqlite_url: str) -> None:
    clean = tmp_path / "clean"
    shutil.copytree(CLEAN, clean)
    code, out, err = _scan(str(clean), "--format", "sarif", "--db", sqlite_url)
    assert code == 0, err
    sarif = json.loads(out)
    assert sarif["version"] == "2.1.0"


def test_broken_user_rule_refuses_to_start(tmp_path: Path, sqlite_url: str) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "mine.yar").write_text("rule broken {\n condition:\n  nosuchthing\n}\n")
    code, _, err = _scan(str(_tree(tmp_path)), "--rules", str(rules), "--db", sqlite_url)
    assert code == 2
    assert f"{rules / 'mine.yar'}:3:" in " ".join(err.split())
    engine = open_database(sqlite_url).kw["bind"]
    with engine.connect() as conn:  # nothing was started
        assert conn.exec_driver_sql("select count(*) from runs").scalar() == 0


def test_quarantine_copies_with_sha256_and_moves_nothing(tmp_path: Path, sqlite_url: str) -> None:
    root = _tree(tmp_path)
    dest = tmp_path / "quarantine"
    code, _, err = _scan(str(root), "--quarantine", str(dest), "--db", sqlite_url, "--format", "json")
    assert code == 1
    (folder,) = dest.iterdir()
    manifest = json.loads((folder / "manifest.json").read_text())
    originals = {Path(f["original"]).name: f for f in manifest["files"]}
    assert set(originals) == {"checkout-helper.js", "favicon.ico"}
    for name, entry in originals.items():
        original = next(root.rglob(name))
        assert original.exists()  # copied, not moved
        assert entry["sha256"] == hashlib.sha256(original.read_bytes()).hexdigest()
        assert Path(entry["copy"]).read_bytes() == original.read_bytes()
    assert "delete or replace" in err


def test_false_positive_mark_survives_rescans(tmp_path: Path, sqlite_url: str) -> None:
    root = _tree(tmp_path)
    code, out, _ = _scan(str(root), "--format", "json", "--db", sqlite_url)
    first = json.loads(out)
    store = first["run"]["stores"][0]
    target = next(f for f in first["findings"] if f["location"].endswith("favicon.ico"))
    sessions = open_database(sqlite_url)
    set_triage(sessions, store, target["fingerprint"], Triage.FALSE_POSITIVE, "our own test file", "tester")
    (root / "js" / "checkout-helper.js").unlink()
    code, out, _ = _scan(str(root), "--format", "json", "--db", sqlite_url)
    assert code == 0  # the only high finding left is marked false positive
    run = load_run(sessions)
    marked = [sf for sf in run.findings if sf.finding.location.endswith("favicon.ico")]
    assert marked and marked[0].triage is Triage.FALSE_POSITIVE
    gone = [sf for sf in run.findings if sf.finding.location.endswith("checkout-helper.js")]
    assert gone and gone[0].status.value == "resolved"


def test_hash_allow_list_and_trusted_folder(tmp_path: Path, sqlite_url: str) -> None:
    root = _tree(tmp_path)
    release = tmp_path / "release"
    release.mkdir()
    shutil.copy(root / "favicon.ico", release / "favicon.ico")  # as if shipped by the vendor
    res = runner.invoke(app, ["files", "allow", "--from-release", str(release)])
    assert res.exit_code == 0, res.stderr
    code, out, _ = _scan(str(root), "--format", "json", "--db", sqlite_url)
    assert code == 1  # the skimmer is still there
    locations = {
        f["location"] for f in json.loads(out)["findings"] if f["check_id"] == "scanning.files.malware"
    }
    assert locations == {str(root / "js" / "checkout-helper.js")}
    summary = next(f for f in json.loads(out)["findings"] if f["check_id"].endswith(".summary"))
    assert summary["evidence"]["allowed_by_hash"] == 1


def test_missing_path_is_a_usage_error(tmp_path: Path, sqlite_url: str) -> None:
    code, _, err = _scan(str(tmp_path / "nope"), "--db", sqlite_url)
    assert code == 2 and "no such file or folder" in err


def test_trusted_vendor_folder_is_not_scanned(tmp_path: Path, sqlite_url: str) -> None:
    root = _tree(tmp_path)
    vendor = root / "vendor" / "acme"
    vendor.mkdir(parents=True)
    shutil.copy(MALICIOUS / "php" / "wso_markers.php", vendor / "tool.php")
    cfg = tmp_path / "shopguard.toml"
    cfg.write_text(
        f'[[stores]]\nname = "s"\nstorefront_url = "https://shop.example/"\nweb_roots = ["{root}"]\n'
        f'[stores.files]\ntrusted_folders = ["{root / "vendor"}"]\n'
    )
    code, out, err = _scan("--config", str(cfg), "--format", "json", "--db", sqlite_url)
    assert code == 1, err
    findings = json.loads(out)["findings"]
    assert not any("acme" in f["location"] for f in findings if f["check_id"] == "scanning.files.malware")
    summary = next(f for f in findings if f["check_id"].endswith(".summary"))
    assert summary["evidence"]["excluded"] == 1


def test_non_utf8_file_name_is_stored_and_reported(tmp_path: Path, sqlite_url: str) -> None:
    root = tmp_path / "www"
    root.mkdir()
    with open(os.fsencode(str(root)) + b"/shell-\xff.php", "wb") as f:
        f.write((MALICIOUS / "php" / "eval_post_oneliner.php").read_bytes())
    code, out, err = _scan(str(root), "--format", "json", "--db", sqlite_url)
    assert code == 1, err
    (finding,) = [f for f in json.loads(out)["findings"] if f["check_id"] == "scanning.files.malware"]
    assert finding["location"] == f"{root}/shell-\\xff.php"
