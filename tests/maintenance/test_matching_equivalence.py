"""The optimised matcher gives exactly the answers of the plain one it replaced.

The reference below is the straightforward algorithm (every component checked against every
row of its package, each bound parsed on every check, every candidate fix checked against every
advisory); the inventory is drawn from the real synced advisories, with the repeats and
multi-key components (retire.js names) a real shop has.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from shopguard.maintenance.assess import vulnerability_findings
from shopguard.maintenance.matching import Match, merge_duplicates
from shopguard.maintenance.model import Component, Owner, make_purl
from shopguard.maintenance.sources.local import LocalSource, _rows
from shopguard.maintenance.versions import BadVersion, parse, scheme_of
from shopguard.maintenance.vulndb.db import AffectedRecord


def ref_is_affected(ecosystem: str, version: str, aff: AffectedRecord) -> bool:
    if version in aff.versions:
        return True
    scheme = scheme_of(ecosystem)
    if not aff.intervals and aff.versions:
        try:
            v = parse(scheme, version)
        except BadVersion:
            return False
        for listed in aff.versions:
            try:
                if parse(scheme, listed) == v:
                    return True
            except BadVersion:
                continue
        return False
    for iv in aff.intervals:
        sc = iv.scheme or scheme
        try:
            v = parse(sc, version)
            if iv.lo is not None:
                lo = parse(sc, iv.lo)
                if v < lo or (not iv.lo_incl and v == lo):
                    continue
            if iv.hi is not None:
                hi = parse(sc, iv.hi)
                if v > hi or (not iv.hi_incl and v == hi):
                    continue
            return True
        except BadVersion:
            continue
    return False


def ref_query(db: Path, components: Sequence[Component]) -> dict[Component, list[Match]]:
    by_key: dict[tuple[str, str], list[Component]] = defaultdict(list)
    for c in components:
        if c.version:
            for key in c.keys:
                by_key[key].append(c)
    by_eco: dict[str, list[str]] = defaultdict(list)
    for eco, name in by_key:
        by_eco[eco].append(name)
    found: dict[Component, list[Match]] = defaultdict(list)
    conn = sqlite3.connect(db)
    for eco, names in by_eco.items():
        for i in range(0, len(names), 500):
            for adv, aff in _rows(conn, eco, names[i : i + 500]):
                for comp in by_key[(eco, aff.name)]:
                    if ref_is_affected(eco, comp.advisory_version, aff):
                        found[comp].append(Match(adv, aff))
    conn.close()
    return {c: merge_duplicates(ms) for c, ms in found.items()}


def ref_smallest_fix(component: Component, matches: Sequence[Match]) -> str | None:
    scheme = scheme_of(matches[0].affected.ecosystem)
    candidates = {f for m in matches for f in m.fixed}
    try:
        cur = parse(scheme, component.advisory_version)
    except BadVersion:
        cur = None
    parsed = []
    for c in candidates:
        try:
            pv = parse(scheme, c)
        except BadVersion:
            continue
        if cur is None or pv > cur:
            parsed.append((pv, c))
    parsed.sort(key=lambda t: t[0])
    for _, cand in parsed:
        if not any(ref_is_affected(m.affected.ecosystem, cand, m.affected) for m in matches):
            return cand
    return None


def inventory(db: Path, n: int) -> list[Component]:
    rng = random.Random(1505)
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT ecosystem, name, ranges, versions FROM affected").fetchall()
    conn.close()
    picks = []
    for eco, name, ranges, versions in rows:
        vs = json.loads(versions) or [v for iv in json.loads(ranges) for v in (iv[0], iv[2]) if v]
        picks.extend((eco, name, v) for v in vs[:3])
    out = []
    for i in range(n):
        eco, name, version = rng.choice(picks)
        keys: tuple[tuple[str, str], ...] = ()
        if eco == "retirejs":
            eco, keys = "npm", (("retirejs", name),)
        if i % 7 == 0:
            version = rng.choice(["0.1", "99.0.0", "1.0.0rc1", "not a version"])
        out.append(
            Component(
                name,
                version,
                eco,
                make_purl(eco, name, version),
                Owner.LIBRARY,
                f"/l{i % 400}",
                match_keys=keys,
            )
        )
    return out


def _ids(found: dict[Component, list[Match]]) -> dict[Component, list[tuple[str, ...]]]:
    return {c: [(*m.ids, m.affected.name, *m.fixed) for m in ms] for c, ms in found.items()}


def test_optimised_matching_equals_reference(synced_db: Path) -> None:
    comps = inventory(synced_db, 1500)
    new = LocalSource(synced_db).query(comps)
    old = ref_query(synced_db, comps)
    assert len(old) > 300  # the sample really exercises matching
    assert _ids(new) == _ids(old)
    findings = vulnerability_findings(new, dt.date(2026, 11, 25), "local")
    fixes = {(f.location, f.evidence["purl"]): f.evidence["smallest_fix"] for f in findings}
    ref = {(c.location, c.purl): ref_smallest_fix(c, ms) for c, ms in old.items()}
    assert fixes == ref
    assert sum(1 for v in ref.values() if v) > 100 and any(v is None for v in ref.values())
