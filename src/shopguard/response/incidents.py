"""Incidents: open, move through phases, notes, tasks, appraisal, notifications, close.

Every change goes through :func:`shopguard.response.timeline.append`, so the timeline tells the
whole story and cannot be rewritten without ``verify`` noticing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopguard.config import Config
from shopguard.db.base import utcnow
from shopguard.findings import Severity
from shopguard.response import timeline
from shopguard.response.appraisal import Appraisal, parse_appraisal
from shopguard.response.laws import Sent, party_ids
from shopguard.response.models import Incident, IncidentTask, NotificationRecord
from shopguard.response.runbooks import INCIDENT_PHASES, runbook, runbooks


class IncidentError(ValueError):
    pass


def get(s: Session, incident_id: int, *, lock: bool = False) -> Incident:
    stmt = select(Incident).where(Incident.id == incident_id)
    if lock:
        stmt = stmt.with_for_update()
    inc = s.scalar(stmt)
    if inc is None:
        raise IncidentError(f"no incident #{incident_id} (see `shopguard incident list`)")
    return inc


def _owner(config: Config | None, role: str) -> str:
    if config is None:
        return ""
    c = getattr(config.contacts, role, None)
    return (c.name or c.organisation or c.email) if c is not None else ""


def open_incident(
    s: Session,
    *,
    store: str,
    title: str,
    scenario: str,
    severity: Severity,
    actor: str,
    config: Config | None = None,
    discovered_at: datetime | None = None,
    source: str = "manual",
    detail: dict[str, Any] | None = None,
) -> Incident:
    """Open an incident and create its tasks from the scenario's runbook."""
    book = runbook(scenario) if scenario in runbooks() else None
    if book is None:
        raise IncidentError(f"scenario: unknown {scenario!r}; expected one of {', '.join(runbooks())}")
    if not title.strip():
        raise IncidentError("title: describe what happened in one line")
    now = utcnow()
    if discovered_at is not None and discovered_at.tzinfo is None:
        raise IncidentError("discovered: give a time zone (e.g. 2026-03-28T10:00+01:00)")
    disc = (discovered_at or now).astimezone(UTC)
    if disc > now + timedelta(minutes=5):
        raise IncidentError("discovered: the time you noticed the incident is in the future")
    inc = Incident(
        store=store,
        title=title.strip(),
        scenario=scenario,
        severity=severity.value,
        phase="identification",
        status="open",
        source=source,
        opened_by=actor,
        opened_at=now,
        discovered_at=disc,
        timeline_head="",
        timeline_count=0,
    )
    s.add(inc)
    s.flush()
    timeline.append(
        s,
        inc,
        "created",
        actor,
        {
            "title": inc.title,
            "scenario": scenario,
            "severity": inc.severity,
            "store": store,
            "source": source,
            "discovered_at": disc.isoformat(),
            **(detail or {}),
        },
        at=now,
    )
    for n, t in enumerate(book.tasks, start=1):
        s.add(
            IncidentTask(
                incident_id=inc.id,
                number=n,
                phase=t.phase,
                title=t.task,
                owner_role=t.owner,
                owner=_owner(config, t.owner),
                due_at=now + timedelta(hours=t.due_hours),
            )
        )
    s.flush()
    return inc


def _require_open(inc: Incident) -> None:
    if inc.status != "open":
        raise IncidentError(f"incident #{inc.id} is closed; its record can no longer change")


def set_phase(s: Session, inc: Incident, phase: str, actor: str, note: str = "") -> None:
    _require_open(inc)
    if phase not in INCIDENT_PHASES:
        raise IncidentError(f"phase: unknown {phase!r}; expected one of {', '.join(INCIDENT_PHASES)}")
    old = inc.phase
    inc.phase = phase
    timeline.append(s, inc, "phase", actor, {"from": old, "to": phase, "note": note})


NOTE_KINDS = ("note", "decision", "change", "root_cause")


def add_note(s: Session, inc: Incident, text: str, actor: str, kind: str = "note") -> None:
    _require_open(inc)
    if kind not in NOTE_KINDS:
        raise IncidentError(f"kind: unknown {kind!r}; expected one of {', '.join(NOTE_KINDS)}")
    if not text.strip():
        raise IncidentError("text: the note is empty")
    timeline.append(s, inc, kind, actor, {"text": text.strip()})


