"""Pages and API read the foundation tables correctly: overview = litmus, filters, reports."""

from __future__ import annotations

import dataclasses
import json

from shopguard.db.repository import load_run
from shopguard.readiness import litmus
from shopguard.web import queries
from shopguard.web.permissions import Role

from .conftest import ROLE_EMAIL, Env

ANALYST = ROLE_EMAIL[Role.ANALYST]


def test_overview_scores_each_store_like_the_litmus_test(env: Env) -> None:
    run = load_run(env.db, env.run_id)
    with env.db() as s:
        rows = {r.store: r for r in queries.overview(s, ["alpha", "beta"])}
    for store in ("alpha", "beta"):
        part = dataclasses.replace(
            run,
            stores=(store,),
            executions=tuple(e for e in run.executions if e[0] == store),
            findings=tuple(f for f in run.findings if f.store == store),
        )
        expected = {row.protocol: row.status for row in litmus(part)}
        assert rows[store].protocols == expected, store
    assert [r.store for r in sorted(rows.values(), key=lambda r: -r.risk)] == ["beta", "alpha"]


def test_findings_filters_and_bad_values(env: Env) -> None:
    client, _ = env.session_client(ANALYST)
    api = client.get("/api/v1/findings", params={"status": "all"}).json()
    assert api["total"] == 3
    assert [i["severity"] for i in api["items"]] == ["critical", "high", "low"]
    only = client.get("/api/v1/findings", params={"protocol": "pci"}).json()
    assert [i["check_id"] for i in only["items"]] == ["pci.saq.missing"]
    page = client.get("/findings", params={"store": "alpha", "severity": "high"})
    assert page.status_code == 200 and "always use HTTPS" in page.text and "No SAQ" not in page.text
    bad = client.get("/findings", params={"severity": "urgent"})
    assert bad.status_code == 400 and 'aria-invalid="true"' in bad.text
    assert client.get("/api/v1/findings", params={"severity": "urgent"}).status_code == 422


def test_triage_is_kept_and_leaves_the_open_list(env: Env) -> None:
    client, csrf = env.session_client(ANALYST)
    fid = env.finding_id("alpha", "scanning.web.headers.hsts")
    r = client.post(
        f"/api/v1/findings/{fid}/triage", json={"action": "accept_risk"}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 422  # a reason is required
    r = client.post(
        f"/api/v1/findings/{fid}/triage",
        json={"action": "accept_risk", "reason": "compensating control"},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.json()["triage"] == "accepted_risk" and r.json()["triage_reason"] == "compensating control"
    open_ids = [i["id"] for i in client.get("/api/v1/findings").json()["items"]]
    assert fid not in open_ids
    triaged = client.get("/api/v1/findings", params={"status": "triaged"}).json()["items"]
    assert [i["id"] for i in triaged] == [fid]
    with env.db() as s:
        rows = {r.store: r for r in queries.overview(s, ["alpha"])}
    assert rows["alpha"].protocols["scanning"] == "ready"  # nothing at medium+ left open


def test_run_page_shows_check_errors_and_reports_download(env: Env) -> None:
    client, _ = env.session_client(ROLE_EMAIL[Role.AUDITOR])
    page = client.get(f"/runs/{env.run_id}")
    assert "ssh: connection refused" in page.text and "hosting.ssh" in page.text
    runs = client.get("/api/v1/runs").json()
    assert runs[0]["errors"] == 1 and runs[0]["checks"] == 4
    r = client.get(f"/runs/{env.run_id}/report.json")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    assert json.loads(r.text)
    assert client.get(f"/runs/{env.run_id}/report.exe").status_code == 404


def test_openapi_lists_the_api(env: Env) -> None:
    spec = env.client().get("/api/v1/openapi.json").json()
    assert {"/api/v1/findings", "/api/v1/overview", "/api/v1/findings/{finding_id}/triage"} <= set(
        spec["paths"]
    )
    assert not any(p.startswith("/findings") for p in spec["paths"])  # pages are not in the API spec


def test_not_found_is_a_page_for_people_and_json_for_the_api(env: Env) -> None:
    client, _ = env.session_client(ANALYST)
    page = client.get("/findings/999999")
    assert page.status_code == 404 and "<h1>Not found</h1>" in page.text
    api = client.get("/api/v1/findings/999999")
    assert api.status_code == 404 and api.json() == {"detail": "no such finding"}
    assert client.get("/no-such-page").status_code == 404
