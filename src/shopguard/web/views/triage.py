"""Finding triage beyond the single decision: assign, comment, and bulk actions on the list.

Every change is checked against the stores the user is scoped to (a batch with any finding
they cannot see is refused whole) and written to the audit log in the same transaction.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from shopguard.db.models import FindingRecord
from shopguard.db.triage import TriageError, add_comment, bulk
from shopguard.web import auditlog, queries
from shopguard.web import triage as tri
from shopguard.web.auth import Forbidden, client_ip, ctx_of
from shopguard.web.pages import _finding, finding_view, findings_view, need
from shopguard.web.params import RowId
from shopguard.web.permissions import Perm, Principal

router = APIRouter(include_in_schema=False)

MAX_ID = 2_147_483_647


@router.post("/findings/{finding_id}/assign")
def assign_submit(
    request: Request,
    finding_id: RowId,
    me: Annotated[Principal, need(Perm.FINDINGS_TRIAGE)],
    assignee: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    ctx = ctx_of(request)
    rec = _finding(ctx, me, finding_id)
    try:
        with ctx.write() as s:
            who = tri.check_assignee(s, assignee, [rec.store])
            row = s.get(FindingRecord, rec.id)
            assert row is not None
            before = row.assignee
            row.assignee = who
            auditlog.record(
                s,
                me.email,
                "finding.assign",
                f"finding {rec.id} ({rec.store})",
                client_ip(request),
                {"assignee": who, "before": before},
            )
    except TriageError as exc:
        return finding_view(request, me, rec, {exc.field: exc.message}, {"assignee": assignee}, 400)
    return RedirectResponse(f"/findings/{rec.id}#assign", status_code=303)


@router.post("/findings/{finding_id}/comments")
def comment_submit(
    request: Request,
    finding_id: RowId,
    me: Annotated[Principal, need(Perm.FINDINGS_TRIAGE)],
    body: Annotated[str, Form(max_length=8000)] = "",
) -> Response:
    ctx = ctx_of(request)
    rec = _finding(ctx, me, finding_id)
    try:
        with ctx.write() as s:
            c = add_comment(s, rec, me.email, body)
            auditlog.record(
                s,
                me.email,
                "finding.comment",
                f"finding {rec.id} ({rec.store})",
                client_ip(request),
                {"comment_id": c.id, "body": c.body},
            )
    except TriageError as exc:
        return finding_view(request, me, rec, {exc.field: exc.message}, {"body": body}, 400)
    return RedirectResponse(f"/findings/{rec.id}#comments", status_code=303)


@router.post("/findings/bulk")
def bulk_submit(
    request: Request,
    me: Annotated[Principal, need(Perm.FINDINGS_TRIAGE)],
    ids: Annotated[list[str] | None, Form()] = None,
    action: Annotated[str, Form(max_length=32)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    expires: Annotated[str, Form(max_length=32)] = "",
    assignee: Annotated[str, Form(max_length=320)] = "",
    store: Annotated[str, Form(max_length=200)] = "",
    protocol: Annotated[str, Form(max_length=32)] = "",
    severity: Annotated[str, Form(max_length=16)] = "",
    status: Annotated[str, Form(max_length=16)] = "open",
    assigned: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Apply one action to the ticked findings (the list's filters come along so the page
    the user was on is shown again)."""
    ctx = ctx_of(request)
    flt = queries.FindingFilter(store, protocol, severity, status, 1, assigned, me.email)
    form = {"action": action, "reason": reason, "expires": expires, "assignee": assignee}
    chosen = ids or []
    try:
        if len(chosen) > tri.MAX_BULK:
            raise TriageError("ids", f"at most {tri.MAX_BULK} findings at a time")
        if not all(x.isdigit() and 1 <= int(x) <= MAX_ID for x in chosen):
            raise TriageError("ids", "finding ids are whole numbers")
        with ctx.write() as s:
            recs = tri.visible_findings(s, me, [int(x) for x in chosen])
            stores = sorted({r.store for r in recs})
            who = tri.check_assignee(s, assignee, stores) if action == "assign" else ""
            changed = bulk(
                s,
                recs,
                action,
                me.email,
                tri.settings_of(request),
                reason=reason,
                expires=tri.parse_expires(expires),
                assignee=who,
            )
            for rec in changed:
                data: dict[str, object] = {"bulk": len(changed), "check_id": rec.check_id}
                if action == "assign":
                    data["assignee"] = who
                else:
                    data.update(triage=rec.triage, reason=rec.triage_reason, expires_at=rec.triage_expires_at)
                auditlog.record(
                    s,
                    me.email,
                    "finding.assign" if action == "assign" else "finding.triage",
                    f"finding {rec.id} ({rec.store})",
                    client_ip(request),
                    data,
                )
    except tri.NotVisible as exc:
        raise Forbidden(str(exc)) from None
    except TriageError as exc:
        return findings_view(request, me, flt, {"errors": {exc.field: exc.message}, "form": form}, 400)
    ctx.invalidate()
    query = {"store": store, "protocol": protocol, "severity": severity, "status": status}
    query.update({"assigned": assigned, "done": str(len(changed))})
    return RedirectResponse("/findings?" + urlencode(query), status_code=303)


__all__ = ["router"]
