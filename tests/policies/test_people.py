from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shopguard.db.base import utcnow
from shopguard.policies.library import (
    PolicyError,
    add_months,
    approve,
    get_document,
    init_library,
    new_version,
    publish,
)
from shopguard.policies.models import Person
from shopguard.policies.people import (
    PolicyInputError,
    acknowledge,
    add_person,
    add_training,
    import_roster_csv,
    pending,
    remove_person,
    training_status,
)


def _publish(sdb, *slugs):
    for slug in slugs:
        approve(sdb, slug, "Ann Owner")
        publish(sdb, slug)


def test_csv_import_reports_every_bad_row_and_imports_nothing(sdb, config, tmp_path: Path):
    f = tmp_path / "roster.csv"
    f.write_text(
        "email,name,roles,start_date\n"
        "ann@acme.example,Ann,owner,2020-01-01\n"
        "not-an-email,Bob,admin,2024-01-01\n"
        "carl@acme.example,,wizard,03/01/2024\n"
        "ann@acme.example,Ann again,owner,2020-01-01\n"
    )
    with pytest.raises(PolicyInputError) as exc:
        import_roster_csv(sdb, f, config.policies)
    msg = str(exc.value)
    assert "row 3, field email" in msg
    assert "row 4, field name" in msg and "row 4, field roles: unknown role 'wizard'" in msg
    assert "row 4, field start_date: '03/01/2024' is not a date" in msg
    assert "row 5, field email: ann@acme.example already on row 2" in msg
    with sdb() as s:
        assert s.scalar(select(func.count()).select_from(Person)) == 0


def test_csv_header_must_have_the_columns(sdb, config, tmp_path: Path):
    f = tmp_path / "roster.csv"
    f.write_text("mail,name\nx@y.z,X\n")
    with pytest.raises(PolicyInputError, match="missing column"):
        import_roster_csv(sdb, f, config.policies)


def test_csv_import_good_rows(sdb, config, tmp_path: Path):
    f = tmp_path / "roster.csv"
    f.write_text(
        "email,name,roles,start_date\nANN@acme.example,Ann,owner;admin,2020-01-01\n"
        "dev@agency.example,Dev,developer,\n"
    )
    assert import_roster_csv(sdb, f, config.policies) == 2
    with sdb() as s:
        ann = s.scalar(select(Person).where(Person.email == "ann@acme.example"))
        assert ann.roles == ["owner", "admin"] and ann.start_date == date(2020, 1, 1)


def test_acknowledgement_reset_by_new_version_and_expiry(sdb, config):
    init_library(sdb, config)
    _publish(sdb, "acceptable-use", "secure-development")
    add_person(sdb, "ann@acme.example", "Ann", "owner", config.policies)
    add_person(sdb, "dev@agency.example", "Dev", "developer", config.policies)
    owed = {(p.email, p.slug, p.reason) for p in pending(sdb, config.policies)}
    # secure-development applies to developers only
    assert owed == {
        ("ann@acme.example", "acceptable-use", "never"),
        ("dev@agency.example", "acceptable-use", "never"),
        ("dev@agency.example", "secure-development", "never"),
    }
    with pytest.raises(PolicyError, match="applies to roles developer"):
        acknowledge(sdb, "ann@acme.example", "secure-development")
    a = acknowledge(sdb, "ann@acme.example", "acceptable-use", method="paper")
    with sdb() as s:
        assert a.text_hash == get_document(s, "acceptable-use").versions[0].text_hash
    assert ("ann@acme.example", "acceptable-use") not in {
        (p.email, p.slug) for p in pending(sdb, config.policies)
    }

    # a new published version resets it
    with sdb() as s:
        text = get_document(s, "acceptable-use").versions[0].text
    new_version(sdb, "acceptable-use", text + "\nNo personal USB sticks.\n", "USB rule")
    assert ("ann@acme.example", "acceptable-use") not in {
        (p.email, p.slug) for p in pending(sdb, config.policies)
    }
    _publish(sdb, "acceptable-use")
    ann = [p for p in pending(sdb, config.policies) if p.email == "ann@acme.example"]
    assert [(p.slug, p.version, p.reason) for p in ann] == [("acceptable-use", 2, "new version")]

    # yearly re-acknowledgement
    acknowledge(sdb, "ann@acme.example", "acceptable-use", at=utcnow() - timedelta(days=370))
    ann = [p for p in pending(sdb, config.policies) if p.email == "ann@acme.example"]
    assert [p.reason for p in ann] == ["expired"]
    later = utcnow() + timedelta(days=2)
    acknowledge(sdb, "ann@acme.example", "acceptable-use")
    assert not [p for p in pending(sdb, config.policies, now=later) if p.email == "ann@acme.example"]

    # someone who left owes nothing
    remove_person(sdb, "dev@agency.example")
    assert not [p for p in pending(sdb, config.policies) if p.email == "dev@agency.example"]
    with pytest.raises(PolicyError, match="has left"):
        acknowledge(sdb, "dev@agency.example", "acceptable-use")


def test_ack_requires_a_published_version(sdb, config):
    init_library(sdb, config)
    add_person(sdb, "ann@acme.example", "Ann", "owner", config.policies)
    with pytest.raises(PolicyError, match="no published version"):
        acknowledge(sdb, "ann@acme.example", "acceptable-use")


def test_training_default_expiry_and_states(sdb, config):
    add_person(sdb, "ann@acme.example", "Ann", "owner", config.policies)
    add_person(sdb, "bob@acme.example", "Bob", "support", config.policies)
    add_person(sdb, "cat@acme.example", "Cat", "staff", config.policies)
    add_person(sdb, "dan@acme.example", "Dan", "staff", config.policies)
    done = utcnow().date() - timedelta(days=10)
    r = add_training(sdb, "ann@acme.example", "Phishing basics", done.isoformat(), config.policies)
    assert r.expires_on == add_months(done, 12)
    add_training(sdb, "bob@acme.example", "Phishing basics", "2020-01-01", config.policies)
    add_training(sdb, "cat@acme.example", "Phishing basics", done, config.policies, result="failed")
    with pytest.raises(PolicyInputError, match="completed_on: '1/2/2025' is not a date"):
        add_training(sdb, "dan@acme.example", "X", "1/2/2025", config.policies)
    with pytest.raises(PolicyInputError, match="result"):
        add_training(sdb, "dan@acme.example", "X", done, config.policies, result="maybe")
    states = {t.email: t.state for t in training_status(sdb)}
    assert states == {
        "ann@acme.example": "current",
        "bob@acme.example": "expired",
        "cat@acme.example": "failed",
        "dan@acme.example": "never",
    }
