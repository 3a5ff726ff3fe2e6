"""Open incidents automatically from stored findings that call for one.

Rules (first match wins), applied to open, untriaged findings of a store:

* ``scanning.files.*`` malware / skimmer / web shell detections, high or critical -> skimmer
* ``scanning.files.*`` file-integrity changes (fim, integrity, changed), high or critical -> skimmer
* ``scanning.pages.*`` new or changed payment-page script, high or critical -> third-party-script
* ``monitoring.*`` site down: when the finding's evidence gives the outage length
  (``down_for_s`` / ``downtime_s`` / ``down_minutes``) it must exceed the threshold
  (``[response] downtime_threshold_minutes``); otherwise high or critical -> outage

A finding is linked to at most one incident (a unique key in the database), so the same finding
never opens two. Further findings of the same kind for the same store join the incident that is
already open instead of opening another.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from shopguard.config import Config
from shopguard.db.models import FindingRecord
from shopguard.db.triage import untriaged
from shopguard.findings import FindingStatus, Severity
from shopguard.response import timeline
from shopguard.response.incidents import open_incident
from shopguard.response.models import Incident, IncidentFinding

AUTO_ACTOR = "shopguard (automatic)"


@dataclass(frozen=True)
class Trigger:
    prefix: str
    words: tuple[str, ...]
    scenario: str
    label: str


TRIGGERS: tuple[Trigger, ...] = (
    Trigger(
        "scanning.files.",
        ("malware", "skimmer", "webshell", "web-shell", "backdoor"),
        "skimmer",
        "Malware or skimmer detected",
    ),
    Trigger(
        "scanning.files.",
        ("fim", "integrity", "changed", "tamper"),
        "skimmer",
        "Unexpected change to shop files",
    ),
    Trigger(
        "scanning.pages.",
        ("new", "changed", "tamper", "integrity", "unexpected", "unauthorized", "unauthorised", "inventory"),
        "third-party-script",
        "New or changed script on the payment page",
    ),
    Trigger("monitoring.", ("uptime", "down", "availability", "outage", "reachab"), "outage", "Shop is down"),
)

_DOWN_KEYS = (("down_for_s", 1.0), ("downtime_s", 1.0), ("down_seconds", 1.0), ("down_minutes", 60.0))


def _downtime_s(rec: FindingRecord) -> float | None:
    ev = rec.evidence or {}
    for key, factor in _DOWN_KEYS:
        val = ev.get(key)
        if isinstance(val, int | float):
            return float(val) * factor
    return None


def match(rec: FindingRecord, threshold_minutes: int = 15) -> Trigger | None:
    """The trigger a stored finding meets, if any."""
    sev = Severity(rec.severity)
    rest = rec.check_id.lower()
    for t in TRIGGERS:
        if not rest.startswith(t.prefix):
            continue
        tail = rest[len(t.prefix) - 1 :]
        if not any(w in tail for w in t.words):
            continue
        if t.scenario == "outage":
            down = _downtime_s(rec)
            if down is not None:
                return t if down >= threshold_minutes * 60 else None
        if sev >= Severity.HIGH:
            return t
    return None


def candidate_filter() -> ColumnElement[bool]:
    """SQL pre-filter: only check ids a trigger could match (the rules run in Python after)."""
    prefixes = sorted({t.prefix for t in TRIGGERS})
    return or_(*(FindingRecord.check_id.startswith(p) for p in prefixes))


def open_incidents_from_findings(
    session: Session, store: str, *, config: Config | None = None, actor: str = AUTO_ACTOR
) -> list[Incident]:
    """Open (or join) incidents for the store's findings that call for one; returns new incidents."""
    threshold = config.response.downtime_threshold_minutes if config is not None else 15
    linked = select(IncidentFinding.finding_id)
    candidates = session.scalars(
        select(FindingRecord)
        .where(
            FindingRecord.store == store,
            FindingRecord.status != FindingStatus.RESOLVED.value,
            untriaged(),
            FindingRecord.id.not_in(linked),
            candidate_filter(),
        )
        .order_by(FindingRecord.id)
    ).all()
    opened: list[Incident] = []
    for rec in candidates:
        trig = match(rec, threshold)
        if trig is None:
            continue
        inc = session.scalar(
            select(Incident)
            .where(
                Incident.store == store,
                Incident.scenario == trig.scenario,
                Incident.status == "open",
                Incident.source == "finding",
            )
            .order_by(Incident.id.desc())
            .limit(1)
        )
        ref = {
            "finding": rec.id,
            "fingerprint": rec.fingerprint,
            "check_id": rec.check_id,
            "severity": rec.severity,
            "location": rec.location,
            "title": rec.title,
        }
        if inc is None:
            inc = open_incident(
                session,
                store=store,
                title=f"{trig.label}: {rec.title}",
                scenario=trig.scenario,
                severity=Severity(rec.severity),
                actor=actor,
                config=config,
                discovered_at=rec.first_seen,
                source="finding",
                detail={"finding": ref},
            )
            opened.append(inc)
        else:
            if Severity(rec.severity) > Severity(inc.severity):
                inc.severity = rec.severity
            timeline.append(session, inc, "finding_linked", actor, ref)
        session.add(IncidentFinding(incident_id=inc.id, finding_id=rec.id))
        session.flush()
    return opened
