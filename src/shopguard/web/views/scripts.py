"""Scans › Payment-page scripts: the PCI DSS 6.4.3 inventory per store, approve or reject."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response

from shopguard.db.models import FindingRecord
from shopguard.scanning.pages.inventory import Item
from shopguard.scanning.pages.models import PageRejection
from shopguard.scanning.pages.review import ReviewError, approve_seen, inventory_rows, reject
from shopguard.web import auditlog, nav
from shopguard.web.auth import client_ip, ctx_of
from shopguard.web.pages import _finding, _render, _stores, need
from shopguard.web.permissions import Perm, Principal

router = APIRouter(include_in_schema=False)

nav.add("Scripts", "/scripts", Perm.SCANS_READ, 45)

MAX_ID = 2_147_483_647


def _page(
    request: Request,
    me: Principal,
    store: str,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    ctx = ctx_of(request)
    stores = _stores(ctx, request, me)
    if store and store not in stores:
        raise HTTPException(404, "no such store")
    with ctx.db() as s:
        rows = inventory_rows(s, [store] if store else stores)
    ctx_vars: dict[str, Any] = {
        "rows": rows,
        "stores": stores,
        "store": store,
        "errors": errors or {},
        "form": form or {},
        "done": request.query_params.get("done", ""),
    }
    return _render(request, "scripts.html", ctx_vars, status)


@router.get("/scripts")
def scripts_page(
    request: Request,
    me: Annotated[Principal, need(Perm.SCANS_READ)],
    store: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    return _page(request, me, store)


def _back(store: str, done: str) -> RedirectResponse:
    return RedirectResponse("/scripts?" + urlencode({"store": store, "done": done}), status_code=303)


def approve_item(
    request: Request, me: Principal, rec: FindingRecord, identifier: str, justification: str, via: str = ""
) -> list[tuple[str, Item, str]]:
    """Approve one item exactly as the monitor saw it in finding ``rec`` (its content hash is
    pinned), audit-logged per approved item. Raises ReviewError."""
    ctx = ctx_of(request)
    with ctx.lock:
        done = approve_seen(ctx.db, rec, identifier, justification, me.email)
    with ctx.write() as s:
        for page, item, action in done:
            data: dict[str, object] = {
                "sha256": item.sha256,
                "justification": justification.strip(),
                "action": action,
            }
            if via:
                data["via"] = via
            auditlog.record(
                s,
                me.email,
                "script.approve",
                f"{rec.store} {page} {item.kind} {item.identifier}"[:500],
                client_ip(request),
                data,
            )
    return done


def reject_item(
    request: Request,
    me: Principal,
    target: str,
    page: str,
    kind: str,
    identifier: str,
    reason: str,
    via: str = "",
) -> tuple[PageRejection, int]:
    """Refuse an item of ``target``'s inventory (pending or approved; its approval is revoked),
    audit-logged. 404 when the store or item is unknown to the caller; raises ReviewError."""
    ctx = ctx_of(request)
    if target not in _stores(ctx, request, me):
        raise HTTPException(404, "no such store")
    with ctx.db() as s:
        known = {(r.page, r.kind, r.identifier) for r in inventory_rows(s, [target])}
    if (page, kind, identifier) not in known:
        raise HTTPException(404, "no such item in this store's inventory")
    with ctx.write() as s:
        rej, revoked = reject(s, target, page, kind, identifier, reason, me.email)
        data: dict[str, object] = {"reason": reason.strip(), "approvals_revoked": revoked}
        if via:
            data["via"] = via
        auditlog.record(
            s,
            me.email,
            "script.reject",
            f"{target} {page} {kind} {identifier}"[:500],
            client_ip(request),
            data,
        )
    return rej, revoked


@router.post("/scripts/approve")
def scripts_approve(
    request: Request,
    me: Annotated[Principal, need(Perm.SCRIPTS_APPROVE)],
    finding_id: Annotated[int, Form(ge=1, le=MAX_ID)],
    identifier: Annotated[str, Form(max_length=2000)] = "",
    justification: Annotated[str, Form(max_length=2000)] = "",
    store: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Approve an item exactly as the monitor saw it (its content hash is pinned)."""
    rec = _finding(ctx_of(request), me, finding_id)
    form = {"identifier": identifier, "justification": justification, "action": "approve"}
    try:
        approve_item(request, me, rec, identifier, justification)
    except ReviewError as exc:
        return _page(request, me, store, {exc.field: exc.message}, form, 400)
    return _back(store, "approved")


@router.post("/scripts/reject")
def scripts_reject(
    request: Request,
    me: Annotated[Principal, need(Perm.SCRIPTS_APPROVE)],
    target: Annotated[str, Form(max_length=200)] = "",
    page: Annotated[str, Form(max_length=32)] = "",
    kind: Annotated[str, Form(max_length=32)] = "",
    identifier: Annotated[str, Form(max_length=2000)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    store: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Refuse an item (pending or approved): it must come off the page."""
    form = {"identifier": identifier, "reason": reason, "action": "reject"}
    try:
        reject_item(request, me, target, page, kind, identifier, reason)
    except ReviewError as exc:
        return _page(request, me, store, {exc.field: exc.message}, form, 400)
    return _back(store, "rejected")


__all__ = ["approve_item", "reject_item", "router"]
