"""retire.js repository format (``jsrepository.json``): advisories and detection patterns.

The repository maps a library name to ``extractors`` (regexes with the
placeholder ``§§version§§``) and ``vulnerabilities`` (``atOrAbove``/``below``
bounds, severity, identifiers). ShopGuard downloads the current file on
``vulndb sync``; nothing from it is shipped in the package.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shopguard.maintenance.vulndb.cvss import normalise_label
from shopguard.maintenance.vulndb.db import AdvisoryRecord, AffectedRecord, Interval

log = logging.getLogger(__name__)

VERSION_RE = r"[0-9][0-9.a-z_\-]+"
PLACEHOLDER = "§§version§§"
REPOSITORY_URL = "https://raw.githubusercontent.com/RetireJS/retire.js/master/repository/jsrepository.json"


class BadRepository(ValueError):
    pass


def load_repository(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BadRepository(f"{path}: not a readable retire.js repository: {exc}") from exc
    if not isinstance(data, dict) or not any(
        isinstance(v, dict) and "vulnerabilities" in v for v in data.values()
    ):
        raise BadRepository(
            f"{path}: no library entries with 'vulnerabilities' (is this a retire.js jsrepository.json?)"
        )
    return data


def is_repository(data: object) -> bool:
    return isinstance(data, dict) and any(
        isinstance(v, dict) and "extractors" in v and "vulnerabilities" in v for v in data.values()
    )


def advisories(repo: Mapping[str, Any]) -> list[tuple[AdvisoryRecord, list[AffectedRecord]]]:
    out = []
    for lib, entry in repo.items():
        if not isinstance(entry, dict) or lib == "retire-example":
            continue
        for n, vuln in enumerate(entry.get("vulnerabilities") or ()):
            ids = vuln.get("identifiers") or {}
            cves = [str(c) for c in ids.get("CVE") or ()]
            ghsa = ids.get("githubID")
            vid = str(ghsa or (cves[0] if cves else f"RETIREJS-{lib}-{n + 1}"))
            aliases = tuple(a for a in [*cves, *([ghsa] if ghsa else [])] if a != vid)
            info = [str(u) for u in vuln.get("info") or ()]
            summary = str(ids.get("summary") or (ids.get("issue") and f"issue {ids['issue']}") or "")
            iv = Interval(vuln.get("atOrAbove"), True, vuln.get("below"), False, "")
            adv = AdvisoryRecord(
                id=vid,
                source="retirejs",
                summary=summary,
                aliases=aliases,
                severity=normalise_label(vuln.get("severity")),
                url=info[0] if info else "",
            )
            out.append((adv, [AffectedRecord(vid, "retirejs", lib.lower(), (iv,), ())]))
    return out


@dataclass
class _Lib:
    name: str
    npm: str
    filename: list[re.Pattern[str]] = field(default_factory=list)
    content: list[tuple[str, re.Pattern[str]]] = field(default_factory=list)
    """(literal every match must contain, or '' when none is known; the pattern)."""
    hashes: dict[str, str] = field(default_factory=dict)


_META = set(".^$*+?{}[]|()")
_OPTIONAL = set("?*{")


def required_literal(pattern: str) -> str:
    """The longest run of plain characters that every match of ``pattern`` must contain.

    A cheap ``literal in text`` test then skips the regex for files that cannot match
    (most files match no library). Only top-level, non-optional characters count; a
    top-level ``|`` or an inline flag means no literal is certain, and '' is returned.
    """
    if pattern.startswith("(?"):
        return ""
    runs: list[str] = []
    cur: list[str] = []
    depth = 0
    i = 0

    def close() -> None:
        if cur:
            runs.append("".join(cur))
            cur.clear()

    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt.isalnum():  # \s \d \w \b ...: a class, not a literal
                close()
            elif depth == 0:
                cur.append(nxt)
            i += 2
            continue
        if ch == "[":
            close()
            j = i + 1
            if j < len(pattern) and pattern[j] == "]":
                j += 1
            while j < len(pattern) and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            i = j + 1
            continue
        if ch in _OPTIONAL:
            if cur:
                cur.pop()  # the character before ? * {0,n} may be absent
            close()
        elif ch == "(":
            close()
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif ch == "|":
            if depth == 0:
                return ""
        elif ch in _META:
            close()
        elif depth == 0:
            cur.append(ch)
        else:
            close()
        i += 1
    close()
    return max(runs, key=len, default="")


def _compile(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern.replace(PLACEHOLDER, VERSION_RE))
    except re.error:  # a JavaScript-only regex feature; skipped and counted
        return None


class Detector:
    """Finds JavaScript libraries and their versions in file names and file contents."""

    def __init__(self, repo: Mapping[str, Any], *, prefilter: bool = True) -> None:
        self.libs: list[_Lib] = []
        self.skipped_patterns = 0
        for name, entry in repo.items():
            if not isinstance(entry, dict) or name == "retire-example":
                continue
            ex = entry.get("extractors") or {}
            lib = _Lib(name=name, npm=str(entry.get("npmname") or name))
            for p in ex.get("filename") or ():
                rx = _compile(str(p))
                if rx is None:
                    self.skipped_patterns += 1
                else:
                    lib.filename.append(rx)
            for p in ex.get("filecontent") or ():
                rx = _compile(str(p))
                if rx is None:
                    self.skipped_patterns += 1
                else:
                    lit = required_literal(str(p).replace(PLACEHOLDER, "X"))
                    lib.content.append((lit if prefilter and len(lit) >= 3 else "", rx))
            lib.hashes = {str(k): str(v) for k, v in (ex.get("hashes") or {}).items()}
            self.libs.append(lib)

    def detect(self, filename: str, content: bytes) -> list[tuple[str, str, str]]:
        """[(library, npm name, version)] found in this file; content decides over the name."""
        found: dict[str, tuple[str, str, str]] = {}
        sha1 = hashlib.sha1(content, usedforsecurity=False).hexdigest()
        text = content.decode("utf-8", errors="replace")
        base = filename.rsplit("/", 1)[-1]
        for lib in self.libs:
            if sha1 in lib.hashes:
                found[lib.name] = (lib.name, lib.npm, lib.hashes[sha1])
                continue
            for lit, rx in lib.content:
                if lit and lit not in text:
                    continue
                m = rx.search(text)
                if m and m.groups():
                    found[lib.name] = (lib.name, lib.npm, _clean(m.group(1)))
                    break
            if lib.name in found:
                continue
            for rx in lib.filename:
                m = rx.search(base)
                if m and m.groups():
                    found[lib.name] = (lib.name, lib.npm, _clean(m.group(1)))
                    break
        return list(found.values())


def _clean(version: str) -> str:
    v = version.rstrip(".-_")
    for suffix in (".min", "-min", ".slim", ".pack"):
        v = v.removesuffix(suffix)
    return v
