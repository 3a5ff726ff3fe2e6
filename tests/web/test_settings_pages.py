"""Settings: stores, and alert channels whose URLs are stored encrypted and tested for real
against an aiosmtpd SMTP server and a webhook receiver started on loopback by the test."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from aiosmtpd.controller import Controller
from sgmon_support import Mailbox, Webhook, free_port, mail_url
from sqlalchemy import select

from shopguard.config import parse_config
from shopguard.web.app import create_app
from shopguard.web.models import AuditEvent, StoredSecret, WebAlertChannel
from shopguard.web.permissions import Role
from shopguard.web.settings import WebSettings
from shopguard.web.vault import Vault

from .conftest import ROLE_EMAIL, Env


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    ctl = Controller(box, hostname="127.0.0.1", port=port)
    ctl.start()
    yield box, port
    ctl.stop()


@pytest.fixture
def hook() -> Iterator[Webhook]:
    w = Webhook()
    yield w
    w.close()


def _add(env: Env, name: str, url: str, severity: str = "high", role: Role = Role.OWNER) -> httpx.Response:
    c, csrf = env.session_client(ROLE_EMAIL[role])
    return c.post(
        "/settings/channels", data={"csrf_token": csrf, "name": name, "url": url, "min_severity": severity}
    )


def _test(env: Env, name: str) -> httpx.Response:
    c, csrf = env.session_client(ROLE_EMAIL[Role.ADMIN])
    return c.post("/settings/channels/test", data={"csrf_token": csrf, "name": name})


def test_stores_page_lists_the_config_for_owners_and_admins_only(env: Env) -> None:
    for role in (Role.OWNER, Role.ADMIN):
        c, _ = env.session_client(ROLE_EMAIL[role])
        r = c.get("/settings/stores")
        assert r.status_code == 200
        assert "https://alpha.example/" in r.text and "magento" in r.text
        assert 'href="/settings/channels"' in r.text  # in the navigation
    for role in (Role.ANALYST, Role.AUDITOR, Role.EMPLOYEE):
        c, _ = env.session_client(ROLE_EMAIL[role])
        assert c.get("/settings/stores").status_code == 403
        assert c.get("/settings/channels").status_code == 403
        assert 'href="/settings/channels"' not in c.get("/account").text


def test_added_channel_is_encrypted_never_shown_and_sends_a_real_email(
    env: Env, smtp: tuple[Mailbox, int]
) -> None:
    box, port = smtp
    url = mail_url(port)
    r = _add(env, "owner-mail", url, "medium")
    assert r.status_code == 303
    with env.db() as s:
        row = s.scalar(select(WebAlertChannel).where(WebAlertChannel.name == "owner-mail"))
        secret = s.scalar(select(StoredSecret).where(StoredSecret.name == "alerts.owner-mail"))
        assert row is not None and secret is not None
        assert row.kind == "mailto" and row.min_severity == "medium"
        assert url not in secret.ciphertext and "127.0.0.1" not in secret.ciphertext
        assert Vault(env.key).decrypt(secret.ciphertext) == url
        audit = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "channel.add")))
    assert len(audit) == 1 and url not in str(audit[0].data) and audit[0].target == "owner-mail"
    c, _ = env.session_client(ROLE_EMAIL[Role.OWNER])
    page = c.get("/settings/channels").text
    row_html = re.search(r'<tr id="channel-owner-mail">(.*?)</tr>', page, re.S)
    assert row_html is not None and "mailto" in row_html.group(1) and "••••" + url[-4:] in row_html.group(1)
    assert url not in page and str(port) not in page

    sent = _test(env, "owner-mail")
    assert sent.status_code == 200, sent.text
    assert "Test message sent through owner-mail" in sent.text
    mail = box.wait_for(lambda m: "TEST" in m)
    assert "[ShopGuard] TEST" in mail and "sent from the ShopGuard dashboard by admin@shop.example" in mail
    assert "To: owner@example.test" in mail
    with env.db() as s:
        row = s.scalar(select(WebAlertChannel).where(WebAlertChannel.name == "owner-mail"))
        assert row is not None and row.last_test_ok is True and row.last_test_at is not None
        (ev,) = s.scalars(select(AuditEvent).where(AuditEvent.action == "channel.test"))
    assert ev.data["delivered"] is True


def test_webhook_channel_with_password_test_and_no_echo(env: Env, hook: Webhook) -> None:
    password = "Wh-S3cret-Token-9931"
    url = f"json://shopguard:{password}@127.0.0.1:{hook.port}/alerts"
    assert _add(env, "hook", url).status_code == 303
    r = _test(env, "hook")
    assert r.status_code == 200
    assert password not in r.text
    assert len(hook.posts) == 1
    post = hook.posts[0]
    assert "TEST" in post["title"] and "If you read it, the channel works." in post["message"]


def test_bad_channel_values_are_marked_and_nothing_saved(env: Env, smtp: tuple[Mailbox, int]) -> None:
    _, port = smtp
    cases = [
        ("bad name!", mail_url(port), "high", "name"),
        ("ok-name", "not a url", "high", "url"),
        ("ok-name", "nosuchservice://token@host", "high", "url"),
        ("ok-name", mail_url(port), "catastrophic", "min_severity"),
    ]
    for name, url, sev, field in cases:
        r = _add(env, name, url, sev)
        assert r.status_code == 400, (name, url)
        text = r.text
        assert re.search(rf'name="{field}"[^>]*aria-invalid="true"', text), field
        assert url not in text or url == "not a url"  # the secret is not echoed back
    with env.db() as s:
        assert s.scalar(select(WebAlertChannel.id)) is None and s.scalar(select(StoredSecret.id)) is None
    assert _add(env, "dup", mail_url(port)).status_code == 303
    again = _add(env, "dup", mail_url(port))
    assert again.status_code == 400 and "exists already" in again.text
    # Analysts cannot add channels.
    assert _add(env, "x", mail_url(port), role=Role.ANALYST).status_code == 403


def test_failed_delivery_is_reported_by_name(env: Env) -> None:
    dead = free_port()  # nothing listens there
    url = f"json://shopguard:Another-Secret-777@127.0.0.1:{dead}/x"
    assert _add(env, "broken", url).status_code == 303
    r = _test(env, "broken")
    assert r.status_code == 502
    text = r.text
    assert "The test through broken failed: broken: delivery failed" in text
    assert "Another-Secret-777" not in text
    with env.db() as s:
        row = s.scalar(select(WebAlertChannel).where(WebAlertChannel.name == "broken"))
        assert row is not None and row.last_test_ok is False
    assert _test(env, "nobody").status_code == 404


def test_channels_from_shopguard_toml_are_listed_and_testable(
    env: Env, smtp: tuple[Mailbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    box, port = smtp
    monkeypatch.setenv("SG_TEST_ALERT_URL", mail_url(port))
    config = parse_config(
        {
            "stores": [{"name": "alpha", "storefront_url": "https://alpha.example"}],
            "alerts": [{"name": "ops", "url": {"env": "SG_TEST_ALERT_URL"}, "min_severity": "critical"}],
        }
    )
    env.app = create_app(env.db, WebSettings(), config, key=env.key)
    c, _ = env.session_client(ROLE_EMAIL[Role.OWNER])
    page = c.get("/settings/channels").text
    row = re.search(r'<tr id="channel-ops">(.*?)</tr>', page, re.S)
    assert row is not None and "env SG_TEST_ALERT_URL" in row.group(1) and "critical" in row.group(1)
    # A dashboard channel cannot take a name shopguard.toml already uses.
    assert _add(env, "ops", mail_url(port)).status_code == 400
    r = _test(env, "ops")
    assert r.status_code == 200 and "Test message sent through ops" in r.text
    assert "of store alpha" in box.wait_for(lambda m: "TEST" in m)


def test_the_monitoring_daemon_gets_dashboard_channels(env: Env, smtp: tuple[Mailbox, int]) -> None:
    """`shopguard monitor` adds the dashboard's channels to shopguard.toml's before routing alerts."""
    from shopguard.monitoring.channels import route, send
    from shopguard.web.channels import with_dashboard_channels

    box, port = smtp
    assert with_dashboard_channels(env.config, env.db, env.key) is env.config  # none yet: unchanged
    assert _add(env, "pager", mail_url(port), "high").status_code == 303
    cfg = with_dashboard_channels(env.config, env.db, env.key)
    assert [c.name for c in cfg.alerts] == ["pager"]
    assert route(cfg.alerts, "medium") == [] and [c.name for c in route(cfg.alerts, "critical")] == ["pager"]
    result = send(
        route(cfg.alerts, "critical"), "[ShopGuard] DOWN: alpha / home", "DOWN: home of store alpha"
    )
    assert result.delivered == ("pager",)
    assert "DOWN: home of store alpha" in box.wait_for(lambda m: "DOWN" in m)


def _delete(
    env: Env, name: str, role: Role = Role.ADMIN, confirm: str = "yes", csrf: bool = True
) -> httpx.Response:
    c, token = env.session_client(ROLE_EMAIL[role])
    data = {"name": name, "confirm": confirm}
    if csrf:
        data["csrf_token"] = token
    return c.post("/settings/channels/delete", data=data)


def test_deleting_a_channel_confirms_removes_its_secret_and_is_audited(env: Env, hook: Webhook) -> None:
    url = f"json://shopguard:Delete-Me-Token-4242@127.0.0.1:{hook.port}/alerts"
    assert _add(env, "old-hook", url).status_code == 303
    assert _add(env, "keep-hook", url.replace("4242", "5353")).status_code == 303
    owner, _ = env.session_client(ROLE_EMAIL[Role.OWNER])
    listing = owner.get("/settings/channels").text
    assert 'href="/settings/channels/delete?name=old-hook"' in listing
    # The confirm step names the channel and posts with the CSRF token; nothing is deleted yet.
    confirm = owner.get("/settings/channels/delete", params={"name": "old-hook"})
    assert confirm.status_code == 200
    assert 'action="/settings/channels/delete"' in confirm.text and 'name="csrf_token"' in confirm.text
    assert "Delete-Me-Token-4242" not in confirm.text and "••••" in confirm.text
    # Without the box ticked: the form comes back marked, nothing removed.
    r = _delete(env, "old-hook", confirm="")
    assert r.status_code == 400 and 'aria-invalid="true"' in r.text
    # Without the CSRF token, or as an analyst or auditor: refused.
    assert _delete(env, "old-hook", csrf=False).status_code == 403
    for role in (Role.ANALYST, Role.AUDITOR, Role.EMPLOYEE):
        assert _delete(env, "old-hook", role=role).status_code == 403
        c, _ = env.session_client(ROLE_EMAIL[role])
        assert c.get("/settings/channels/delete", params={"name": "old-hook"}).status_code == 403
    with env.db() as s:
        assert s.scalar(select(WebAlertChannel).where(WebAlertChannel.name == "old-hook")) is not None
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "channel.delete")) is None

    r = _delete(env, "old-hook")
    assert r.status_code == 303 and r.headers["location"] == "/settings/channels?deleted=old-hook"
    with env.db() as s:
        assert s.scalar(select(WebAlertChannel).where(WebAlertChannel.name == "old-hook")) is None
        assert s.scalar(select(StoredSecret).where(StoredSecret.name == "alerts.old-hook")) is None
        assert s.scalar(select(StoredSecret).where(StoredSecret.name == "alerts.keep-hook")) is not None
        (ev,) = s.scalars(select(AuditEvent).where(AuditEvent.action == "channel.delete"))
        assert ev.actor == ROLE_EMAIL[Role.ADMIN] and ev.target == "old-hook" and ev.data["kind"] == "json"
        assert "Delete-Me-Token-4242" not in str(ev.data)
    page = owner.get("/settings/channels?deleted=old-hook").text
    assert "Channel old-hook deleted" in page and 'id="channel-old-hook"' not in page
    assert 'id="channel-keep-hook"' in page
    # The daemon no longer gets it; the test button no longer finds it; deleting twice is a 404.
    from shopguard.web.channels import with_dashboard_channels

    assert [c.name for c in with_dashboard_channels(env.config, env.db, env.key).alerts] == ["keep-hook"]
    assert _test(env, "old-hook").status_code == 404
    assert _delete(env, "old-hook").status_code == 404


def test_a_channel_of_shopguard_toml_cannot_be_deleted_here(
    env: Env, smtp: tuple[Mailbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, port = smtp
    monkeypatch.setenv("SG_TEST_ALERT_URL", mail_url(port))
    config = parse_config(
        {
            "stores": [{"name": "alpha", "storefront_url": "https://alpha.example"}],
            "alerts": [{"name": "ops", "url": {"env": "SG_TEST_ALERT_URL"}}],
        }
    )
    env.app = create_app(env.db, WebSettings(), config, key=env.key)
    c, _ = env.session_client(ROLE_EMAIL[Role.OWNER])
    assert "/settings/channels/delete?name=ops" not in c.get("/settings/channels").text
    assert c.get("/settings/channels/delete", params={"name": "ops"}).status_code == 400
    r = _delete(env, "ops", role=Role.OWNER)
    assert r.status_code == 400 and "shopguard.toml" in r.text
