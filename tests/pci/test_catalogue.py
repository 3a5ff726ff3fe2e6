"""The catalogue is held to the structure documented in its header (see the honesty note there)."""

from __future__ import annotations

import re

import pytest
import yaml

from shopguard.findings import PROTOCOLS
from shopguard.pci.catalogue import DATA_DIR, CatalogueError, Saq, load_catalogue, parse_catalogue

cat = load_catalogue()


def test_counts_per_saq_match_the_documented_structure() -> None:
    for saq in Saq:
        assert cat.counts(saq) == cat.expected_counts[saq.value], saq


def test_documented_counts_are_the_ones_this_test_expects() -> None:
    # The published structure we hold: SAQ A r1 has 28 requirements in groups 2, 3, 6, 8, 9, 11, 12.
    assert cat.expected_counts["A"]["total"] == 28
    assert set(cat.counts(Saq.A)) - {"total"} == {"2", "3", "6", "8", "9", "11", "12"}
    assert cat.expected_counts["A-EP"]["total"] == 183
    assert cat.expected_counts["D"]["total"] == 234
    assert len(cat.requirements) == 260


def test_january_2025_revision_removed_script_requirements_from_saq_a() -> None:
    assert cat.saq_a_r1_removed == ("6.4.3", "11.6.1", "12.3.1")
    for rid in cat.saq_a_r1_removed:
        req = cat.get(rid)
        assert Saq.A not in req.saqs and req.saq_a_2024
        assert Saq.A_EP in req.saqs and Saq.D in req.saqs
    assert {r.id for r in cat.requirements if r.saq_a_2024} == set(cat.saq_a_r1_removed)


def test_saqs_nest_and_exclude_service_provider_requirements() -> None:
    a, aep, d = ({r.id for r in cat.for_saq(s)} for s in (Saq.A, Saq.A_EP, Saq.D))
    assert a <= aep <= d
    for r in cat.requirements:
        if r.sp_only or r.issuer_only or r.group == "A1":
            assert not r.saqs, r.id


def test_ids_are_well_formed_unique_and_cover_all_twelve_groups() -> None:
    ids = [r.id for r in cat.requirements]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"(A[12]|[1-9]|1[0-2])(\.\d+){2,4}", i) for i in ids)
    assert {r.group for r in cat.requirements} == {str(n) for n in range(1, 13)} | {"A1", "A2"}


def test_summaries_are_short_own_words() -> None:
    for r in cat.requirements:
        assert 15 <= len(r.summary) <= 130, r.id
        assert r.summary[0].isupper() and r.summary.endswith("."), r.id


def test_check_prefixes_name_a_protocol_and_carry_a_frequency() -> None:
    for r in cat.requirements:
        for prefix in r.checks:
            head = prefix.split(".")[0]
            assert head in PROTOCOLS or head == "monitoring", (r.id, prefix)
            assert r.frequency_days and 1 <= r.frequency_days <= 366


@pytest.mark.parametrize(
    ("rid", "prefix"),
    [
        ("4.2.1", "scanning.web.tls"),
        ("4.2.1", "scanning.web.https"),
        ("6.3.1", "maintenance"),
        ("6.3.3", "maintenance"),
        ("6.4.3", "scanning.pages"),
        ("11.6.1", "scanning.pages"),
        ("11.5.2", "scanning.files"),
        ("2.2.2", "hosting"),
        ("10.5.1", "hosting.logs"),
        ("11.3.2", "pci.asv"),
        ("12.1.1", "policies"),
        ("12.6.3", "policies.training"),
        ("12.10.1", "response"),
        ("8.4.1", "hosting.mfa"),
    ],
)
def test_evidence_sources(rid: str, prefix: str) -> None:
    assert prefix in cat.get(rid).checks


def test_malformed_catalogue_is_rejected_naming_the_entry() -> None:
    data = yaml.safe_load((DATA_DIR / "requirements.yaml").read_text())
    data["requirements"][5]["ev"] = "vibes"
    with pytest.raises(CatalogueError, match=r"requirement 1\.2\.4.*evidence kind"):
        parse_catalogue(yaml.safe_dump(data))
    data = yaml.safe_load((DATA_DIR / "requirements.yaml").read_text())
    data["requirements"].append(dict(data["requirements"][0]))
    with pytest.raises(CatalogueError, match="duplicate"):
        parse_catalogue(yaml.safe_dump(data))
