from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select
from typer.testing import CliRunner

from shopguard.cli.app import app
from shopguard.insurance import insurer_notifications
from shopguard.insurance.models import InsurancePolicy
from shopguard.insurance.money import parse_money
from shopguard.insurance.register import (
    InsuranceInputError,
    export_data,
    import_data,
    import_yaml,
    save_policy,
    validate_policy,
)

from .conftest import policy


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        (250000, 250000),
        ("250,000", 250000),
        ("250k", 250000),
        ("1M", 1_000_000),
        ("$ 50,000", 50000),
        ("USD 2.5m", 2_500_000),
        ("1_000", 1000),
        (1500.0, 1500),
    ],
)
def test_money_amounts(text, amount):
    assert parse_money(text, "x") == amount


@pytest.mark.parametrize("bad", ["lots", "1,000 dollars", "-5", "", True, "1MM"])
def test_money_rejects_non_amounts(bad):
    with pytest.raises(ValueError, match=r"field\.limit"):
        parse_money(bad, "field.limit")


def test_import_stores_everything_and_exports_it_back(sdb):
    data = {
        "insurance": [policy(kinds=["breach_response", "extortion"])],
        "underwriting": [{"question": "mfa_email", "answer": True, "answered_by": "Ann"}],
    }
    data["insurance"][0]["coverages"]["breach_response"] = {
        "limit": "500k",
        "sublimits": {"forensics": "100k", "pr": 25000},
    }
    assert import_data(sdb, data) == (1, 1)
    out = export_data(sdb)
    p = out["insurance"][0]
    assert p["retention"] == 2500 and p["aggregate_limit"] == 1_000_000
    assert p["coverages"]["breach_response"]["sublimits"] == {"forensics": 100000, "pr": 25000}
    assert p["notification"] == {
        "window_hours": 48,
        "hotline": "+44 800 000 000",
        "email": "claims@example.com",
    }
    assert out["underwriting"][0]["answer"] == "yes"
    # re-import of the export replaces by policy number, nothing duplicated
    import_data(sdb, {"insurance": out["insurance"]})
    with sdb() as s:
        assert s.scalar(select(func.count()).select_from(InsurancePolicy)) == 1


def test_bad_input_names_the_place_and_imports_nothing(sdb, tmp_path: Path):
    good = policy("CY-GOOD")
    bad = policy("CY-BAD", kinds=["breach_response"])
    bad["period_end"] = "31/12/2026"
    bad["coverages"]["breach_response"] = {"limit": "a lot", "sublimits": {"forensics": "2M"}}
    bad["coverages"]["cyber_everything"] = "1M"
    bad["notification"]["window_hours"] = "two days"
    f = tmp_path / "ins.yaml"
    f.write_text(
        yaml.safe_dump({"insurance": [good, bad], "underwriting": [{"question": "mfa", "answer": "y"}]})
    )
    with pytest.raises(InsuranceInputError) as exc:
        import_yaml(sdb, f)
    msg = str(exc.value)
    for expected in (
        "insurance[1].period_end: '31/12/2026' is not a date",
        "insurance[1].coverages.breach_response.limit: 'a lot' is not a money amount",
        "insurance[1].coverages.cyber_everything: unknown coverage",
        "insurance[1].notification.window_hours: 'two days'",
        "underwriting[0].question: 'mfa'",
        "underwriting[0].answer: 'y'",
    ):
        assert expected in msg
    with sdb() as s:
        assert s.scalar(select(func.count()).select_from(InsurancePolicy)) == 0


def test_sublimit_above_limit_and_duplicate_numbers(sdb):
    p = policy(kinds=["breach_response"])
    p["coverages"]["breach_response"] = {"limit": "100k", "sublimits": {"forensics": "200k"}}
    with pytest.raises(InsuranceInputError) as exc:
        import_data(sdb, {"insurance": [p, policy()]})
    assert "sublimits.forensics: 200000 is more than the coverage limit 100000" in str(exc.value)
    assert "policy number 'CY-1' appears more than once" in str(exc.value)


