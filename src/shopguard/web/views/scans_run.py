"""Scans: start an audit of a store from the dashboard and watch it run."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from shopguard.web import auditlog
from shopguard.web.auth import client_ip, ctx_of
from shopguard.web.launcher import Launcher, RunRefused
from shopguard.web.pages import _render, need
from shopguard.web.permissions import Perm, Principal

router = APIRouter(include_in_schema=False)


def launcher_of(request: Request) -> Launcher:
    app_state = request.app.state
    launcher = getattr(app_state, "launcher", None)
    if launcher is None:
        launcher = app_state.launcher = Launcher()
    return launcher


def _visible_config_stores(request: Request, me: Principal) -> list[str]:
    config = request.app.state.config
    return [] if config is None else [s.name for s in config.stores if me.sees_store(s.name)]


def panel(request: Request, me: Principal) -> dict[str, Any]:
    """What the Scans page shows about dashboard runs: the start form and recent launches."""
    launcher = launcher_of(request)
    launcher.refresh(ctx_of(request).db)
    launches = [x for x in launcher.recent() if me.sees_store(x.store)]
    return {
        "run_stores": _visible_config_stores(request, me),
        "launches": launches,
        "any_active": any(x.active for x in launches),
        "has_config": request.app.state.config is not None,
        "clustered": request.app.state.config is not None and request.app.state.config.cluster is not None,
    }


def _runs_page(request: Request, me: Principal, error: str, form: dict[str, str], status: int) -> Response:
    from shopguard.web import queries
    from shopguard.web.pages import _stores

    ctx = ctx_of(request)
    with ctx.db() as s:
        rows = queries.runs(s, _stores(ctx, request, me))
    ctx_vars = {"rows": rows, "run_error": error, "run_form": form, **panel(request, me)}
    return _render(request, "runs.html", ctx_vars, status)


@router.post("/scans/start")
def start_run(
    request: Request,
    me: Annotated[Principal, need(Perm.SCANS_RUN)],
    store: Annotated[str, Form(max_length=200)] = "",
    checks: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    ctx = ctx_of(request)
    config = request.app.state.config
    form = {"store": store, "checks": checks}
    if config is None:
        return _runs_page(request, me, "starting a run needs the server started with a config", form, 400)
    chosen = next((s for s in config.stores if s.name == store), None)
    if chosen is None or not me.sees_store(store):
        return _runs_page(request, me, "choose one of your stores", form, 400)
    selectors = [x.strip() for x in checks.split(",") if x.strip()]
    try:
        launch = launcher_of(request).start(config, ctx.db, chosen, me.email, selectors)
    except RunRefused as exc:
        return _runs_page(request, me, str(exc), form, exc.status)
    with ctx.write() as s:
        auditlog.record(
            s,
            me.email,
            "run.start",
            store,
            client_ip(request),
            {"mode": launch.mode, "checks": selectors, "tasks": list(launch.task_ids)},
        )
    return RedirectResponse("/runs#launches", status_code=303)


@router.get("/scans/launches")
def launches_fragment(request: Request, me: Annotated[Principal, need(Perm.SCANS_READ)]) -> Response:
    """The launches panel alone, for htmx to poll while a run is going."""
    return _render(request, "runs_launches.html", panel(request, me))
