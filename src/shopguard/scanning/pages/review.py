"""Reviewing the payment-page inventory outside a browser run (the dashboard's Scripts page).

The monitor's findings carry what it saw (identifier, kind, content hash), so an item can
be approved exactly as it was observed: the approval goes through the same
:func:`shopguard.scanning.pages.inventory.approve` as ``shopguard pages approve``, with a
page inventory rebuilt from the finding's evidence. Rejecting an approved item revokes it
(as ``shopguard pages revoke``) and records who refused it and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from shopguard.db.base import utcnow
from shopguard.db.models import FindingRecord
from shopguard.fielderror import FieldError
from shopguard.findings import FindingStatus
from shopguard.scanning.pages.browser import PageInventory, ScriptItem
from shopguard.scanning.pages.inventory import Item, approve, items_of
from shopguard.scanning.pages.models import PageApproval, PageRejection

MIN_JUSTIFICATION = 10
"""The same bar as ``shopguard pages approve --why``."""
PENDING_CHECKS = ("scanning.pages.unauthorised", "scanning.pages.changed", "scanning.pages.inventory")


class ReviewError(FieldError):
    """A bad value in a script approval or rejection."""


@dataclass(frozen=True)
class ScriptRow:
    store: str
    page: str
    kind: str
    identifier: str
    sha256: str
    state: str
    """approved, pending (never approved), changed (approved, content differs), rejected"""
    justification: str = ""
    decided_by: str = ""
    decided_at: datetime | None = None
    first_seen: datetime | None = None
    finding_id: int | None = None

    @property
    def domain(self) -> str:
        if self.kind == "inline-script":
            return "(inline in the page)"
        return urlsplit(self.identifier).hostname or self.identifier


def page_of(rec: FindingRecord) -> str:
    """The page label (checkout, basket) the monitor put first in the finding's key."""
    return rec.key.split(":", 1)[0]


def inventory_from_evidence(rec: FindingRecord) -> PageInventory:
    """What the monitor saw on the page, rebuilt from one of its findings."""
    ev: dict[str, Any] = dict(rec.evidence or {})
    inv = PageInventory(label=page_of(rec), url=rec.location)
    if rec.check_id == "scanning.pages.unauthorised":
        kind, ident, sha = str(ev.get("kind", "")), str(ev.get("identifier", "")), str(ev.get("sha256", ""))
        if kind in ("script", "inline-script"):
            inv.scripts.append(ScriptItem(kind, ident, url=ident if kind == "script" else None, sha256=sha))
        elif kind == "iframe":
            inv.iframes.append(ident)
        elif kind == "destination":
            inv.requests.append(("GET", ident, "other"))
    elif rec.check_id == "scanning.pages.changed":
        ident = str(ev.get("script", ""))
        inv.scripts.append(ScriptItem("script", ident, url=ident, sha256=str(ev.get("now_sha256", ""))))
    elif rec.check_id == "scanning.pages.inventory":
        for sc in ev.get("scripts", []):
            inv.scripts.append(
                ScriptItem(
                    str(sc.get("kind", "script")),
                    str(sc.get("identifier", "")),
                    url=sc.get("url"),
                    sha256=str(sc.get("sha256", "")),
                )
            )
        inv.iframes.extend(str(u) for u in ev.get("iframes", []))
        inv.requests.extend(("GET", str(d), "other") for d in ev.get("destinations", []))
        inv.headers = {str(k): str(v) for k, v in dict(ev.get("headers") or {}).items()}
    return inv


def _pending(s: Session, stores: Sequence[str]) -> list[tuple[FindingRecord, Item]]:
    recs = s.scalars(
        select(FindingRecord)
        .where(
            FindingRecord.store.in_(list(stores)),
            FindingRecord.check_id.in_(PENDING_CHECKS),
            FindingRecord.status != FindingStatus.RESOLVED.value,
        )
        .order_by(FindingRecord.id)
    )
    return [(rec, item) for rec in recs for item in items_of(inventory_from_evidence(rec))]


