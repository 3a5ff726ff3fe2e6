"""The dashboard's audit log: append-only and hash-chained.

Same scheme as the response protocol's incident timeline (shopguard.response.timeline):
hash = sha256(previous hash + canonical JSON of the entry), with a head row that keeps the
newest hash and the count so that cutting entries off the end is detected too.
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
from shopguard.web.models import AuditEvent, AuditHead

GENESIS = "0" * 64


def canonical(seq: int, at: datetime, actor: str, action: str, target: str, ip: str, data: Any) -> str:
    body = {
        "seq": seq,
        "at": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": actor,
        "action": action,
        "target": target,
        "ip": ip,
        "data": data,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev: str, text: str) -> str:
    return hashlib.sha256((prev + text).encode("utf-8")).hexdigest()


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


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    problems: tuple[str, ...]


def verify(s: Session) -> ChainReport:
    problems: list[str] = []
    prev = GENESIS
    n = 0
    for ev in s.scalars(select(AuditEvent).order_by(AuditEvent.seq)).yield_per(1000):
        n += 1
        label = f"entry {ev.seq} ({ev.action} by {ev.actor} at {ev.at:%Y-%m-%d %H:%M:%S} UTC)"
        if ev.seq != n:
            problems.append(f"entry {n} is missing (found {ev.seq} in its place)")
        if ev.prev_hash != prev:
            problems.append(f"{label}: does not link to the entry before it")
        text = canonical(ev.seq, ev.at, ev.actor, ev.action, ev.target, ev.ip, ev.data)
        if chain_hash(ev.prev_hash, text) != ev.hash:
            problems.append(f"{label}: changed after it was written (hash mismatch)")
        prev = ev.hash
    head = s.get(AuditHead, 1)
    count, last = (head.count, head.head) if head else (0, GENESIS)
    if n != count:
        problems.append(f"the log records {count} entries but {n} are stored")
    if n and last != prev:
        problems.append("the newest entry is not the one the log recorded (entries removed or replaced)")
    return ChainReport(not problems, n, tuple(problems))
