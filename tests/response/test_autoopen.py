"""Incidents open automatically from stored findings, through the real storage path."""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from shopguard.audit import run_audit
from shopguard.checks import CheckRun, Outcome
from shopguard.config import Config
from shopguard.db.models import FindingRecord
from shopguard.db.repository import begin_run, finish_run, load_run, record_check, set_triage
from shopguard.findings import Finding, Refs, Severity, Triage
from shopguard.response import after_run, incidents_for_findings, open_incidents_from_findings, timeline
from shopguard.response.models import Incident, IncidentFinding, IncidentTask, TimelineEvent
from shopguard.response.runbooks import runbook

from .conftest import REPO

SKIMMER = REPO / "demo" / "shop" / "static" / "js" / "checkout-helper.js"


def skimmer_finding(path: str = str(SKIMMER)) -> Finding:
    """What a file scanner reports for the demo shop's planted skimmer (answer key #9)."""
    return Finding(
        "scanning.files.malware",
        Severity.CRITICAL,
        "Card skimmer in checkout-helper.js",
        path,
        detail="Reads card number and CVV on submit and beacons them to cdn-paymentz.example.",
        remediation="Preserve the file, take the payment page offline, open an incident.",
        evidence={"rule": "magecart_beacon", "sha256": hashlib.sha256(SKIMMER.read_bytes()).hexdigest()},
        refs=Refs(pci=("11.5.1", "6.4.3")),
    )


def store_run(db: sessionmaker[Session], *results: CheckRun) -> int:
    run_id = begin_run(db, ["demo"], "scanning")
    for r in results:
        record_check(db, run_id, r)
    finish_run(db, run_id)
    return run_id


def test_skimmer_finding_opens_one_incident_with_runbook_tasks(
    db: sessionmaker[Session], full_config: Config
) -> None:
    sri = Finding(
        "scanning.pages.sri",
        Severity.MEDIUM,
        "Third-party script without SRI on the payment page",
        "http://127.0.0.1:18080/checkout",
    )
    run_id = store_run(
        db,
        CheckRun("scanning.files.malware", "demo", Outcome.OK, [skimmer_finding()]),
        CheckRun("scanning.pages.sri", "demo", Outcome.OK, [sri]),
    )
    new = after_run(db, load_run(db, run_id), full_config)
    assert len(new) == 1
    with db() as s:
        inc = s.get(Incident, new[0])
        assert inc is not None
        assert (inc.scenario, inc.severity, inc.source, inc.status) == (
            "skimmer",
            "critical",
            "finding",
            "open",
        )
        assert "Card skimmer in checkout-helper.js" in inc.title
        tasks = s.scalars(
            select(IncidentTask).where(IncidentTask.incident_id == inc.id).order_by(IncidentTask.number)
        ).all()
        assert len(tasks) == len(runbook("skimmer").tasks)
        assert tasks[1].owner == "Aoife Brennan" and tasks[1].owner_role == "security_lead"
        assert all(t.due_at is not None and t.due_at > inc.opened_at for t in tasks)
        link = s.scalars(select(IncidentFinding)).one()
        assert incidents_for_findings(s, [link.finding_id, 999]) == {link.finding_id: inc.id}
        rec = s.get(FindingRecord, link.finding_id)
        assert rec is not None and rec.check_id == "scanning.files.malware"
        first = s.scalars(select(TimelineEvent).where(TimelineEvent.incident_id == inc.id)).first()
        assert first is not None and first.kind == "created" and first.data["finding"]["finding"] == rec.id
        assert inc.discovered_at == rec.first_seen


def test_same_finding_never_opens_two_incidents(db: sessionmaker[Session], full_config: Config) -> None:
    run1 = store_run(db, CheckRun("scanning.files.malware", "demo", Outcome.OK, [skimmer_finding()]))
    assert len(after_run(db, load_run(db, run1), full_config)) == 1
    assert after_run(db, load_run(db, run1), full_config) == []  # the hook called twice
    run2 = store_run(db, CheckRun("scanning.files.malware", "demo", Outcome.OK, [skimmer_finding()]))
    assert after_run(db, load_run(db, run2), full_config) == []  # seen again next day
    # A second skimmer file joins the open incident instead of opening another.
    other = skimmer_finding(str(SKIMMER.with_name("jquery.min.js")))
    run3 = store_run(db, CheckRun("scanning.files.malware", "demo", Outcome.OK, [skimmer_finding(), other]))
    assert after_run(db, load_run(db, run3), full_config) == []
    with db() as s:
        assert s.scalar(select(func.count()).select_from(Incident)) == 1
        assert s.scalar(select(func.count()).select_from(IncidentFinding)) == 2
        inc = s.scalars(select(Incident)).one()
        assert [e.kind for e in s.scalars(select(TimelineEvent).order_by(TimelineEvent.seq))] == [
            "created",
            "finding_linked",
        ]
        assert timeline.verify(s, inc).ok


def test_rules_for_outages_fim_and_triage(sqlite_url: str, full_config: Config) -> None:
    from shopguard.db import open_database

    db = open_database(sqlite_url)
    short = Finding(
        "monitoring.uptime.down",
        Severity.HIGH,
        "Shop down",
        "http://127.0.0.1:18080/",
        evidence={"down_for_s": 300},
    )
    fp = Finding(
        "scanning.files.fim.changed", Severity.HIGH, "checkout.php changed", "/srv/shop/checkout.php"
    )
    store_run(
        db,
        CheckRun("monitoring.uptime", "demo", Outcome.OK, [short]),
        CheckRun("scanning.files.fim", "demo", Outcome.OK, [fp]),
    )
    set_triage(db, "demo", fp.fingerprint, Triage.FALSE_POSITIVE, "we deployed it", "Aoife")
    with db.begin() as s:
        assert open_incidents_from_findings(s, "demo", config=full_config) == []
    long = Finding(
        "monitoring.uptime.down",
        Severity.HIGH,
        "Shop down",
        "http://127.0.0.1:18080/",
        evidence={"down_for_s": 1800},
    )
    store_run(
        db,
        CheckRun("monitoring.uptime", "demo", Outcome.OK, [long]),
        CheckRun("scanning.files.fim", "demo", Outcome.OK, [fp]),
    )
    with db.begin() as s:
        opened = open_incidents_from_findings(s, "demo", config=full_config)
        assert [i.scenario for i in opened] == ["outage"]


def test_auto_open_can_be_turned_off(sqlite_url: str) -> None:
    from shopguard.db import open_database

    from .conftest import make_config

    db = open_database(sqlite_url)
    run_id = store_run(db, CheckRun("scanning.files.malware", "demo", Outcome.OK, [skimmer_finding()]))
    assert after_run(db, load_run(db, run_id), make_config(auto_open=False)) == []


def test_response_check_flags_an_unhandled_finding_until_the_hook_runs(
    sqlite_url: str, full_config: Config
) -> None:
    from shopguard.db import open_database

    db = open_database(sqlite_url)
    store_run(db, CheckRun("scanning.files.malware", "demo", Outcome.OK, [skimmer_finding()]))
    run = run_audit(full_config, full_config.stores, db, selectors=["response.incidents"])
    ids = {sf.finding.check_id for sf in run.findings}
    assert "response.incidents.unhandled" in ids
    after_run(db, run, full_config)
    run = run_audit(full_config, full_config.stores, db, selectors=["response.incidents"])
    found = {sf.finding.check_id: sf for sf in run.findings if sf.counts_as_open}
    assert "response.incidents.unhandled" not in found and "response.incidents.open" in found
