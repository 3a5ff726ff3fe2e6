"""The policies checks through the real runner and storage, and the litmus row they produce."""

from __future__ import annotations

from datetime import timedelta

from shopguard.audit import run_audit
from shopguard.checks import CheckRun, Outcome
from shopguard.db.base import utcnow
from shopguard.db.repository import begin_run, finish_run, record_check
from shopguard.findings import Finding, Severity
from shopguard.policies.catalog import LIBRARY
from shopguard.policies.library import approve, init_library, publish
from shopguard.policies.people import acknowledge, add_person, add_training, pending
from shopguard.readiness.litmus import litmus


def _audit(sdb, config):
    run = run_audit(config, list(config.stores), sdb, selectors=["policies"])
    assert run.check_errors == 0, run.executions
    row = next(r for r in litmus(run) if r.protocol == "policies")
    open_ = [sf.finding for sf in run.findings if sf.counts_as_open]
    return row, open_


def _everything_in_order(sdb, config):
    init_library(sdb, config)
    for t in LIBRARY:
        approve(sdb, t.slug, "Ann Owner")
        publish(sdb, t.slug)
    add_person(sdb, "ann@acme.example", "Ann", "owner", config.policies)
    add_person(sdb, "dev@agency.example", "Dev", "developer", config.policies)
    for p in pending(sdb, config.policies):
        acknowledge(sdb, p.email, p.slug)
    today = utcnow().date()
    for email in ("ann@acme.example", "dev@agency.example"):
        add_training(sdb, email, "Security awareness 2026", today, config.policies)


def test_empty_library_is_a_high_gap(sdb, config):
    row, found = _audit(sdb, config)
    assert row.status == "gaps"
    ids = {(f.check_id, f.severity) for f in found}
    assert ("policies.library", Severity.HIGH) in ids
    assert ("policies.acknowledgements", Severity.MEDIUM) in ids  # nobody on the roster


def test_drafts_are_not_in_force(sdb, config):
    init_library(sdb, config)
    approve(sdb, "access-control", "Ann")
    _, found = _audit(sdb, config)
    lib = {f.key: f.title for f in found if f.check_id == "policies.library"}
    assert len(lib) == len(LIBRARY)
    assert lib["access-control"] == "Access Control Policy is approved but not published"
    assert lib["acceptable-use"] == "Acceptable Use Policy is a draft nobody has approved"


def test_all_in_order_is_ready_and_gaps_resolve(sdb, config):
    _, first = _audit(sdb, config)
    assert first
    _everything_in_order(sdb, config)
    row, found = _audit(sdb, config)
    assert found == [], [f.title for f in found]
    assert row.status == "ready" and row.checks_ok == 6


def test_overdue_review_pending_acks_and_training_are_findings(sdb, config):
    _everything_in_order(sdb, config)
    long_ago = utcnow() - timedelta(days=400)
    # a new version of one policy, published long ago: review overdue, acks reset
    from shopguard.policies.library import get_document, new_version

    with sdb() as s:
        text = get_document(s, "vendors").versions[-1].text
    new_version(sdb, "vendors", text + "\nReview every vendor yearly.\n", "yearly review")
    approve(sdb, "vendors", "Ann", at=long_ago)
    publish(sdb, "vendors", at=long_ago)
    add_person(sdb, "new@acme.example", "Newbie", "support", config.policies)
    row, found = _audit(sdb, config)
    assert row.status == "gaps"
    by = {(f.check_id, f.key): f for f in found}
    review = by[("policies.review", "vendors")]
    assert review.severity is Severity.MEDIUM and "overdue" in review.title
    acks = by[("policies.acknowledgements", "vendors")]
    assert "ann@acme.example (new version)" in acks.evidence["pending"]
    assert (
        by[("policies.training", "new@acme.example")].title
        == "Newbie has no security awareness training on record"
    )


def test_policy_says_x_scan_says_not_x(sdb, config):
    _everything_in_order(sdb, config)
    # Another protocol's scan found weak TLS on this store (seeded through the foundation's storage).
    run_id = begin_run(sdb, ["socks"], "scanning")
    tls = Finding(
        "scanning.web.tls.protocols",
        Severity.HIGH,
        "TLS 1.0 is still offered",
        "socks.example:443",
        key="tls1.0",
    )
    record_check(sdb, run_id, CheckRun("scanning.web.tls", "socks", Outcome.OK, [tls]))
    finish_run(sdb, run_id)
    row, found = _audit(sdb, config)
    clash = [f for f in found if f.check_id == "policies.statements"]
    assert clash and row.status == "gaps"
    f = clash[0]
    assert "TLS 1.0 is still offered" in f.title
    assert "HTTPS only" in f.evidence["statement"]
    assert f.evidence["findings"][0]["check_id"] == "scanning.web.tls.protocols"
    # the scan comes back clean: the clash resolves on the next policies run
    run_id = begin_run(sdb, ["socks"], "scanning")
    record_check(sdb, run_id, CheckRun("scanning.web.tls", "socks", Outcome.OK, []))
    finish_run(sdb, run_id)
    row, found = _audit(sdb, config)
    assert found == [] and row.status == "ready"


def test_stale_vendor_attestation(sdb, config):
    from shopguard.policies.models import Vendor

    _everything_in_order(sdb, config)
    today = utcnow().date()
    with sdb.begin() as s:
        s.add(Vendor(name="Stripe", service="payments", pci_attestation=today - timedelta(days=400)))
        s.add(Vendor(name="Hetzner", service="hosting", pci_attestation=today - timedelta(days=30)))
        s.add(Vendor(name="Mailchimp", service="newsletter"))
    row, found = _audit(sdb, config)
    vend = [f for f in found if f.check_id == "policies.vendors"]
    assert [f.key for f in vend] == ["Stripe"] and row.status == "gaps"
