"""JSON API for the payment-page script inventory (PCI DSS 6.4.3): list, approve, reject.

The same code as the Scripts page (``views.scripts``): approvals pin the content hash the
monitor saw, rejections revoke an approval, and both write the same audit-log entries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field

from shopguard.scanning.pages.review import ReviewError, ScriptRow, inventory_rows
from shopguard.web.auth import Require, ctx_of
from shopguard.web.pages import _finding, _stores
from shopguard.web.permissions import Perm, Principal
from shopguard.web.views.scripts import approve_item, reject_item

router = APIRouter(prefix="/api/v1", tags=["v1"])

StorePath = Annotated[str, Path(max_length=200)]


class ScriptOut(BaseModel):
    store: str
    page: str
    """The page label (checkout, basket)."""
    kind: str
    """script, inline-script, iframe or destination."""
    identifier: str
    domain: str
    sha256: str
    state: Literal["pending", "changed", "approved", "rejected"]
    justification: str = ""
    """Why it was approved (or, when rejected, why it was refused)."""
    decided_by: str = ""
    decided_at: datetime | None = None
    first_seen: datetime | None = None
    finding_id: int | None = None
    """The monitor's finding that saw it: pass it to approve."""


class ApproveIn(BaseModel):
    finding_id: Annotated[int, Field(ge=1, le=2_147_483_647)]
    identifier: str = Field(min_length=1, max_length=2000)
    justification: str = Field(min_length=1, max_length=2000, description="At least 10 characters.")


class ApprovedOut(BaseModel):
    page: str
    kind: str
    identifier: str
    sha256: str
    action: str


class RejectIn(BaseModel):
    page: str = Field(min_length=1, max_length=32)
    kind: str = Field(min_length=1, max_length=32)
    identifier: str = Field(min_length=1, max_length=2000)
    reason: str = Field(min_length=1, max_length=2000, description="At least 10 characters.")


class RejectedOut(BaseModel):
    page: str
    kind: str
    identifier: str
    reason: str
    rejected_by: str
    approvals_revoked: int


def _out(r: ScriptRow) -> ScriptOut:
    return ScriptOut(
        store=r.store,
        page=r.page,
        kind=r.kind,
        identifier=r.identifier,
        domain=r.domain,
        sha256=r.sha256,
        state=r.state,  # type: ignore[arg-type]
        justification=r.justification,
        decided_by=r.decided_by,
        decided_at=r.decided_at,
        first_seen=r.first_seen,
        finding_id=r.finding_id,
    )


def _store(request: Request, me: Principal, store: str) -> str:
    if store not in _stores(ctx_of(request), request, me):
        raise HTTPException(404, "no such store")
    return store


def _refuse(exc: ReviewError) -> HTTPException:
    return HTTPException(422, {"field": exc.field, "message": exc.message})


@router.get("/stores/{store}/scripts", response_model=list[ScriptOut])
def scripts_endpoint(
    request: Request,
    store: StorePath,
    me: Annotated[Principal, Depends(Require(Perm.SCANS_READ))],
    state: Annotated[Literal["", "pending", "changed", "approved", "rejected"], Query()] = "",
) -> list[ScriptOut]:
    """The store's payment-page inventory: rejected, changed and pending items first."""
    _store(request, me, store)
    with ctx_of(request).db() as s:
        rows = inventory_rows(s, [store])
    return [_out(r) for r in rows if not state or r.state == state]


@router.post("/stores/{store}/scripts/approve", response_model=list[ApprovedOut])
def approve_endpoint(
    request: Request,
    store: StorePath,
    body: ApproveIn,
    me: Annotated[Principal, Depends(Require(Perm.SCRIPTS_APPROVE))],
) -> list[ApprovedOut]:
    """Approve an item as the monitor saw it in ``finding_id`` (``script.approve``)."""
    _store(request, me, store)
    rec = _finding(ctx_of(request), me, body.finding_id)
    if rec.store != store:
        raise HTTPException(404, "no such finding in this store")
    try:
        done = approve_item(request, me, rec, body.identifier, body.justification, via="api")
    except ReviewError as exc:
        raise _refuse(exc) from None
    return [
        ApprovedOut(page=page, kind=item.kind, identifier=item.identifier, sha256=item.sha256, action=action)
        for page, item, action in done
    ]


@router.post("/stores/{store}/scripts/reject", response_model=RejectedOut)
def reject_endpoint(
    request: Request,
    store: StorePath,
    body: RejectIn,
    me: Annotated[Principal, Depends(Require(Perm.SCRIPTS_APPROVE))],
) -> RejectedOut:
    """Refuse an item (``script.reject``); an approved one loses its approval."""
    try:
        rej, revoked = reject_item(
            request, me, store, body.page, body.kind, body.identifier, body.reason, via="api"
        )
    except ReviewError as exc:
        raise _refuse(exc) from None
    return RejectedOut(
        page=rej.page,
        kind=rej.kind,
        identifier=rej.identifier,
        reason=rej.reason,
        rejected_by=rej.rejected_by,
        approvals_revoked=revoked,
    )


__all__ = ["router"]
