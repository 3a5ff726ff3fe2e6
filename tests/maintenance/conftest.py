"""Fixtures: the real shared advisory data imported once, test shops, local HTTP servers."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sg_sshd import own_sshd, sshd

from shopguard.maintenance.vulndb.sync import sync

__all__ = [
    "own_sshd",
    "sshd",
]  # a real sshd on loopback (tests/support/sg_sshd.py), for the SSH host inventory

_REPO = Path(__file__).resolve().parents[2]
SHARED = next(
    (p for p in (_REPO.parent / "shared" / "data", _REPO.parent.parent / "shared" / "data") if p.exists()),
    _REPO.parent / "shared" / "data",
)
"""../shared/data beside the clone (CI), or two levels up for a worktree under /work/wt."""
OSV_PYPI = SHARED / "advisories" / "osv-PyPI-all.zip"
FRIENDSOFPHP = SHARED / "advisories" / "friendsofphp-security-advisories.tar.gz"
RETIREJS = SHARED / "retirejs" / "jsrepository.json"
EOL_DIR = SHARED / "eol"

JQUERY_1_12_4_HEAD = (
    "/*! jQuery v1.12.4 | (c) jQuery Foundation | jquery.org/license */\n"
    '!function(a,b){"object"==typeof module&&"object"==typeof module.exports?'
    "module.exports=a.document?b(a,!0):function(a){return b(a)}:b(a)}"
    '("undefined"!=typeof window?window:this,function(a,b){var c=[],d=a.document;'
    'var l="1.12.4",m=function(a,b){return new m.fn.init(a,b)};m.fn=m.prototype={jquery:l,constructor:m};'
    "return m});\n"
)
"""The first bytes of the real jquery-1.12.4.min.js (its licence header and how it sets its version)."""


@pytest.fixture(scope="session")
def synced_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared OSV PyPI export, FriendsOfPHP archive and retire.js repository, imported by a real sync."""
    target = tmp_path_factory.mktemp("vulndb") / "vulndb.sqlite"
    sync([OSV_PYPI, FRIENDSOFPHP, RETIREJS], db_path=target, download=False, eol_url=None)
    return target


@pytest.fixture
def synced_home(synced_db: Path, tmp_path: Path) -> Path:
    """The synced database placed in this test's SHOPGUARD_HOME (as `vulndb sync` would)."""
    import os

    dest = Path(os.environ["SHOPGUARD_HOME"]) / "vulndb"
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(synced_db, dest / "vulndb.sqlite")
    shutil.copy(synced_db.with_name("jsrepository.json"), dest / "jsrepository.json")
    return dest


@pytest.fixture
def demo_shop(tmp_path: Path) -> Path:
    """A web root like the demo shop's: jQuery 1.12.4 shipped as a file, plus a Python app and Composer."""
    root = tmp_path / "shop"
    (root / "js").mkdir(parents=True)
    (root / "js" / "jquery-1.12.4.min.js").write_text(JQUERY_1_12_4_HEAD, encoding="utf-8")
    (root / "js" / "app.js").write_text("document.addEventListener('DOMContentLoaded', () => {});\n")
    (root / "requirements.txt").write_text("Django==3.0.0\nJinja2==2.10\n")
    return root


Handler = Callable[[BaseHTTPRequestHandler], None]


@pytest.fixture
def http_server() -> Iterator[Callable[[dict[str, Handler]], str]]:
    """Start a loopback HTTP server routing paths (prefix match) to handlers; returns its base URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(routes: dict[str, Handler]) -> str:
        class H(BaseHTTPRequestHandler):
            def _route(self) -> None:
                for prefix, fn in routes.items():
                    if self.path.startswith(prefix):
                        fn(self)
                        return
                self.send_response(404)
                self.end_headers()

            do_GET = _route
            do_POST = _route

            def log_message(self, *args: object) -> None:
                pass

        srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}"

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str = "application/json") -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", ctype)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
