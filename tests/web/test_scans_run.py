"""Start a run from the Scans page: a real audit in a background thread against a loopback
site, or a real task on RabbitMQ when the config has a [cluster] section."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from shopguard.config import Config, parse_config
from shopguard.db.models import RunRecord
from shopguard.db.repository import begin_run, finish_run
from shopguard.web.app import create_app
from shopguard.web.models import AuditEvent
from shopguard.web.permissions import Role
from shopguard.web.settings import WebSettings

from .conftest import ROLE_EMAIL, SCOPED_EMAIL, Env
from .monitoring_support import Site, site_config

ANALYST = ROLE_EMAIL[Role.ANALYST]


@pytest.fixture
def site() -> Iterator[Site]:
    s = Site()
    yield s
    s.close()


def _with_config(env: Env, config: Config) -> Env:
    return dataclasses.replace(env, app=create_app(env.db, WebSettings(), config, key=env.key), config=config)


def _wait_status(client: object, store: str, want: str, timeout: float = 90.0) -> str:
    end = time.monotonic() + timeout
    html = ""
    while time.monotonic() < end:
        html = client.get("/scans/launches").text  # type: ignore[attr-defined]
        if f'data-store="{store}" data-status="{want}"' in html:
            return html
        time.sleep(0.3)
    raise AssertionError(f"the run of {store} did not reach {want}: {html[:2000]}")


def test_analyst_starts_a_run_that_audits_the_store_in_the_background(env: Env, site: Site) -> None:
    e = _with_config(env, site_config(site.url))
    client, csrf = e.session_client(ANALYST)
    page = client.get("/runs")
    assert 'action="/scans/start"' in page.text
    r = client.post(
        "/scans/start", data={"csrf_token": csrf, "store": "alpha", "checks": "scanning.web.headers"}
    )
    assert r.status_code == 303 and r.headers["location"] == "/runs#launches"
    running = client.get("/runs").text
    assert 'hx-get="/scans/launches"' in running or 'data-status="finished"' in running
    html = _wait_status(client, "alpha", "finished")
    assert 'hx-trigger="every 2s"' not in html  # polling stops once nothing is running
    with e.db() as s:
        run = s.scalars(select(RunRecord).where(RunRecord.stores == "alpha")).one()
        actions = [(a.action, a.target) for a in s.scalars(select(AuditEvent))]
    assert run.status == "finished" and run.selector == "scanning.web.headers"
    assert f'href="/runs/{run.id}"' in html and "finding(s)" in html
    assert site.hits >= 1  # the check really fetched the store
    assert ("run.start", "alpha") in actions
    assert f'<a href="/runs/{run.id}">#{run.id}</a>' in client.get("/runs").text


def test_a_second_run_of_the_same_store_is_refused_while_one_is_going(env: Env) -> None:
    slow = Site(delay=1.5)
    try:
        e = _with_config(env, site_config(slow.url))
        client, csrf = e.session_client(ROLE_EMAIL[Role.OWNER])
        form = {"csrf_token": csrf, "store": "alpha", "checks": "scanning.web.headers"}
        assert client.post("/scans/start", data=form).status_code == 303
        again = client.post("/scans/start", data=form)
        assert again.status_code == 409
        assert "alpha is already being audited" in again.text and 'id="run-error"' in again.text
        e.app.state.launcher.join(90)
        _wait_status(client, "alpha", "finished", 5)
    finally:
        slow.close()
    # A run recorded by another live process (here: this one, outside the dashboard) blocks too.
    other = begin_run(e.db, ["alpha"], "all")
    blocked = client.post("/scans/start", data=form)
    assert blocked.status_code == 409 and f"already being audited by run #{other}" in blocked.text
    finish_run(e.db, other)
    with e.db() as s:
        starts = [a for a in s.scalars(select(AuditEvent)) if a.action == "run.start"]
    assert len(starts) == 1


def test_bad_starts_are_refused_with_a_message(env: Env, site: Site) -> None:
    e = _with_config(env, site_config(site.url))
    client, csrf = e.session_client(ROLE_EMAIL[Role.ADMIN])
    r = client.post("/scans/start", data={"csrf_token": csrf, "store": "nowhere"})
    assert r.status_code == 400 and "choose one of your stores" in r.text
    r = client.post("/scans/start", data={"csrf_token": csrf, "store": "alpha", "checks": "nope.nothing"})
    assert r.status_code == 400 and "checks &#39;nope.nothing&#39; matches no check" in r.text
    scoped, token = e.session_client(SCOPED_EMAIL)  # an analyst who sees beta only
    assert scoped.post("/scans/start", data={"csrf_token": token, "store": "alpha"}).status_code == 400
    auditor, token = e.session_client(ROLE_EMAIL[Role.AUDITOR])
    assert auditor.post("/scans/start", data={"csrf_token": token, "store": "alpha"}).status_code == 403
    assert 'action="/scans/start"' not in auditor.get("/runs").text
    assert client.post("/scans/start", data={"store": "alpha"}).status_code == 403  # no CSRF token
    with e.db() as s:
        assert s.scalar(select(RunRecord.id).where(RunRecord.stores == "alpha")) is None


def test_without_a_config_the_page_says_how_to_start_runs(env: Env) -> None:
    e = dataclasses.replace(env, app=create_app(env.db, WebSettings(), None, key=env.key))
    client, csrf = e.session_client(ROLE_EMAIL[Role.OWNER])
    assert "shopguard serve --config shopguard.toml" in client.get("/runs").text
    r = client.post("/scans/start", data={"csrf_token": csrf, "store": "alpha"})
    assert r.status_code == 400 and "needs the server started with a config" in r.text


def _cluster_config(url: str, prefix: str) -> Config:
    base = site_config(url)
    os.environ.setdefault("SG_TEST_BROKER_PASSWORD", "guest")
    return parse_config(
        {
            "company": {"name": "Acme Socks Ltd", "legal_name": "Acme Socks Limited", "country": "GB"},
            "stores": [{"name": "alpha", "storefront_url": base.stores[0].storefront_url}],
            "cluster": {
                "broker_url": "amqp://guest@127.0.0.1:5672//",
                "broker_password": {"env": "SG_TEST_BROKER_PASSWORD"},
                "result_backend": "redis://127.0.0.1:6379/0",
                "redis_url": "redis://127.0.0.1:6379/0",
                "database_url": "postgresql://postgres@127.0.0.1:5432/unused",
                "queue_prefix": prefix,
                "publish_attempts": 2,
            },
        }
    )


def test_with_a_cluster_the_run_is_queued_for_the_workers(env: Env, site: Site) -> None:
    from shopguard.cluster.app import make_app

    prefix = f"sgt-{uuid.uuid4().hex[:10]}"
    config = _cluster_config(site.url, prefix)
    e = _with_config(env, config)
    client, csrf = e.session_client(ROLE_EMAIL[Role.OWNER])
    app = make_app(config)
    try:
        form = {"csrf_token": csrf, "store": "alpha", "checks": "scanning.web.headers"}
        assert client.post("/scans/start", data=form).status_code == 303
        html = client.get("/scans/launches").text
        assert 'data-store="alpha" data-status="queued"' in html and "queued as 1 task(s)" in html
        (launch,) = e.app.state.launcher.recent()
        assert launch.mode == "cluster" and len(launch.task_ids) == 1
        with app.connection_for_write() as conn:
            ch = conn.channel()
            declared = ch.queue_declare(f"{prefix}.default", passive=True)
            ch.close()
        assert declared.message_count == 1
        again = client.post("/scans/start", data=form)  # still queued: not twice
        assert again.status_code == 409 and "already being audited" in again.text
        with e.db() as s:
            (ev,) = [a for a in s.scalars(select(AuditEvent)) if a.action == "run.start"]
        assert ev.data["mode"] == "cluster" and ev.data["tasks"] == list(launch.task_ids)
        assert site.hits == 0  # nothing ran in the web server itself
    finally:
        with app.connection_for_write() as conn:
            for q in config.cluster.queues if config.cluster else ():
                ch = conn.channel()
                with contextlib.suppress(Exception):
                    ch.queue_delete(q)
                with contextlib.suppress(Exception):
                    ch.close()
