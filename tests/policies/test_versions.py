from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from shopguard.db.base import utcnow
from shopguard.policies.catalog import LIBRARY
from shopguard.policies.library import (
    PolicyError,
    add_months,
    approve,
    get_document,
    init_library,
    library_state,
    new_version,
    publish,
    regenerate,
    retire,
    review,
    review_due,
)
from shopguard.policies.models import ImmutableVersionError, PolicyVersion
from shopguard.policies.render import text_hash

from .conftest import make_config


def test_init_creates_one_draft_per_template_and_is_idempotent(sdb, config):
    assert len(init_library(sdb, config, "Sam")) == len(LIBRARY)
    assert init_library(sdb, config) == []
    states = library_state(sdb, 12)
    assert {s.latest_status for s in states} == {"draft"}
    assert all(s.published_number is None for s in states)


def test_lifecycle_draft_approved_published_retired(sdb, config):
    init_library(sdb, config)
    with pytest.raises(PolicyError, match="approves"):
        approve(sdb, "access-control", "  ")
    with pytest.raises(PolicyError, match="no approved version"):
        publish(sdb, "access-control")
    v = approve(sdb, "access-control", "Ann Owner")
    assert v.status == "approved" and v.approved_by == "Ann Owner" and v.approved_at is not None
    v = publish(sdb, "access-control")
    assert v.status == "published" and v.published_at is not None
    with sdb() as s:
        stored = get_document(s, "access-control").versions[0]
        assert stored.text_hash == text_hash(stored.text)
    v = retire(sdb, "access-control")
    assert v.status == "retired" and v.retired_at is not None
    with pytest.raises(PolicyError, match="no published version"):
        retire(sdb, "access-control")


def test_published_text_is_immutable(sdb, config):
    init_library(sdb, config)
    approve(sdb, "acceptable-use", "Ann")
    publish(sdb, "acceptable-use")
    with pytest.raises(ImmutableVersionError, match="new version"), sdb.begin() as s:
        v = s.scalar(select(PolicyVersion).where(PolicyVersion.status == "published"))
        v.text = v.text + "\nOne more rule.\n"
    with sdb() as s:  # nothing changed
        v = s.scalar(select(PolicyVersion).where(PolicyVersion.status == "published"))
        assert "One more rule" not in v.text and v.text_hash == text_hash(v.text)


def test_a_change_makes_a_new_version_with_a_note_and_publishing_retires_the_old(sdb, config):
    init_library(sdb, config)
    approve(sdb, "remote-work", "Ann")
    publish(sdb, "remote-work")
    with sdb() as s:
        old_text = get_document(s, "remote-work").versions[0].text
    with pytest.raises(PolicyError, match="change note"):
        new_version(sdb, "remote-work", old_text + "\nNo USB sticks.\n", "")
    assert new_version(sdb, "remote-work", old_text, "same text") is None
    v2 = new_version(sdb, "remote-work", old_text + "\nNo USB sticks.\n", "ban USB sticks", "Sam")
    assert v2 is not None and v2.number == 2 and v2.status == "draft" and v2.change_note == "ban USB sticks"
    # editing an open draft updates it rather than piling up versions
    v2b = new_version(sdb, "remote-work", old_text + "\nNo USB sticks at all.\n", "clearer")
    assert v2b is not None and v2b.number == 2
    approve(sdb, "remote-work", "Ann")
    # changing approved text withdraws approval: a fresh draft v3
    v3 = new_version(sdb, "remote-work", old_text + "\nNo USB drives.\n", "wording")
    assert v3 is not None and v3.number == 3 and v3.status == "draft"
    approve(sdb, "remote-work", "Ann")
    publish(sdb, "remote-work")
    with sdb() as s:
        statuses = [(v.number, v.status) for v in get_document(s, "remote-work").versions]
    assert statuses == [(1, "retired"), (2, "approved"), (3, "published")]


def test_regenerate_after_config_change(sdb, config):
    init_library(sdb, config)
    approve(sdb, "change-patch", "Ann")
    publish(sdb, "change-patch")
    assert regenerate(sdb, config, "change-patch", "no change") is None
    stricter = make_config(policies={"patch_days_critical": 14, "roles": {"owner": "Ann Owner"}})
    v = regenerate(sdb, stricter, "change-patch", "patch within 14 days")
    assert v is not None and v.number == 2 and "within **14 days**" in v.text


def test_review_due_and_review_pushes_it_out(sdb, config):
    init_library(sdb, config)
    long_ago = utcnow() - timedelta(days=400)
    approve(sdb, "vendors", "Ann", at=long_ago)
    v = publish(sdb, "vendors", at=long_ago)
    assert review_due(v, 12) == add_months(long_ago.date(), 12) < utcnow().date()
    v = review(sdb, "vendors", "Ann")
    assert review_due(v, 12) == add_months(utcnow().date(), 12)


def test_add_months_clamps_month_end():
    from datetime import date

    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 12, 15), 12) == date(2025, 12, 15)
