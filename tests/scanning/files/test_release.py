"""``shopguard files allow --from-release``: from a folder, a zip, or the official
release of the version the inventory finds, downloaded from a mirror (here a
loopback HTTP server serving a release zip built from Debian's WordPress, and a
checksums answer in the format of WordPress's API)."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import threading
import zipfile
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from typer.testing import CliRunner

from shopguard.cli.app import app
from shopguard.scanning.files.release import ReleaseError, ReleaseSource, fetch_archive, zip_hashes

WORDPRESS = Path("/usr/share/wordpress")
SUBSET = [
    "index.php",
    "wp-login.php",
    "wp-includes/version.php",
    "wp-admin/about.php",
    "wp-includes/functions.php",
]
VERSION = next(
    line.split("'")[1]
    for line in (WORDPRESS / "wp-includes" / "version.php").read_text().splitlines()
    if line.startswith("$wp_version")
)
runner = CliRunner()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Mirror:
    """Serves /release/wordpress-VERSION.zip and /core/checksums/1.0/?version=&locale=."""

    def __init__(self) -> None:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for rel in SUBSET:
                zf.write(WORDPRESS / rel, f"wordpress/{rel}")
        self.zip = buf.getvalue()
        sums = {rel: hashlib.md5((WORDPRESS / rel).read_bytes()).hexdigest() for rel in SUBSET}
        self.checksums = json.dumps({"checksums": sums}).encode()
        self.hits: Counter[str] = Counter()
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                mirror.hits[url.path] += 1
                q = parse_qs(url.query)
                if url.path == f"/release/wordpress-{VERSION}.zip":
                    body, ctype = mirror.zip, "application/zip"
                elif url.path == "/core/checksums/1.0/" and q.get("locale") == ["en_US"]:
                    known = q.get("version") == [VERSION]
                    body = mirror.checksums if known else b'{"checksums":false}'
                    ctype = "application/json"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def mirror() -> Iterator[Mirror]:
    m = Mirror()
    yield m
    m.server.shutdown()
    m.server.server_close()


@pytest.fixture
def shop(tmp_path: Path, mirror: Mirror) -> tuple[Path, Path]:
    root = tmp_path / "www"
    for rel in SUBSET:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(WORDPRESS / rel, root / rel)
    with open(root / "wp-login.php", "a") as f:
        f.write("<?php /* changed on the server */ ?>\n")
    (root / "wp-content").mkdir()
    (root / "wp-content" / "extra.php").write_text("<?php echo 'mine';\n")
    cfg = tmp_path / "shopguard.toml"
    cfg.write_text(
        f'[[stores]]\nname = "shop"\nstorefront_url = "https://shop.example/"\nweb_roots = ["{root}"]\n'
        "[stores.files]\n"
        f'release_urls = {{ wordpress = "{mirror.base}/release/wordpress-{{version}}.zip" }}\n'
        f'wordpress_checksums_url = "{mirror.base}/core/checksums/1.0/'
        '?version={version}&locale={locale}"\n'
        f'release_cache = "{tmp_path / "cache"}"\n'
    )
    return root, cfg


def _allow(*args: str) -> tuple[int, str]:
    res = runner.invoke(app, ["files", "allow", *args])
    return res.exit_code, " ".join(res.stderr.split())


def _hashes(path: Path) -> set[str]:
    return {line.split()[0] for line in path.read_text().splitlines()}


def test_release_of_the_inventoried_version_is_downloaded_once(
    tmp_path: Path, shop: tuple[Path, Path], mirror: Mirror
) -> None:
    root, cfg = shop
    allow = tmp_path / "allow.sha256"
    code, err = _allow("--from-release", "store", "-c", str(cfg), "--list", str(allow))
    assert code == 0, err
    assert f"wordpress {VERSION} in {root}: 5 files from {mirror.base}/release/wordpress-{VERSION}.zip" in err
    released = {_sha256((WORDPRESS / rel).read_bytes()) for rel in SUBSET}
    assert _hashes(allow) == released  # the official bytes, not the server's changed wp-login.php
    assert _sha256((root / "wp-login.php").read_bytes()) not in _hashes(allow)
    assert f"release:wordpress-{VERSION}:wordpress/wp-login.php" in allow.read_text()
    assert _allow("--from-release", "store", "-c", str(cfg), "--list", str(allow))[0] == 0
    assert mirror.hits[f"/release/wordpress-{VERSION}.zip"] == 1  # the second run used the cache


def test_checksums_api_allows_only_matching_local_files(
    tmp_path: Path, shop: tuple[Path, Path], mirror: Mirror
) -> None:
    root, cfg = shop
    allow = tmp_path / "allow.sha256"
    code, err = _allow("--from-release", "store", "--checksums", "-c", str(cfg), "--list", str(allow))
    assert code == 0, err
    assert "4 files match the official checksums, 0 not present" in err
    assert f"differs from the official release (not allowed; check it): {root / 'wp-login.php'}" in err
    assert _hashes(allow) == {_sha256((root / rel).read_bytes()) for rel in SUBSET if rel != "wp-login.php"}
    assert mirror.hits["/core/checksums/1.0/"] == 1


def test_failures_name_the_url(tmp_path: Path, shop: tuple[Path, Path], mirror: Mirror) -> None:
    root, cfg = shop
    (root / "wp-includes" / "version.php").write_text("<?php\n$wp_version = '0.0.1';\n")
    code, err = _allow("--from-release", "store", "-c", str(cfg), "--list", str(tmp_path / "a"))
    assert code == 3 and f"{mirror.base}/release/wordpress-0.0.1.zip: HTTP 404" in err
    code, err = _allow(
        "--from-release", "store", "--checksums", "-c", str(cfg), "--list", str(tmp_path / "b")
    )
    assert code == 3 and "no checksums for WordPress 0.0.1 (locale en_US)" in err
    assert f"{mirror.base}/core/checksums/1.0/?version=0.0.1&locale=en_US" in err
    (root / "wp-includes" / "version.php").unlink()
    code, err = _allow("--from-release", "store", "-c", str(cfg), "--list", str(tmp_path / "a"))
    assert code == 3 and "no shop platform with a known version found" in err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_size_limits_and_unreachable_mirror(tmp_path: Path, mirror: Mirror) -> None:
    url = f"{mirror.base}/release/wordpress-{VERSION}.zip"
    small = ReleaseSource(cache_dir=tmp_path / "c1", max_bytes=1000)
    with pytest.raises(ReleaseError, match=rf"{url}: \d+ bytes is more than the limit of 1000"):
        fetch_archive(url, small)
    assert list((tmp_path / "c1").iterdir()) == []  # nothing half-written is kept
    archive = fetch_archive(url, ReleaseSource(cache_dir=tmp_path / "c2"))
    with pytest.raises(ReleaseError, match="the files inside add up to"):
        list(zip_hashes(archive, ReleaseSource(max_bytes=len(mirror.zip) + 1)))  # unpacked it is larger
    mirror.server.shutdown()
    mirror.server.server_close()
    with pytest.raises(ReleaseError, match=rf"{url}: cannot download"):
        fetch_archive(url, ReleaseSource(cache_dir=tmp_path / "c3", timeout=5))


def test_release_folder_and_zip_given_directly(tmp_path: Path, mirror: Mirror) -> None:
    archive = tmp_path / "wordpress.zip"
    archive.write_bytes(mirror.zip)
    allow = tmp_path / "allow.sha256"
    code, err = _allow("--from-release", str(archive), "--from-release", str(WORDPRESS / "wp-admin"),
                       "--list", str(allow))  # fmt: skip
    assert code == 0, err
    assert {_sha256((WORDPRESS / rel).read_bytes()) for rel in SUBSET} <= _hashes(allow)
    code, err = _allow("--from-release", str(tmp_path / "nope"), "--list", str(allow))
    assert code == 2 and "nope: no such file or folder" in err
