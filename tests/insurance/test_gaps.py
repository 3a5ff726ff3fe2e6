from __future__ import annotations

from shopguard.db.base import utcnow
from shopguard.insurance.gaps import analyse, estimate
from shopguard.insurance.register import import_data
from shopguard.insurance.settings import DEFAULT_COST_PER_RECORD, InsuranceSettings

from .conftest import policy


def test_estimate_shows_its_figures_and_cited_source():
    est = estimate(InsuranceSettings(customer_records=20_000, card_transactions_per_year=36_500))
    assert est is not None
    # 36,500 cards/year over 258 days = 25,800 cards; + 20,000 records = 45,800 x USD 173
    assert est.cards_exposed == 25_800 and est.records_exposed == 45_800
    assert est.total == 45_800 * DEFAULT_COST_PER_RECORD == 7_923_400
    text = est.explain()
    assert "45,800 records" in text and "USD 173 per record" in text and "USD 7,923,400" in text
    assert any("Cost of a Data Breach Report 2024" in s and "173" in s for s in est.sources)
    edited = estimate(
        InsuranceSettings(customer_records=1000, cost_per_record=50, cost_per_record_source="broker")
    )
    assert edited is not None and edited.total == 50_000 and edited.sources[0] == "broker"
    assert estimate(InsuranceSettings()) is None


def test_missing_coverages_and_low_limits(sdb):
    import_data(
        sdb,
        {
            "insurance": [
                policy(limit="250k", kinds=["breach_response", "network_privacy_liability", "extortion"])
            ]
        },
    )
    settings = InsuranceSettings(customer_records=5000, card_transactions_per_year=0)
    with sdb() as s:
        _, gaps, est = analyse(s, settings, utcnow().date())
    assert est is not None and est.total == 865_000
    missing = {g.coverage.id for g in gaps if g.kind == "missing" and g.coverage}
    assert missing == {
        "business_interruption",
        "data_restoration",
        "media_liability",
        "regulatory",
        "pci_fines",
        "social_engineering",
    }
    low = {(g.kind, g.coverage.id if g.coverage else None) for g in gaps if g.kind.startswith("low")}
    assert low == {
        ("low_limit", "breach_response"),
        ("low_limit", "network_privacy_liability"),
        ("low_aggregate", None),
    }


def test_required_coverages_setting_and_enough_cover(sdb):
    import_data(sdb, {"insurance": [policy(limit="2M", kinds=["breach_response", "pci_fines"])]})
    settings = InsuranceSettings(customer_records=5000, required_coverages=("breach_response", "pci_fines"))
    with sdb() as s:
        _, gaps, _ = analyse(s, settings, utcnow().date())
    assert gaps == []


def test_currency_mismatch_is_not_compared(sdb):
    p = policy(limit="10k")
    p["currency"] = "EUR"
    import_data(sdb, {"insurance": [p]})
    with sdb() as s:
        _, gaps, _ = analyse(s, InsuranceSettings(customer_records=5000), utcnow().date())
    assert [g.kind for g in gaps] == ["currency"]