def tasks(s: Session, inc: Incident) -> list[IncidentTask]:
    return list(
        s.scalars(
            select(IncidentTask).where(IncidentTask.incident_id == inc.id).order_by(IncidentTask.number)
        )
    )


def complete_task(s: Session, inc: Incident, number: int, actor: str, note: str = "") -> IncidentTask:
    _require_open(inc)
    task = s.scalar(
        select(IncidentTask).where(IncidentTask.incident_id == inc.id, IncidentTask.number == number)
    )
    if task is None:
        raise IncidentError(f"task: incident #{inc.id} has no task {number}")
    if task.done_at is not None:
        raise IncidentError(
            f"task {number} was already done at {task.done_at:%Y-%m-%d %H:%M} UTC by {task.done_by}"
        )
    task.done_at = utcnow()
    task.done_by = actor
    timeline.append(
        s, inc, "task_done", actor, {"task": number, "title": task.title, "note": note}, at=task.done_at
    )
    return task


def appraise(s: Session, inc: Incident, data: dict[str, Any], actor: str) -> Appraisal:
    _require_open(inc)
    data = dict(data)
    # The first assessment fixes the clock of assessment-triggered duties: re-appraising later
    # must not push those deadlines back.
    earlier = (inc.appraisal or {}).get("assessed_at")
    data.setdefault("assessed_at", earlier or utcnow().isoformat())
    a = parse_appraisal(data)
    inc.appraisal = a.to_json()
    timeline.append(s, inc, "appraisal", actor, a.to_json())
    return a


def appraisal_of(inc: Incident) -> Appraisal | None:
    return parse_appraisal(inc.appraisal) if inc.appraisal else None


def mark_sent(
    s: Session,
    inc: Incident,
    party: str,
    *,
    method: str,
    actor: str,
    at: datetime | None = None,
    reference: str = "",
) -> NotificationRecord:
    if party not in party_ids():
        raise IncidentError(f"party: unknown {party!r}; see `shopguard incident notify {inc.id}` for the ids")
    if not method.strip():
        raise IncidentError("method: say how it was sent (e-mail, portal, phone, letter)")
    if at is not None and at.tzinfo is None:
        raise IncidentError("at: give a time zone")
    when = (at or utcnow()).astimezone(UTC)
    if s.scalar(
        select(NotificationRecord).where(
            NotificationRecord.incident_id == inc.id, NotificationRecord.party == party
        )
    ):
        raise IncidentError(f"party: {party} is already marked as notified for incident #{inc.id}")
    rec = NotificationRecord(
        incident_id=inc.id,
        party=party,
        sent_at=when,
        method=method.strip(),
        sent_by=actor,
        reference=reference,
    )
    s.add(rec)
    timeline.append(
        s,
        inc,
        "notification",
        actor,
        {"party": party, "sent_at": when.isoformat(), "method": rec.method, "reference": reference},
    )
    return rec


def sent_map(s: Session, inc: Incident) -> dict[str, Sent]:
    rows = s.scalars(select(NotificationRecord).where(NotificationRecord.incident_id == inc.id))
    return {r.party: Sent(r.sent_at, r.method, r.sent_by, r.reference) for r in rows}


def close(s: Session, inc: Incident, actor: str, *, root_cause: str, changes: str) -> None:
    _require_open(inc)
    if not root_cause.strip():
        raise IncidentError("root cause: say what caused the incident (or 'unknown' and why)")
    inc.status = "closed"
    inc.phase = "lessons_learned"
    inc.closed_at = utcnow()
    inc.root_cause = root_cause.strip()
    inc.changes = changes.strip()
    timeline.append(
        s, inc, "closed", actor, {"root_cause": inc.root_cause, "changes": inc.changes}, at=inc.closed_at
    )


def list_incidents(s: Session, store: str | None = None, status: str | None = None) -> list[Incident]:
    stmt = select(Incident).order_by(Incident.id)
    if store:
        stmt = stmt.where(Incident.store == store)
    if status:
        stmt = stmt.where(Incident.status == status)
    return list(s.scalars(stmt))
