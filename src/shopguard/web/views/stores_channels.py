"""Settings for owners and admins: the stores (read from shopguard.toml) and alert channels.

A channel added here keeps its apprise URL in the vault (encrypted, key outside the
database); the page shows only its kind and last characters. "Send test" sends a real
message through the channel, like `shopguard alerts test`.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response

from shopguard.config import Config
from shopguard.findings import Severity
from shopguard.web import auditlog, channels, nav
from shopguard.web.auth import client_ip, ctx_of
from shopguard.web.pages import _render, need
from shopguard.web.permissions import Perm, Principal
from shopguard.web.vault import VaultError

router = APIRouter(include_in_schema=False)
nav.add("Stores", "/settings/stores", Perm.SETTINGS_MANAGE, 93)
nav.add("Alert channels", "/settings/channels", Perm.SETTINGS_MANAGE, 94)


def _config(request: Request) -> Config:
    cfg = request.app.state.config
    return cfg if isinstance(cfg, Config) else Config()


@router.get("/settings/stores")
def stores_page(request: Request, me: Annotated[Principal, need(Perm.SETTINGS_MANAGE)]) -> Response:
    cfg = _config(request)
    return _render(
        request,
        "settings_stores.html",
        {
            "stores": [st for st in cfg.stores if me.sees_store(st.name)],
            "company_tz": cfg.company.timezone,
            "has_config": isinstance(request.app.state.config, Config),
        },
    )


def _channels_page(
    request: Request,
    errors: dict[str, str],
    form: dict[str, str],
    status: int = 200,
    result: tuple[str, bool, str] | None = None,
) -> Response:
    cfg = _config(request)
    with ctx_of(request).db() as s:
        rows = channels.config_rows(cfg) + channels.stored_rows(s)
    return _render(
        request,
        "settings_channels.html",
        {
            "rows": rows,
            "errors": errors,
            "form": form,
            "severities": [x.value for x in Severity],
            "result": result,
            "deleted": request.query_params.get("deleted", "")[:200],
        },
        status,
    )


@router.get("/settings/channels")
def channels_page(request: Request, me: Annotated[Principal, need(Perm.SETTINGS_MANAGE)]) -> Response:
    return _channels_page(request, {}, {"min_severity": Severity.HIGH.value})


@router.post("/settings/channels")
def channels_add(
    request: Request,
    me: Annotated[Principal, need(Perm.SETTINGS_MANAGE)],
    name: Annotated[str, Form(max_length=200)] = "",
    url: Annotated[str, Form(max_length=4000)] = "",
    min_severity: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    # The URL is never put back into the form: a re-rendered page must not echo a secret.
    form = {"name": name, "min_severity": min_severity}
    ctx = ctx_of(request)
    try:
        with ctx.write() as s:
            row = channels.add(s, ctx.vault, _config(request), name, url, min_severity, me.email)
            auditlog.record(
                s,
                me.email,
                "channel.add",
                row.name,
                client_ip(request),
                {"kind": row.kind, "min_severity": row.min_severity},
            )
    except channels.ChannelError as exc:
        return _channels_page(request, {exc.field: exc.message}, form, 400)
    return RedirectResponse("/settings/channels", status_code=303)


@router.post("/settings/channels/test")
def channels_test(
    request: Request,
    me: Annotated[Principal, need(Perm.SETTINGS_MANAGE)],
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Send a real test notification through one channel (from the config or the dashboard)."""
    cfg = _config(request)
    ctx = ctx_of(request)
    try:
        with ctx.db() as s:
            channel = channels.find(cfg, s, ctx.vault, name)
    except VaultError as exc:
        return _channels_page(request, {}, {}, 503, (name, False, str(exc)))
    if channel is None:
        raise HTTPException(404, "no alert channel by that name")
    store = next((st.name for st in cfg.stores if me.sees_store(st.name)), "-")
    ok, reason = channels.send_test(channel, store, me.email)
    with ctx.write() as s:
        channels.record_test(s, name, ok)
        auditlog.record(
            s, me.email, "channel.test", name, client_ip(request), {"delivered": ok, "reason": reason}
        )
    return _channels_page(request, {}, {}, 200 if ok else 502, (name, ok, reason))


def _dashboard_channel(request: Request, name: str) -> channels.ChannelRow:
    """A channel added in the dashboard (404 otherwise; 400 for one of shopguard.toml)."""
    if any(c.name == name for c in _config(request).alerts):
        raise HTTPException(400, f"{name} is set in shopguard.toml: remove it there and restart")
    with ctx_of(request).db() as s:
        row = next((r for r in channels.stored_rows(s) if r.name == name), None)
    if row is None:
        raise HTTPException(404, "no alert channel by that name")
    return row


@router.get("/settings/channels/delete")
def channels_delete_confirm(
    request: Request,
    me: Annotated[Principal, need(Perm.SETTINGS_MANAGE)],
    name: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """The confirm step: what will be removed, and the button that does it."""
    return _render(request, "settings_channel_delete.html", {"c": _dashboard_channel(request, name)})


@router.post("/settings/channels/delete")
def channels_delete(
    request: Request,
    me: Annotated[Principal, need(Perm.SETTINGS_MANAGE)],
    name: Annotated[str, Form(max_length=200)] = "",
    confirm: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Remove a dashboard channel and its encrypted URL (the vault secret goes with it)."""
    row = _dashboard_channel(request, name)
    if confirm != "yes":
        return _render(
            request,
            "settings_channel_delete.html",
            {"c": row, "error": "Tick the box to confirm that this channel should be deleted."},
            400,
        )
    ctx = ctx_of(request)
    with ctx.write() as s:
        try:
            gone = channels.delete(s, _config(request), name)
        except KeyError:
            raise HTTPException(404, "no alert channel by that name") from None
        auditlog.record(
            s,
            me.email,
            "channel.delete",
            gone.name,
            client_ip(request),
            {"kind": gone.kind, "min_severity": gone.min_severity, "secret": gone.secret_name},
        )
    return RedirectResponse("/settings/channels?deleted=" + quote(name), status_code=303)


__all__ = ["router"]
