from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from shopguard.db import open_database
from shopguard.policies.library import approve, init_library, publish
from shopguard.policies.models import Acknowledgement, Person, PolicyDocument, TrainingRecord
from shopguard.policies.people import PolicyInputError, acknowledge, add_person, add_training
from shopguard.policies.yamlio import export_data, export_yaml, import_yaml


def _seed(sdb, config):
    init_library(sdb, config)
    approve(sdb, "acceptable-use", "Ann Owner")
    publish(sdb, "acceptable-use")
    add_person(sdb, "ann@acme.example", "Ann", "owner", config.policies, "2020-01-01")
    acknowledge(sdb, "ann@acme.example", "acceptable-use", method="paper")
    add_training(sdb, "ann@acme.example", "Phishing", "2026-01-10", config.policies, provider="KnowBe4")


def test_roundtrip_into_a_fresh_database(sdb, config, tmp_path: Path, postgres_url: str):
    _seed(sdb, config)
    f = tmp_path / "policies.yaml"
    f.write_text(export_yaml(sdb))
    assert "text: |" in f.read_text()  # policy bodies as readable blocks
    other = open_database(postgres_url)
    try:
        counts = import_yaml(other, f, config.policies)
        assert counts["people"] == 1 and counts["acknowledgements"] == 1 and counts["training"] == 1
        assert export_data(other) == export_data(sdb)
        # importing again changes nothing (idempotent)
        import_yaml(other, f, config.policies)
        assert export_data(other) == export_data(sdb)
    finally:
        other.kw["bind"].dispose()


def test_bad_rows_name_the_place_and_nothing_is_imported(sdb, config, tmp_path: Path):
    data = {
        "people": [
            {"email": "ok@acme.example", "name": "OK", "roles": ["owner"], "start_date": "2020-01-01"},
            {"email": "bad@acme.example", "name": "Bad", "roles": ["owner"], "start_date": "1st of May"},
        ],
        "training": [{"email": "ok@acme.example", "course": "Phishing", "completed_on": "2026-13-01"}],
        "policies": [
            {
                "slug": "x",
                "versions": [{"number": 1, "status": "published", "text": "# X\n", "approved_by": "Ann"}],
            }
        ],
        "vendors": [{"name": "Stripe", "pci_attestation": "yesterday"}],
    }
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(data))
    with pytest.raises(PolicyInputError) as exc:
        import_yaml(sdb, f, config.policies)
    msg = str(exc.value)
    assert str(f) in msg
    assert "people[1], field start_date: '1st of May' is not a date" in msg
    assert "training[0], field completed_on" in msg
    assert "policies[0].versions[0].published_at: required" in msg
    assert "vendors[0].pci_attestation" in msg
    with sdb() as s:
        for model in (Person, TrainingRecord, PolicyDocument):
            assert s.scalar(select(func.count()).select_from(model)) == 0


def test_tampered_published_text_is_refused(sdb, config, tmp_path: Path):
    _seed(sdb, config)
    data = export_data(sdb)
    au = next(p for p in data["policies"] if p["slug"] == "acceptable-use")
    au["versions"][0]["text"] += "\nA sneaky extra rule.\n"
    f = tmp_path / "t.yaml"
    f.write_text(yaml.safe_dump(data))
    with pytest.raises(PolicyInputError, match=r"versions\[0\]\.text_sha256: does not match"):
        import_yaml(sdb, f, config.policies)
    del au["versions"][0]["text_sha256"]
    f.write_text(yaml.safe_dump(data))
    with pytest.raises(PolicyInputError, match="immutable"):
        import_yaml(sdb, f, config.policies)
    with sdb() as s:
        assert s.scalar(select(func.count()).select_from(Acknowledgement)) == 1


def test_malformed_yaml_and_unknown_section(sdb, config, tmp_path: Path):
    f = tmp_path / "m.yaml"
    f.write_text("people: [unclosed\n")
    with pytest.raises(PolicyInputError, match="not valid YAML"):
        import_yaml(sdb, f, config.policies)
    f.write_text("peple: []\n")
    with pytest.raises(PolicyInputError, match="peple: unknown section"):
        import_yaml(sdb, f, config.policies)


def test_import_cannot_leave_two_published_versions(sdb, config, tmp_path: Path):
    _seed(sdb, config)
    data = export_data(sdb)
    au = next(p for p in data["policies"] if p["slug"] == "acceptable-use")
    v2 = dict(au["versions"][0], number=2, text=au["versions"][0]["text"] + "\nNew rule.\n")
    del v2["text_sha256"]
    au["versions"].append(v2)
    f = tmp_path / "two.yaml"
    f.write_text(yaml.safe_dump({"policies": [au]}))
    with pytest.raises(PolicyInputError, match="more than one version would be published"):
        import_yaml(sdb, f, config.policies)
    au["versions"][0]["status"] = "retired"
    au["versions"][0]["retired_at"] = v2["published_at"]
    f.write_text(yaml.safe_dump({"policies": [au]}))
    assert import_yaml(sdb, f, config.policies)["versions"] == 2
    with sdb() as s:
        doc = s.scalar(select(PolicyDocument).where(PolicyDocument.slug == "acceptable-use"))
        assert [(v.number, v.status) for v in doc.versions] == [(1, "retired"), (2, "published")]
