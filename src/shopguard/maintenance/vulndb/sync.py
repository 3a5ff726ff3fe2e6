"""``shopguard vulndb sync``: build a fresh vulnerability database and swap it in.

Inputs are local files (``--from``) or downloads from the live sources: OSV's
per-ecosystem ``all.zip`` exports, the FriendsOfPHP advisories archive, the
retire.js repository, and endoflife.date's API. Every download goes to a
temporary file first; the live database, retire.js repository and end-of-life
file are each replaced atomically only after a complete import.
"""

from __future__ import annotations

import json
import os
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from shopguard.maintenance import eol
from shopguard.maintenance.vulndb import friendsofphp, osv, retirejs, wordfence
from shopguard.maintenance.vulndb.db import ImportStats, VulnDBWriter, default_path

OSV_EXPORT_URL = "https://osv-vulnerabilities.storage.googleapis.com"
OSV_ECOSYSTEMS = ("PyPI", "npm", "Packagist")
FRIENDSOFPHP_URL = "https://github.com/FriendsOfPHP/security-advisories/archive/refs/heads/master.tar.gz"
EOL_API_URL = "https://endoflife.date/api"

Progress = Callable[[str], None]


class SyncError(Exception):
    """A sync input could not be used; the previous database is untouched."""


@dataclass
class SyncReport:
    stats: dict[str, ImportStats] = field(default_factory=dict)
    eol_products: int = 0
    eol_errors: list[str] = field(default_factory=list)
    retire_libraries: int = 0
    database: Path | None = None


def retire_path(db_path: Path | None = None) -> Path:
    return (db_path or default_path()).with_name("jsrepository.json")


