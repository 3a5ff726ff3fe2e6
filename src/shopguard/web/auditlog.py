"""The dashboard's audit log: append-only and hash-chained.

The chain itself is shopguard.db.chain (shared with the incident timeline); a head row
keeps the newest hash and the count so that cutting entries off the end is detected too.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopguard.db.base import utcnow
from shopguard.db.chain import GENESIS, ChainLink, ChainReport, chain_hash, chain_time, verify_chain
from shopguard.db.chain import canonical as canonical_json
from shopguard.web.models import AuditEvent, AuditHead


def canonical(seq: int, at: datetime, actor: str, action: str, target: str, ip: str, data: Any) -> str:
    body = {"seq": seq, "at": chain_time(at), "actor": actor, "action": action, "target": target, "ip": ip}
    return canonical_json({**body, "data": data})


def _head(s: Session) -> AuditHead:
    head = s.scalar(select(AuditHead).where(AuditHead.id == 1).with_for_update())
    if head is None:
        head = AuditHead(id=1, count=0, head=GENESIS)
        s.add(head)
        s.flush()
    return head


def record(
    s: Session, actor: str, action: str, target: str = "", ip: str = "", data: dict[str, Any] | None = None
) -> AuditEvent:
    """Append one entry in the caller's transaction (so the change and its record commit together)."""
    payload = json.loads(json.dumps(data or {}, default=str))
    head = _head(s)
    seq = head.count + 1
    at = utcnow()
    h = chain_hash(head.head, canonical(seq, at, actor, action, target, ip, payload))
    ev = AuditEvent(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        target=target,
        ip=ip,
        data=payload,
        prev_hash=head.head,
        hash=h,
    )
    s.add(ev)
    head.count = seq
    head.head = h
    s.flush()
    return ev


def verify(s: Session) -> ChainReport:
    head = s.get(AuditHead, 1)
    links = (
        ChainLink(
            ev.seq,
            ev.prev_hash,
            ev.hash,
            canonical(ev.seq, ev.at, ev.actor, ev.action, ev.target, ev.ip, ev.data),
            f"entry {ev.seq} ({ev.action} by {ev.actor} at {ev.at:%Y-%m-%d %H:%M:%S} UTC)",
        )
        for ev in s.scalars(select(AuditEvent).order_by(AuditEvent.seq)).yield_per(1000)
    )
    return verify_chain(links, head.count if head else 0, head.head if head else GENESIS, "entry", "log")
