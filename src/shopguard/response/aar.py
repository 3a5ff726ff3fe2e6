"""The after-action report of an incident: timeline, decisions, root cause, what changes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopguard.config import Config
from shopguard.response import timeline
from shopguard.response.incidents import appraisal_of, tasks
from shopguard.response.laws import NOT_LEGAL_ADVICE
from shopguard.response.models import EvidenceItem, Incident, TimelineEvent
from shopguard.response.notify import fmt_local, fmt_utc, view
from shopguard.response.plan import cell, render_template


def describe(ev: TimelineEvent) -> str:
    d: dict[str, Any] = ev.data or {}
    k = ev.kind
    if k == "created":
        return f"Incident opened: {d.get('title', '')} (scenario {d.get('scenario', '')})"
    if k == "phase":
        return f"Phase {d.get('from')} → {d.get('to')}" + (f": {d['note']}" if d.get("note") else "")
    if k in ("note", "decision", "change", "root_cause"):
        return f"{k.replace('_', ' ').capitalize()}: {d.get('text', '')}"
    if k == "task_done":
        return f"Task {d.get('task')} done: {d.get('title', '')}"
    if k == "evidence":
        digest = str(d.get("sha256"))[:16]
        return f"Evidence #{d.get('evidence')} preserved from {d.get('source')} (sha256 {digest}…)"
    if k == "custody":
        return f"Evidence #{d.get('evidence')} {d.get('action')} to {d.get('destination')}"
    if k == "appraisal":
        return f"Damage appraised: {', '.join(d.get('data_kinds', []))}; {d.get('records')} records"
    if k == "notification":
        return f"Notified {d.get('party')} by {d.get('method')}"
    if k == "finding_linked":
        return f"Finding linked: {d.get('title', '')} at {d.get('location', '')}"
    if k == "closed":
        return f"Closed. Root cause: {d.get('root_cause', '')}"
    return k


def report_markdown(s: Session, inc: Incident, config: Config) -> str:
    v = view(s, inc, config)
    tz = v.tz
    chain = timeline.verify(s, inc)
    events = list(
        s.scalars(
            select(TimelineEvent).where(TimelineEvent.incident_id == inc.id).order_by(TimelineEvent.seq)
        )
    )
    a = appraisal_of(inc)
    appraisal = None
    if a is not None:
        appraisal = {
            "kinds": ", ".join(k.value for k in a.data_kinds),
            "records": a.records,
            "affected": ", ".join(f"{k}: {n}" for k, n in a.affected.items()) or "not broken down",
            "window": f"{fmt_local(a.window_start, tz)} to {fmt_local(a.window_end, tz)}"
            if a.window_start
            else "not established",
        }
    notes = [
        {"when": fmt_local(e.at, tz), "actor": e.actor, "text": (e.data or {}).get("text", "")}
        for e in events
        if e.kind == "decision"
    ]
    changes = [str((e.data or {}).get("text", "")) for e in events if e.kind == "change"]
    if inc.changes:
        changes.insert(0, inc.changes)
    notifications = []
    for o in v.items:
        status = "sent" if o.sent else "OVERDUE" if o.overdue(v.now) else "open"
        if o.sent and o.overdue(v.now):
            status = "sent late"
        notifications.append(
            {
                "id": o.id,
                "recipient": cell(o.law.recipient),
                "due": fmt_local(o.due, tz) if o.due else cell(o.law.deadline_text),
                "sent": f"{fmt_local(o.sent.at, tz)} ({cell(o.sent.method)}, {cell(o.sent.by)})"
                if o.sent
                else "-",
                "status": status,
            }
        )
    evidence = [
        {
            "id": e.id,
            "kind": e.kind,
            "source": e.source_path,
            "sha256": e.sha256,
            "size": e.size,
            "collector": e.collector,
            "when": fmt_local(e.collected_at, tz),
        }
        for e in s.scalars(
            select(EvidenceItem).where(EvidenceItem.incident_id == inc.id).order_by(EvidenceItem.id)
        )
    ]
    return render_template(
        "aar.md.j2",
        incident={
            "id": inc.id,
            "title": inc.title,
            "store": inc.store,
            "scenario": inc.scenario,
            "severity": inc.severity,
            "status": inc.status,
            "phase": inc.phase,
            "discovered": fmt_local(inc.discovered_at, tz),
            "opened": fmt_local(inc.opened_at, tz),
            "opened_by": inc.opened_by,
            "closed": fmt_local(inc.closed_at, tz) if inc.closed_at else "still open",
        },
        chain=f"verified, {chain.entries} events" if chain.ok else "BROKEN: " + "; ".join(chain.problems),
        appraisal=appraisal,
        root_cause=inc.root_cause or "Not yet established.",
        changes="\n".join(f"- {c}" for c in changes) or "None recorded yet.",
        decisions=notes,
        notifications=notifications,
        tasks=[
            {
                "number": t.number,
                "phase": t.phase,
                "title": cell(t.title),
                "owner": cell(t.owner or t.owner_role),
                "due": fmt_local(t.due_at, tz),
                "done": fmt_local(t.done_at, tz) if t.done_at else "open",
            }
            for t in tasks(s, inc)
        ],
        evidence=evidence,
        timeline=[
            {
                "seq": e.seq,
                "local": fmt_local(e.at, tz),
                "utc": fmt_utc(e.at),
                "actor": cell(e.actor),
                "text": cell(describe(e)),
            }
            for e in events
        ],
        tzname=str(tz),
        not_legal_advice=NOT_LEGAL_ADVICE,
    )