def kind_of(path: Path) -> str:
    """``osv-zip``, ``friendsofphp`` or ``retirejs`` by content (magic bytes), not by name."""
    if path.is_dir():
        return "friendsofphp"
    try:
        with path.open("rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise SyncError(f"{path}: cannot read: {exc.strerror}") from exc
    if head.startswith(b"PK"):
        return "osv-zip"
    if head.startswith(b"\x1f\x8b") or tarfile.is_tarfile(path):
        return "friendsofphp"
    if head.lstrip()[:1] == b"{":
        return "retirejs"
    raise SyncError(
        f"{path}: not an OSV all.zip, a FriendsOfPHP archive/folder or a retire.js jsrepository.json"
    )


def _import_osv(writer: VulnDBWriter, path: Path, stats: ImportStats) -> None:
    try:
        for name, rec, err in osv.iter_zip(path):
            if rec is None:
                stats.skipped += 1
                stats.warnings.append(f"{path}:{name}: {err}")
                continue
            try:
                adv, affected = osv.parse_record(rec)
            except osv.BadRecord as exc:
                stats.skipped += 1
                stats.warnings.append(f"{path}:{name}: {exc}")
                continue
            if writer.add(adv, affected):
                stats.advisories += 1
            stats.affected += len(affected)
    except zipfile.BadZipFile as exc:
        raise SyncError(f"{path}: damaged zip archive: {exc}") from exc


def _import_fop(writer: VulnDBWriter, path: Path, stats: ImportStats) -> None:
    try:
        for name, doc, err in friendsofphp.iter_advisories(path):
            if doc is None:
                stats.skipped += 1
                stats.warnings.append(f"{path}:{name}: {err}")
                continue
            try:
                adv, affected = friendsofphp.parse_advisory(doc, name)
            except (friendsofphp.BadAdvisory, AttributeError, TypeError) as exc:
                stats.skipped += 1
                stats.warnings.append(f"{path}:{name}: {exc}")
                continue
            if writer.add(adv, affected):
                stats.advisories += 1
            stats.affected += len(affected)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise SyncError(f"{path}: damaged archive: {exc}") from exc


def _import_retire(writer: VulnDBWriter, path: Path, stats: ImportStats) -> dict[str, object]:
    try:
        repo = retirejs.load_repository(path)
    except retirejs.BadRepository as exc:
        raise SyncError(str(exc)) from exc
    for adv, affected in retirejs.advisories(repo):
        if writer.add(adv, affected):
            stats.advisories += 1
        stats.affected += len(affected)
    return repo


def _import_wordfence(writer: VulnDBWriter, path: Path, stats: ImportStats) -> None:
    try:
        for key, rec, err in wordfence.iter_feed(path):
            if rec is None:
                stats.skipped += 1
                stats.warnings.append(f"{path}:{key}: {err}")
                continue
            try:
                adv, affected = wordfence.parse_record(rec, key)
            except wordfence.BadRecord as exc:
                stats.skipped += 1
                stats.warnings.append(f"{path}:{key}: {exc}")
                continue
            if not affected:
                stats.skipped += 1  # informational notices and records without version ranges
                continue
            if writer.add(adv, affected):
                stats.advisories += 1
            stats.affected += len(affected)
    except wordfence.BadFeed as exc:
        raise SyncError(str(exc)) from exc


def _download(client: httpx.Client, url: str, dest: Path, headers: dict[str, str] | None = None) -> None:
    try:
        with client.stream("GET", url, headers=headers) as resp:
            if resp.status_code != 200:
                raise SyncError(f"{url}: HTTP {resp.status_code}")
            with dest.open("wb") as fh:
                for chunk in resp.iter_bytes(1 << 16):
                    fh.write(chunk)
    except httpx.HTTPError as exc:
        raise SyncError(f"{url}: download failed: {exc}") from exc


def sync(
    sources: Sequence[Path] = (),
    *,
    db_path: Path | None = None,
    download: bool = True,
    osv_url: str = OSV_EXPORT_URL,
    ecosystems: Iterable[str] = OSV_ECOSYSTEMS,
    friendsofphp_url: str = FRIENDSOFPHP_URL,
    retire_url: str = retirejs.REPOSITORY_URL,
    wordfence_feeds: Sequence[Path] = (),
    wordfence_url: str | None = wordfence.PRODUCTION_URL,
    wordfence_key: str | None = None,
    eol_url: str | None = EOL_API_URL,
    eol_products: Iterable[str] | None = None,
    progress: Progress = lambda msg: None,
    client: httpx.Client | None = None,
) -> SyncReport:
    """Import ``sources`` (and downloads when ``download``) into a new database, then swap it in.

    ``wordfence_feeds`` are Wordfence Intelligence feed files (their JSON cannot be told from a
    retire.js repository by its first bytes, so they are named apart); when downloading, the feed
    at ``wordfence_url`` is fetched too (None skips it), with ``wordfence_key`` as the bearer
    token the v3 feed requires.
    """
    target = db_path or default_path()
    report = SyncReport(database=target)
    own_client = client is None
    http = client or httpx.Client(timeout=60.0, follow_redirects=True)
    try:
        with tempfile.TemporaryDirectory(prefix="shopguard-sync-") as tmp:
            inputs = list(sources)
            if download:
                for eco in ecosystems:
                    dest = Path(tmp) / f"osv-{eco}.zip"
                    progress(f"downloading OSV {eco} advisories")
                    _download(http, f"{osv_url.rstrip('/')}/{eco}/all.zip", dest)
                    inputs.append(dest)
                dest = Path(tmp) / "friendsofphp.tar.gz"
                progress("downloading FriendsOfPHP advisories")
                _download(http, friendsofphp_url, dest)
                inputs.append(dest)
                dest = Path(tmp) / "jsrepository.json"
                progress("downloading the retire.js repository")
                _download(http, retire_url, dest)
                inputs.append(dest)
            feeds = list(wordfence_feeds)
            if download and wordfence_url:
                dest = Path(tmp) / "wordfence-feed.json"
                progress("downloading the Wordfence Intelligence feed")
                auth = {"Authorization": f"Bearer {wordfence_key}"} if wordfence_key else None
                try:
                    _download(http, wordfence_url, dest, auth)
                except SyncError as exc:
                    raise SyncError(
                        f"{exc} (the Wordfence feed: give its current URL with --wordfence-url and an API "
                        "key with --wordfence-key, or leave it out with --no-wordfence)"
                    ) from exc
                feeds.append(dest)
            retire_repo: dict[str, object] | None = None
            with VulnDBWriter(target) as writer:
                for path in inputs:
                    kind = kind_of(path)
                    progress(f"importing {path.name} ({kind})")
                    stats = report.stats.setdefault(f"{kind}:{path.name}", ImportStats())
                    if kind == "osv-zip":
                        _import_osv(writer, path, stats)
                    elif kind == "friendsofphp":
                        _import_fop(writer, path, stats)
                    else:
                        retire_repo = _import_retire(writer, path, stats)
                for path in feeds:
                    progress(f"importing {path.name} (wordfence)")
                    _import_wordfence(
                        writer, path, report.stats.setdefault(f"wordfence:{path.name}", ImportStats())
                    )
                writer.set_meta("synced_at", datetime.now(UTC).isoformat())
                writer.set_meta("sources", sorted(report.stats))
                if retire_repo is not None:
                    _atomic_write(retire_path(target), json.dumps(retire_repo).encode())
                    report.retire_libraries = sum(1 for v in retire_repo.values() if isinstance(v, dict))
                writer.commit()
        if eol_url:
            _sync_eol(http, eol_url, target, report, eol_products, progress)
    finally:
        if own_client:
            http.close()
    return report


def _sync_eol(
    http: httpx.Client,
    base: str,
    db_path: Path,
    report: SyncReport,
    wanted: Iterable[str] | None,
    progress: Progress,
) -> None:
    """Refresh each known product from the API; products that fail keep their previous data."""
    dest = db_path.with_name("eol.json")
    current = eol.products(dest if dest.exists() else None)
    merged = dict(current)
    for product in wanted or sorted(current):
        progress(f"end-of-life: {product}")
        url = f"{base.rstrip('/')}/{product}.json"
        try:
            resp = http.get(url)
            if resp.status_code != 200:
                raise ValueError(f"HTTP {resp.status_code}")
            cycles = eol.from_api(resp.json())
            if not cycles:
                raise ValueError("no release cycles in the answer")
        except (httpx.HTTPError, ValueError) as exc:
            report.eol_errors.append(f"{url}: {exc}")
            continue
        title = current.get(product, {}).get("title", product)
        merged[product] = {"title": title, "cycles": cycles}
        report.eol_products += 1
    if report.eol_products:
        data = {"source": "https://endoflife.date API (MIT)", "products": merged}
        _atomic_write(dest, json.dumps(data).encode())
        eol.clear_cache()


def _atomic_write(dest: Path, payload: bytes) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
