"""The monitoring pages over rows written by the daemon's persistence code: states, uptime,
charts, incidents, and maintenance windows planned and ended by admins."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from shopguard.db.base import utcnow
from shopguard.monitoring.models import MaintenanceRecord
from shopguard.monitoring.stats import uptime
from shopguard.web.auditlog import verify
from shopguard.web.models import AuditEvent
from shopguard.web.permissions import Role
from shopguard.web.svg import DEGRADED, DOWN, UP

from .conftest import ROLE_EMAIL, SCOPED_EMAIL, Env
from .monitoring_support import seed_monitoring

OWNER = ROLE_EMAIL[Role.OWNER]
ADMIN = ROLE_EMAIL[Role.ADMIN]


def _rows(html: str) -> list[str]:
    body = html.split('<table class="striped" id="monitors">', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)[1:]


def test_list_shows_each_monitor_state_and_uptime_most_urgent_first(env: Env) -> None:
    seeded = seed_monitoring(env.db)
    client, _ = env.session_client(ROLE_EMAIL[Role.AUDITOR])
    r = client.get("/monitoring")
    assert r.status_code == 200
    rows = _rows(r.text)
    assert "mon-down" in rows[0] and "beta" in rows[0] and "connection refused" in rows[0]
    alpha = next(row for row in rows if "key=alpha/storefront" in row)
    assert "mon-up" in alpha
    expected = uptime(env.db, "alpha/storefront", "24h", seeded.now).percent
    assert expected is not None and 90 < expected < 100
    assert f"{expected:.2f}%" in alpha
    assert f"{100 * seeded.up_checks / (seeded.up_checks + seeded.down_checks):.2f}%" in alpha
    # Configured monitors that never ran are listed as pending (the env's stores derive defaults).
    assert "mon-pending" in r.text
    # The downtime incidents: the ongoing one first, with its cause and duration.
    incidents = r.text.split('id="incident-list"', 1)[1]
    assert incidents.index("beta/storefront") < incidents.index("alpha/storefront")
    assert "ongoing" in incidents and "HTTP 502 Bad Gateway" in incidents and "30m 0s" in incidents


def test_filters_pagination_and_bad_input(env: Env) -> None:
    seed_monitoring(env.db, extra=120)
    client, _ = env.session_client(OWNER)
    down = client.get("/monitoring?status=down")
    assert down.status_code == 200 and len(_rows(down.text)) == 1
    gamma = client.get("/monitoring?store=gamma")
    assert "120 monitors · page 1 of 3" in gamma.text
    page3 = client.get("/monitoring?store=gamma&page=3")
    assert len(_rows(page3.text)) == 20
    found = client.get("/monitoring?q=page-0042")
    assert len(_rows(found.text)) == 1 and "92 ms" in found.text
    bad = client.get("/monitoring?status=sideways")
    assert bad.status_code == 400 and 'aria-invalid="true"' in bad.text and "one of down" in bad.text


def test_a_store_scoped_user_sees_only_their_stores_monitors(env: Env) -> None:
    seed_monitoring(env.db)
    client, _ = env.session_client(SCOPED_EMAIL)
    page = client.get("/monitoring")
    assert page.status_code == 200
    assert "beta/storefront" in page.text and "alpha/storefront" not in page.text
    assert client.get("/monitoring/monitor?key=alpha/storefront").status_code == 404
    assert client.get("/monitoring/monitor?key=beta/storefront").status_code == 200


def test_detail_page_draws_uptime_and_latency_as_inline_svg(env: Env) -> None:
    seed_monitoring(env.db)
    client, _ = env.session_client(ROLE_EMAIL[Role.ANALYST])
    r = client.get("/monitoring/monitor?key=alpha/storefront")
    assert r.status_code == 200
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert "style=" not in r.text and "<script>" not in r.text
    day = r.text.split('id="uptime-day"', 1)[1].split("</figure>", 1)[0]
    assert day.count("<rect") == 48
    # The 30-minute outage (6 checks down) falls in one or two 30-minute slots.
    downs = [int(n) for n in re.findall(r"\((\d+) of \d+ checks down\)", day)]
    assert sum(downs) == 6 and 1 <= sum(1 for n in downs if n) <= 2
    assert day.count(f'fill="{DOWN}"') + day.count(f'fill="{DEGRADED}"') in (1, 2)
    assert day.count(f'fill="{UP}"') >= 45
    assert "Uptime of alpha/storefront" in day
    chart = r.text.split('id="latency"', 1)[1].split("</figure>", 1)[0]
    assert "<polyline" in chart and "ms</text>" in chart
    month = r.text.split('id="uptime-month"', 1)[1].split("</figure>", 1)[0]
    assert month.count("<rect") == 30
    assert "HTTP 502 Bad Gateway" in r.text and "30m 0s" in r.text
    assert client.get("/monitoring/monitor?key=alpha/nothing").status_code == 404


def test_admin_plans_and_ends_a_window_and_both_are_in_the_audit_log(env: Env) -> None:
    seed_monitoring(env.db)
    client, csrf = env.session_client(ADMIN)
    end = (utcnow() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    r = client.post(
        "/monitoring/maintenance",
        data={
            "csrf_token": csrf,
            "store": "alpha",
            "monitors": "storefront",
            "end": end,
            "reason": "Woo update",
        },
    )
    assert r.status_code == 303, r.text[:500]
    page = client.get("/monitoring")
    windows = page.text.split('id="windows"', 1)[1].split("</table>", 1)[0]
    assert "Woo update" in windows and "<strong>active</strong>" in windows and ADMIN in windows
    alpha = next(row for row in _rows(page.text) if "key=alpha/storefront" in row)
    assert "mon-maintenance" in alpha and "Woo update" in alpha
    with env.db() as s:
        wid = s.scalar(select(MaintenanceRecord.id))
    assert wid is not None
    ended = client.post("/monitoring/maintenance/end", data={"csrf_token": csrf, "window_id": str(wid)})
    assert ended.status_code == 303
    with env.db() as s:
        rec = s.get(MaintenanceRecord, wid)
        assert rec is not None and rec.ended_by == ADMIN and rec.end_at <= utcnow()
        actions = [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
        assert verify(s).ok
    assert actions[-2:] == ["maintenance.create", "maintenance.end"]
    again = client.post("/monitoring/maintenance/end", data={"csrf_token": csrf, "window_id": str(wid)})
    assert again.status_code == 400 and "already ended" in again.text
    alpha = next(row for row in _rows(client.get("/monitoring").text) if "key=alpha/storefront" in row)
    assert "mon-up" in alpha


def test_bad_windows_are_refused_with_the_field_marked_and_nothing_saved(env: Env) -> None:
    client, csrf = env.session_client(OWNER)
    soon = (utcnow() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    past = (utcnow() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    later = (utcnow() + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    cases = [
        ({"store": "nowhere", "end": soon, "reason": "x"}, "choose one of your stores"),
        ({"store": "alpha", "end": "", "reason": "x"}, "say when the maintenance ends"),
        ({"store": "alpha", "end": "tomorrow", "reason": "x"}, "a date and time such as"),
        ({"store": "alpha", "end": past, "reason": "x"}, "is already in the past"),
        ({"store": "alpha", "start": later, "end": soon, "reason": "x"}, "must be after the start"),
        ({"store": "alpha", "end": soon, "reason": " "}, "say what the maintenance is"),
        (
            {"store": "alpha", "end": soon, "reason": "x", "monitors": "storefrnt"},
            "no monitor named storefrnt",
        ),
    ]
    for data, message in cases:
        r = client.post("/monitoring/maintenance", data={"csrf_token": csrf, **data})
        assert r.status_code == 400, (data, r.status_code)
        assert message in r.text and 'aria-invalid="true"' in r.text, data
    with env.db() as s:
        assert s.scalar(select(MaintenanceRecord.id)) is None
    # Without the CSRF token, or as a role that may not plan windows: refused.
    assert (
        client.post(
            "/monitoring/maintenance", data={"store": "alpha", "end": soon, "reason": "x"}
        ).status_code
        == 403
    )
    analyst, token = env.session_client(ROLE_EMAIL[Role.ANALYST])
    r = analyst.post(
        "/monitoring/maintenance", data={"csrf_token": token, "store": "alpha", "end": soon, "reason": "x"}
    )
    assert r.status_code == 403
    assert "Plan a maintenance window" not in analyst.get("/monitoring").text


def test_the_nav_shows_monitoring_to_readers_only(env: Env) -> None:
    owner, _ = env.session_client(OWNER)
    assert 'href="/monitoring"' in owner.get("/").text
    employee, _ = env.session_client(ROLE_EMAIL[Role.EMPLOYEE])
    assert 'href="/monitoring"' not in employee.get("/my/policies").text
    assert employee.get("/monitoring").status_code == 403
