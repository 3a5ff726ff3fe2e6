"""The overview's trend column: open findings by severity over each store's last runs."""

from __future__ import annotations

from shopguard.checks import CheckRun, Outcome
from shopguard.db.repository import begin_run, finish_run, record_check
from shopguard.findings import Finding, Severity
from shopguard.web.permissions import Role
from shopguard.web.svg import SEVERITY_COLORS
from shopguard.web.trends import TrendCache, trends

from .conftest import ROLE_EMAIL, Env


def _run(env: Env, store: str, highs: int, lows: int) -> int:
    findings = [
        Finding(f"scanning.web.headers.h{i}", Severity.HIGH, f"high {i}", f"https://{store}.example/")
        for i in range(highs)
    ] + [
        Finding(f"scanning.web.headers.l{i}", Severity.LOW, f"low {i}", f"https://{store}.example/")
        for i in range(lows)
    ]
    rid = begin_run(env.db, [store], "scanning.web.headers")
    record_check(env.db, rid, CheckRun("scanning.web.headers", store, Outcome.OK, findings))
    finish_run(env.db, rid)
    return rid


def test_trend_counts_open_findings_per_run_and_resolved_ones_drop_out(env: Env) -> None:
    # The env's first run saw alpha's HSTS (high) and CSP (low) findings.
    _run(env, "alpha", 3, 1)
    _run(env, "alpha", 1, 2)  # two highs fixed: resolved by this run, one low new
    with env.db() as s:
        got = trends(s)
    alpha = got["alpha"]
    assert len(alpha.run_ids) == 3 and alpha.run_ids[0] == env.run_id
    assert alpha.series["high"] == [1, 3, 1]
    assert alpha.series["low"] == [1, 1, 2]
    assert alpha.series["critical"] == [0, 0, 0]
    assert got["beta"].series["critical"] == [1]
    assert "now 0 critical, 1 high, 0 medium, 2 low" in alpha.label()


def test_only_the_last_runs_of_each_store_count(env: Env) -> None:
    for i in range(4):
        _run(env, "beta", i, 0)
    with env.db() as s:
        got = trends(s, per_store=3)
    assert got["beta"].series["high"] == [1, 2, 3]
    assert len(got["alpha"].run_ids) == 1


def test_the_cache_recomputes_when_a_run_finishes(env: Env) -> None:
    cache = TrendCache()
    with env.db() as s:
        first = cache.get(s)
        assert cache.get(s) is first
    _run(env, "alpha", 2, 0)
    with env.db() as s:
        assert cache.get(s)["alpha"].series["high"][-1] == 2


def test_overview_draws_a_trend_per_store(env: Env) -> None:
    _run(env, "alpha", 4, 0)
    client, _ = env.session_client(ROLE_EMAIL[Role.AUDITOR])
    r = client.get("/")
    assert r.status_code == 200 and "style=" not in r.text
    rows = {row.split("</td>", 1)[0]: row for row in r.text.split("<tbody>", 1)[1].split("<tr>")[1:]}
    alpha = next(v for k, v in rows.items() if ">alpha<" in k)
    assert 'class="chart trend"' in alpha and f'stroke="{SEVERITY_COLORS["high"]}"' in alpha
    assert "open findings over the last 2 run(s); now 0 critical, 4 high" in alpha
    scoped, _ = env.session_client("scoped@shop.example")
    assert ">alpha<" not in scoped.get("/").text
