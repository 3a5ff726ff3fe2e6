"""What the findings pages and the API share for triage: settings, who can be assigned,
loading findings the user may change, and parsing the expiry date."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopguard.config import FindingsSettings
from shopguard.db.base import utcnow
from shopguard.db.models import FindingRecord
from shopguard.db.triage import TriageError
from shopguard.web.models import WebUser
from shopguard.web.permissions import ROLE_PERMS, Perm, Principal, Role

MAX_BULK = 500


def settings_of(request: Request) -> FindingsSettings:
    config = request.app.state.config
    return config.findings if config is not None else FindingsSettings()


def expiry_bounds(settings: FindingsSettings) -> dict[str, str]:
    """The date input's default, min and max (ISO dates)."""
    today = utcnow().date()
    return {
        "default": (today + timedelta(days=settings.accept_risk_default_days)).isoformat(),
        "min": (today + timedelta(days=1)).isoformat(),
        "max": (today + timedelta(days=settings.accept_risk_max_days)).isoformat(),
    }


def parse_expires(text: str) -> date | None:
    """An HTML date input's value; empty means "the default"."""
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise TriageError("expires", "a date like 2026-12-31") from None


def assignable(s: Session, stores: Sequence[str] = ()) -> list[WebUser]:
    """Active users who may triage and see every one of ``stores``."""
    users = s.scalars(select(WebUser).where(WebUser.active.is_(True)).order_by(WebUser.email))
    out = []
    for u in users:
        if Perm.FINDINGS_TRIAGE not in ROLE_PERMS[Role(u.role)]:
            continue
        if u.stores and any(st not in u.stores for st in stores):
            continue
        out.append(u)
    return out


def check_assignee(s: Session, email: str, stores: Sequence[str]) -> str:
    """The normalised assignee email ("" to unassign); refused if that user cannot take it."""
    email = email.strip().lower()
    if not email:
        return ""
    if email not in {u.email for u in assignable(s, stores)}:
        raise TriageError("assignee", "choose a user who can triage findings of this store")
    return email


class NotVisible(Exception):
    """Some ids are not findings this user can see: nothing is changed."""

    def __init__(self, ids: Sequence[int]) -> None:
        shown = ", ".join(str(i) for i in ids[:10]) + (" …" if len(ids) > 10 else "")
        super().__init__(f"finding(s) {shown} are not in the stores you can see; nothing was changed")
        self.ids = list(ids)


def visible_findings(s: Session, me: Principal, ids: Sequence[int]) -> list[FindingRecord]:
    """Load ``ids`` for a change; any id that does not exist or is in a store ``me`` is not
    scoped to refuses the whole batch (the same answer for both, so nothing leaks)."""
    wanted = sorted(set(ids))
    if len(wanted) > MAX_BULK:
        raise TriageError("ids", f"at most {MAX_BULK} findings at a time")
    recs = list(s.scalars(select(FindingRecord).where(FindingRecord.id.in_(wanted)).with_for_update()))
    ok = {r.id for r in recs if me.sees_store(r.store)}
    refused = [i for i in wanted if i not in ok]
    if refused:
        raise NotVisible(refused)
    return sorted(recs, key=lambda r: r.id)


def triage_view(rec: FindingRecord) -> dict[str, Any]:
    """The triage facts a page or the API shows."""
    return {
        "state": rec.effective_triage.value,
        "recorded": rec.triage,
        "lapsed": rec.triage_lapsed,
        "expires_at": rec.triage_expires_at,
    }
