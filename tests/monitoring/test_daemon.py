"""The daemon as a whole: dependencies, maintenance, config errors, heartbeats, metrics, clock jumps."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
from sgmon_support import Running, free_port, mail_url, make_config, wait_until
from sqlalchemy import func, select

from shopguard.audit import run_audit
from shopguard.monitoring.engine import Daemon
from shopguard.monitoring.models import MonitorIncidentRecord, MonitorResultRecord, MonitorStateRecord
from shopguard.monitoring.stats import uptime


def test_host_down_suppresses_its_sites(target, smtp, db):
    box, port = smtp
    cfg = make_config(
        target.url,
        [
            {
                "kind": "tcp",
                "name": "host",
                "host": "127.0.0.1",
                "port": target.port,
                "interval_s": 0.1,
                "severity": "critical",
            },
            {"kind": "http", "name": "front", "url": target.url, "interval_s": 0.1, "depends_on": ["host"]},
            {
                "kind": "http",
                "name": "checkout",
                "url": target.url + "checkout",
                "interval_s": 0.1,
                "depends_on": ["host"],
            },
        ],
        alerts=[{"name": "mail", "url": {"value": mail_url(port)}, "min_severity": "low"}],
        alerting={"confirm": 2, "reminder_s": 0},
    )
    run = Running(Daemon(cfg, db, flush_interval=0.1))
    try:
        wait_until(lambda: run.daemon.checks_done >= 9)
        target.stop()
        box.wait_for(lambda m: "DOWN: shop / host" in m)
        wait_until(
            lambda: all(
                run.daemon.monitors[k].state.status == "down" for k in ("shop/front", "shop/checkout")
            )
        )
        time.sleep(0.5)
        target.start()
        box.wait_for(lambda m: "RECOVERED: shop / host" in m)
        wait_until(lambda: all(m.state.status == "up" for m in run.daemon.monitors.values()))
        time.sleep(0.3)
    finally:
        run.stop()
    subjects = [m.splitlines()[0] for m in box.messages]
    assert subjects == [
        "Subject: [ShopGuard] DOWN: shop / host",
        "Subject: [ShopGuard] RECOVERED: shop / host",
    ]
    with db() as s:
        inc = {i.monitor: i for i in s.scalars(select(MonitorIncidentRecord))}
    assert set(inc) == {"host", "front", "checkout"}
    assert inc["front"].suppressed.startswith("dependency") and inc["host"].suppressed == ""


def test_maintenance_window_holds_alerts_and_is_left_out_of_uptime(target, smtp, db):
    box, port = smtp
    now = datetime.now(UTC)
    cfg = make_config(
        target.url,
        [{"kind": "http", "name": "front", "url": target.url, "interval_s": 0.1}],
        alerts=[{"name": "mail", "url": {"value": mail_url(port)}}],
        alerting={"confirm": 2, "reminder_s": 0},
        maintenance=[
            {
                "start": (now - timedelta(minutes=1)).isoformat(),
                "end": (now + timedelta(hours=1)).isoformat(),
                "reason": "PHP upgrade",
            }
        ],
    )
    run = Running(Daemon(cfg, db, flush_interval=0.1))
    try:
        target.stop()
        wait_until(lambda: run.daemon.monitors["shop/front"].state.status == "down")
        time.sleep(0.5)
    finally:
        run.stop()
    assert box.messages == []
    with db() as s:
        inc = s.scalars(select(MonitorIncidentRecord)).one()
        n_maint = s.scalar(select(func.count()).where(MonitorResultRecord.maintenance.is_(True)))
    assert inc.suppressed == "maintenance: PHP upgrade"
    assert n_maint >= 2
    assert uptime(db, "shop/front", "24h").total == 0  # maintenance is not downtime


def test_bad_monitor_config_reports_error_and_others_run(target, db):
    cfg = make_config(
        target.url,
        [
            {"kind": "http", "name": "front", "url": target.url, "interval_s": 0.1},
            {"kind": "http", "name": "orphan", "url": target.url, "interval_s": 0.1, "depends_on": ["nope"]},
            {
                "kind": "mysql",
                "name": "db",
                "dsn": "mysql://root@127.0.0.1:3306/test",
                "interval_s": 0.1,
                "password": {"env": "SG_UNSET_PASSWORD_VAR"},
            },
            {
                "kind": "postgres",
                "name": "pgwrong",
                "dsn": "mysql://root@127.0.0.1:3306/test",
                "interval_s": 0.1,
            },
            {
                "kind": "dns",
                "name": "dns-dead",
                "record": "shop.test",
                "nameserver": "127.0.0.1",
                "nameserver_port": free_port(),
                "timeout_s": 0.3,
                "interval_s": 0.1,
                "confirm": 1,
            },
        ],
    )
    run = Running(Daemon(cfg, db, flush_interval=0.1))
    try:
        wait_until(
            lambda: (
                run.daemon.monitors["shop/front"].state.oks >= 3
                and run.daemon.monitors["shop/pgwrong"].state.last_check_at is not None
                and run.daemon.monitors["shop/dns-dead"].state.status == "down"
            )
        )
        time.sleep(0.3)
    finally:
        run.stop()
    with db() as s:
        states = {r.name: r for r in s.scalars(select(MonitorStateRecord))}
    assert states["front"].status == "up"
    assert states["dns-dead"].status == "down"  # a DNS failure is the target's problem, not a config error
    assert (
        states["orphan"].status == "config_error"
        and "depends_on names unknown monitor(s): nope" in states["orphan"].last_message
    )
    assert (
        states["db"].status == "config_error"
        and "SG_UNSET_PASSWORD_VAR is not set" in states["db"].last_message
    )
    assert (
        states["pgwrong"].status == "config_error"
        and "expected postgresql://" in states["pgwrong"].last_message
    )
    stored = run_audit(cfg, list(cfg.stores), db, selectors=["monitoring"])
    ids = sorted(f.finding.check_id for f in stored.findings)
    assert ids == ["monitoring.status.config-error"] * 3 + [
        "monitoring.status.down",
        "monitoring.status.no-alert-channel",
    ]
    assert stored.check_errors == 0


def test_heartbeat_push_token_metrics_and_missing_beat(target, smtp, db):
    box, port = smtp
    cfg = make_config(
        target.url,
        [
            {
                "kind": "heartbeat",
                "name": "backup",
                "period_s": 0.6,
                "grace_s": 0.2,
                "interval_s": 0.1,
                "token": {"value": "s3cret-tok"},
            },
            {"kind": "http", "name": "front", "url": target.url, "interval_s": 0.1},
        ],
        alerts=[{"name": "mail", "url": {"value": mail_url(port)}}],
        alerting={"confirm": 1, "reminder_s": 0},
    )
    run = Running(Daemon(cfg, db, flush_interval=0.1, listen=("127.0.0.1", 0)))
    base = f"http://127.0.0.1:{run.daemon.bound_port}"
    try:
        assert httpx.get(f"{base}/beat/shop/backup").status_code == 403
        assert httpx.get(f"{base}/beat/shop/backup?token=wrong").status_code == 403
        assert httpx.get(f"{base}/beat/shop/nope?token=x").status_code == 404
        for _ in range(4):  # the cron job keeps calling: no alert
            assert httpx.post(f"{base}/beat/shop/backup?token=s3cret-tok").status_code == 200
            time.sleep(0.3)
        assert box.messages == []
        down = box.wait_for(lambda m: "DOWN: shop / backup" in m, timeout=5)
        assert "last heartbeat" in down
        assert httpx.get(f"{base}/beat/shop/backup?token=s3cret-tok").status_code == 200
        box.wait_for(lambda m: "RECOVERED: shop / backup" in m, timeout=5)
        metrics = httpx.get(f"{base}/metrics").text
        assert 'shopguard_monitor_up{kind="http",monitor="front",store="shop"} 1.0' in metrics
        assert "shopguard_scheduler_lateness_seconds_bucket" in metrics
        assert httpx.get(f"{base}/healthz").json()["monitors"] == 2
    finally:
        run.stop()
    with db() as s:
        st = s.get(MonitorStateRecord, "shop/backup")
    assert st is not None and st.last_beat_at is not None


def test_clock_jump_does_not_fake_a_missed_heartbeat(target, smtp, db):
    box, port = smtp
    offset = [0.0]
    cfg = make_config(
        target.url,
        [
            {"kind": "heartbeat", "name": "backup", "period_s": 5, "grace_s": 1, "interval_s": 0.1},
            {"kind": "http", "name": "front", "url": target.url, "interval_s": 0.1},
        ],
        alerts=[{"name": "mail", "url": {"value": mail_url(port)}}],
        alerting={"confirm": 1, "reminder_s": 0},
    )
    daemon = Daemon(
        cfg, db, flush_interval=0.1, listen=("127.0.0.1", 0), wall=lambda: time.time() + offset[0]
    )
    run = Running(daemon)
    try:
        assert httpx.get(f"http://127.0.0.1:{daemon.bound_port}/beat/shop/backup").status_code == 200
        before = daemon.checks_done
        offset[0] = 7200.0  # the system clock leaps two hours ahead
        wait_until(lambda: daemon.clock_jumps, timeout=5)
        time.sleep(1.0)
        after = daemon.checks_done
        offset[0] = -3600.0  # and back behind
        wait_until(lambda: len(daemon.clock_jumps) == 2, timeout=5)
        time.sleep(0.5)
        assert daemon.monitors["shop/backup"].state.status == "up"
    finally:
        run.stop()
    assert box.messages == []
    assert 5 <= (after - before) <= 40  # ~2 monitors x 10/s for ~1.x s: schedule unaffected
    assert abs(daemon.clock_jumps[0] - 7200) < 5 and abs(daemon.clock_jumps[1] + 10800) < 5
    with db() as s:
        last = s.scalar(select(MonitorResultRecord.at).order_by(MonitorResultRecord.id.desc()).limit(1))
    assert abs(last.timestamp() - (time.time() - 3600)) < 30  # timestamps follow the corrected clock


def test_unreachable_rdap_is_skipped_not_down(target, db):
    cfg = make_config(
        target.url,
        [
            {
                "kind": "domain",
                "name": "domain",
                "domain": "example.com",
                "rdap_base": f"http://127.0.0.1:{free_port()}/",
                "interval_s": 0.2,
            }
        ],
    )
    run = Running(Daemon(cfg, db, flush_interval=0.1))
    try:
        wait_until(lambda: run.daemon.monitors["shop/domain"].state.last_check_at is not None)
    finally:
        run.stop()
    st = run.daemon.monitors["shop/domain"].state
    assert st.status == "skipped" and "RDAP service" in st.last_message


def test_hung_target_never_delays_the_others(target, db):
    from sgmon_support import Target

    hung = Target()
    hung.delay = 5.0
    hung.start()
    try:
        cfg = make_config(
            target.url,
            [
                {"kind": "http", "name": "hung", "url": hung.url, "interval_s": 0.2, "timeout_s": 0.5},
                {"kind": "http", "name": "fine", "url": target.url, "interval_s": 0.1},
            ],
        )
        daemon = Daemon(cfg, db, flush_interval=0.1)
        run = Running(daemon)
        try:
            time.sleep(2.0)
        finally:
            run.stop()
    finally:
        hung.stop()
    fine = daemon.monitors["shop/fine"].state
    assert fine.status == "up" and fine.oks >= 15  # ~20 expected in 2 s
    h = daemon.monitors["shop/hung"].state
    assert h.status == "down" and "no answer within the timeout" in h.last_message
    assert daemon.monitors["shop/hung"].skipped >= 1  # a start that came while the last was still waiting
    lat = sorted(daemon.lateness)
    assert lat[int(len(lat) * 0.95)] < 0.1
