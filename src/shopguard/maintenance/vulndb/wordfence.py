"""Wordfence Intelligence vulnerability data feed -> database rows (WordPress plugins, themes, core).

OSV does not cover WordPress extensions; Wordfence publishes a free feed that does
(https://www.wordfence.com/help/wordfence-intelligence/v2-accessing-and-consuming-the-vulnerability-data-feed/).
Both the "production" feed (analysed records) and the "scanner" feed (minimal records) are
one JSON object keyed by vulnerability id. Each record has ``title``, ``software`` (a list of
``{type: plugin|theme|core, slug, affected_versions: {label: {from_version, from_inclusive,
to_version, to_inclusive}}, patched, patched_versions}``), ``informational``, ``references``,
``published``; production records add ``cvss`` (``{vector, score, rating}``), ``cve`` and
``updated``. A version of ``*`` is an open end.

The feed is large (about 150 MB), so it is read as a stream, one record at a time (ijson).
Rows are filed under the ecosystems ``WordPress:plugin``, ``WordPress:theme`` and
``WordPress:core`` so a plugin and a theme with the same slug stay apart; versions are
compared the way WordPress and the feed's own tools do, with PHP's ``version_compare``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import ijson

from shopguard.maintenance.vulndb.cvss import cvss3_base_score, label_for_score, normalise_label
from shopguard.maintenance.vulndb.db import AdvisoryRecord, AffectedRecord, Interval

PRODUCTION_URL = "https://www.wordfence.com/api/intelligence/v2/vulnerabilities/production"
"""The free v2 production feed (no key). v3 (``.../v3/vulnerabilities/production``) needs an
API key, sent as ``Authorization: Bearer KEY``."""

SOFTWARE_TYPES = ("plugin", "theme", "core")
ANY = "*"


class BadFeed(ValueError):
    """The file is not a Wordfence feed, or is damaged."""


class BadRecord(ValueError):
    """One record without what matching needs."""


def ecosystem(software_type: str) -> str:
    return f"WordPress:{software_type}"


def _version(v: object, where: str) -> str | None:
    if v is None or v == ANY or v == "":
        return None
    if not isinstance(v, str | int | float):
        raise BadRecord(f"{where}: expected a version string, got {type(v).__name__}")
    return str(v).strip()


def _interval(rng: object, where: str) -> Interval:
    if not isinstance(rng, Mapping):
        raise BadRecord(f"{where}: expected an object with from_version/to_version")
    lo = _version(rng.get("from_version", ANY), f"{where}.from_version")
    hi = _version(rng.get("to_version", ANY), f"{where}.to_version")
    return Interval(lo, bool(rng.get("from_inclusive", True)), hi, bool(rng.get("to_inclusive", True)), "")


def _published(text: object) -> str | None:
    """``2023-05-31 00:00:00`` (the feed's form) or ISO 8601, as ISO 8601 in UTC."""
    if not isinstance(text, str) or len(text) < 10:
        return None
    t = text.strip().replace(" ", "T", 1)
    return t if t.endswith("Z") or "+" in t[10:] or len(t) == 10 else t + "Z"


def _severity(cvss: object) -> tuple[str, float | None]:
    if not isinstance(cvss, Mapping):
        return "", None
    score = cvss3_base_score(str(cvss.get("vector") or ""))
    if score is None:
        raw = cvss.get("score")
        try:
            score = float(raw) if raw is not None and raw != "" else None
        except (TypeError, ValueError):
            score = None
    if score is not None:
        return label_for_score(score), score
    return normalise_label(str(cvss.get("rating") or "")), None


def _url(rec: Mapping[str, Any]) -> str:
    refs = [str(r) for r in rec.get("references") or () if isinstance(r, str)]
    own = [r for r in refs if "wordfence.com" in r]
    return (own or refs or [str(rec.get("cve_link") or "")])[0]


def parse_record(
    rec: Mapping[str, Any], key: str = "", source: str = "wordfence"
) -> tuple[AdvisoryRecord, list[AffectedRecord]]:
    """One feed record as an advisory and its affected WordPress software."""
    uid = rec.get("id") or key
    if not isinstance(uid, str) or not uid:
        raise BadRecord("record has no 'id'")
    vid = f"WF-{uid}"
    cve = rec.get("cve")
    label, score = _severity(rec.get("cvss"))
    adv = AdvisoryRecord(
        id=vid,
        source=source,
        summary=str(rec.get("title") or rec.get("description") or "")[:500],
        aliases=(str(cve),) if isinstance(cve, str) and cve else (),
        published=_published(rec.get("published")),
        modified=_published(rec.get("updated")),
        severity=label,
        score=score,
        url=_url(rec),
    )
    if rec.get("informational"):
        return adv, []  # notices (a plugin closed, a hardening tip), not a vulnerable version range
    software = rec.get("software")
    if not isinstance(software, list):
        raise BadRecord("'software' is not a list")
    affected: list[AffectedRecord] = []
    for n, sw in enumerate(software):
        where = f"software[{n}]"
        if not isinstance(sw, Mapping):
            raise BadRecord(f"{where}: expected an object")
        stype, slug = sw.get("type"), sw.get("slug")
        if stype not in SOFTWARE_TYPES:
            raise BadRecord(f"{where}.type: {stype!r} is not plugin, theme or core")
        if not isinstance(slug, str) or not slug.strip():
            raise BadRecord(f"{where}: no 'slug'")
        ranges = sw.get("affected_versions") or {}
        items = ranges.items() if isinstance(ranges, Mapping) else enumerate(ranges)
        intervals = tuple(_interval(r, f"{where}.affected_versions[{k!r}]") for k, r in items)
        if not intervals:
            continue
        patched = sw.get("patched_versions") or []
        if not isinstance(patched, list):
            raise BadRecord(f"{where}.patched_versions: expected a list")
        affected.append(
            AffectedRecord(
                vid,
                ecosystem(str(stype)),
                slug.strip().lower(),
                intervals,
                (),
                tuple(str(p).strip() for p in patched if p not in (None, "")),
            )
        )
    return adv, affected


def iter_feed(path: Path) -> Iterator[tuple[str, Mapping[str, Any] | None, str]]:
    """Yield (id, record or None, error) for each entry of a feed file, streaming.

    Raises :class:`BadFeed` when the file is not one JSON object of records or is cut short.
    """
    try:
        with path.open("rb") as fh:
            n = 0
            for key, rec in ijson.kvitems(fh, "", use_float=True):
                n += 1
                if not isinstance(rec, dict):
                    yield str(key), None, "expected a JSON object per vulnerability"
                    continue
                yield str(key), rec, ""
            if n == 0:
                fh.seek(0)
                head = fh.read(64).lstrip()
                if not head.startswith(b"{"):
                    raise BadFeed(f"{path}: not a Wordfence feed (expected a JSON object keyed by id)")
    except ijson.JSONError as exc:
        raise BadFeed(f"{path}: damaged or truncated Wordfence feed: {exc}") from exc
    except OSError as exc:
        raise BadFeed(f"{path}: cannot read: {exc.strerror}") from exc
