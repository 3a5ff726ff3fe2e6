"""A store's page: its litmus test now, how each protocol's state changed over its last
audit runs (computed from the stored runs), and its open findings trend."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import Response

from shopguard.findings import PROTOCOL_TITLES, PROTOCOLS
from shopguard.web import litmus_history
from shopguard.web.auth import ctx_of
from shopguard.web.pages import _render, _stores, need, overview_rows
from shopguard.web.permissions import Perm, Principal
from shopguard.web.svg import state_strip, trend

router = APIRouter(include_in_schema=False)


@router.get("/stores/{store}")
def store_page(
    request: Request,
    store: Annotated[str, Path(max_length=200)],
    me: Annotated[Principal, need(Perm.OVERVIEW_READ)],
) -> Response:
    from shopguard.web.trends import TrendCache, for_stores

    ctx = ctx_of(request)
    if store not in _stores(ctx, request, me):
        raise HTTPException(404, "no such store")
    row = next((r for r in overview_rows(ctx, request, me)[1] if r.store == store), None)
    cache = getattr(request.app.state, "trend_cache", None)
    if cache is None:
        cache = request.app.state.trend_cache = TrendCache()
    with ctx.db() as s:
        hist = litmus_history.history(s, store)
        found = for_stores(cache, s, [store])
    columns = [c.label for c in hist.runs]
    strip = (
        state_strip(
            [(PROTOCOL_TITLES[p], [st.value for st in hist.states[p]]) for p in PROTOCOLS],
            columns,
            f"{store}: each protocol's litmus state over the last {len(columns)} audit run(s), oldest left",
        )
        if hist.runs
        else None
    )
    t = found.get(store)
    return _render(
        request,
        "store.html",
        {
            "store": store,
            "row": row,
            "protocols": PROTOCOLS,
            "hist": hist,
            "changes": hist.changes(),
            "strip": strip,
            "trend": trend(t.series, t.label()) if t is not None and t.run_ids else None,
            "max_runs": litmus_history.RUNS,
        },
    )


__all__ = ["router"]
