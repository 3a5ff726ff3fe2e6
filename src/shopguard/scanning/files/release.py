"""Known-good hashes from a platform's official release, for the hash allow-list.

``shopguard files allow --from-release store`` asks the inventory which platform
and version each web root runs (WordPress, PrestaShop, OpenCart ...), downloads
that version's official release archive (once; it is kept in a cache folder) and
allow-lists the sha256 of every file in it. For WordPress it can instead use the
official checksums API, which lists an MD5 per file path.

Why MD5 from the checksums API is acceptable here: the API has no sizes, and MD5
collisions are practical, but only between two files that the attacker crafts
together. Here one side is WordPress's own file, fixed before the attack; making a
malicious file with the same MD5 needs a second preimage, which nobody can compute
for MD5. A local file is only allow-listed when it sits at the same path as the
release file and its MD5 matches; what goes into the allow-list is the local file's
own sha256. The release archive remains the default because it gives the exact
bytes of every file, independently of what is on the server.

The public internet is only contacted here, with the URLs from the settings (so
tests and air-gapped users point them at a local mirror), a size limit, and errors
that name the URL.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from shopguard.paths import user_data_dir

DEFAULT_RELEASE_URLS: dict[str, str] = {
    # https://wordpress.org/download/releases/ links these archives
    "wordpress": "https://downloads.wordpress.org/release/wordpress-{version}.zip",
    # the release assets on the projects' official GitHub repositories
    "prestashop": "https://github.com/PrestaShop/PrestaShop/releases/download/{version}/prestashop_{version}.zip",
    "opencart": "https://github.com/opencart/opencart/releases/download/{version}/opencart-{version}.zip",
}
DEFAULT_WORDPRESS_CHECKSUMS_URL = (
    "https://api.wordpress.org/core/checksums/1.0/?version={version}&locale={locale}"
)
_VERSION = re.compile(r"^[0-9][0-9A-Za-z.\-+]{0,40}$")


class ReleaseError(Exception):
    """The release could not be found, fetched or read; the message names the URL or file."""


@dataclass(frozen=True)
class ReleaseSource:
    """Where official releases come from and how much may be fetched."""

    urls: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_RELEASE_URLS))
    """platform -> URL of the release archive, with ``{version}``."""
    checksums_url: str = DEFAULT_WORDPRESS_CHECKSUMS_URL
    """WordPress's checksums API, with ``{version}`` and ``{locale}``."""
    cache_dir: Path | None = None
    """Downloaded archives are kept here (default: ``releases`` in the user data folder)."""
    max_bytes: int = 200 * 1024 * 1024
    """Largest archive, and largest total of the files inside it, that is accepted."""
    timeout: float = 60.0

    @property
    def cache(self) -> Path:
        return self.cache_dir or user_data_dir() / "files" / "releases"


@dataclass(frozen=True)
class Platform:
    name: str
    version: str
    root: Path
    """The web root it was found in."""


def platforms_in(roots: list[Path]) -> tuple[list[Platform], list[str]]:
    """Shop platforms (with a version) in the web roots, read the way the inventory
    reads them; and warnings for roots where none was recognised."""
    from shopguard.maintenance.inventory import platforms as detectors
    from shopguard.maintenance.inventory.files import read_lockfile
    from shopguard.maintenance.model import Inventory, Owner

    found: list[Platform] = []
    notes: list[str] = []
    for root in roots:
        inv = Inventory()
        for det in detectors.DETECTORS:
            try:
                det(root, inv)
            except OSError as exc:
                notes.append(f"{root}: {det.__name__}: cannot read: {exc}")
        lock = root / "composer.lock"
        if lock.is_file():  # Magento 2, Shopware, Drupal with Composer
            read_lockfile(lock, inv)
        core = [c for c in inv.components if c.owner == Owner.CORE and c.kind == "platform" and c.version]
        if not core:
            notes.append(
                f"{root}: no shop platform with a known version found "
                "(run `shopguard inventory` to see what was recognised)"
            )
        seen: set[tuple[str, str]] = set()
        for c in core:
            if (c.name, c.version) not in seen:
                seen.add((c.name, c.version))
                found.append(Platform(c.name, c.version, root))
    return found, notes


def release_url(platform: Platform, source: ReleaseSource) -> str:
    template = source.urls.get(platform.name)
    if template is None:
        known = ", ".join(sorted(source.urls))
        raise ReleaseError(
            f"{platform.root}: no official release archive is configured for {platform.name} "
            f"{platform.version} (known: {known}); download it yourself and run "
            "`shopguard files allow --from-release DIR_OR_ZIP`"
        )
    if not _VERSION.match(platform.version):
        raise ReleaseError(f"{platform.root}: version {platform.version!r} does not look like a release")
    return template.format(version=platform.version)


