"""Cyber insurance: policies held, coverage gaps, renewals, underwriting readiness.

Public function for the response protocol (imports inside: config.py imports this
package's settings, so importing it must stay cheap):

* :func:`insurer_notifications` - for an incident discovered at a given time, each
  insurer to notify, by when (from the policy's notification window), and how.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@dataclass(frozen=True)
class InsurerNotice:
    insurer: str
    policy_number: str
    deadline: datetime | None
    """discovered_at + the policy's notification window; None when the policy states no
    fixed window (then: notify "as soon as practicable", which in practice means at once)."""
    window_hours: int | None
    hotline: str
    email: str
    broker: dict[str, str]
    note: str


def insurer_notifications(session: Session, discovered_at: datetime) -> list[InsurerNotice]:
    """Insurers to notify about an incident discovered at ``discovered_at`` (aware datetime).

    Only policies in force on that day count. Notify before hiring forensics or lawyers
    yourself: many policies pay only for providers the insurer approved.
    """
    from sqlalchemy import select

    from shopguard.insurance.models import InsurancePolicy

    if discovered_at.tzinfo is None:
        raise ValueError("discovered_at must be timezone-aware")
    day = discovered_at.date()
    out = []
    for p in session.scalars(select(InsurancePolicy).order_by(InsurancePolicy.policy_number)):
        if not (p.period_start <= day <= p.period_end):
            continue
        hours = p.notification_window_hours
        out.append(
            InsurerNotice(
                insurer=p.insurer,
                policy_number=p.policy_number,
                deadline=discovered_at + timedelta(hours=hours) if hours else None,
                window_hours=hours,
                hotline=p.notification_hotline,
                email=p.notification_email,
                broker=dict(p.broker),
                note="Call the breach hotline before engaging your own forensic firm or lawyer; "
                "the policy may only pay for providers the insurer approves.",
            )
        )
    out.sort(key=lambda n: (n.deadline is not None, n.deadline or discovered_at))
    return out


__all__ = ["InsurerNotice", "insurer_notifications"]
