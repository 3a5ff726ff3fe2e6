"""The incident timeline: append-only and hash-chained.

Each event's hash is sha256(previous hash + canonical JSON of the event). Changing, removing or
re-ordering an event breaks every later hash, and the incident row keeps the newest hash and the
count, so cutting events off the end is detected too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopguard.db.base import utcnow
from shopguard.response.models import Incident, TimelineEvent

GENESIS = "0" * 64


def canonical(incident_id: int, seq: int, at: datetime, actor: str, kind: str, data: dict[str, Any]) -> str:
    body = {
        "incident": incident_id,
        "seq": seq,
        "at": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": actor,
        "kind": kind,
        "data": data,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev: str, text: str) -> str:
    return hashlib.sha256((prev + text).encode("utf-8")).hexdigest()


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


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events: int
    problems: tuple[str, ...]


def verify(s: Session, incident: Incident) -> ChainReport:
    events = list(
        s.scalars(
            select(TimelineEvent).where(TimelineEvent.incident_id == incident.id).order_by(TimelineEvent.seq)
        )
    )
    problems: list[str] = []
    prev = GENESIS
    for i, ev in enumerate(events, start=1):
        label = f"event {ev.seq} ({ev.kind}, {ev.at:%Y-%m-%d %H:%M:%S} UTC, by {ev.actor})"
        if ev.seq != i:
            problems.append(f"event {i} is missing (found seq {ev.seq} in its place)")
        if ev.prev_hash != prev:
            problems.append(f"{label}: does not link to the event before it")
        expected = chain_hash(ev.prev_hash, canonical(incident.id, ev.seq, ev.at, ev.actor, ev.kind, ev.data))
        if expected != ev.hash:
            problems.append(f"{label}: content changed after it was written (hash mismatch)")
        prev = ev.hash
    if len(events) != incident.timeline_count:
        problems.append(f"the incident records {incident.timeline_count} events but {len(events)} are stored")
    if events and incident.timeline_head != events[-1].hash:
        problems.append("the newest event is not the one the incident recorded (events removed or replaced)")
    return ChainReport(not problems, len(events), tuple(problems))
