"""Requirement 11.3.2: quarterly external scans by an Approved Scanning Vendor (ASV).

ShopGuard records the ASV reports the merchant uploads, tracks which quarters have a
passing scan, and runs its own *pre-scan*: the ASV pass rule (no finding scored CVSS 4.0
or higher, plus the automatic failures in ``data/pci/asv_autofail.yaml``) applied to
ShopGuard's stored findings. ShopGuard is not an ASV; the pre-scan does not count for
11.3.2. It tells you what to fix before the paid scan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shopguard.db.models import FindingRecord
from shopguard.findings import FindingStatus, Triage
from shopguard.pci.assessment import PciError
from shopguard.pci.catalogue import DATA_DIR
from shopguard.pci.files import store_file
from shopguard.pci.models import PciAsvScan

NOT_AN_ASV = (
    "ShopGuard is not a PCI SSC Approved Scanning Vendor (ASV). Its pre-scan does not satisfy "
    "requirement 11.3.2; only a passing report from an ASV does."
)
PRESCAN_PREFIXES = ("scanning", "monitoring", "maintenance")
"""Findings an outside scanner could see: web and page scans, file scans, vulnerable components."""


def quarter_of(d: date) -> str:
    return f"{d.year}-Q{(d.month - 1) // 3 + 1}"


def parse_quarter(text: str) -> tuple[int, int]:
    t = text.strip().upper()
    try:
        y, q = t.split("-Q")
        year, quarter = int(y), int(q)
    except ValueError:
        raise PciError(f"quarter {text!r}: expected the form 2026-Q3") from None
    if not 1 <= quarter <= 4 or not 2000 <= year <= 2100:
        raise PciError(f"quarter {text!r}: expected the form 2026-Q3")
    return year, quarter


def previous_quarters(today: date, n: int) -> list[str]:
    """The ``n`` completed quarters before today's, newest first."""
    y, q = today.year, (today.month - 1) // 3 + 1
    out = []
    for _ in range(n):
        q -= 1
        if q == 0:
            y, q = y - 1, 4
        out.append(f"{y}-Q{q}")
    return out


def add_scan(
    db: sessionmaker[Session],
    store: str,
    report: Path,
    *,
    quarter: str | None,
    scan_date: date,
    vendor: str,
    passed: bool,
    uploader: str,
    root: Path | None = None,
) -> PciAsvScan:
    if not vendor.strip():
        raise PciError("field 'vendor': the ASV company that ran the scan is required")
    if not uploader.strip():
        raise PciError("field 'by': who uploads the report is required")
    if scan_date > date.today():
        raise PciError(f"field 'scan-date': {scan_date} is in the future")
    q = quarter or quarter_of(scan_date)
    parse_quarter(q)
    stored = store_file(report, f"{store}/asv", root=root)
    with db.begin() as s:
        rec = PciAsvScan(
            store=store,
            quarter=q.upper(),
            scan_date=scan_date,
            vendor=vendor.strip(),
            passed=passed,
            filename=stored.filename,
            stored_path=stored.stored_path,
            sha256=stored.sha256,
            size=stored.size,
            uploader=uploader.strip(),
        )
        s.add(rec)
        s.flush()
        return rec


@dataclass(frozen=True)
class QuarterStatus:
    quarter: str
    status: str
    """passed, failed (only failing reports), missing (no report), due (current quarter, none yet)."""
    scans: tuple[str, ...] = ()
    """"vendor scan-date pass/fail" lines."""


def cadence(s: Session, store: str, today: date | None = None) -> list[QuarterStatus]:
    """The current quarter and the four completed quarters before it, newest first."""
    today = today or date.today()
    scans = list(s.scalars(select(PciAsvScan).where(PciAsvScan.store == store)))
    out = []
    current = quarter_of(today)
    for q in [current, *previous_quarters(today, 4)]:
        mine = [x for x in scans if x.quarter == q]
        lines = tuple(f"{x.vendor} {x.scan_date} {'pass' if x.passed else 'fail'}" for x in mine)
        if any(x.passed for x in mine):
            st = "passed"
        elif mine:
            st = "failed"
        else:
            st = "due" if q == current else "missing"
        out.append(QuarterStatus(q, st, lines))
    return out