def test_insurer_notification_deadline_for_the_response_protocol(sdb):
    now = datetime.now(UTC)
    old = policy("CY-OLD", start=(now - timedelta(days=800)).date(), end=(now - timedelta(days=435)).date())
    nowindow = policy("CY-NOWIN")
    nowindow["notification"] = {"hotline": "+1 800 555 0100"}
    import_data(sdb, {"insurance": [policy("CY-1"), old, nowindow]})
    found = datetime(now.year, now.month, now.day, 2, 30, tzinfo=UTC)
    with sdb() as s:
        notices = insurer_notifications(s, found)
    assert [n.policy_number for n in notices] == ["CY-NOWIN", "CY-1"]  # no fixed window = at once, first
    cy1 = notices[1]
    assert cy1.deadline == found + timedelta(hours=48) and cy1.hotline == "+44 800 000 000"
    assert cy1.broker["email"] == "bea@broker.example"
    assert notices[0].deadline is None
    with sdb() as s, pytest.raises(ValueError, match="timezone-aware"):
        insurer_notifications(s, found.replace(tzinfo=None))


def test_cli_template_imports_as_is(tmp_path: Path, sqlite_url: str):
    cfg = tmp_path / "shopguard.toml"
    cfg.write_text('[company]\nname = "Acme"\n')
    runner = CliRunner()
    r = runner.invoke(app, ["insurance", "template"])
    assert r.exit_code == 0
    f = tmp_path / "policy.yaml"
    f.write_text(r.output)
    r = runner.invoke(app, ["insurance", "import", str(f), "--config", str(cfg), "--db", sqlite_url])
    assert r.exit_code == 0, r.output
    assert "imported 1 policy(ies) and 1 answer(s)" in r.output
    r = runner.invoke(
        app,
        [
            "insurance",
            "notify",
            "--at",
            "2026-06-01T12:00:00+00:00",
            "--config",
            str(cfg),
            "--db",
            sqlite_url,
        ],
    )
    assert r.exit_code == 0 and "2026-06-04T12:00:00+00:00" in r.output


def test_register_and_gaps_on_postgresql(postgres_url: str):
    from shopguard.db import open_database
    from shopguard.db.base import utcnow
    from shopguard.insurance.gaps import analyse
    from shopguard.insurance.settings import InsuranceSettings

    db = open_database(postgres_url)
    try:
        import_data(db, {"insurance": [policy(limit="100k", kinds=["breach_response"])]})
        with pytest.raises(InsuranceInputError):
            import_data(db, {"insurance": [policy("CY-2"), {"insurer": "x"}]})
        with db() as s:
            assert s.scalar(select(func.count()).select_from(InsurancePolicy)) == 1
            _, gaps, est = analyse(s, InsuranceSettings(customer_records=1000), utcnow().date())
        assert est is not None and est.total == 173_000
        assert ("low_limit", "breach_response") in {(g.kind, g.coverage.id) for g in gaps if g.coverage}
    finally:
        db.kw["bind"].dispose()


def test_save_policy_creates_changes_by_id_and_never_takes_another_number(sdb):
    first, _ = validate_policy(policy("CY-1", kinds=["breach_response"]), "policy")
    second, _ = validate_policy(policy("CY-2", kinds=["extortion"]), "policy")
    assert first is not None and second is not None
    with sdb.begin() as s:
        one = save_policy(s, first)
        save_policy(s, second)
        s.flush()
        pid = one.id
    with (
        sdb.begin() as s,
        pytest.raises(InsuranceInputError, match=r"policy.policy_number: 'CY-1' is already"),
    ):
        save_policy(s, first)  # a new policy with a number on record: refused, not replaced
    renamed, _ = validate_policy(policy("CY-1B", kinds=["regulatory"], limit="75k"), "policy")
    assert renamed is not None
    with sdb.begin() as s:
        save_policy(s, renamed, pid)
    got = {p["policy_number"]: sorted(p["coverages"]) for p in export_data(sdb)["insurance"]}
    assert got == {"CY-1B": ["regulatory"], "CY-2": ["extortion"]}
    clash, _ = validate_policy(policy("CY-2"), "policy")
    assert clash is not None
    with sdb.begin() as s, pytest.raises(InsuranceInputError, match="already recorded"):
        save_policy(s, clash, pid)
    with sdb.begin() as s, pytest.raises(LookupError):
        save_policy(s, renamed, 999)
    assert sorted(p["policy_number"] for p in export_data(sdb)["insurance"]) == ["CY-1B", "CY-2"]
