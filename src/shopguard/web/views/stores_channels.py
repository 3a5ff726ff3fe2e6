"""Settings for owners and admins: the stores (read from shopguard.toml) and alert channels.

A channel added here keeps its apprise URL in the vault (encrypted, key outside the
database); the page shows only its kind and last characters. "Send test" sends a real
message through the channel, like `shopguard alerts test`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
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


__all__ = ["router"]
