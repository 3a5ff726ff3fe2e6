"""Match front-end JavaScript libraries against the retire.js repository.

The repository (RetireJS/retire.js, Apache-2.0) is not shipped: it is synced at run
time into the user data folder and refreshed once a day; ``SHOPGUARD_RETIREJS_FILE``
points at a fixed copy instead (tests, air-gapped machines). The version comparison
is retire.js's own, so results agree with the retire CLI.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from shopguard.maintenance import retirejs_copy
from shopguard.paths import user_data_dir

REPO_URL = "https://raw.githubusercontent.com/RetireJS/retire.js/master/repository/jsrepository.json"
BACKDOORED_URL = (
    "https://raw.githubusercontent.com/RetireJS/retire.js/master/repository/jsrepository-backdoored.json"
)
MAX_AGE_S = 24 * 3600
VERSION = r"[0-9][0-9.a-z_\-]+"
SEVERITIES = ("none", "low", "medium", "high", "critical")


class RetireDataMissing(RuntimeError):
    pass


def _override() -> Path | None:
    env = os.environ.get("SHOPGUARD_RETIREJS_FILE")
    return Path(env) if env else None


def data_dir() -> Path:
    return user_data_dir() / "retirejs"


def sync(timeout: float = 15.0, force: bool = False) -> Path:
    """Download the current repository files unless the local copy is fresh. Returns the
    repository file; raises RetireDataMissing when there is neither a copy nor a network."""
    override = _override()
    if override is not None:
        if not override.is_file():
            raise RetireDataMissing(f"SHOPGUARD_RETIREJS_FILE={override}: file not found")
        return override
    target = data_dir() / "jsrepository.json"
    fresh = target.is_file() and time.time() - target.stat().st_mtime < MAX_AGE_S
    if fresh and not force:
        return target
    synced = retirejs_copy()  # what `shopguard vulndb sync` keeps
    if not force and synced is not None and time.time() - synced.stat().st_mtime < MAX_AGE_S:
        return synced
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True) as client:
            for url, name in (
                (REPO_URL, "jsrepository.json"),
                (BACKDOORED_URL, "jsrepository-backdoored.json"),
            ):
                resp = client.get(url)
                resp.raise_for_status()
                json.loads(resp.content)  # refuse to store a broken download
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.parent / (name + ".part")
                tmp.write_bytes(resp.content)
                tmp.replace(target.parent / name)
    except (httpx.HTTPError, ValueError, OSError) as exc:
        if target.is_file():
            return target  # stale is better than nothing; the age is in the evidence
        if synced is not None:
            return synced
        raise RetireDataMissing(
            f"retire.js data is not available ({exc}); connect to the internet once, run "
            "`shopguard vulndb sync --from jsrepository.json`, or set SHOPGUARD_RETIREJS_FILE to a copy"
        ) from None
    return target


@dataclass(frozen=True)
class Advisory:
    below: str
    at_or_above: str | None
    severity: str
    summary: str
    ids: tuple[str, ...]
    cwe: tuple[str, ...]
    info: tuple[str, ...]


@dataclass(frozen=True)
class Detection:
    library: str
    version: str
    how: str
    """``uri``, ``filename``, ``filecontent`` or ``hash``."""
    advisories: tuple[Advisory, ...]

    @property
    def severity(self) -> str:
        ranks = [SEVERITIES.index(a.severity) if a.severity in SEVERITIES else 2 for a in self.advisories]
        return SEVERITIES[max(ranks)] if ranks else "none"


_SUFFIX = re.compile(r"[.-](min|slim|pack|packed|prod|production|dev|debug|js)$")


def _clean(version: str) -> str:
    """``1.12.4.min`` (a greedy file-name match) -> ``1.12.4``."""
    while True:
        shorter = _SUFFIX.sub("", version)
        if shorter == version:
            return version
        version = shorter


def _to_comparable(part: str) -> int | str:
    if not part:
        return 0
    return int(part) if part.isdigit() else part


def is_at_or_above(v1: str, v2: str) -> bool:
    """retire.js's comparison: dotted/dashed parts, numbers above strings."""
    a, b = re.split(r"[.\-]", v1), re.split(r"[.\-]", v2)
    for i in range(max(len(a), len(b))):
        x = _to_comparable(a[i] if i < len(a) else "")
        y = _to_comparable(b[i] if i < len(b) else "")
        if type(x) is not type(y):
            return isinstance(x, int)
        if x > y:  # type: ignore[operator]
            return True
        if x < y:  # type: ignore[operator]
            return False
    return True


