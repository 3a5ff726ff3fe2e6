"""The one triage rule, evaluated in SQL and in Python, gives the same answer on SQLite and
PostgreSQL; the other protocols' checks use it too."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from shopguard.checks import CheckRun, Outcome
from shopguard.config import FindingsSettings
from shopguard.db.base import utcnow
from shopguard.db.models import FindingRecord
from shopguard.db.repository import begin_run, finish_run, load_run, record_check, set_triage
from shopguard.db.triage import TriageError, counts_as_open, expiry_for, triage_holds
from shopguard.findings import Finding, Severity, Triage
from shopguard.response.autoopen import open_incidents_from_findings
from shopguard.response.models import IncidentFinding

KINDS = ("untouched", "fp", "accepted", "lapsed", "legacy-no-expiry", "reopened")


def _seed(db: sessionmaker[Session]) -> dict[str, int]:
    findings = [
        Finding("scanning.files.malware", Severity.CRITICAL, f"Card skimmer {k}", f"https://demo.example/{k}")
        for k in KINDS
    ]
    run = begin_run(db, ["demo"], "all")
    record_check(db, run, CheckRun("scanning.files.malware", "demo", Outcome.OK, findings))
    finish_run(db, run)
    fps = {k: f.fingerprint for k, f in zip(KINDS, findings, strict=True)}
    set_triage(db, "demo", fps["fp"], Triage.FALSE_POSITIVE, "our own test file", "ann")
    for k in ("accepted", "lapsed", "legacy-no-expiry", "reopened"):
        set_triage(db, "demo", fps[k], Triage.ACCEPTED_RISK, "vendor fix due", "ann")
    set_triage(db, "demo", fps["reopened"], Triage.NONE, "", "ann")
    with db.begin() as s:
        ids = {
            k: s.scalar(select(FindingRecord.id).where(FindingRecord.fingerprint == fps[k])) for k in KINDS
        }
        s.execute(
            update(FindingRecord)
            .where(FindingRecord.id == ids["lapsed"])
            .values(triage_expires_at=utcnow() - timedelta(seconds=1))
        )
        s.execute(
            update(FindingRecord)
            .where(FindingRecord.id == ids["legacy-no-expiry"])
            .values(triage_expires_at=None)
        )
    return {k: int(v) for k, v in ids.items() if v is not None}


def test_sql_and_python_agree(db: sessionmaker[Session]) -> None:
    ids = _seed(db)
    name = {v: k for k, v in ids.items()}
    with db() as s:
        open_sql = {name[i] for i in s.scalars(select(FindingRecord.id).where(counts_as_open()))}
        held_sql = {name[i] for i in s.scalars(select(FindingRecord.id).where(triage_holds()))}
        recs = list(s.scalars(select(FindingRecord)))
    assert open_sql == {"untouched", "lapsed", "reopened"}
    assert held_sql == {"fp", "accepted", "legacy-no-expiry"}
    assert {name[r.id] for r in recs if r.effective_triage is Triage.NONE} == open_sql
    run = load_run(db)
    by_title = {sf.finding.title.removeprefix("Card skimmer "): sf for sf in run.findings}
    assert {k for k, sf in by_title.items() if sf.counts_as_open} == open_sql
    assert by_title["lapsed"].triage_lapsed and not by_title["accepted"].triage_lapsed


def test_other_protocols_use_the_rule(db: sessionmaker[Session]) -> None:
    """The response plan opens an incident from open skimmer findings: a lapsed acceptance is
    one of them again, a current acceptance or a false positive is not."""
    ids = _seed(db)
    with db.begin() as s:
        assert open_incidents_from_findings(s, "demo")
    with db() as s:
        linked = set(s.scalars(select(IncidentFinding.finding_id)))
    assert linked == {ids["untouched"], ids["lapsed"], ids["reopened"]}


def test_expiry_bounds() -> None:
    settings = FindingsSettings(accept_risk_default_days=30, accept_risk_max_days=60)
    today = utcnow().date()
    assert expiry_for(settings, None, today).date() == today + timedelta(days=30)
    assert expiry_for(settings, today + timedelta(days=60), today).date() == today + timedelta(days=60)
    for bad in (today, today + timedelta(days=61)):
        with pytest.raises(TriageError) as err:
            expiry_for(settings, bad, today)
        assert err.value.field == "expires"
