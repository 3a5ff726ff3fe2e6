"""``shopguard maintenance plan``: one ordered list of upgrades, most risk closed first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from shopguard.findings import Finding, Severity
from shopguard.maintenance.assess import EOL_CHECK, VULN_CHECK

OWNER_ORDER = ("core", "extension", "library", "runtime", "os")
OWNER_TITLES = {
    "core": "Shop platform (core)",
    "extension": "Extensions: plugins, themes, modules",
    "library": "Libraries (PHP, JavaScript, Python)",
    "runtime": "Server software",
    "os": "Operating system",
}


@dataclass
class PlanItem:
    component: str
    version: str
    location: str
    owner: str
    target: str | None
    command: str
    severity: Severity
    reasons: list[str] = field(default_factory=list)
    advisories: int = 0
    overdue: int = 0
    eol: bool = False

    @property
    def risk(self) -> tuple[int, int, int, int]:
        """Sort key: worst severity, then overdue critical/high, then end-of-life, then advisory count."""
        return (self.severity.rank, self.overdue, int(self.eol), self.advisories)

    def to_dict(self) -> dict[str, object]:
        return {
            "component": self.component,
            "version": self.version,
            "location": self.location,
            "owner": self.owner,
            "target": self.target,
            "command": self.command,
            "severity": self.severity.value,
            "reasons": self.reasons,
        }


def build_plan(findings: Iterable[Finding]) -> list[PlanItem]:
    """Fold vulnerability and end-of-life findings into one item per component, riskiest first."""
    items: dict[tuple[str, str], PlanItem] = {}
    for f in findings:
        if f.check_id not in (VULN_CHECK, EOL_CHECK):
            continue
        ev = f.evidence
        key = (str(ev.get("component")), f.location)
        item = items.get(key)
        if item is None:
            item = items[key] = PlanItem(
                component=str(ev.get("component")),
                version=str(ev.get("version")),
                location=f.location,
                owner=str(ev.get("owner", "library")),
                target=None,
                command="",
                severity=f.severity,
            )
        item.severity = max(item.severity, f.severity)
        if f.check_id == VULN_CHECK:
            item.advisories += len(ev.get("advisories") or ())
            item.overdue += len(ev.get("pci_6_3_3_overdue") or ())
            item.target = ev.get("smallest_fix") or item.target
            item.command = str(ev.get("command") or "")
            item.reasons.insert(0, f.title)
        else:
            if "end-of-life" in f.title:
                item.eol = True
            if not item.command or item.target is None:
                item.target = item.target or ev.get("target")
                item.command = str(ev.get("command") or "")
            item.reasons.append(f.title)
    return sorted(items.values(), key=lambda i: (tuple(-x for x in i.risk), i.component))


def grouped(plan: list[PlanItem]) -> list[tuple[str, list[tuple[int, PlanItem]]]]:
    """(owner title, [(rank, item)]) in owner order, keeping each item's overall rank."""
    ranked = list(enumerate(plan, 1))
    out = []
    for owner in OWNER_ORDER:
        rows = [(n, i) for n, i in ranked if i.owner == owner]
        if rows:
            out.append((OWNER_TITLES[owner], rows))
    return out