class Repository:
    def __init__(
        self, data: dict[str, Any], backdoored: dict[str, Any] | None = None, source: str = ""
    ) -> None:
        self.source = source
        self._libs: list[
            tuple[str, dict[str, list[re.Pattern[str]]], dict[str, str], list[dict[str, Any]]]
        ] = []
        for name, entry in data.items():
            if not isinstance(entry, dict) or "extractors" not in entry:
                continue
            ex = entry["extractors"]
            pats: dict[str, list[re.Pattern[str]]] = {}
            for kind in ("uri", "filename", "filecontent"):
                compiled = []
                for p in ex.get(kind, []):
                    try:
                        compiled.append(re.compile(p.replace("§§version§§", VERSION)))
                    except re.error:
                        continue
                pats[kind] = compiled
            self._libs.append(
                (name, pats, dict(ex.get("hashes", {})), list(entry.get("vulnerabilities", [])))
            )
        self._bad: list[tuple[str, str, str, re.Pattern[str]]] = []
        for name, items in (backdoored or {}).items():
            for item in items if isinstance(items, list) else []:
                for p in item.get("extractors", []):
                    try:
                        self._bad.append(
                            (name, item.get("summary", ""), item.get("severity", "high"), re.compile(p))
                        )
                    except re.error:
                        continue

    def __len__(self) -> int:
        return len(self._libs)

    def _advisories(self, vulns: list[dict[str, Any]], version: str) -> tuple[Advisory, ...]:
        found = []
        for v in vulns:
            below = v.get("below")
            if not below or is_at_or_above(version, below):
                continue
            above = v.get("atOrAbove")
            if above and not is_at_or_above(version, above):
                continue
            ident = v.get("identifiers", {})
            ids = [*ident.get("CVE", []), *([ident["githubID"]] if ident.get("githubID") else [])]
            found.append(
                Advisory(
                    below=below,
                    at_or_above=above,
                    severity=str(v.get("severity", "medium")).lower(),
                    summary=str(ident.get("summary", "")).strip(),
                    ids=tuple(ids),
                    cwe=tuple(v.get("cwe", [])),
                    info=tuple(v.get("info", []))[:3],
                )
            )
        return tuple(found)

    def _detect(self, kind: str, text: str) -> list[Detection]:
        out = []
        for name, pats, _, vulns in self._libs:
            for pat in pats.get(kind, []):
                m = pat.search(text)
                if m and m.groups() and m.group(1):
                    version = _clean(m.group(1))
                    out.append(Detection(name, version, kind, self._advisories(vulns, version)))
                    break
        return out

    def by_url(self, url: str) -> list[Detection]:
        found = self._detect("uri", url)
        if not found:
            name = urlsplit(url).path.rsplit("/", 1)[-1]
            found = self._detect("filename", name)
        return found

    def by_content(self, content: bytes) -> list[Detection]:
        sha1 = hashlib.sha1(content, usedforsecurity=False).hexdigest()
        for name, _, hashes, vulns in self._libs:
            if sha1 in hashes:
                return [Detection(name, hashes[sha1], "hash", self._advisories(vulns, hashes[sha1]))]
        return self._detect("filecontent", content[:2_000_000].decode("utf-8", "replace"))

    def backdoored(self, url: str) -> tuple[str, str, str] | None:
        for name, summary, severity, pat in self._bad:
            if pat.search(url):
                return name, summary, severity
        return None


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> Repository:
    p = Path(path)
    data = json.loads(p.read_text(encoding="utf-8"))
    bad_path = p.parent / "jsrepository-backdoored.json"
    bad = json.loads(bad_path.read_text(encoding="utf-8")) if bad_path.is_file() else None
    return Repository(data, bad, source=str(p))


def load(sync_first: bool = True) -> Repository:
    path = sync() if sync_first else (_override() or data_dir() / "jsrepository.json")
    if not path.is_file():
        raise RetireDataMissing(f"{path}: retire.js repository not found")
    return _load(str(path), path.stat().st_mtime)
