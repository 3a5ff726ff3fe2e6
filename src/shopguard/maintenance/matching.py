"""Does a version fall in an advisory's affected ranges, and which upgrade fixes everything?"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from shopguard.maintenance.model import Component
from shopguard.maintenance.versions import BadVersion, parse, scheme_of
from shopguard.maintenance.vulndb.db import AdvisoryRecord, AffectedRecord, Interval


@dataclass(frozen=True)
class Match:
    """One advisory that applies to one component."""

    advisory: AdvisoryRecord
    affected: AffectedRecord
    """The affected entry that matched (its intervals give the fixed versions)."""
    aliases: tuple[str, ...] = ()
    """Ids of the same issue merged in from other records (PYSEC + GHSA ...)."""

    @cached_property
    def ids(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for i in (self.advisory.id, *self.advisory.aliases, *self.aliases):
            seen.setdefault(i, None)
        return tuple(seen)

    @property
    def fixed(self) -> tuple[str, ...]:
        return fixed_versions(self.affected)


def _in_interval(sc: str, v: Any, iv: Interval) -> bool:
    if iv.lo is not None:
        lo = parse(sc, iv.lo)
        if v < lo or (not iv.lo_incl and v == lo):
            return False
    if iv.hi is not None:
        hi = parse(sc, iv.hi)
        if v > hi or (not iv.hi_incl and v == hi):
            return False
    return True


def is_affected(ecosystem: str, version: str, aff: AffectedRecord) -> bool:
    """True when ``version`` is listed or inside one of the intervals.

    Bounds that cannot be parsed under the ecosystem's rules are skipped (never
    guessed); an unparseable component version only matches an exact listing.
    """
    if version in aff.versions:
        return True
    scheme = scheme_of(ecosystem)
    if not aff.intervals and aff.versions:
        # only an enumeration: compare by the ecosystem's equality ("3.0.0" is PEP 440's "3.0")
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
            if _in_interval(sc, parse(sc, version), iv):
                return True
        except BadVersion:
            continue
    return False


def fixed_versions(aff: AffectedRecord) -> tuple[str, ...]:
    return tuple(dict.fromkeys(iv.hi for iv in aff.intervals if iv.hi is not None and not iv.hi_incl))


def smallest_fix(component: Component, matches: Sequence[Match]) -> str | None:
    """The lowest version above the current one that none of the advisories affect.

    Candidates are the advisories' fixed versions; the answer is the first one
    (in the ecosystem's order) outside every match's affected ranges. None when
    no fixed version is known for some advisory.
    """
    scheme = scheme_of(matches[0].affected.ecosystem) if matches else scheme_of(component.ecosystem)
    candidates: set[str] = set()
    for m in matches:
        candidates.update(m.fixed)
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
        if not any(is_affected(m.affected.ecosystem, cand, m.affected) for m in matches):
            return cand
    return None


def merge_duplicates(matches: Iterable[Match]) -> list[Match]:
    """Fold records that describe the same issue (shared id or alias) into one, in one pass."""
    groups: list[list[Match]] = []
    where: dict[str, int] = {}
    for m in matches:
        ids = m.ids
        hit = next((where[i] for i in ids if i in where), None)
        if hit is None:
            hit = len(groups)
            groups.append([m])
        else:
            groups[hit].append(m)
        for i in ids:
            where.setdefault(i, hit)
    out = []
    for g in groups:
        if len(g) == 1:
            out.append(g[0])
            continue
        keep = max(g, key=_rank)
        own = set(keep.ids)
        extra = tuple(dict.fromkeys(i for other in g for i in other.ids if i not in own))
        out.append(Match(keep.advisory, keep.affected, keep.aliases + extra))
    return out


def _rank(m: Match) -> tuple[int, int]:
    return (m.advisory.score is not None, bool(m.advisory.severity))