def inventory_rows(s: Session, stores: Sequence[str]) -> list[ScriptRow]:
    """Every store's approved items and the items the monitor saw that wait for a decision."""
    approvals = list(
        s.scalars(
            select(PageApproval).where(PageApproval.store.in_(list(stores)), PageApproval.kind != "headers")
        )
    )
    rejected = {
        (r.store, r.page, r.kind, r.identifier): r
        for r in s.scalars(select(PageRejection).where(PageRejection.store.in_(list(stores))))
    }
    rows: dict[tuple[str, str, str, str], ScriptRow] = {}
    for a in approvals:
        rows[(a.store, a.page, a.kind, a.identifier)] = ScriptRow(
            a.store, a.page, a.kind, a.identifier, a.sha256, "approved", a.justification, a.approved_by,
            a.approved_at,
        )  # fmt: skip
    for rec, item in _pending(s, stores):
        key = (rec.store, page_of(rec), item.kind, item.identifier)
        have = rows.get(key)
        if have is not None and (have.state != "approved" or not item.sha256 or have.sha256 == item.sha256):
            continue  # already listed, or approved with this content
        rej = rejected.get(key)
        rows[key] = ScriptRow(
            rec.store,
            key[1],
            item.kind,
            item.identifier,
            item.sha256,
            "rejected" if rej else ("changed" if have else "pending"),
            rej.reason if rej else (have.justification if have else ""),
            rej.rejected_by if rej else "",
            rej.rejected_at if rej else None,
            rec.first_seen,
            rec.id,
        )
    order = {"rejected": 0, "changed": 1, "pending": 2, "approved": 3}
    return sorted(rows.values(), key=lambda r: (r.store, order[r.state], r.page, r.kind, r.identifier))


def approve_seen(
    db: sessionmaker[Session], rec: FindingRecord, identifier: str, justification: str, by: str
) -> list[tuple[str, Item, str]]:
    """Approve one item as the monitor saw it (finding ``rec``), with the CLI's code path."""
    if len(justification.strip()) < MIN_JUSTIFICATION:
        raise ReviewError(
            "justification",
            f"give a real justification (at least {MIN_JUSTIFICATION} characters), "
            "e.g. 'NimbusPay card form iframe'",
        )
    inv = inventory_from_evidence(rec)
    item = next((i for i in items_of(inv) if i.identifier == identifier), None)
    if item is None:
        raise ReviewError("identifier", "the monitor did not see that item in this finding")
    done = approve(db, rec.store, [inv], justification.strip(), by, [identifier])
    with db.begin() as s:
        s.execute(
            delete(PageRejection).where(
                PageRejection.store == rec.store,
                PageRejection.page == inv.label,
                PageRejection.kind == item.kind,
                PageRejection.identifier == identifier,
            )
        )
    return done


def reject(
    s: Session, store: str, page: str, kind: str, identifier: str, reason: str, by: str
) -> tuple[PageRejection, int]:
    """Refuse an item: its approval (if any) is removed and the refusal recorded.
    Returns the rejection and the number of approvals revoked."""
    if len(reason.strip()) < MIN_JUSTIFICATION:
        raise ReviewError("reason", f"say why (at least {MIN_JUSTIFICATION} characters)")
    approved = list(
        s.scalars(
            select(PageApproval).where(
                PageApproval.store == store,
                PageApproval.page == page,
                PageApproval.kind == kind,
                PageApproval.identifier == identifier,
            )
        )
    )
    for a in approved:
        s.delete(a)
    rej = s.scalar(
        select(PageRejection).where(
            PageRejection.store == store,
            PageRejection.page == page,
            PageRejection.kind == kind,
            PageRejection.identifier == identifier,
        )
    )
    if rej is None:
        rej = PageRejection(store=store, page=page, kind=kind, identifier=identifier)
        s.add(rej)
    rej.reason = reason.strip()
    rej.rejected_by = by
    rej.rejected_at = utcnow()
    s.flush()
    return rej, len(approved)
