"""JSON API for triage beyond one decision: assign, comments, bulk (same checks as the pages)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from shopguard.db.models import FindingRecord
from shopguard.db.triage import MAX_COMMENT, TriageError, add_comment, bulk, comments
from shopguard.web import auditlog
from shopguard.web import triage as tri
from shopguard.web.api import FindingOut, _out
from shopguard.web.auth import Require, client_ip, ctx_of
from shopguard.web.pages import _finding
from shopguard.web.params import RowId
from shopguard.web.permissions import Perm, Principal

router = APIRouter(prefix="/api/v1", tags=["v1"])

FindingId = Annotated[int, Field(ge=1, le=2_147_483_647)]


class AssignIn(BaseModel):
    assignee: str = Field(default="", max_length=320, description="A user's email; empty to unassign.")


class CommentIn(BaseModel):
    body: str = Field(min_length=1, max_length=MAX_COMMENT)


class CommentOut(BaseModel):
    id: int
    author: str
    at: datetime
    body: str


class BulkIn(BaseModel):
    ids: list[FindingId] = Field(min_length=1, max_length=tri.MAX_BULK)
    action: Literal["accept_risk", "false_positive", "assign", "reopen"]
    reason: str = Field(default="", max_length=2000)
    expires: date | None = None
    assignee: str = Field(default="", max_length=320)


class BulkOut(BaseModel):
    changed: int
    items: list[FindingOut]


def _refuse(exc: TriageError) -> HTTPException:
    return HTTPException(422, str(exc))


@router.post("/findings/{finding_id}/assign", response_model=FindingOut)
def assign_endpoint(
    request: Request,
    finding_id: RowId,
    body: AssignIn,
    me: Annotated[Principal, Depends(Require(Perm.FINDINGS_TRIAGE))],
) -> FindingOut:
    ctx = ctx_of(request)
    rec = _finding(ctx, me, finding_id)
    try:
        with ctx.write() as s:
            who = tri.check_assignee(s, body.assignee, [rec.store])
            row = s.get(FindingRecord, rec.id)
            assert row is not None
            before, row.assignee = row.assignee, who
            auditlog.record(
                s,
                me.email,
                "finding.assign",
                f"finding {rec.id} ({rec.store})",
                client_ip(request),
                {"assignee": who, "before": before, "via": "api"},
            )
    except TriageError as exc:
        raise _refuse(exc) from None
    return _out(_finding(ctx, me, finding_id), full=True)


@router.get("/findings/{finding_id}/comments", response_model=list[CommentOut])
def comments_endpoint(
    request: Request, finding_id: RowId, me: Annotated[Principal, Depends(Require(Perm.FINDINGS_READ))]
) -> list[CommentOut]:
    ctx = ctx_of(request)
    rec = _finding(ctx, me, finding_id)
    with ctx.db() as s:
        return [CommentOut(id=c.id, author=c.author, at=c.at, body=c.body) for c in comments(s, rec.id)]


@router.post("/findings/{finding_id}/comments", response_model=CommentOut, status_code=201)
def comment_endpoint(
    request: Request,
    finding_id: RowId,
    body: CommentIn,
    me: Annotated[Principal, Depends(Require(Perm.FINDINGS_TRIAGE))],
) -> CommentOut:
    ctx = ctx_of(request)
    rec = _finding(ctx, me, finding_id)
    try:
        with ctx.write() as s:
            c = add_comment(s, rec, me.email, body.body)
            auditlog.record(
                s,
                me.email,
                "finding.comment",
                f"finding {rec.id} ({rec.store})",
                client_ip(request),
                {"comment_id": c.id, "body": c.body, "via": "api"},
            )
            return CommentOut(id=c.id, author=c.author, at=c.at, body=c.body)
    except TriageError as exc:
        raise _refuse(exc) from None


@router.post("/findings/bulk", response_model=BulkOut)
def bulk_endpoint(
    request: Request, body: BulkIn, me: Annotated[Principal, Depends(Require(Perm.FINDINGS_TRIAGE))]
) -> BulkOut:
    """One action on many findings; refused whole (403) if any is outside the caller's stores."""
    ctx = ctx_of(request)
    try:
        with ctx.write() as s:
            recs = tri.visible_findings(s, me, body.ids)
            stores = sorted({r.store for r in recs})
            who = tri.check_assignee(s, body.assignee, stores) if body.action == "assign" else ""
            changed = bulk(
                s,
                recs,
                body.action,
                me.email,
                tri.settings_of(request),
                reason=body.reason,
                expires=body.expires,
                assignee=who,
            )
            for rec in changed:
                data: dict[str, object] = {"bulk": len(changed), "via": "api"}
                if body.action == "assign":
                    data["assignee"] = who
                else:
                    data.update(triage=rec.triage, reason=rec.triage_reason, expires_at=rec.triage_expires_at)
                auditlog.record(
                    s,
                    me.email,
                    "finding.assign" if body.action == "assign" else "finding.triage",
                    f"finding {rec.id} ({rec.store})",
                    client_ip(request),
                    data,
                )
            out = [_out(r) for r in changed]
    except tri.NotVisible as exc:
        raise HTTPException(403, str(exc)) from None
    except TriageError as exc:
        raise _refuse(exc) from None
    ctx.invalidate()
    return BulkOut(changed=len(out), items=out)


__all__ = ["router"]
