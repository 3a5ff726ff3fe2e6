"""The response section over a real SQLite database: plan, incidents, phases, tasks, the
hash-chained timeline, evidence uploads and the notification deadlines."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from shopguard.config import Config, parse_config
from shopguard.response.models import EvidenceItem, Incident, IncidentTask, TimelineEvent
from shopguard.web.app import create_app
from shopguard.web.models import AuditEvent
from shopguard.web.permissions import Role
from shopguard.web.settings import WebSettings

from .conftest import ROLE_EMAIL, SCOPED_EMAIL, Env


def response_config() -> Config:
    return parse_config(
        {
            "company": {"name": "Acme Socks Ltd", "country": "DE", "timezone": "Europe/Berlin"},
            "contacts": {
                "security_lead": {"name": "Sam Lead", "email": "sam@acme.example", "phone": "+49 30 1234"},
                "lawyer": {"organisation": "Recht & Partner", "email": "law@recht.example"},
            },
            "stores": [
                {
                    "name": "alpha",
                    "storefront_url": "https://alpha.example",
                    "platform": "woocommerce",
                    "payment_integration": "iframe",
                    "jurisdictions": ["EU"],
                    "timezone": "Europe/Berlin",
                },
                {"name": "beta", "storefront_url": "https://beta.example", "platform": "magento"},
            ],
        }
    )


@pytest.fixture
def renv(env: Env) -> Iterator[Env]:
    """The shared env with a config that has contacts, jurisdictions and a time zone."""
    env.config = response_config()
    env.app = create_app(env.db, WebSettings(), env.config, key=env.key)
    yield env


def _open(c: TestClient, csrf: str, **over: str) -> httpx.Response:
    data = {
        "csrf_token": csrf,
        "store": "alpha",
        "title": "Skimmer found in checkout.js",
        "scenario": "skimmer",
        "severity": "critical",
        "discovered": "",
        **over,
    }
    return c.post("/response/incidents", data=data)


def _opened(renv: Env, **over: str) -> tuple[TestClient, str, int]:
    c, csrf = renv.session_client(ROLE_EMAIL[Role.ANALYST])
    r = _open(c, csrf, **over)
    assert r.status_code == 303, r.text
    m = re.fullmatch(r"/response/incidents/(\d+)", r.headers["location"])
    assert m is not None
    return c, csrf, int(m.group(1))


def _audit(renv: Env, action: str) -> list[AuditEvent]:
    with renv.db() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_plan_shows_phases_leads_and_missing_contacts(renv: Env) -> None:
    c, _ = renv.session_client(ROLE_EMAIL[Role.AUDITOR])
    r = c.get("/response")
    assert r.status_code == 200
    for title in ("Identification", "Containment and remediation", "Appraisal of damage", "Notification"):
        assert title in r.text
    assert 'id="phase-investigation"' in r.text
    # Leads are named from the contacts; missing contacts are called out with the fix.
    assert "Sam Lead" in r.text and "Recht &amp; Partner" in r.text
    assert "missing: add [contacts.insurer] to shopguard.toml" in r.text
    assert 'id="plan-unsaved"' in r.text
    emp, _ = renv.session_client(ROLE_EMAIL[Role.EMPLOYEE])
    assert emp.get("/response").status_code == 403


def test_open_incident_shows_tasks_timeline_and_counting_deadlines(renv: Env) -> None:
    c, _, iid = _opened(renv)
    page = c.get(f"/response/incidents/{iid}")
    assert page.status_code == 200
    html = page.text
    assert "Skimmer found in checkout.js" in html
    assert 'aria-current="step">Identification' in html
    # The runbook's tasks, the EU authority's 72 hours and the acquirer's 24 hours, counting down.
    with renv.db() as s:
        n_tasks = len(list(s.scalars(select(IncidentTask).where(IncidentTask.incident_id == iid))))
    assert n_tasks > 3 and html.count('<tr id="task-') == n_tasks
    assert 'id="party-gdpr-authority"' in html and 'id="party-acquirer"' in html
    left = re.findall(r'<time class="countdown [^"]*" datetime="([^"]+)">([^<]+)</time>', html)
    assert left, html
    for due, text in left:
        remaining = datetime.fromisoformat(due) - datetime.now(UTC)
        assert text.endswith("left")
        hours = int(re.search(r"(\d+) h", text).group(1)) + 24 * int(  # type: ignore[union-attr]
            (re.search(r"(\d+) d", text) or re.search("(0)", "0")).group(1)  # type: ignore[union-attr]
        )
        assert abs(remaining.total_seconds() / 3600 - hours) <= 1
    assert "countdown.js" in html
    assert "Incident opened: Skimmer found in checkout.js" in html
    assert "Hash chain intact: 1 entries" in html
    (ev,) = _audit(renv, "incident.open")
    assert ev.actor == ROLE_EMAIL[Role.ANALYST] and ev.target == f"incident {iid}"
    listing = c.get("/response/incidents")
    assert f'href="/response/incidents/{iid}"' in listing.text and "left" in listing.text


def test_bad_open_form_is_marked_and_nothing_saved(renv: Env) -> None:
    c, csrf = renv.session_client(ROLE_EMAIL[Role.ANALYST])
    r = _open(c, csrf, title="  ", discovered="yesterday-ish")
    assert r.status_code == 400
    text = r.text
    assert re.search(r'name="title" value="  " aria-invalid="true"', text)
    assert re.search(r'name="discovered" value="yesterday-ish" aria-invalid="true"', text)
    future = (datetime.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    r2 = _open(c, csrf, discovered=future)
    assert r2.status_code == 400 and "in the future" in r2.text
    r3 = _open(c, csrf, store="gamma")
    assert r3.status_code == 400 and "choose one of your stores" in r3.text
    with renv.db() as s:
        assert s.scalar(select(Incident.id)) is None
    assert _audit(renv, "incident.open") == []


def test_move_through_phases_and_close(renv: Env) -> None:
    c, csrf, iid = _opened(renv)
    seen = []
    for _ in range(5):
        page = c.get(f"/response/incidents/{iid}").text
        m = re.search(r'name="phase" value="(\w+)"', page)
        assert m is not None
        r = c.post(
            f"/response/incidents/{iid}/phase", data={"csrf_token": csrf, "phase": m.group(1), "note": ""}
        )
        assert r.status_code == 303
        seen.append(m.group(1))
    assert seen == ["containment", "appraisal", "notification", "investigation", "recovery"]
    page = c.get(f"/response/incidents/{iid}").text
    assert 'id="next-phase"' not in page and 'id="close-incident"' in page
    # Lessons learned is reached only by closing with a root cause.
    bad = c.post(f"/response/incidents/{iid}/phase", data={"csrf_token": csrf, "phase": "lessons_learned"})
    assert bad.status_code == 400
    empty = c.post(f"/response/incidents/{iid}/close", data={"csrf_token": csrf, "root_cause": " "})
    assert empty.status_code == 400 and 'aria-invalid="true"' in empty.text
    ok = c.post(
        f"/response/incidents/{iid}/close",
        data={"csrf_token": csrf, "root_cause": "Outdated plugin", "changes": "Auto-updates on"},
    )
    assert ok.status_code == 303
    page = c.get(f"/response/incidents/{iid}").text
    assert 'id="status">closed' in page and "Phase recovery → lessons_learned" not in page
    assert "Closed. Root cause: Outdated plugin" in page
    assert "Hash chain intact: 7 entries" in page
    assert len(_audit(renv, "incident.phase")) == 5 and len(_audit(renv, "incident.close")) == 1
    # A closed incident offers no more changes and refuses them.
    assert 'id="add-entry"' not in page
    late = c.post(
        f"/response/incidents/{iid}/timeline", data={"csrf_token": csrf, "text": "x", "kind": "note"}
    )
    assert late.status_code == 400 and "closed" in late.text


def test_tasks_tick_off_once(renv: Env) -> None:
    c, csrf, iid = _opened(renv)
    r = c.post(f"/response/incidents/{iid}/tasks/1/done", data={"csrf_token": csrf})
    assert r.status_code == 303
    with renv.db() as s:
        task = s.scalar(select(IncidentTask).where(IncidentTask.incident_id == iid, IncidentTask.number == 1))
        assert task is not None and task.done_by == ROLE_EMAIL[Role.ANALYST] and task.done_at is not None
    again = c.post(f"/response/incidents/{iid}/tasks/1/done", data={"csrf_token": csrf})
    assert again.status_code == 400 and "already done" in again.text
    missing = c.post(f"/response/incidents/{iid}/tasks/999/done", data={"csrf_token": csrf})
    assert missing.status_code == 400 and "has no task 999" in missing.text
    page = c.get(f"/response/incidents/{iid}").text
    assert re.search(r'<tr id="task-1" class="done">', page)
    assert "Task 1 done:" in page


def test_timeline_entry_is_chained_and_tampering_shows(renv: Env) -> None:
    c, csrf, iid = _opened(renv)
    r = c.post(
        f"/response/incidents/{iid}/timeline",
        data={"csrf_token": csrf, "kind": "decision", "text": "Switch checkout to the hosted page"},
    )
    assert r.status_code == 303
    page = c.get(f"/response/incidents/{iid}").text
    assert "Decision: Switch checkout to the hosted page" in page
    assert "Hash chain intact: 2 entries" in page
    empty = c.post(
        f"/response/incidents/{iid}/timeline", data={"csrf_token": csrf, "kind": "note", "text": ""}
    )
    assert empty.status_code == 400 and re.search(r'name="text" rows="2" aria-invalid="true"', empty.text)
    with renv.db.begin() as s:
        s.execute(
            update(TimelineEvent)
            .where(TimelineEvent.incident_id == iid, TimelineEvent.seq == 2)
            .values(data={"text": "Nothing was decided"})
        )
    page = c.get(f"/response/incidents/{iid}").text
    assert "The timeline was tampered with" in page


def test_evidence_upload_hashes_limits_and_download(renv: Env) -> None:
    c, csrf, iid = _opened(renv)
    body = b"185.220.101.4 - - [28/Mar/2026:10:00:00] GET /checkout.js 200\n" * 100
    r = c.post(
        f"/response/incidents/{iid}/evidence",
        data={"csrf_token": csrf, "description": "access log"},
        files={"file": ("access.log", body, "text/plain")},
    )
    assert r.status_code == 303, r.text
    with renv.db() as s:
        (item,) = s.scalars(select(EvidenceItem).where(EvidenceItem.incident_id == iid))
    assert item.sha256 == hashlib.sha256(body).hexdigest() and item.size == len(body)
    assert item.source_path == "upload: access.log" and item.collector == ROLE_EMAIL[Role.ANALYST]
    page = c.get(f"/response/incidents/{iid}").text
    assert item.sha256 in page and "preserved from upload: access.log" in page
    # The auditor downloads the preserved copy (an export), checked against its hash first.
    aud, _ = renv.session_client(ROLE_EMAIL[Role.AUDITOR])
    dl = aud.get(f"/response/incidents/{iid}/evidence/{item.id}")
    assert dl.status_code == 200 and dl.content == body
    assert "attachment" in dl.headers["content-disposition"]
    assert aud.post(
        f"/response/incidents/{iid}/evidence", data={"csrf_token": "x"}, files={"file": ("a.txt", b"a")}
    ).status_code in (403,)

    def refused(name: str, content: bytes, why: str) -> None:
        r = c.post(
            f"/response/incidents/{iid}/evidence",
            data={"csrf_token": csrf},
            files={"file": (name, content, "application/octet-stream")},
        )
        assert r.status_code == 400, (name, r.status_code)
        assert why in r.text, r.text[-2000:]
        assert re.search(r'type="file" name="file" aria-invalid="true"', r.text)

    refused("big.log", b"x" * (20 * 1024 * 1024 + 1), "larger than 20 MB")
    refused("tool.exe", b"MZ\x90\x00", "files of type .exe are not accepted")
    refused("shot.png", b"<?php system($_GET['c']); ?>", "its content is not a png file")
    refused("notes.txt", b"abc\x00\x01", "holds binary data")
    refused("empty.log", b"", "the file is empty")
    with renv.db() as s:
        assert len(list(s.scalars(select(EvidenceItem).where(EvidenceItem.incident_id == iid)))) == 1
    assert len(_audit(renv, "incident.evidence")) == 1
    # A tampered stored copy is not handed out.
    import os
    from pathlib import Path

    p = Path(item.stored_path)
    os.chmod(p, 0o600)
    p.write_bytes(b"changed")
    assert aud.get(f"/response/incidents/{iid}/evidence/{item.id}").status_code == 409


def test_overdue_notice_and_marking_sent(renv: Env) -> None:
    three_days_ago = (datetime.now() - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    c, csrf, iid = _opened(renv, discovered=three_days_ago)
    page = c.get(f"/response/incidents/{iid}").text
    acquirer = page[page.index('id="party-acquirer"') :]
    acquirer = acquirer[: acquirer.index("</tr>")]
    assert "overdue by 2 d" in acquirer
    listing = c.get("/response/incidents").text
    assert re.search(r"\d+ overdue", listing)
    no_method = c.post(
        f"/response/incidents/{iid}/notifications", data={"csrf_token": csrf, "party": "acquirer"}
    )
    assert no_method.status_code == 400 and "say how it was sent" in no_method.text
    assert re.search(r'name="method" value="" aria-invalid="true"', no_method.text)
    r = c.post(
        f"/response/incidents/{iid}/notifications",
        data={"csrf_token": csrf, "party": "acquirer", "method": "phone", "reference": "case 77"},
    )
    assert r.status_code == 303
    page = c.get(f"/response/incidents/{iid}").text
    acquirer = page[page.index('id="party-acquirer"') :]
    acquirer = acquirer[: acquirer.index("</tr>")]
    assert "sent" in acquirer and "(phone), late" in acquirer
    assert "Notified acquirer by phone" in page
    twice = c.post(
        f"/response/incidents/{iid}/notifications",
        data={"csrf_token": csrf, "party": "acquirer", "method": "phone"},
    )
    assert twice.status_code == 400 and "already marked" in twice.text


def test_store_scope_and_read_only_roles(renv: Env) -> None:
    c, _csrf, iid = _opened(renv)  # alpha
    scoped, scsrf = renv.session_client(SCOPED_EMAIL)  # analyst for beta only
    assert scoped.get(f"/response/incidents/{iid}").status_code == 404
    assert f"/response/incidents/{iid}" not in scoped.get("/response/incidents").text
    r = scoped.post(f"/response/incidents/{iid}/tasks/1/done", data={"csrf_token": scsrf})
    assert r.status_code == 404
    assert _open(scoped, scsrf).status_code == 400
    aud, acsrf = renv.session_client(ROLE_EMAIL[Role.AUDITOR])
    page = aud.get(f"/response/incidents/{iid}").text
    assert "Skimmer found" in page and 'id="next-phase"' not in page and 'id="upload-evidence"' not in page
    assert (
        aud.post(
            f"/response/incidents/{iid}/phase", data={"csrf_token": acsrf, "phase": "containment"}
        ).status_code
        == 403
    )
    assert c.get("/response/incidents/99999").status_code == 404


def test_appraisal_changes_the_deadlines_and_bad_values_are_marked(renv: Env) -> None:
    c, csrf, iid = _opened(renv)
    page = c.get(f"/response/incidents/{iid}").text
    assert "No damage appraisal yet" in page and 'id="party-gdpr-authority"' in page
    url = f"/response/incidents/{iid}/appraisal"
    bad = c.post(url, data={"csrf_token": csrf, "records": "lots", "affected": "EU800"})
    assert bad.status_code == 400
    assert re.search(r'<fieldset aria-invalid="true"><legend>Data involved', bad.text)
    assert re.search(r'name="records" value="lots" aria-invalid="true"', bad.text)
    assert re.search(r'name="affected" value="EU800" aria-invalid="true"', bad.text)
    over = c.post(url, data={"csrf_token": csrf, "data_kinds": ["email"], "records": "5", "affected": "EU=9"})
    assert over.status_code == 400 and "exceed" in over.text
    with renv.db() as s:
        inc = s.get(Incident, iid)
        assert inc is not None and inc.appraisal is None
    # Only e-mail addresses of 40 Californians, encrypted: no EU authority, no acquirer.
    ok = c.post(
        url,
        data={
            "csrf_token": csrf,
            "data_kinds": ["email", "name"],
            "records": "40",
            "affected": "US-CA=40",
            "high_risk": "no",
            "encrypted": "yes",
        },
    )
    assert ok.status_code == 303, ok.text[-1500:]
    page = c.get(f"/response/incidents/{iid}").text
    assert 'id="appraisal-summary">email, name; 40 records (US-CA 40); encrypted' in page
    assert 'id="party-gdpr-authority"' not in page and 'id="party-acquirer"' not in page
    assert "No damage appraisal yet" not in page
    assert "Damage appraised: email, name; 40 records" in page
    (ev,) = _audit(renv, "incident.appraisal")
    assert ev.data["records"] == 40
