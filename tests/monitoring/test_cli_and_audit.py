"""`shopguard monitor --install-service/--status`, `shopguard alerts test`, the audit check,
scheduled audits."""

from __future__ import annotations

from pathlib import Path

from sgmon_support import Running, free_port, make_config, wait_until
from sqlalchemy import select
from typer.testing import CliRunner

from shopguard.audit import run_audit
from shopguard.cli.app import app
from shopguard.config import AlertChannel, parse_config
from shopguard.db.models import RunRecord
from shopguard.findings import Severity
from shopguard.monitoring.engine import Daemon

runner = CliRunner()


def _toml(tmp: Path, url: str, mail: str) -> Path:
    p = tmp / "shopguard.toml"
    p.write_text(
        f"""
[[alerts]]
name = "ops-mail"
url = {{ env = "SG_CLI_MAIL" }}

[[alerts]]
name = "broken"
url = {{ env = "SG_CLI_BROKEN" }}

[[stores]]
name = "shop"
storefront_url = "{url}"

[stores.monitors]
use_defaults = false

[[stores.monitors.monitors]]
kind = "http"
name = "front"
url = "{url}"
interval_s = 0.1
""",
        encoding="utf-8",
    )
    return p


def test_alerts_test_delivers_and_reports_failures_without_the_url(tmp_path, smtp, target):
    box, port = smtp
    mail = f"mailto://127.0.0.1:{port}?from=sg@example.test&to=owner@example.test&mode=insecure"
    broken = (
        f"mailto://user:hunter2@127.0.0.1:{free_port()}?from=sg@example.test&to=o@example.test&mode=insecure"
    )
    cfg = _toml(tmp_path, target.url, mail)
    env = {"SG_CLI_MAIL": mail, "SG_CLI_BROKEN": broken}
    ok = runner.invoke(app, ["alerts", "test", "ops-mail", "--config", str(cfg)], env=env)
    assert ok.exit_code == 0, ok.output
    msg = box.wait_for(lambda m: "TEST" in m)
    assert "Subject: [ShopGuard] TEST: shop / test" in msg and "the channel works" in msg
    bad = runner.invoke(app, ["alerts", "test", "broken", "--config", str(cfg)], env=env)
    assert bad.exit_code == 3 and "could not deliver through broken" in bad.output
    assert "hunter2" not in bad.output and broken not in bad.output
    missing = runner.invoke(app, ["alerts", "test", "pager", "--config", str(cfg)], env=env)
    assert missing.exit_code == 2 and "ops-mail, broken" in missing.output


def test_install_service_and_status(tmp_path, target):
    cfg = _toml(tmp_path, target.url, "")
    unit = tmp_path / "shopguard-monitor.service"
    dburl = f"sqlite:///{tmp_path / 'sg.db'}"
    res = runner.invoke(app, ["monitor", "--config", str(cfg), "--db", dburl, "--install-service", str(unit)])
    assert res.exit_code == 0, res.output
    text = unit.read_text()
    assert "[Service]" in text and "Restart=always" in text and "WantedBy=multi-user.target" in text
    assert f"monitor --config {cfg.resolve()}" in text and "--listen 127.0.0.1:9464" in text
    from shopguard.db import open_database

    db = open_database(dburl)
    config = parse_config(
        {
            "stores": [
                {
                    "name": "shop",
                    "storefront_url": target.url,
                    "monitors": {
                        "use_defaults": False,
                        "monitors": [{"kind": "http", "name": "front", "url": target.url, "interval_s": 0.1}],
                    },
                }
            ]
        }
    )
    run = Running(Daemon(config, db, flush_interval=0.1))
    wait_until(lambda: run.daemon.checks_done >= 3)
    run.stop()
    st = runner.invoke(app, ["monitor", "--config", str(cfg), "--db", dburl, "--status"])
    assert st.exit_code == 0, st.output
    assert "shop/front" in st.output and "100.00%" in st.output


