"""OSV records (https://ossf.github.io/osv-schema/) -> database rows.

Used by both the ``all.zip`` import and the online OSV source, so one record is
read the same way whichever path it came by.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from shopguard.maintenance.model import normalise_name
from shopguard.maintenance.vulndb.cvss import cvss3_base_score, label_for_score, normalise_label
from shopguard.maintenance.vulndb.db import AdvisoryRecord, AffectedRecord, Interval
from shopguard.maintenance.vulndb.zipstream import ZipStreamError, ZipStreamUnsupported, iter_members


class BadRecord(ValueError):
    """An OSV record without the fields matching needs."""


def events_to_intervals(events: list[Mapping[str, str]], scheme: str = "") -> list[Interval]:
    """Pair OSV range events (introduced / fixed / last_affected / limit) into intervals."""
    out: list[Interval] = []
    lo: str | None = None
    open_ = False
    for ev in events:
        if "introduced" in ev:
            v = ev["introduced"]
            lo = None if v in ("0", "") else v
            open_ = True
        elif "fixed" in ev or "limit" in ev:
            hi = ev.get("fixed") or ev.get("limit")
            if open_:
                out.append(Interval(lo, True, hi, False, scheme))
            open_ = False
        elif "last_affected" in ev:
            if open_:
                out.append(Interval(lo, True, ev["last_affected"], True, scheme))
            open_ = False
    if open_:
        out.append(Interval(lo, True, None, False, scheme))
    return out


def severity_of(rec: Mapping[str, Any]) -> tuple[str, float | None]:
    """(label, score): CVSS v3 vector first, then the database's own label."""
    best: float | None = None
    for sev in rec.get("severity") or ():
        if str(sev.get("type", "")).startswith("CVSS_V3"):
            s = cvss3_base_score(str(sev.get("score", "")))
            if s is not None and (best is None or s > best):
                best = s
    if best is not None:
        return label_for_score(best), best
    label = normalise_label((rec.get("database_specific") or {}).get("severity"))
    if not label:
        for aff in rec.get("affected") or ():
            for spec in (aff.get("ecosystem_specific") or {}, aff.get("database_specific") or {}):
                if isinstance(spec, dict) and (label := normalise_label(spec.get("severity"))):
                    break
            if label:
                break
    return label, None


def parse_record(rec: Mapping[str, Any], source: str = "osv") -> tuple[AdvisoryRecord, list[AffectedRecord]]:
    vid = rec.get("id")
    if not isinstance(vid, str) or not vid:
        raise BadRecord("record has no 'id'")
    label, score = severity_of(rec)
    url = f"https://osv.dev/vulnerability/{vid}"
    adv = AdvisoryRecord(
        id=vid,
        source=source,
        summary=str(rec.get("summary") or rec.get("details") or "")[:500],
        aliases=tuple(str(a) for a in rec.get("aliases") or ()),
        published=rec.get("published"),
        modified=rec.get("modified"),
        withdrawn=rec.get("withdrawn"),
        severity=label,
        score=score,
        url=url,
    )
    affected: list[AffectedRecord] = []
    for aff in rec.get("affected") or ():
        pkg = aff.get("package") or {}
        eco, name = pkg.get("ecosystem"), pkg.get("name")
        if not eco or not name:
            continue
        intervals: list[Interval] = []
        for r in aff.get("ranges") or ():
            rtype = r.get("type")
            if rtype in ("ECOSYSTEM", "SEMVER"):
                intervals += events_to_intervals(r.get("events") or [], "SEMVER" if rtype == "SEMVER" else "")
        versions = tuple(str(v) for v in aff.get("versions") or ())
        if not intervals and not versions:
            continue
        base = str(eco).split(":", 1)[0]
        affected.append(
            AffectedRecord(vid, str(eco), normalise_name(base, str(name)), tuple(intervals), versions)
        )
    return adv, affected


def iter_zip(path: Path) -> Iterator[tuple[str, Mapping[str, Any] | None, str]]:
    """Yield (member name, record or None, error) for each JSON file in an OSV ``all.zip``.

    Streams the archive (constant memory, see zipstream); falls back to ``zipfile``
    for the rare member layout streaming cannot read. Damage raises ``zipfile.BadZipFile``.
    """
    done = 0
    try:
        with path.open("rb") as fh:
            for name, raw in iter_members(fh):
                done += 1
                if name.endswith(".json"):
                    yield _record(name, raw)
        return
    except ZipStreamUnsupported:
        pass
    except ZipStreamError as exc:
        raise zipfile.BadZipFile(str(exc)) from None
    with zipfile.ZipFile(path) as zf:
        members = [i for i in zf.infolist() if not i.is_dir()]
        for info in members[done:]:
            if info.filename.endswith(".json"):
                yield _record(info.filename, zf.read(info))


def _record(name: str, raw: bytes) -> tuple[str, Mapping[str, Any] | None, str]:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return name, None, f"not readable OSV JSON: {exc}"
    if not isinstance(data, dict):
        return name, None, "expected a JSON object"
    return name, data, ""
