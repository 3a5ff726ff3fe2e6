"""The incident timeline: append-only and hash-chained.

Each event's hash is sha256(previous hash + canonical JSON of the event). Changing, removing or
re-ordering an event breaks every later hash, and the incident row keeps the newest hash and the
count, so cutting events off the end is detected too.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopguard.db.base import utcnow
from shopguard.db.chain import GENESIS, ChainLink, ChainReport, chain_hash, chain_time, verify_chain
from shopguard.db.chain import canonical as canonical_json
from shopguard.response.models import Incident, TimelineEvent


def canonical(incident_id: int, seq: int, at: datetime, actor: str, kind: str, data: dict[str, Any]) -> str:
    body = {"incident": incident_id, "seq": seq, "at": chain_time(at), "actor": actor, "kind": kind}
    return canonical_json({**body, "data": data})


def append(
    s: Session,
    incident: Incident,
    kind: str,
    actor: str,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> TimelineEvent:
    """Add an event at the end of the chain. The only way events are written."""
    if not actor.strip():
        raise ValueError("actor: say who did this (e.g. --by 'Aoife Brennan')")
    data = json.loads(json.dumps(data or {}, default=str))
    at = (at or utcnow()).astimezone(UTC)
    # Microsecond precision survives both SQLite and PostgreSQL.
    seq = incident.timeline_count + 1
    prev = incident.timeline_head or GENESIS
    h = chain_hash(prev, canonical(incident.id, seq, at, actor, kind, data))
    ev = TimelineEvent(
        incident_id=incident.id, seq=seq, at=at, actor=actor, kind=kind, data=data, prev_hash=prev, hash=h
    )
    s.add(ev)
    incident.timeline_count = seq
    incident.timeline_head = h
    s.flush()
    return ev


def verify(s: Session, incident: Incident) -> ChainReport:
    events = s.scalars(
        select(TimelineEvent).where(TimelineEvent.incident_id == incident.id).order_by(TimelineEvent.seq)
    )
    links = (
        ChainLink(
            ev.seq,
            ev.prev_hash,
            ev.hash,
            canonical(incident.id, ev.seq, ev.at, ev.actor, ev.kind, ev.data),
            f"event {ev.seq} ({ev.kind}, {ev.at:%Y-%m-%d %H:%M:%S} UTC, by {ev.actor})",
        )
        for ev in events
    )
    return verify_chain(
        links, incident.timeline_count, incident.timeline_head or GENESIS, "event", "incident", "events"
    )
