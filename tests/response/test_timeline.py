"""The timeline only grows; editing or cutting the past is detected (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from shopguard.config import Config
from shopguard.findings import Severity
from shopguard.response import incidents, timeline
from shopguard.response.models import TimelineEvent


def _incident(db: sessionmaker[Session], config: Config) -> int:
    with db.begin() as s:
        inc = incidents.open_incident(
            s,
            store="demo",
            title="Skimmer in checkout",
            scenario="skimmer",
            severity=Severity.CRITICAL,
            actor="Aoife",
            config=config,
        )
        incidents.add_note(s, inc, "Card form posts to cdn-paymentz.example", "Aoife")
        incidents.add_note(s, inc, "Switch to the hosted payment page", "Aoife", kind="decision")
        incidents.set_phase(s, inc, "containment", "Aoife", "payment page offline")
        incidents.complete_task(s, inc, 1, "Aoife")
        return inc.id


def test_chain_verifies_then_detects_an_edited_event(db: sessionmaker[Session], full_config: Config) -> None:
    iid = _incident(db, full_config)
    with db() as s:
        report = timeline.verify(s, incidents.get(s, iid))
    assert report.ok and report.entries == 5
    with db.begin() as s:  # an insider "softens" the note
        s.execute(
            text("UPDATE response_timeline SET data = :d WHERE incident_id = :i AND seq = 2"),
            {"d": '{"text": "nothing found"}', "i": iid},
        )
    with db() as s:
        report = timeline.verify(s, incidents.get(s, iid))
    assert not report.ok
    assert any(p.startswith("event 2 (note,") and "content changed" in p for p in report.problems)
    assert not any(p.startswith("event 3") for p in report.problems)  # later links are intact, only 2 changed


def test_a_rehashed_forgery_and_a_removed_last_event_are_detected(
    db: sessionmaker[Session], full_config: Config
) -> None:
    iid = _incident(db, full_config)
    with db.begin() as s:  # recompute the edited event's own hash: the next event no longer links to it
        ev = s.scalars(
            select(TimelineEvent).where(TimelineEvent.incident_id == iid, TimelineEvent.seq == 3)
        ).one()
        data = {"text": "Keep the payment page online"}
        forged = timeline.chain_hash(ev.prev_hash, timeline.canonical(iid, 3, ev.at, ev.actor, ev.kind, data))
        s.execute(
            text("UPDATE response_timeline SET data = :d, hash = :h WHERE incident_id = :i AND seq = 3"),
            {"d": '{"text": "Keep the payment page online"}', "h": forged, "i": iid},
        )
    with db() as s:
        report = timeline.verify(s, incidents.get(s, iid))
    assert any(p.startswith("event 4 (phase,") and "does not link" in p for p in report.problems)
    iid2 = _incident(db, full_config)
    with db.begin() as s:
        s.execute(text("DELETE FROM response_timeline WHERE incident_id = :i AND seq = 5"), {"i": iid2})
    with db() as s:
        report = timeline.verify(s, incidents.get(s, iid2))
    assert not report.ok and any("5 events but 4 are stored" in p for p in report.problems)


def test_closed_incident_refuses_changes(db: sessionmaker[Session], full_config: Config) -> None:
    iid = _incident(db, full_config)
    with db.begin() as s:
        inc = incidents.get(s, iid)
        incidents.close(s, inc, "Aoife", root_cause="Outdated plugin", changes="Weekly updates")
    with db.begin() as s:
        inc = incidents.get(s, iid)
        try:
            incidents.add_note(s, inc, "late edit", "Mallory")
        except incidents.IncidentError as exc:
            assert "closed" in str(exc)
        else:
            raise AssertionError("a closed incident accepted a note")
        assert timeline.verify(s, inc).ok
