"""A site goes down and comes back: e-mail and webhook alerts, incidents, uptime."""

from __future__ import annotations

from sgmon_support import Running, mail_url, make_config, wait_until
from sqlalchemy import select

from shopguard.monitoring import AlertEvent, on_alert, remove_alert_hook
from shopguard.monitoring.engine import Daemon
from shopguard.monitoring.models import MonitorAlertRecord, MonitorIncidentRecord
from shopguard.monitoring.stats import uptime


def test_down_then_recovery_reaches_email_and_webhook(target, smtp, webhook, db, caplog):
    box, port = smtp
    cfg = make_config(
        target.url,
        [
            {
                "kind": "http",
                "name": "front",
                "url": target.url,
                "interval_s": 0.1,
                "timeout_s": 1,
                "keyword": "Welcome",
            }
        ],
        alerts=[
            {"name": "mail", "url": {"value": mail_url(port)}, "min_severity": "high"},
            {
                "name": "hook",
                "url": {"value": f"json://127.0.0.1:{webhook.port}/alerts"},
                "min_severity": "critical",
            },
        ],
        alerting={"confirm": 3, "reminder_s": 0},
    )
    # the monitor is "high": routed to mail (min high), not to the hook (min critical)
    seen: list[AlertEvent] = []
    hook = on_alert(seen.append)
    try:
        run = Running(Daemon(cfg, db, flush_interval=0.1))
        wait_until(lambda: run.daemon.checks_done >= 5)
        assert box.messages == []  # up from the start: nothing to say

        target.stop()
        down = box.wait_for(lambda m: "DOWN: shop / front" in m, timeout=5)
        assert "connection refused" in down
        assert target.url in down

        target.start()
        back = box.wait_for(lambda m: "RECOVERED: shop / front" in m, timeout=5)
        assert "Downtime:" in back
        wait_until(lambda: len(seen) >= 2)
        run.stop()
    finally:
        remove_alert_hook(hook)
    assert [e.event for e in seen] == ["down", "up"]
    assert webhook.posts == []  # routing by severity
    assert len([m for m in box.messages if "DOWN" in m]) == 1  # confirmed once, not per failure
    with db() as s:
        inc = list(s.scalars(select(MonitorIncidentRecord)))
        alerts = list(s.scalars(select(MonitorAlertRecord)))
    assert len(inc) == 1 and inc[0].ended_at is not None and "refused" in inc[0].cause
    assert inc[0].ended_at > inc[0].started_at
    assert {a.event for a in alerts} == {"down", "up"} and all(
        a.sent_at and a.delivered == ["mail"] for a in alerts
    )
    up = uptime(db, "shop/front", "24h")
    assert up.total > 5 and 0 < up.percent < 100
    assert mail_url(port) not in caplog.text


def test_critical_monitor_reaches_webhook_with_content(target, webhook, db):
    cfg = make_config(
        target.url,
        [{"kind": "http", "name": "checkout", "url": target.url, "interval_s": 0.1, "severity": "critical"}],
        alerts=[
            {
                "name": "hook",
                "url": {"value": f"json://127.0.0.1:{webhook.port}/alerts"},
                "min_severity": "critical",
            }
        ],
        alerting={"confirm": 2, "reminder_s": 0.5},
    )
    run = Running(Daemon(cfg, db, flush_interval=0.1))
    try:
        target.status = 503
        wait_until(lambda: len(webhook.posts) >= 2, timeout=5)
        target.status = 200
        wait_until(lambda: len(webhook.posts) >= 3, timeout=5)
    finally:
        run.stop()
    first, reminder, second = webhook.posts[:3]
    assert (
        reminder["title"] == "[ShopGuard] STILL DOWN: shop / checkout"
        and "Still failing: HTTP 503" in reminder["message"]
    )
    assert first["title"] == "[ShopGuard] DOWN: shop / checkout"
    assert "HTTP 503 (expected 200)" in first["message"] and "Severity: critical" in first["message"]
    assert first["type"] == "failure"
    assert second["title"].startswith("[ShopGuard] RECOVERED") and second["type"] == "success"


def test_checkout_content_change_is_alerted_once(target, smtp, db):
    box, port = smtp
    cfg = make_config(
        target.url,
        [{"kind": "http", "name": "checkout", "url": target.url, "interval_s": 0.1, "watch_content": True}],
        alerts=[{"name": "mail", "url": {"value": mail_url(port)}, "min_severity": "high"}],
    )
    run = Running(Daemon(cfg, db, flush_interval=0.1))
    try:
        wait_until(lambda: run.daemon.checks_done >= 3)
        target.body = b'<html>Welcome<script src="https://evil.example/skim.js"></script></html>'
        msg = box.wait_for(lambda m: "CHANGED: shop / checkout" in m, timeout=5)
        wait_until(lambda: run.daemon.checks_done >= 10)
    finally:
        run.stop()
    assert "page content changed" in msg
    assert len(box.messages) == 1


def test_alert_stored_but_not_sent_before_a_crash_goes_out_once(target, smtp, db):
    from datetime import UTC, datetime

    box, port = smtp
    cfg = make_config(
        target.url,
        [{"kind": "http", "name": "front", "url": target.url, "interval_s": 0.2}],
        alerts=[{"name": "mail", "url": {"value": mail_url(port)}, "min_severity": "low"}],
    )
    # what a crash between "outbox committed" and "sent" leaves behind
    with db.begin() as s:
        s.add(
            MonitorAlertRecord(
                id="a" * 24,
                key="shop/front",
                store="shop",
                monitor="front",
                event="down",
                severity="high",
                cause="HTTP 502 (expected 200)",
                created_at=datetime.now(UTC),
                delivered=[],
                failed=[],
                payload={},
            )
        )
    for _ in range(2):  # a second restart must not send it again
        daemon = Daemon(cfg, db, flush_interval=0.1)
        run = Running(daemon)
        try:
            box.wait_for(lambda m: "DOWN: shop / front" in m, timeout=5)
            wait_until(lambda d=daemon: d.checks_done >= 2)
        finally:
            run.stop()
    assert len(box.messages) == 1 and "HTTP 502" in box.messages[0]
    with db() as s:
        row = s.get(MonitorAlertRecord, "a" * 24)
    assert row is not None and row.sent_at is not None and row.delivered == ["mail"]


def test_page_change_while_the_daemon_was_stopped_is_seen(target, smtp, db):
    box, port = smtp
    cfg = make_config(
        target.url,
        [{"kind": "http", "name": "checkout", "url": target.url, "interval_s": 0.1, "watch_scripts": True}],
        alerts=[{"name": "mail", "url": {"value": mail_url(port)}, "min_severity": "high"}],
    )
    first = Daemon(cfg, db, flush_interval=0.1)
    run = Running(first)
    try:
        wait_until(lambda: first.checks_done >= 3)
    finally:
        run.stop()
    target.body = b'<html>Welcome<script src="https://evil.example/skim.js"></script></html>'
    second = Daemon(cfg, db, flush_interval=0.1)
    run = Running(second)
    try:
        msg = box.wait_for(lambda m: "CHANGED: shop / checkout" in m, timeout=5)
    finally:
        run.stop()
    assert "scripts, frames or form targets changed" in msg