def _get(url: str, source: ReleaseSource, dest: Path) -> None:
    """Stream ``url`` into ``dest`` (atomically), refusing more than ``max_bytes``."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with httpx.stream("GET", url, timeout=source.timeout, follow_redirects=True) as resp:
                    if resp.status_code != 200:
                        raise ReleaseError(f"{url}: HTTP {resp.status_code} (is the version right?)")
                    declared = resp.headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) > source.max_bytes:
                        raise ReleaseError(
                            f"{url}: {int(declared)} bytes is more than the limit of {source.max_bytes}"
                        )
                    got = 0
                    for chunk in resp.iter_bytes(1 << 20):
                        got += len(chunk)
                        if got > source.max_bytes:
                            raise ReleaseError(f"{url}: more than the limit of {source.max_bytes} bytes")
                        out.write(chunk)
            except httpx.HTTPError as exc:
                raise ReleaseError(f"{url}: cannot download: {exc}") from None
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def fetch_archive(url: str, source: ReleaseSource) -> Path:
    """The archive at ``url``, from the cache when it was fetched before."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", url.rsplit("/", 1)[-1].split("?", 1)[0]) or "release.zip"
    key = hashlib.sha256(url.encode()).hexdigest()[:12]
    dest = source.cache / f"{key}-{name}"
    if not dest.is_file():
        _get(url, source, dest)
    return dest


def zip_hashes(archive: Path, source: ReleaseSource, label: str | None = None) -> Iterator[tuple[str, str]]:
    """(sha256, "label:member") for every file in a release zip, within the size limit."""
    label = label or archive.name
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            total = sum(m.file_size for m in members)
            if total > source.max_bytes:
                raise ReleaseError(
                    f"{archive}: the files inside add up to {total} bytes, more than the limit of "
                    f"{source.max_bytes}"
                )
            for m in members:
                h = hashlib.sha256()
                read = 0
                with zf.open(m) as f:
                    while chunk := f.read(1 << 20):
                        read += len(chunk)
                        if read > m.file_size:  # a member that lies about its size
                            raise ReleaseError(f"{archive}: {m.filename} is larger than its header says")
                        h.update(chunk)
                yield h.hexdigest(), f"{label}:{m.filename}"
    except (zipfile.BadZipFile, OSError) as exc:
        raise ReleaseError(f"{archive}: not a readable zip archive ({exc})") from None


def wordpress_checksums(version: str, source: ReleaseSource, locale: str = "en_US") -> dict[str, str]:
    """path -> md5 from WordPress's checksums API (format: ``{"checksums": {path: md5}}``,
    or ``{"checksums": false}`` for an unknown version)."""
    url = source.checksums_url.format(version=version, locale=locale)
    try:
        resp = httpx.get(url, timeout=source.timeout, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise ReleaseError(f"{url}: cannot download: {exc}") from None
    if resp.status_code != 200:
        raise ReleaseError(f"{url}: HTTP {resp.status_code}")
    if len(resp.content) > source.max_bytes:
        raise ReleaseError(f"{url}: more than the limit of {source.max_bytes} bytes")
    try:
        doc = json.loads(resp.content)
    except ValueError:
        raise ReleaseError(f"{url}: not JSON") from None
    sums = doc.get("checksums") if isinstance(doc, dict) else None
    if isinstance(sums, dict) and version in sums and isinstance(sums[version], dict):
        sums = sums[version]  # the answer to a request for several versions
    if not isinstance(sums, dict) or not sums:
        raise ReleaseError(f"{url}: no checksums for WordPress {version} (locale {locale})")
    bad = [k for k, v in sums.items() if not (isinstance(v, str) and re.fullmatch(r"[0-9a-f]{32}", v))]
    if bad:
        raise ReleaseError(f"{url}: {bad[0]!r} has no MD5 checksum")
    return {str(k): str(v) for k, v in sums.items()}


@dataclass
class ChecksumMatch:
    allowed: list[tuple[str, str]] = field(default_factory=list)
    """(sha256 of the local file, its path) for files whose MD5 matches the release."""
    differ: list[str] = field(default_factory=list)
    """Core files that are not as released: look at these."""
    missing: int = 0


def match_checksums(root: Path, sums: dict[str, str]) -> ChecksumMatch:
    """Local files at the release's paths whose MD5 matches: their sha256 is allowed."""
    out = ChecksumMatch()
    real_root = os.path.realpath(root)
    for rel, md5 in sorted(sums.items()):
        path = os.path.realpath(root / rel)
        if not path.startswith(real_root + os.sep) or not os.path.isfile(path):
            out.missing += 1
            continue
        m, s = hashlib.md5(usedforsecurity=False), hashlib.sha256()
        try:
            with open(path, "rb") as f:
                while chunk := f.read(1 << 20):
                    m.update(chunk)
                    s.update(chunk)
        except OSError:
            out.missing += 1
            continue
        if m.hexdigest() == md5:
            out.allowed.append((s.hexdigest(), path))
        else:
            out.differ.append(path)
    return out
