"""Scans › Payment-page scripts: the inventory per store, approve (the CLI's code path, hash
pinned as the monitor saw it) and reject, audit-logged and scoped."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shopguard.checks import CheckRun, Outcome
from shopguard.db.base import utcnow
from shopguard.db.repository import begin_run, finish_run, record_check
from shopguard.findings import Finding, Refs, Severity
from shopguard.scanning.pages.models import PageApproval, PageRejection
from shopguard.web.models import AuditEvent
from shopguard.web.permissions import Role

from .conftest import ROLE_EMAIL, SCOPED_EMAIL, Env, csrf_of

OWNER = ROLE_EMAIL[Role.OWNER]
SKIM = "https://cdn-stripe.example/v3/pay.js"
WIDGET = "https://widgets.example/chat.js"
CHECKOUT = "https://alpha.example/checkout"


def seed_pages(db: sessionmaker[Session]) -> None:
    """alpha's checkout: one approved script (since changed) and one unknown script."""
    with db.begin() as s:
        s.add(
            PageApproval(
                store="alpha",
                page="checkout",
                kind="script",
                identifier=WIDGET,
                sha256="sha256-old",
                justification="Live chat for customers",
                approved_by="ann",
                approved_at=utcnow(),
                data={},
            )
        )
    run_id = begin_run(db, ["alpha"], "scanning.pages")
    refs = Refs(pci=("6.4.3", "11.6.1"))
    record_check(
        db,
        run_id,
        CheckRun(
            "scanning.pages",
            "alpha",
            Outcome.OK,
            [
                Finding(
                    "scanning.pages.unauthorised",
                    Severity.HIGH,
                    f"Unauthorised script on the checkout page: {SKIM}",
                    CHECKOUT,
                    evidence={"kind": "script", "identifier": SKIM, "sha256": "sha256-new-skim"},
                    refs=refs,
                    key=f"checkout:script:{SKIM}",
                ),
                Finding(
                    "scanning.pages.changed",
                    Severity.HIGH,
                    f"An approved script changed on the checkout page: {WIDGET}",
                    CHECKOUT,
                    evidence={
                        "script": WIDGET,
                        "approved_sha256": "sha256-old",
                        "now_sha256": "sha256-v2",
                        "approved_at": utcnow().isoformat(),
                    },
                    refs=refs,
                    key=f"checkout:{WIDGET}",
                ),
            ],
        ),
    )
    finish_run(db, run_id)


def _fid(env: Env, check_id: str) -> int:
    return env.finding_id("alpha", check_id)


def test_inventory_lists_pending_changed_and_approved_items(env: Env) -> None:
    seed_pages(env.db)
    client, _ = env.session_client(ROLE_EMAIL[Role.AUDITOR])
    page = client.get("/scripts")
    assert page.status_code == 200
    text = page.text
    assert SKIM in text and '<strong class="domain">cdn-stripe.example</strong>' in text and "pending" in text
    assert WIDGET in text and "changed" in text and "Live chat for customers" in text
    assert "/scripts/approve" not in text  # an auditor reads, does not decide
    assert 'href="/scripts"' in text  # in the navigation
    scoped, _ = env.session_client(SCOPED_EMAIL)
    assert SKIM not in scoped.get("/scripts").text
    assert scoped.get("/scripts", params={"store": "alpha"}).status_code == 404


def test_approve_pins_the_hash_the_monitor_saw_and_is_audited(env: Env) -> None:
    seed_pages(env.db)
    client, _ = env.session_client(OWNER)
    csrf = csrf_of(client.get("/scripts").text)
    fid = _fid(env, "scanning.pages.unauthorised")
    form = {"csrf_token": csrf, "finding_id": str(fid), "identifier": SKIM}
    r = client.post("/scripts/approve", data={**form, "justification": "ok"})
    assert r.status_code == 400 and "at least 10 characters" in r.text
    r = client.post("/scripts/approve", data={**form, "identifier": WIDGET, "justification": "Card form SDK"})
    assert r.status_code == 400 and "did not see that item" in r.text
    r = client.post("/scripts/approve", data={**form, "justification": "NimbusPay card form SDK"})
    assert r.status_code == 303
    with env.db() as s:
        a = s.scalar(select(PageApproval).where(PageApproval.identifier == SKIM))
        assert a is not None and a.sha256 == "sha256-new-skim" and a.approved_by == OWNER
        assert a.justification == "NimbusPay card form SDK" and a.page == "checkout"
        ev = s.scalar(select(AuditEvent).where(AuditEvent.action == "script.approve"))
        assert ev is not None and ev.data["sha256"] == "sha256-new-skim"
    # The changed script is re-approved with its new hash.
    changed = _fid(env, "scanning.pages.changed")
    r = client.post(
        "/scripts/approve",
        data={
            "csrf_token": csrf,
            "finding_id": str(changed),
            "identifier": WIDGET,
            "justification": "Vendor v2 update",
        },
    )
    assert r.status_code == 303
    with env.db() as s:
        w = s.scalar(select(PageApproval).where(PageApproval.identifier == WIDGET))
        assert w is not None and w.sha256 == "sha256-v2"
    page = client.get("/scripts").text
    assert "pending" not in page and "changed</strong>" not in page


def test_reject_revokes_an_approval_and_marks_the_item(env: Env) -> None:
    seed_pages(env.db)
    client, _ = env.session_client(OWNER)
    csrf = csrf_of(client.get("/scripts").text)
    form = {"csrf_token": csrf, "target": "alpha", "page": "checkout", "kind": "script"}
    r = client.post("/scripts/reject", data={**form, "identifier": SKIM, "reason": "no"})
    assert r.status_code == 400 and "at least 10 characters" in r.text
    r = client.post(
        "/scripts/reject", data={**form, "identifier": "https://x.example/a.js", "reason": "not here at all"}
    )
    assert r.status_code == 404
    r = client.post(
        "/scripts/reject", data={**form, "identifier": SKIM, "reason": "Nobody added this; skimmer?"}
    )
    assert r.status_code == 303
    r = client.post("/scripts/reject", data={**form, "identifier": WIDGET, "reason": "We dropped live chat"})
    assert r.status_code == 303
    with env.db() as s:
        assert s.scalar(select(PageApproval).where(PageApproval.identifier == WIDGET)) is None
        assert {r.identifier for r in s.scalars(select(PageRejection))} == {SKIM, WIDGET}
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "script.reject")))
        assert [e.data["approvals_revoked"] for e in events] == [0, 1]
    page = client.get("/scripts").text
    assert page.count("rejected</strong>") == 2 and "remove it from the page" in page


def test_only_owner_and_admin_approve(env: Env) -> None:
    seed_pages(env.db)
    client, csrf = env.session_client(ROLE_EMAIL[Role.ANALYST])
    fid = _fid(env, "scanning.pages.unauthorised")
    r = client.post(
        "/scripts/approve",
        data={
            "csrf_token": csrf,
            "finding_id": str(fid),
            "identifier": SKIM,
            "justification": "NimbusPay SDK",
        },
    )
    assert r.status_code == 403
    admin, acsrf = env.session_client(ROLE_EMAIL[Role.ADMIN])
    r = admin.post(
        "/scripts/approve",
        data={
            "csrf_token": acsrf,
            "finding_id": str(fid),
            "identifier": SKIM,
            "justification": "NimbusPay SDK",
        },
    )
    assert r.status_code == 303
