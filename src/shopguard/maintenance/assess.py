"""Turn inventory, advisory matches and end-of-life facts into findings."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from shopguard.findings import Finding, Refs, Severity
from shopguard.maintenance.commands import upgrade_command
from shopguard.maintenance.eol import SUPPORT_WARNING_DAYS, EolStatus, eol_status
from shopguard.maintenance.matching import Match, smallest_fix
from shopguard.maintenance.model import Component, InventoryWarning

VULN_CHECK = "maintenance.vulnerabilities"
EOL_CHECK = "maintenance.eol"
INVENTORY_CHECK = "maintenance.inventory"
PATCH_DAYS = 30
"""PCI DSS 6.3.3: critical and high security patches within one month of release."""
UNSCORED = Severity.HIGH
"""Severity used when an advisory carries no CVSS score or label (safe default)."""


def advisory_severity(m: Match) -> Severity:
    return Severity.parse(m.advisory.severity) if m.advisory.severity else UNSCORED


def _age_days(published: str | None, today: dt.date) -> int | None:
    if not published:
        return None
    try:
        return (today - dt.date.fromisoformat(published[:10])).days
    except ValueError:
        return None


_UNKNOWN: Any = object()
"""``fix`` not computed yet (None is an answer: no single fixed version)."""


_AdvisoryInfo = tuple[dict[str, Any], Severity, bool]
"""(evidence entry, severity, critical/high older than the PCI 6.3.3 month)."""


def _advisory_info(m: Match, today: dt.date, cache: dict[int, _AdvisoryInfo] | None) -> _AdvisoryInfo:
    """One advisory's evidence entry; ``cache`` (by Match identity, alive for the caller's loop)
    saves rebuilding it for every lockfile that lists the same package at the same version."""
    if cache is not None and (hit := cache.get(id(m))) is not None:
        return hit
    sev = advisory_severity(m)
    age = _age_days(m.advisory.published, today)
    entry = {
        "id": m.advisory.id,
        "aliases": [i for i in m.ids if i != m.advisory.id],
        "severity": sev.value,
        "severity_source": "cvss"
        if m.advisory.score is not None
        else ("label" if m.advisory.severity else "unscored"),
        "cvss_score": m.advisory.score,
        "published": m.advisory.published,
        "age_days": age,
        "fixed": list(m.fixed),
        "summary": m.advisory.summary[:200],
        "url": m.advisory.url,
    }
    info = (entry, sev, sev >= Severity.HIGH and age is not None and age > PATCH_DAYS)
    if cache is not None:
        cache[id(m)] = info
    return info


def vulnerability_finding(
    c: Component,
    matches: Sequence[Match],
    today: dt.date,
    source: str,
    fix: str | None = _UNKNOWN,
    cache: dict[int, _AdvisoryInfo] | None = None,
) -> Finding:
    fix = smallest_fix(c, matches) if fix is _UNKNOWN else fix
    advisories = []
    overdue = []
    infos = [_advisory_info(m, today, cache) for m in matches]
    for entry, _, late in sorted(infos, key=lambda i: (-i[1].rank, i[0]["id"])):
        if late:
            overdue.append(entry["id"])
        advisories.append(dict(entry))
    worst = max(infos, key=lambda i: i[1].rank)[1]
    n = len(matches)
    title = f"{c.name} {c.version} has {n} known vulnerabilit{'y' if n == 1 else 'ies'}"
    if overdue:
        title += f" ({len(overdue)} critical/high published more than {PATCH_DAYS} days ago)"
    lines = [f"- {a['id']} ({a['severity']}): {a['summary']}" for a in advisories[:10]]
    if n > 10:
        lines.append(f"- ... and {n - 10} more (see evidence)")
    detail = (
        f"{c.name} {c.version}, found in {c.location}, is affected by published security advisories. "
        "Attackers scan shops for exactly these versions.\n" + "\n".join(lines)
    )
    if overdue:
        detail += (
            f"\nPCI DSS 6.3.3 expects critical and high security fixes to be installed within one month; "
            f"{', '.join(overdue[:5])} {'are' if len(overdue) > 1 else 'is'} older than that."
        )
    if any(a["severity_source"] == "unscored" for a in advisories):
        detail += (
            "\nAdvisories without a CVSS score or severity label are treated as high until you review them."
        )
    command = upgrade_command(c, fix)
    remediation = (
        f"Upgrade {c.name} to {fix} or later (the smallest version that fixes all of these): {command}"
        if fix
        else "No single fixed version is known for all of these advisories; upgrade to the newest release of "
        f"{c.name} and re-run the scan, or remove it if you do not use it: {upgrade_command(c, None)}"
    )
    ids = sorted({i for m in matches for i in m.ids})
    return Finding(
        check_id=VULN_CHECK,
        severity=worst,
        title=title,
        location=c.location,
        detail=detail,
        remediation=remediation,
        evidence={
            "component": c.name,
            "version": c.version,
            "purl": c.purl,
            "ecosystem": c.ecosystem,
            "owner": c.owner.value,
            "smallest_fix": fix,
            "command": command,
            "advisories": advisories,
            "pci_6_3_3_overdue": overdue,
            "source": source,
        },
        refs=Refs(pci=("6.3.1", "6.3.3"), cwe=(), cve=tuple(ids)),
        key=f"{c.ecosystem}:{c.name.lower()}",
    )


def vulnerability_findings(
    found: Mapping[Component, Sequence[Match]], today: dt.date, source: str
) -> list[Finding]:
    fixes: dict[tuple[object, ...], str | None] = {}
    cache: dict[int, _AdvisoryInfo] = {}
    out = []
    for c, ms in found.items():
        if not ms:
            continue
        # the same package at the same version in several lockfiles has the same answer
        key = (c.keys, c.version, tuple(sorted(m.advisory.id for m in ms)))
        if key not in fixes:
            fixes[key] = smallest_fix(c, ms)
        out.append(vulnerability_finding(c, ms, today, source, fixes[key], cache))
    return out


def eol_findings(components: Iterable[Component], today: dt.date) -> list[Finding]:
    out = []
    seen: set[tuple[str, str, str]] = set()
    for c in components:
        if not c.eol_product or not c.version:
            continue
        k = (c.eol_product, c.version, c.location)
        if k in seen:
            continue
        seen.add(k)
        st = eol_status(c.eol_product, c.version, today)
        if st is None:
            continue
        base_ev = {
            "component": c.name,
            "version": c.version,
            "purl": c.purl,
            "owner": c.owner.value,
            "product": st.product,
            "cycle": st.cycle,
            "eol": st.eol_date.isoformat() if st.eol_date else st.is_eol,
            "support_end": st.support_end.isoformat() if st.support_end else None,
            "latest_in_cycle": st.latest,
            "latest_cycle": st.latest_cycle,
            "nearest_supported_cycle": st.upgrade_cycle,
            "source": "endoflife.date",
        }
        key_base = f"{st.product}:{c.name.lower()}"
        target = st.upgrade_to or st.latest_cycle
        if st.is_eol:
            when = f" on {st.eol_date.isoformat()}" if st.eol_date else ""
            out.append(
                Finding(
                    check_id=EOL_CHECK,
                    severity=Severity.HIGH,
                    title=f"{c.name} {c.version} is end-of-life (release line {st.cycle} ended{when})",
                    location=c.location,
                    detail=(
                        f"Release line {st.cycle} of {st.product} no longer gets security fixes, so new "
                        "vulnerabilities in it will never be patched. PCI DSS 6.3.3 needs security patches "
                        "installed, and 12.3.4 asks you to review hardware and software technologies for "
                        "end-of-life plans at least once every 12 months."
                    ),
                    remediation=f"Move to a supported release line ({_line_advice(st)}): "
                    + upgrade_command(c, target),
                    evidence={**base_ev, "target": target, "command": upgrade_command(c, target)},
                    refs=Refs(pci=("6.3.3", "12.3.4")),
                    key=f"{key_base}:eol",
                )
            )
            continue
        ends = [
            (d, what)
            for d, what in ((st.support_end, "active support"), (st.eol_date, "security support"))
            if d
        ]
        soon = [(d, what) for d, what in ends if 0 <= (d - today).days <= SUPPORT_WARNING_DAYS]
        if soon:
            d, what = min(soon)
            out.append(
                Finding(
                    check_id=EOL_CHECK,
                    severity=Severity.LOW,
                    title=f"{c.name} {c.version}: {what} for release line {st.cycle} ends on {d.isoformat()}",
                    location=c.location,
                    detail=(
                        f"In {(d - today).days} days release line {st.cycle} stops getting "
                        f"{what.split()[0]} fixes."
                    ),
                    remediation=f"Schedule the upgrade before {d.isoformat()} ({_line_advice(st)}): "
                    + upgrade_command(c, target),
                    evidence={**base_ev, "target": target, "command": upgrade_command(c, target)},
                    refs=Refs(pci=("12.3.4",)),
                    key=f"{key_base}:support-ending",
                )
            )
        if not st.is_latest:
            out.append(
                Finding(
                    check_id=EOL_CHECK,
                    severity=Severity.MEDIUM,
                    title=f"{c.name} {c.version} is not the latest patch of its release line: "
                    f"move to {st.latest}",
                    location=c.location,
                    detail=f"Release line {st.cycle} has newer patch releases; patches usually carry "
                    "security fixes.",
                    remediation=upgrade_command(c, st.latest),
                    evidence={**base_ev, "target": st.latest, "command": upgrade_command(c, st.latest)},
                    refs=Refs(pci=("6.3.3",)),
                    key=f"{key_base}:patch",
                )
            )
    return out


MAX_DB_AGE_DAYS = 7
"""Older advisory data misses new vulnerabilities (PCI DSS 6.3.1: identify them as they are published)."""


def database_age_findings(db_path: Path | None, now: dt.datetime) -> list[Finding]:
    """A finding when the local vulnerability database was last synced more than a week ago."""
    from shopguard.maintenance.vulndb.db import default_path, read_meta

    path = db_path or default_path()
    try:
        synced = dt.datetime.fromisoformat(str(read_meta(path).get("synced_at")))
    except (OSError, ValueError, sqlite3.Error):
        return []  # a missing or unreadable database already failed the lookup itself
    age = (now - synced).days
    if age <= MAX_DB_AGE_DAYS:
        return []
    return [
        Finding(
            check_id=f"{VULN_CHECK}.database-age",
            severity=Severity.MEDIUM,
            title=f"The vulnerability database is {age} days old",
            location=str(path),
            detail=(
                f"It was last synced on {synced.date().isoformat()}. Advisories published since then are "
                "not checked, so new vulnerabilities in your software go unnoticed."
            ),
            remediation="Run `shopguard vulndb sync` daily (for example from cron or a systemd timer).",
            evidence={"synced_at": synced.isoformat(), "age_days": age, "max_age_days": MAX_DB_AGE_DAYS},
            refs=Refs(pci=("6.3.1",)),
        )
    ]


def _line_advice(st: EolStatus) -> str:
    if st.upgrade_cycle and st.upgrade_cycle != st.latest_cycle:
        return (
            f"the nearest supported is {st.upgrade_cycle}, latest {st.upgrade_to}; "
            f"the newest line is {st.latest_cycle}"
        )
    if st.upgrade_cycle:
        return f"the newest is {st.upgrade_cycle}, latest {st.upgrade_to}"
    return f"the newest is {st.latest_cycle}"


def warning_findings(warnings: Iterable[InventoryWarning]) -> list[Finding]:
    grouped: dict[str, list[str]] = {}
    for w in warnings:
        grouped.setdefault(w.location, []).append(w.message)
    return [
        Finding(
            check_id=INVENTORY_CHECK,
            severity=Severity.INFO,
            title=f"Part of {loc.rsplit('/', 1)[-1]} could not be inventoried",
            location=loc,
            detail="\n".join(msgs[:20]),
            remediation="Fix or regenerate the file (for lockfiles: run the package manager's install again) "
            "so that every component's version can be checked.",
            evidence={"messages": msgs[:50]},
        )
        for loc, msgs in grouped.items()
    ]
