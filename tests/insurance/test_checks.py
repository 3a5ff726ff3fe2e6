"""Insurance checks through the real runner and storage, and the litmus row."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shopguard.audit import run_audit
from shopguard.db.base import utcnow
from shopguard.findings import Severity
from shopguard.insurance.register import import_data
from shopguard.readiness.litmus import litmus

from .conftest import make_config, policy


def _audit(sdb, config):
    run = run_audit(config, list(config.stores), sdb, selectors=["insurance"])
    assert run.check_errors == 0, run.executions
    row = next(r for r in litmus(run) if r.protocol == "insurance")
    return row, [sf.finding for sf in run.findings if sf.counts_as_open]


def test_no_policy_recorded_is_high(sdb, config):
    row, found = _audit(sdb, config)
    assert row.status == "gaps"
    assert [(f.check_id, f.severity, f.title) for f in found if f.check_id == "insurance.policy"] == [
        ("insurance.policy", Severity.HIGH, "No cyber insurance policy recorded")
    ]


@pytest.mark.parametrize(
    ("days_left", "severity"),
    [(200, None), (59, Severity.LOW), (30, Severity.MEDIUM), (6, Severity.HIGH), (-1, Severity.HIGH)],
)
def test_renewal_reminders_and_expiry(sdb, config, days_left, severity):
    today = utcnow().date()
    import_data(
        sdb, {"insurance": [policy(start=today - timedelta(days=300), end=today + timedelta(days=days_left))]}
    )
    _, found = _audit(sdb, config)
    pol = [f for f in found if f.check_id == "insurance.policy"]
    if severity is None:
        assert pol == []
    else:
        assert len(pol) == 1 and pol[0].severity is severity
        assert ("expired" in pol[0].title) == (days_left < 0)


def test_recorded_renewal_silences_the_reminder(sdb, config):
    today = utcnow().date()
    import_data(
        sdb,
        {
            "insurance": [
                policy("CY-1", start=today - timedelta(days=360), end=today + timedelta(days=5)),
                policy("CY-2", start=today + timedelta(days=5), end=today + timedelta(days=370)),
            ]
        },
    )
    _, found = _audit(sdb, config)
    assert not [f for f in found if f.check_id == "insurance.policy"]


def test_full_cover_with_enough_limits_is_ready(sdb):
    config = make_config(customer_records=1000, card_transactions_per_year=1000)
    import_data(sdb, {"insurance": [policy(limit="5M")]})
    row, found = _audit(sdb, config)
    assert [f for f in found if f.severity >= Severity.MEDIUM] == []
    assert row.status == "ready"
    assert not [f for f in found if f.check_id == "insurance.coverage"]


def test_low_limit_finding_shows_the_estimate_and_source(sdb):
    config = make_config(customer_records=50_000)
    import_data(sdb, {"insurance": [policy(limit="1M", kinds=["breach_response"])]})
    row, found = _audit(sdb, config)
    assert row.status == "gaps"
    low = next(f for f in found if f.check_id == "insurance.coverage" and f.key == "breach_response")
    assert low.severity is Severity.MEDIUM and low.evidence["estimate"] == 8_650_000
    assert "Cost of a Data Breach Report 2024" in low.evidence["sources"][0]
    assert "not insurance advice" in low.detail
    missing = next(f for f in found if f.key == "pci_fines")
    assert missing.severity is Severity.HIGH and missing.title == "No pci fines and assessments cover"
