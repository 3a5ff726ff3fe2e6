"""Emergency response: plan, incidents, timeline, evidence, notification deadlines, drills.

Public functions other parts of ShopGuard may call:

* :func:`after_run` - the post-run hook ``shopguard.audit.run_audit`` calls after storing a run:
  opens incidents from findings that call for one (checks themselves never write).
* :func:`open_incidents_from_findings` - the same for one store inside a caller's session.
* :func:`incidents_for_findings` - the incident a stored finding is linked to.

Imports are local: ``shopguard.config`` imports :mod:`shopguard.response.settings`, so this module
must not import the config at import time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from shopguard.config import Config
    from shopguard.db.repository import StoredRun
    from shopguard.response.models import Incident


def open_incidents_from_findings(
    session: Session, store: str, *, config: Config | None = None
) -> list[Incident]:
    from shopguard.response.autoopen import open_incidents_from_findings as impl

    return impl(session, store, config=config)


def after_run(db: sessionmaker[Session], run: StoredRun, config: Config | None = None) -> list[int]:
    """Open incidents for the stores of a finished run; returns the ids of new incidents.

    Safe to call more than once for the same run: a finding never opens two incidents.
    """
    from shopguard.response.autoopen import open_incidents_from_findings as impl

    if config is not None and not config.response.auto_open:
        return []
    if run.status not in ("finished", "interrupted"):
        return []
    from sqlalchemy.exc import IntegrityError

    new: list[int] = []
    for store in run.stores:
        for attempt in (1, 2):
            try:
                with db.begin() as s:
                    new.extend(i.id for i in impl(s, store, config=config))
                break
            except IntegrityError:
                # Another process linked the same finding at the same moment; the retry sees its link.
                if attempt == 2:
                    raise
    return new


def incidents_for_findings(session: Session, finding_ids: list[int]) -> dict[int, int]:
    """Which incident each stored finding (``findings.id``) is linked to, for reports and the dashboard."""
    from sqlalchemy import select

    from shopguard.response.models import IncidentFinding

    if not finding_ids:
        return {}
    rows = session.execute(
        select(IncidentFinding.finding_id, IncidentFinding.incident_id).where(
            IncidentFinding.finding_id.in_(finding_ids)
        )
    )
    return {f: i for f, i in rows}


__all__ = [
    "after_run",
    "incidents_for_findings",
    "open_incidents_from_findings",
]
