"""Infosec policies, people and training.

Public functions for other protocols (imports are inside the functions: config.py
imports this package's settings, so importing it must stay cheap):

* :func:`training_summary` - how many people on the roster have current training.
* :func:`policy_published` - whether a policy from the library is published.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def training_summary(session: Session, today: date) -> tuple[int, int]:
    """(people with current security awareness training, active people on the roster)."""
    from sqlalchemy import select

    from shopguard.policies.models import Person, TrainingRecord

    people = [p for p in session.scalars(select(Person)) if p.active]
    current = 0
    for p in people:
        recs = session.scalars(
            select(TrainingRecord).where(
                TrainingRecord.person_id == p.id, TrainingRecord.result.in_(("passed", "attended"))
            )
        )
        if any(r.expires_on >= today for r in recs):
            current += 1
    return current, len(people)


def policy_published(session: Session, slug: str) -> bool:
    """True when the policy ``slug`` has a published (in force) version."""
    from sqlalchemy import select

    from shopguard.policies.models import PolicyDocument, PolicyVersion

    return (
        session.scalar(
            select(PolicyVersion.id)
            .join(PolicyDocument)
            .where(PolicyDocument.slug == slug, PolicyVersion.status == "published")
            .limit(1)
        )
        is not None
    )


__all__ = ["policy_published", "training_summary"]
