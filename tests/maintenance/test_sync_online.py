"""`vulndb sync` downloading from live-shaped endpoints (a loopback server replaying the shared data)."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from typer.testing import CliRunner

from shopguard.cli.app import app
from shopguard.maintenance import eol_status
from shopguard.maintenance.eol import clear_cache

from .conftest import FRIENDSOFPHP, OSV_PYPI, RETIREJS, send
from .test_eol import api_answer
from .test_wordfence import PRODUCTION as WORDFENCE_FEED


def test_sync_downloads_everything_and_refreshes_eol(http_server: Callable[..., str]) -> None:
    hits: list[str] = []

    def file_route(path: Path, ctype: str) -> Callable[[BaseHTTPRequestHandler], None]:
        def h(req: BaseHTTPRequestHandler) -> None:
            hits.append(req.path)
            send(req, 200, path.read_bytes(), ctype)

        return h

    def eol_api(req: BaseHTTPRequestHandler) -> None:
        hits.append(req.path)
        product = req.path.rsplit("/", 1)[-1].removesuffix(".json")
        if product == "php":  # a changed answer: the refresh must win over the snapshot
            data = json.loads(api_answer("php"))
            data[0]["latest"] = "8.5.99"
            send(req, 200, json.dumps(data).encode())
        elif product in ("nginx", "jquery"):
            send(req, 200, api_answer(product))
        else:
            send(req, 404, b'{"error": "not found"}')

    base = http_server(
        {
            "/osv/PyPI/all.zip": file_route(OSV_PYPI, "application/zip"),
            "/fop.tar.gz": file_route(FRIENDSOFPHP, "application/gzip"),
            "/retire.json": file_route(RETIREJS, "application/json"),
            "/wordfence/production": file_route(WORDFENCE_FEED, "application/json"),
            "/api/": eol_api,
        }
    )
    result = CliRunner().invoke(
        app,
        [
            "vulndb",
            "sync",
            "--osv-url",
            f"{base}/osv",
            "--ecosystems",
            "PyPI",
            "--friendsofphp-url",
            f"{base}/fop.tar.gz",
            "--retire-url",
            f"{base}/retire.json",
            "--wordfence-url",
            f"{base}/wordfence/production",
            "--eol-url",
            f"{base}/api",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "osv-zip:osv-PyPI.zip: 2661 advisories" in result.output
    assert "1592 advisories" in result.output
    assert "end-of-life: 3 products refreshed" in result.output
    assert "wordfence:wordfence-feed.json: 5 advisories" in result.output
    assert "/osv/PyPI/all.zip" in hits and "/api/php.json" in hits and "/wordfence/production" in hits
    home = Path(os.environ["SHOPGUARD_HOME"]) / "vulndb"
    conn = sqlite3.connect(home / "vulndb.sqlite")
    assert conn.execute("SELECT count(*) FROM advisory").fetchone()[0] > 4000
    assert (home / "jsrepository.json").exists()
    clear_cache()
    st = eol_status("php", "8.5.9", dt.date(2026, 11, 25))
    assert st is not None and st.latest == "8.5.99" and not st.is_latest
    # products the API could not answer keep their snapshot data
    assert eol_status("wordpress", "6.4.3", dt.date(2026, 11, 25)) is not None
    status = CliRunner().invoke(app, ["vulndb", "status"])
    assert status.exit_code == 0 and "synced at: 20" in status.output


def test_sync_download_failure_keeps_previous(http_server: Callable[..., str], synced_home: Path) -> None:
    before = (synced_home / "vulndb.sqlite").read_bytes()
    base = http_server({})  # every URL answers 404
    result = CliRunner().invoke(
        app, ["vulndb", "sync", "--osv-url", base, "--ecosystems", "PyPI", "--no-eol"]
    )
    assert result.exit_code == 3
    assert "HTTP 404" in result.output and "previous database" in result.output
    assert (synced_home / "vulndb.sqlite").read_bytes() == before
