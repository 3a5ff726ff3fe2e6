"""Does a version fall in an advisory's affected ranges, and which upgrade fixes everything?"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from shopguard.maintenance.model import Component
from shopguard.maintenance.versions import BadVersion, parse, scheme_of
from shopguard.maintenance.vulndb.db import AdvisoryRecord, AffectedRecord


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

    @cached_property
    def fixed(self) -> tuple[str, ...]:
        return fixed_versions(self.affected)


_Bound = tuple[str, Any, bool, Any, bool]
"""A compiled interval: (scheme, lower bound or None, inclusive, upper bound or None, inclusive),
the bounds parsed under the scheme."""


@dataclass(frozen=True)
class _Compiled:
    scheme: str
    bounds: tuple[_Bound, ...]
    listed: tuple[Any, ...] | None
    """Parsed ``versions`` when the record is only an enumeration (no intervals), else None."""
    exact: frozenset[str]
    """``versions`` as written, for the exact-string test (OSV records list hundreds)."""


def _compile(scheme: str, aff: AffectedRecord) -> _Compiled:
    """Parse an affected record's bounds once. An interval with a bound the scheme cannot read is
    dropped (never guessed), as is a listed version that cannot be read."""
    if not aff.intervals and aff.versions:
        listed = []
        for text in aff.versions:
            try:
                listed.append(parse(scheme, text))
            except BadVersion:
                continue
        return _Compiled(scheme, (), tuple(listed), frozenset(aff.versions))
    bounds: list[_Bound] = []
    for iv in aff.intervals:
        sc = iv.scheme or scheme
        try:
            lo = parse(sc, iv.lo) if iv.lo is not None else None
            hi = parse(sc, iv.hi) if iv.hi is not None else None
        except BadVersion:
            continue
        bounds.append((sc, lo, iv.lo_incl, hi, iv.hi_incl))
    return _Compiled(scheme, tuple(bounds), None, frozenset(aff.versions))


_SEEN: Any = object()
"""Marks a record checked once: it is compiled on its second check, so a row asked about a single
version (most rows in a real shop's inventory) is not parsed beyond what that check needs."""


def compiled(scheme: str, aff: AffectedRecord) -> _Compiled:
    """The record's parsed ranges, kept on the record itself so each row is parsed once per query
    however many components and candidate fixes are checked against it."""
    c = aff._compiled
    if c is None or c is _SEEN or c.scheme != scheme:
        c = _compile(scheme, aff)
        object.__setattr__(aff, "_compiled", c)
    return c


def is_affected(ecosystem: str, version: str, aff: AffectedRecord) -> bool:
    """True when ``version`` is listed or inside one of the intervals.

    Bounds that cannot be parsed under the ecosystem's rules are skipped (never
    guessed); an unparseable component version only matches an exact listing.
    """
    scheme = scheme_of(ecosystem)
    if aff._compiled is None:
        object.__setattr__(aff, "_compiled", _SEEN)
        return _check_once(scheme, version, aff)
    return _hit(compiled(scheme, aff), version)


def _hit(comp: _Compiled, version: str) -> bool:
    if version in comp.exact:
        return True
    if comp.listed is not None:
        # only an enumeration: compare by the ecosystem's equality ("3.0.0" is PEP 440's "3.0")
        try:
            v = parse(comp.scheme, version)
        except BadVersion:
            return False
        return any(x == v for x in comp.listed)
    for sc, lo, lo_incl, hi, hi_incl in comp.bounds:
        try:
            v = parse(sc, version)
        except BadVersion:
            continue
        if lo is not None and (v < lo or (not lo_incl and v == lo)):
            continue
        if hi is not None and (v > hi or (not hi_incl and v == hi)):
            continue
        return True
    return False


def _check_once(scheme: str, version: str, aff: AffectedRecord) -> bool:
    """:func:`is_affected` without compiling: parses only the bounds this check reaches."""
    if version in aff.versions:
        return True
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


def fixed_versions(aff: AffectedRecord) -> tuple[str, ...]:
    ends = (iv.hi for iv in aff.intervals if iv.hi is not None and not iv.hi_incl)
    return tuple(dict.fromkeys((*ends, *aff.fixed)))


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
    # the advisory that covered the previous candidate usually covers the next one too (a package's
    # fixed versions are mostly inside its other advisories' ranges), so it is asked first
    last: AffectedRecord | None = None
    for _, cand in parsed:
        if last is not None and is_affected(last.ecosystem, cand, last):
            continue
        last = next(
            (m.affected for m in matches if is_affected(m.affected.ecosystem, cand, m.affected)), None
        )
        if last is None:
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
