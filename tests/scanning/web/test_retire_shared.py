"""The web scan reads the retire.js copy that `shopguard vulndb sync` keeps."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shopguard.maintenance import retirejs_copy
from shopguard.scanning.web import retire

SHARED = Path(__file__).resolve().parents[4] / "shared" / "data" / "retirejs" / "jsrepository.json"


def test_vulndb_sync_copy_serves_the_web_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHOPGUARD_RETIREJS_FILE", raising=False)
    assert retirejs_copy() is None
    from typer.testing import CliRunner

    from shopguard.cli.app import app

    r = CliRunner().invoke(app, ["vulndb", "sync", "--no-eol", "--from", str(SHARED)])
    assert r.exit_code == 0, r.output
    copy = retirejs_copy()
    assert copy is not None and copy.is_file()
    # A fresh synced copy is used as is: no second download.
    assert retire.sync(timeout=2) == copy
    assert os.environ.get("SHOPGUARD_RETIREJS_FILE") is None