def quarter_end(quarter: str) -> date:
    """The last day of a quarter such as ``2026-Q3``."""
    year, q = parse_quarter(quarter)
    if q == 4:
        return date(year, 12, 31)
    return date(year, 3 * q + 1, 1) - timedelta(days=1)


def next_quarter(quarter: str) -> str:
    year, q = parse_quarter(quarter)
    return f"{year + 1}-Q1" if q == 4 else f"{year}-Q{q + 1}"


@dataclass(frozen=True)
class NextScan:
    quarter: str
    """The quarter that needs the next passing scan."""
    by: date
    """Its last day: the scan report must be in by then."""
    overdue: tuple[str, ...] = ()
    """Completed quarters (of the last four) with no passing scan."""


def next_due(quarters: Sequence[QuarterStatus]) -> NextScan:
    """When the next passing ASV scan is due, from :func:`cadence` (newest quarter first)."""
    current = quarters[0]
    due = next_quarter(current.quarter) if current.status == "passed" else current.quarter
    overdue = tuple(q.quarter for q in quarters[1:] if q.status != "passed")
    return NextScan(due, quarter_end(due), overdue)


@cache
def rules() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DATA_DIR / "asv_autofail.yaml").read_text(encoding="utf-8"))
    return data


def cvss_of(rec: FindingRecord) -> tuple[float, bool]:
    """(score, estimated): the finding's CVSS base score, or one estimated from its severity."""
    ev = rec.evidence or {}
    for key in ("cvss", "cvss_score", "cvss_base_score"):
        val = ev.get(key)
        if isinstance(val, dict):
            val = val.get("score", val.get("base_score"))
        try:
            if val is not None:
                return float(val), False
        except (TypeError, ValueError):
            continue
    est = rules()["pass_rule"]["severity_estimate"]
    return float(est.get(rec.severity, 0.0)), True


def autofail_of(rec: FindingRecord) -> str | None:
    cwes = {c.upper() for c in ((rec.refs or {}).get("cwe") or ())}
    title = f"{rec.title} {rec.detail}".lower()
    for rule in rules()["autofail"]:
        if cwes & {c.upper() for c in rule.get("cwe", ())}:
            return str(rule["what"])
        if any(rec.check_id == p or rec.check_id.startswith(p + ".") for p in rule.get("checks", ())):
            return str(rule["what"])
        if any(w in title for w in rule.get("words", ())):
            return str(rule["what"])
    return None


@dataclass(frozen=True)
class PrescanItem:
    fingerprint: str
    check_id: str
    title: str
    location: str
    cvss: float
    cvss_estimated: bool
    reason: str


@dataclass(frozen=True)
class PrescanResult:
    passed: bool
    failures: tuple[PrescanItem, ...]
    considered: int


def prescan(s: Session, store: str, prefixes: Sequence[str] = PRESCAN_PREFIXES) -> PrescanResult:
    """Apply the ASV pass rule to the store's open findings."""
    threshold = float(rules()["pass_rule"]["cvss_threshold"])
    q = select(FindingRecord).where(
        FindingRecord.store == store,
        FindingRecord.status != FindingStatus.RESOLVED.value,
        FindingRecord.triage != Triage.FALSE_POSITIVE.value,
    )
    fails: list[PrescanItem] = []
    n = 0
    for rec in s.scalars(q):
        if not any(rec.check_id == p or rec.check_id.startswith(p + ".") for p in prefixes):
            continue
        n += 1
        score, estimated = cvss_of(rec)
        auto = autofail_of(rec)
        reason = ""
        if auto:
            reason = f"automatic failure: {auto}"
        elif score >= threshold:
            reason = (
                f"CVSS {score:.1f}{' (estimated from severity)' if estimated else ''} is {threshold} or more"
            )
        if reason:
            fails.append(
                PrescanItem(rec.fingerprint, rec.check_id, rec.title, rec.location, score, estimated, reason)
            )
    fails.sort(key=lambda f: (-f.cvss, f.check_id))
    return PrescanResult(not fails, tuple(fails), n)
