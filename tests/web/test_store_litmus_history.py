"""A store's page: each protocol's litmus state over its last audit runs, scored from the
stored runs (the env's first run, then runs seeded here through the audit's own writers)."""

from __future__ import annotations

import re

from shopguard.checks import CheckRun, Outcome
from shopguard.db.repository import begin_run, finish_run, record_check
from shopguard.findings import Finding, Severity
from shopguard.readiness import ReadinessStatus
from shopguard.web.litmus_history import history
from shopguard.web.permissions import Role
from shopguard.web.svg import DOWN, EMPTY, UP

from .conftest import ROLE_EMAIL, SCOPED_EMAIL, Env

R, G, N = ReadinessStatus.READY, ReadinessStatus.GAPS, ReadinessStatus.NOT_ASSESSED
HSTS = Finding(
    "scanning.web.headers.hsts",
    Severity.HIGH,
    "The shop does not ask browsers to always use HTTPS",
    "https://alpha.example/",
)


def _audit(env: Env, checks: list[CheckRun], selector: str = "all", kind: str = "audit") -> int:
    rid = begin_run(env.db, ["alpha"], selector, kind)
    for c in checks:
        record_check(env.db, rid, c)
    finish_run(env.db, rid)
    return rid


def _seed(env: Env) -> list[int]:
    """Run 1 (the env's): scanning has gaps (HSTS, high), pci ready. Run 2: HSTS still there,
    hosting's check fails. Run 3: HSTS fixed, so scanning is ready; hosting checked and clean."""
    second = _audit(
        env,
        [
            CheckRun("scanning.web.headers", "alpha", Outcome.OK, [HSTS]),
            CheckRun("pci.saq", "alpha", Outcome.OK, []),
            CheckRun("hosting.ssh", "alpha", Outcome.ERROR, [], message="ssh: connection refused"),
        ],
    )
    third = _audit(
        env,
        [
            CheckRun("scanning.web.headers", "alpha", Outcome.OK, []),
            CheckRun("pci.saq", "alpha", Outcome.OK, []),
            CheckRun("hosting.ssh", "alpha", Outcome.OK, []),
        ],
    )
    # A monitoring batch is not an audit: it is left out of the litmus history.
    _audit(env, [CheckRun("scanning.web.headers", "alpha", Outcome.OK, [HSTS])], "scanning.web", "monitor")
    return [env.run_id, second, third]


def test_history_scores_each_stored_run_and_lists_the_changes(env: Env) -> None:
    runs = _seed(env)
    with env.db() as s:
        h = history(s, "alpha")
        beta = history(s, "beta")
        last_two = history(s, "alpha", runs=2)
    assert [c.id for c in h.runs] == runs
    assert h.states["scanning"] == (G, G, R)
    assert h.states["pci"] == (R, R, R)
    assert h.states["hosting"] == (N, N, R)
    assert h.states["insurance"] == (N, N, N)
    changes = [(c.protocol, c.before, c.after, c.run_id) for c in h.changes()]
    assert changes == [("hosting", N, R, runs[2]), ("scanning", G, R, runs[2])]
    # beta was only in the env's first run: the critical SAQ finding, and its failed SSH check.
    assert [c.id for c in beta.runs] == [env.run_id]
    assert beta.states["pci"] == (G,) and beta.states["hosting"] == (N,)
    assert [c.id for c in last_two.runs] == runs[1:]


def test_store_page_shows_the_history_as_a_table_and_an_svg_strip(env: Env) -> None:
    runs = _seed(env)
    client, _ = env.session_client(ROLE_EMAIL[Role.AUDITOR])
    overview = client.get("/").text
    assert 'href="/stores/alpha"' in overview
    r = client.get("/stores/alpha")
    assert r.status_code == 200
    text = r.text
    assert "style=" not in text and "<script>" not in text
    table = text.split('id="litmus-history-table"', 1)[1].split("</table>", 1)[0]
    for rid in runs:
        assert f'href="/runs/{rid}"' in table
    scanning = re.search(r'<tr id="lh-scanning">(.*?)</tr>', table, re.S)
    assert scanning is not None
    cells = re.findall(r'<td class="([^"]+)">([^<]+)</td>', scanning.group(1))
    assert cells == [("st-gaps", "gaps"), ("st-gaps", "gaps"), ("st-ready changed", "ready")]
    pci = re.search(r'<tr id="lh-pci">(.*?)</tr>', table, re.S)
    assert pci is not None and "changed" not in pci.group(1)
    changes = text.split('id="litmus-changes"', 1)[1].split("</ul>", 1)[0]
    assert "Security scans and monitoring" in changes and f"in run #{runs[2]}" in changes
    assert "PCI DSS compliance" not in changes
    strip = text.split('class="chart state-strip"', 1)[1].split("</svg>", 1)[0]
    rects = re.findall(r'<rect [^>]*fill="([^"]+)"><title>([^<]+)</title>', strip)
    assert len(rects) == 7 * 3
    titles = {title: fill for fill, title in rects}
    assert titles[f"Security scans and monitoring, run {runs[0]}, " + _when(env, runs[0]) + ": gaps"] == DOWN
    scan_fills = [fill for fill, title in rects if title.startswith("Security scans")]
    assert scan_fills == [DOWN, DOWN, UP]
    assert [fill for fill, title in rects if title.startswith("Cyber insurance")] == [EMPTY] * 3
    # The current litmus is on the page too: the newest check of scanning is the monitoring
    # batch's, which saw HSTS again, so it has gaps now although the last audit was ready.
    now = text.split('id="litmus-now"', 1)[1].split("</table>", 1)[0]
    assert 'class="st-gaps" href="/findings?store=alpha&amp;protocol=scanning"' in now
    assert 'class="st-ready" href="/findings?store=alpha&amp;protocol=hosting"' in now


def _when(env: Env, run_id: int) -> str:
    from shopguard.db.models import RunRecord

    with env.db() as s:
        run = s.get(RunRecord, run_id)
        assert run is not None
        return f"{run.started_at:%Y-%m-%d %H:%M} UTC"


def test_store_page_is_scoped_and_needs_overview_read(env: Env) -> None:
    scoped, _ = env.session_client(SCOPED_EMAIL)
    assert scoped.get("/stores/alpha").status_code == 404
    assert scoped.get("/stores/beta").status_code == 200
    assert scoped.get("/stores/nowhere").status_code == 404
    employee, _ = env.session_client(ROLE_EMAIL[Role.EMPLOYEE])
    assert employee.get("/stores/beta").status_code == 403
    with env.db() as s:
        assert history(s, "nowhere").runs == ()


def test_a_store_without_an_audit_says_so(env: Env) -> None:
    # A monitoring batch of a new store "gamma": it is a store, but no audit has scored it.
    rid = begin_run(env.db, ["gamma"], "scanning.web", "monitor")
    record_check(env.db, rid, CheckRun("scanning.web.headers", "gamma", Outcome.OK, []))
    finish_run(env.db, rid)
    owner, _ = env.session_client(ROLE_EMAIL[Role.OWNER])
    r = owner.get("/stores/gamma")
    assert r.status_code == 200 and "No finished audit of this store yet." in r.text
    assert "state-strip" not in r.text.split('id="litmus-history"', 1)[1]
