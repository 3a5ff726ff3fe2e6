"""Auto-evidence in both directions, with runs stored through the foundation's repository."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shopguard.checks import Outcome
from shopguard.db.base import utcnow
from shopguard.db.repository import set_triage
from shopguard.findings import Finding, Refs, Severity, Triage
from shopguard.pci.assessment import PciError, current_year, save_decision
from shopguard.pci.autoevidence import Suggested, compute_suggestions, confirm, registered_check_ids
from shopguard.pci.models import PciAnswer, PciSuggestion, PciTask
from shopguard.pci.saq import Integration, SaqAnswers, decide

STORE = "demo"
YEAR = current_year()
# The checks the web, pages and maintenance modules register (ids as they would be in the registry).
REGISTERED = ["scanning.web.tls", "scanning.web.https", "scanning.pages", "maintenance.vulns", "pci.asv"]


def tls_weak() -> Finding:
    return Finding(
        "scanning.web.tls.protocols",
        Severity.HIGH,
        "TLS 1.0 is still accepted",
        "shop.example:443",
        remediation="Disable TLS 1.0 and 1.1 in the web server.",
        refs=Refs(pci=("4.2.1",), cwe=("CWE-327",)),
        key="tls1.0",
    )


def start(db: sessionmaker[Session], integration: Integration = Integration.DIRECT_POST) -> None:
    save_decision(db, STORE, YEAR, decide(SaqAnswers(integration, processor_compliant=True)), "Ann")


def by_req(sugs: list[Any]) -> dict[str, Any]:
    return {s.requirement_id: s for s in sugs}


def test_clean_run_suggests_in_place_and_weak_run_not_in_place(
    pci_any_db: sessionmaker[Session], store_run: Any
) -> None:
    db = pci_any_db
    start(db)
    clean = [
        ("scanning.web.tls", Outcome.OK, []),
        ("scanning.web.https", Outcome.OK, []),
        (
            "scanning.pages",
            Outcome.OK,
            [Finding("scanning.pages.inventory", Severity.LOW, "1 script", "https://shop.example/checkout")],
        ),
        ("maintenance.vulns", Outcome.OK, []),
    ]
    store_run(db, clean)
    s = by_req(compute_suggestions(db, STORE, YEAR, registered=REGISTERED))
    assert s["4.2.1"].suggested is Suggested.IN_PLACE
    assert {c["check_id"] for c in s["4.2.1"].checks} == {"scanning.web.tls", "scanning.web.https"}
    assert s["6.4.3"].suggested is Suggested.IN_PLACE  # a low finding does not block
    assert s["6.3.3"].suggested is Suggested.IN_PLACE
    assert s["2.2.2"].suggested is Suggested.NO_MODULE
    assert "hosting" in s["2.2.2"].reason and "not built" in s["2.2.2"].reason
    assert s["1.1.1"].suggested is Suggested.MANUAL

    # The weak shop: the TLS scan now finds TLS 1.0 and the vulnerability audit an outdated plugin.
    weak = [
        ("scanning.web.tls", Outcome.OK, [tls_weak()]),
        ("scanning.web.https", Outcome.OK, []),
        (
            "maintenance.vulns",
            Outcome.OK,
            [
                Finding(
                    "maintenance.vulns.plugin",
                    Severity.CRITICAL,
                    "WooCommerce 3.0 has known vulnerabilities",
                    "wp-content/plugins/woocommerce",
                    evidence={"cvss": 9.8},
                    key="CVE-2021-32790",
                ),
            ],
        ),
    ]
    store_run(db, weak)
    s = by_req(compute_suggestions(db, STORE, YEAR, registered=REGISTERED))
    assert s["4.2.1"].suggested is Suggested.NOT_IN_PLACE
    assert [f.title for f in s["4.2.1"].findings] == ["TLS 1.0 is still accepted"]
    assert s["6.3.3"].suggested is Suggested.NOT_IN_PLACE
    assert s["6.4.3"].suggested is Suggested.IN_PLACE  # pages still clean from the earlier run
    with db() as ss:
        rec = ss.scalar(select(PciSuggestion).where(PciSuggestion.requirement_id == "4.2.1"))
        assert (
            rec is not None and rec.suggestion == "not-in-place" and rec.findings == [tls_weak().fingerprint]
        )
        assert ss.scalar(select(PciAnswer)) is None  # suggestions are never answers by themselves

    # A person confirms: the answer links the finding and a remediation task opens.
    confirm(db, STORE, YEAR, ["4.2.1", "6.4.3"], "Ann", registered=REGISTERED)
    with db() as ss:
        answers = {a.requirement_id: a for a in ss.scalars(select(PciAnswer))}
        assert answers["4.2.1"].answer == "not-in-place" and answers["4.2.1"].source == "suggestion"
        assert answers["4.2.1"].findings == [tls_weak().fingerprint]
        assert answers["6.4.3"].answer == "in-place" and answers["6.4.3"].person == "Ann"
        task = ss.scalar(select(PciTask).where(PciTask.requirement_id == "4.2.1"))
        assert task is not None and task.findings == [tls_weak().fingerprint]

    # Fixed: the next clean run resolves the finding and the suggestion turns In Place again.
    store_run(db, clean)
    s = by_req(compute_suggestions(db, STORE, YEAR, registered=REGISTERED))
    assert s["4.2.1"].suggested is Suggested.IN_PLACE


def test_stale_or_failed_runs_do_not_count(pci_db: sessionmaker[Session], store_run: Any) -> None:
    start(pci_db)
    old = utcnow() - timedelta(days=45)
    store_run(
        pci_db,
        [("scanning.web.tls", Outcome.OK, []), ("scanning.web.https", Outcome.OK, [])],
        finished_at=old,
    )
    store_run(pci_db, [("scanning.pages", Outcome.ERROR, [])])
    s = by_req(compute_suggestions(pci_db, STORE, YEAR, registered=REGISTERED))
    assert s["4.2.1"].suggested is Suggested.NO_RECENT_RUN
    assert "30 days" in s["4.2.1"].reason and f"{old:%Y-%m-%d}" in s["4.2.1"].reason
    assert s["6.4.3"].suggested is Suggested.NO_RECENT_RUN and "never ran cleanly" in s["6.4.3"].reason
    with pytest.raises(PciError, match=r"requirement 6\.4\.3: nothing to confirm \(no-recent-run\)"):
        confirm(pci_db, STORE, YEAR, ["6.4.3", "4.2.1"], "Ann", registered=REGISTERED)
    with pci_db() as ss:
        assert ss.scalar(select(PciAnswer)) is None


def test_false_positive_clears_but_accepted_risk_does_not(
    pci_db: sessionmaker[Session], store_run: Any
) -> None:
    start(pci_db)
    store_run(
        pci_db, [("scanning.web.tls", Outcome.OK, [tls_weak()]), ("scanning.web.https", Outcome.OK, [])]
    )
    set_triage(pci_db, STORE, tls_weak().fingerprint, Triage.ACCEPTED_RISK, "legacy POS needs it", "Ann")
    s = by_req(compute_suggestions(pci_db, STORE, YEAR, registered=REGISTERED))
    assert s["4.2.1"].suggested is Suggested.NOT_IN_PLACE
    set_triage(
        pci_db, STORE, tls_weak().fingerprint, Triage.FALSE_POSITIVE, "scanner hit the wrong host", "Ann"
    )
    s = by_req(compute_suggestions(pci_db, STORE, YEAR, registered=REGISTERED))
    assert s["4.2.1"].suggested is Suggested.IN_PLACE


def test_a_finding_naming_the_requirement_counts_from_any_check(
    pci_db: sessionmaker[Session], store_run: Any
) -> None:
    start(pci_db, Integration.REDIRECT)
    f = Finding(
        "hosting.accounts.default",
        Severity.MEDIUM,
        "Default admin account enabled",
        "host:22",
        refs=Refs(pci=("8.2.2",)),
    )
    store_run(pci_db, [("hosting.accounts", Outcome.OK, [f])])
    s = by_req(compute_suggestions(pci_db, STORE, YEAR, registered=REGISTERED))
    # 8.2.2 has no mapped checks, but a finding that names it is still evidence against it.
    assert s["8.2.2"].suggested is Suggested.NOT_IN_PLACE
    assert s["8.2.2"].findings[0].fingerprint == f.fingerprint
    assert s["8.2.1"].suggested is Suggested.MANUAL


def test_default_registry_is_used_and_missing_modules_are_named(pci_db: sessionmaker[Session]) -> None:
    start(pci_db)
    ids = registered_check_ids()
    assert "pci.asv" in ids and "pci.assessment" in ids
    s = by_req(compute_suggestions(pci_db, STORE, YEAR))
    assert s["11.3.2"].suggested is Suggested.NO_RECENT_RUN  # pci.asv exists but never ran
    for rid, sug in s.items():
        if sug.suggested is Suggested.NO_MODULE:
            assert "not built" in sug.reason, rid
