"""JSON API under /api/v1: the same permission checks as the pages (``Require``).

Authenticate with ``Authorization: Bearer sgt_...`` (an API token with scopes) or a
browser session (then state-changing calls need the ``X-CSRF-Token`` header).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from shopguard.db.models import FindingRecord
from shopguard.findings import Triage
from shopguard.web import auditlog, queries
from shopguard.web.auth import Require, client_ip, ctx_of
from shopguard.web.pages import _finding, _stores, overview_rows
from shopguard.web.params import RowId
from shopguard.web.permissions import Perm, Principal

router = APIRouter(prefix="/api/v1", tags=["v1"])


class StoreOut(BaseModel):
    store: str
    risk: int
    protocols: dict[str, str]
    open_findings: dict[str, int]
    failed_checks: int


class FindingOut(BaseModel):
    id: int
    store: str
    check_id: str
    protocol: str
    severity: str
    title: str
    location: str
    status: str
    triage: str
    """The decision that holds now: an accepted risk past its expiry reads ``none``."""
    triage_reason: str
    triage_expires_at: datetime | None = None
    triage_lapsed: bool = False
    assignee: str = ""
    first_seen: datetime
    last_seen: datetime
    remediation: str
    detail: str = ""
    evidence: dict[str, Any] = Field(default_factory=dict)


class FindingPage(BaseModel):
    total: int
    page: int
    items: list[FindingOut]


class TriageIn(BaseModel):
    action: Literal["accept_risk", "false_positive", "reopen"]
    reason: str = Field(default="", max_length=2000)
    expires: date | None = Field(
        default=None, description="accept_risk only: the day it lapses (default and maximum: [findings])."
    )


class RunOut(BaseModel):
    id: int
    kind: str
    stores: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    checks: int
    errors: int


class MeOut(BaseModel):
    email: str
    role: str
    stores: list[str]
    scopes: list[str] | None


def _out(rec: FindingRecord, full: bool = False) -> FindingOut:
    return FindingOut(
        id=rec.id,
        store=rec.store,
        check_id=rec.check_id,
        protocol=rec.protocol,
        severity=rec.severity,
        title=rec.title,
        location=rec.location,
        status=rec.status,
        triage=rec.effective_triage.value,
        triage_reason=rec.triage_reason,
        triage_expires_at=rec.triage_expires_at,
        triage_lapsed=rec.triage_lapsed,
        assignee=rec.assignee,
        first_seen=rec.first_seen,
        last_seen=rec.last_seen,
        remediation=rec.remediation,
        detail=rec.detail if full else "",
        evidence=dict(rec.evidence or {}) if full else {},
    )


@router.get("/me", response_model=MeOut)
def me_endpoint(me: Annotated[Principal, Depends(Require(Perm.ACCOUNT_OWN))]) -> MeOut:
    return MeOut(
        email=me.email,
        role=me.role.value,
        stores=list(me.stores),
        scopes=sorted(p.value for p in me.scopes) if me.scopes is not None else None,
    )


@router.get("/overview", response_model=list[StoreOut])
def overview_endpoint(
    request: Request, me: Annotated[Principal, Depends(Require(Perm.OVERVIEW_READ))]
) -> list[StoreOut]:
    _, rows = overview_rows(ctx_of(request), request, me)
    return [
        StoreOut(
            store=r.store,
            risk=r.risk,
            protocols={k: v.value for k, v in r.protocols.items()},
            open_findings=r.counts,
            failed_checks=r.failed_checks,
        )
        for r in rows
    ]


@router.get("/findings", response_model=FindingPage)
def findings_endpoint(
    request: Request,
    me: Annotated[Principal, Depends(Require(Perm.FINDINGS_READ))],
    store: Annotated[str, Query(max_length=200)] = "",
    protocol: Annotated[str, Query(max_length=32)] = "",
    severity: Annotated[str, Query(max_length=16)] = "",
    status: Annotated[str, Query(max_length=16)] = "open",
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    assigned: Annotated[Literal["", "me", "none"], Query(description="me: assigned to the caller")] = "",
) -> FindingPage:
    ctx = ctx_of(request)
    stores = _stores(ctx, request, me)
    flt = queries.FindingFilter(store, protocol, severity, status, page, assigned, me.email)
    errors = flt.validate()
    if errors:
        raise HTTPException(422, {k: f"expected {v}" for k, v in errors.items()})
    with ctx.db() as s:
        rows, total = queries.findings(s, stores if me.stores else None, flt, ctx.finding_counts)
    return FindingPage(total=total, page=page, items=[_out(r) for r in rows])


@router.get("/findings/{finding_id}", response_model=FindingOut)
def finding_endpoint(
    request: Request, finding_id: RowId, me: Annotated[Principal, Depends(Require(Perm.FINDINGS_READ))]
) -> FindingOut:
    return _out(_finding(ctx_of(request), me, finding_id), full=True)


_TRIAGE = {
    "accept_risk": Triage.ACCEPTED_RISK,
    "false_positive": Triage.FALSE_POSITIVE,
    "reopen": Triage.NONE,
}


@router.post("/findings/{finding_id}/triage", response_model=FindingOut)
def triage_endpoint(
    request: Request,
    finding_id: RowId,
    body: TriageIn,
    me: Annotated[Principal, Depends(Require(Perm.FINDINGS_TRIAGE))],
) -> FindingOut:
    from shopguard.db.triage import TriageError, apply_triage
    from shopguard.web.triage import settings_of

    ctx = ctx_of(request)
    rec = _finding(ctx, me, finding_id)
    triage = _TRIAGE[body.action]
    try:
        with ctx.write() as s:
            row = s.get(FindingRecord, rec.id)
            assert row is not None
            apply_triage(row, triage, body.reason, me.email, settings_of(request), body.expires)
            auditlog.record(
                s,
                me.email,
                "finding.triage",
                f"finding {rec.id} ({rec.store})",
                client_ip(request),
                {
                    "triage": triage.value,
                    "reason": body.reason.strip(),
                    "expires_at": row.triage_expires_at,
                    "via": "api",
                },
            )
    except TriageError as exc:
        raise HTTPException(422, str(exc)) from None
    ctx.invalidate()
    return _out(_finding(ctx, me, finding_id), full=True)


@router.get("/runs", response_model=list[RunOut])
def runs_endpoint(
    request: Request, me: Annotated[Principal, Depends(Require(Perm.SCANS_READ))]
) -> list[RunOut]:
    ctx = ctx_of(request)
    with ctx.db() as s:
        rows = queries.runs(s, _stores(ctx, request, me))
    return [RunOut(**r.__dict__) for r in rows]


class AuditVerifyOut(BaseModel):
    ok: bool
    entries: int
    problems: list[str]


@router.get("/audit/verify", response_model=AuditVerifyOut)
def audit_verify_endpoint(
    request: Request, me: Annotated[Principal, Depends(Require(Perm.AUDIT_READ))]
) -> AuditVerifyOut:
    with ctx_of(request).db() as s:
        rep = auditlog.verify(s)
    return AuditVerifyOut(ok=rep.ok, entries=rep.entries, problems=list(rep.problems))