def test_audit_reports_no_monitoring_then_reflects_the_daemon(db, target):
    cfg = make_config(
        target.url,
        [
            {"kind": "http", "name": "front", "url": target.url, "interval_s": 0.1},
            {
                "kind": "tcp",
                "name": "smtp",
                "host": "127.0.0.1",
                "port": free_port(),
                "interval_s": 0.1,
                "severity": "medium",
            },
        ],
    )
    first = run_audit(cfg, list(cfg.stores), db, selectors=["monitoring"])
    assert sorted((f.finding.check_id, f.finding.severity) for f in first.findings) == [
        ("monitoring.status.no-alert-channel", Severity.MEDIUM),
        ("monitoring.status.not-running", Severity.HIGH),
    ]
    cfg = cfg.model_copy(update={"alerts": (AlertChannel(name="mail", url={"env": "SG_UNUSED_MAIL"}),)})
    run = Running(Daemon(cfg, db, flush_interval=0.1))
    try:
        wait_until(lambda: run.daemon.monitors["shop/smtp"].state.status == "down")
        wait_until(lambda: run.daemon.writer.committed >= run.daemon.writer.generation)
    finally:
        run.stop()
    second = run_audit(cfg, list(cfg.stores), db, selectors=["monitoring"])
    found = {f.finding.check_id: f for f in second.findings if f.counts_as_open}
    assert set(found) == {"monitoring.status.down"}
    assert found["monitoring.status.down"].finding.severity is Severity.MEDIUM
    assert "127.0.0.1" in found["monitoring.status.down"].finding.location
    off = parse_config(
        {"stores": [{"name": "shop", "storefront_url": target.url, "monitors": {"enabled": False}}]}
    )
    third = run_audit(off, list(off.stores), db, selectors=["monitoring"])
    assert [f.finding.check_id for f in third.findings if f.counts_as_open] == ["monitoring.status.disabled"]


def test_scheduled_audit_runs_through_the_runner(db, target):
    closed = free_port()
    cfg = make_config(
        target.url,
        [
            {
                "kind": "tcp",
                "name": "api",
                "host": "127.0.0.1",
                "port": closed,
                "interval_s": 0.1,
                "severity": "high",
            },
            {
                "kind": "audit",
                "name": "nightly-scan",
                "selectors": ["monitoring"],
                "interval_s": 1.0,
                "alert_on": "high",
            },
            {"kind": "audit", "name": "typo", "selectors": ["scanning.nonexistent"], "interval_s": 1.0},
        ],
        alerting={"confirm": 1, "reminder_s": 0},
    )
    run = Running(Daemon(cfg, db, flush_interval=0.1))
    try:
        wait_until(lambda: run.daemon.monitors["shop/nightly-scan"].state.status == "down", timeout=15)
        wait_until(lambda: run.daemon.monitors["shop/typo"].state.status == "config_error", timeout=15)
    finally:
        run.stop()
    st = run.daemon.monitors["shop/nightly-scan"].state
    assert "open finding(s) at high or above" in st.last_message and "api is down" in st.last_message
    assert "matches no check" in run.daemon.monitors["shop/typo"].state.last_message
    with db() as s:
        kinds = [r.kind for r in s.scalars(select(RunRecord))]
    assert "monitor" in kinds


def test_monitor_reports_a_busy_listen_port(tmp_path, target):
    import socket

    cfg = _toml(tmp_path, target.url, "")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        res = runner.invoke(
            app,
            [
                "monitor",
                "--config",
                str(cfg),
                "--db",
                f"sqlite:///{tmp_path / 'sg.db'}",
                "--listen",
                f"127.0.0.1:{port}",
            ],
            env={"SG_CLI_MAIL": "json://127.0.0.1:1/", "SG_CLI_BROKEN": "json://127.0.0.1:1/"},
        )
    assert res.exit_code == 2 and "change it with --listen" in res.output
    bad = runner.invoke(app, ["monitor", "--config", str(cfg), "--listen", "nonsense"])
    assert bad.exit_code == 2 and "expected HOST:PORT" in bad.output
