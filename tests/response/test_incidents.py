"""Incident records: input checks and rules that keep deadlines honest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from shopguard.config import Config
from shopguard.db import open_database, utcnow
from shopguard.findings import Severity
from shopguard.response import incidents
from shopguard.response.appraisal import AppraisalError


@pytest.fixture
def sdb(sqlite_url: str) -> sessionmaker[Session]:
    return open_database(sqlite_url)


def _open(s: Session, config: Config, **kw: object) -> incidents.Incident:
    args: dict = dict(
        store="demo",
        title="Database dump found",
        scenario="database-exfiltration",
        severity=Severity.HIGH,
        actor="Aoife",
        config=config,
    )
    args.update(kw)
    return incidents.open_incident(s, **args)


def test_reappraisal_keeps_the_first_assessment_time(sdb: sessionmaker[Session], full_config: Config) -> None:
    with sdb.begin() as s:
        inc = _open(s, full_config)
        first = incidents.appraise(s, inc, {"data_kinds": ["email"], "records": 10}, "Aoife")
        later = incidents.appraise(s, inc, {"data_kinds": ["email", "password"], "records": 900}, "Aoife")
        assert later.assessed_at == first.assessed_at and later.records == 900
        assert inc.timeline_count == 3


def test_bad_input_is_refused_with_the_field(sdb: sessionmaker[Session], full_config: Config) -> None:
    with sdb.begin() as s:
        with pytest.raises(incidents.IncidentError, match="scenario: unknown 'meteor'"):
            _open(s, full_config, scenario="meteor")
        with pytest.raises(incidents.IncidentError, match=r"discovered: .* in the future"):
            _open(s, full_config, discovered_at=utcnow() + timedelta(days=1))
        with pytest.raises(incidents.IncidentError, match="discovered: give a time zone"):
            _open(s, full_config, discovered_at=datetime(2026, 1, 1, 10, 0))
        inc = _open(s, full_config, discovered_at=datetime(2026, 1, 1, 10, 0, tzinfo=UTC))
        with pytest.raises(AppraisalError, match="records"):
            incidents.appraise(s, inc, {"data_kinds": ["email"], "records": "many"}, "Aoife")
        assert inc.appraisal is None  # a refused appraisal leaves nothing behind
        with pytest.raises(incidents.IncidentError, match="party: unknown 'the-press'"):
            incidents.mark_sent(s, inc, "the-press", method="e-mail", actor="Aoife")
        with pytest.raises(incidents.IncidentError, match="method"):
            incidents.mark_sent(s, inc, "insurer", method=" ", actor="Aoife")
        with pytest.raises(incidents.IncidentError, match=r"task: incident #.* has no task 99"):
            incidents.complete_task(s, inc, 99, "Aoife")
        incidents.complete_task(s, inc, 2, "Aoife")
        with pytest.raises(incidents.IncidentError, match="already done"):
            incidents.complete_task(s, inc, 2, "Aoife")
        with pytest.raises(incidents.IncidentError, match="root cause"):
            incidents.close(s, inc, "Aoife", root_cause=" ", changes="")
        with pytest.raises(ValueError, match="actor"):
            incidents.add_note(s, inc, "who wrote this?", "")
