"""FriendsOfPHP security-advisories (YAML per advisory) -> database rows.

Format: ``title``, ``link``, ``cve``, ``reference: composer://vendor/package`` and
``branches.<name>.versions``: a list of Composer constraints that all hold
(``['>=2.1', '<2.1.14']``); each branch is one affected interval.
"""

from __future__ import annotations

import io
import re
import tarfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from shopguard.maintenance.vulndb.db import AdvisoryRecord, AffectedRecord, Interval

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CONSTRAINT = re.compile(r"^\s*(>=|<=|>|<|==|=)?\s*v?([0-9][^\s,]*)\s*$")


class BadAdvisory(ValueError):
    pass


def branch_interval(constraints: list[str]) -> Interval:
    lo: str | None = None
    hi: str | None = None
    lo_incl, hi_incl = True, False
    for c in constraints:
        for part in str(c).split(","):
            if not part.strip():
                continue
            m = _CONSTRAINT.match(part)
            if not m:
                raise BadAdvisory(f"constraint {part!r} is not understood")
            op, ver = m.group(1) or "=", m.group(2)
            if op in (">=", ">"):
                lo, lo_incl = ver, op == ">="
            elif op in ("<", "<="):
                hi, hi_incl = ver, op == "<="
            else:
                lo, hi, lo_incl, hi_incl = ver, ver, True, True
    return Interval(lo, lo_incl, hi, hi_incl, "")


def parse_advisory(doc: Mapping[str, Any], name: str) -> tuple[AdvisoryRecord, list[AffectedRecord]]:
    ref = str(doc.get("reference") or "")
    if not ref.startswith("composer://"):
        raise BadAdvisory("'reference' is not composer://vendor/package")
    package = ref.removeprefix("composer://").strip().lower()
    cve = doc.get("cve")
    stem = Path(name).stem
    vid = f"FOP-{package}-{stem}"
    aliases = (str(cve),) if cve else ()
    branches = doc.get("branches") or {}
    if not isinstance(branches, dict) or not branches:
        raise BadAdvisory("no 'branches'")
    intervals = []
    times = []
    for br in branches.values():
        intervals.append(branch_interval(list(br.get("versions") or [])))
        if br.get("time"):
            times.append(str(br["time"]))
    published = min(times).replace(" ", "T") + "Z" if times else None
    adv = AdvisoryRecord(
        id=vid,
        source="friendsofphp",
        summary=str(doc.get("title") or ""),
        aliases=aliases,
        published=published,
        url=str(doc.get("link") or ""),
    )
    return adv, [AffectedRecord(vid, "Packagist", package, tuple(intervals), ())]


def iter_advisories(path: Path) -> Iterator[tuple[str, Mapping[str, Any] | None, str]]:
    """Yield (file name, YAML document or None, error) from a tar.gz or a checkout folder."""
    if path.is_dir():
        for f in sorted(path.rglob("*.yaml")):
            yield from _load(str(f.relative_to(path)), f.read_bytes())
        return
    with tarfile.open(path, "r:*") as tf:
        for member in tf:
            if not member.isfile() or not member.name.endswith((".yaml", ".yml")):
                continue
            fh = tf.extractfile(member)
            if fh is None:
                continue
            yield from _load(member.name, fh.read())


def _load(name: str, raw: bytes) -> Iterator[tuple[str, Mapping[str, Any] | None, str]]:
    try:
        doc = yaml.load(io.BytesIO(raw), Loader=_LOADER)  # noqa: S506 - a safe loader (C or Python)
    except yaml.YAMLError as exc:
        yield name, None, f"not valid YAML: {exc}"
        return
    if not isinstance(doc, dict) or "reference" not in doc:
        return  # repository metadata files, not advisories
    yield name, doc, ""
