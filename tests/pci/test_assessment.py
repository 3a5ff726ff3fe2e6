from __future__ import annotations

import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from shopguard.db.base import utcnow
from shopguard.pci.assessment import (
    Answer,
    AnswerInput,
    PciError,
    attest,
    current_year,
    save_answers,
    save_decision,
    set_task,
    status,
)
from shopguard.pci.files import EvidenceError, evidence_root, store_file
from shopguard.pci.models import PciAnswer, PciTask
from shopguard.pci.saq import Integration, SaqAnswers, decide

STORE = "demo"

YEAR = current_year()


def start(db: sessionmaker[Session], integration: Integration = Integration.REDIRECT) -> None:
    save_decision(db, STORE, YEAR, decide(SaqAnswers(integration, processor_compliant=True)), "Ann")


def count(db: sessionmaker[Session], model: type) -> int:
    with db() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize(
    "answer", [Answer.NOT_APPLICABLE, Answer.IN_PLACE_CCW, Answer.IN_PLACE_CUSTOMIZED, Answer.NOT_TESTED]
)
def test_answers_that_need_a_justification_are_refused_without_one(
    pci_db: sessionmaker[Session], answer: Answer
) -> None:
    start(pci_db)
    with pytest.raises(PciError, match=r"requirement 3\.2\.1: field 'justification'"):
        save_answers(pci_db, STORE, YEAR, [AnswerInput("3.2.1", answer, "Ann", "  ")])
    assert count(pci_db, PciAnswer) == 0
    save_answers(
        pci_db, STORE, YEAR, [AnswerInput("3.2.1", answer, "Ann", "We never print or keep card data.")]
    )
    assert count(pci_db, PciAnswer) == 1


def test_bad_answers_name_requirement_and_field_and_write_nothing(pci_db: sessionmaker[Session]) -> None:
    start(pci_db)
    good = AnswerInput("12.8.4", Answer.IN_PLACE, "Ann")
    cases = [
        (AnswerInput("99.1.1", Answer.IN_PLACE, "Ann"), r"requirement 99\.1\.1: field 'id'"),
        (AnswerInput("1.2.1", Answer.IN_PLACE, "Ann"), r"requirement 1\.2\.1: field 'id': not part of SAQ A"),
        (AnswerInput("8.2.1", Answer.IN_PLACE, " "), r"requirement 8\.2\.1: field 'person'"),
        (
            AnswerInput("8.2.1", Answer.IN_PLACE, "Ann", on=utcnow().date() + timedelta(days=2)),
            "field 'date'",
        ),
    ]
    for bad, pattern in cases:
        with pytest.raises(PciError, match=pattern):
            save_answers(pci_db, STORE, YEAR, [good, bad])
    assert count(pci_db, PciAnswer) == 0  # the good one in the same batch was not written either


def test_answers_need_an_assessment(pci_db: sessionmaker[Session]) -> None:
    with pytest.raises(PciError, match="shopguard pci saq"):
        save_answers(pci_db, STORE, YEAR, [AnswerInput("12.8.4", Answer.IN_PLACE, "Ann")])


def test_not_in_place_opens_a_task_and_in_place_closes_it(pci_any_db: sessionmaker[Session]) -> None:
    pci_db = pci_any_db
    start(pci_db)
    save_answers(pci_db, STORE, YEAR, [AnswerInput("2.2.2", Answer.NOT_IN_PLACE, "Ann", findings=("abc",))])
    due = utcnow().date() + timedelta(days=30)
    task = set_task(pci_db, STORE, YEAR, "2.2.2", "Bob", due)
    assert (task.owner, task.due, task.status, task.findings) == ("Bob", due, "open", ["abc"])
    _, groups = status(pci_db, STORE, YEAR)
    g2 = next(g for g in groups if g.group == "2")
    assert (g2.applicable, g2.not_in_place, g2.open_tasks, g2.not_in_place_ids) == (1, 1, 1, ["2.2.2"])
    save_answers(pci_db, STORE, YEAR, [AnswerInput("2.2.2", Answer.IN_PLACE, "Ann")])
    with pci_db() as s:
        t = s.scalar(select(PciTask))
        assert t is not None and t.status == "done" and t.closed_at is not None
    with pytest.raises(PciError, match=r"requirement 8\.2\.1: no remediation task"):
        set_task(pci_db, STORE, YEAR, "8.2.1", "Bob", None)


def test_status_counts_per_group(pci_db: sessionmaker[Session]) -> None:
    start(pci_db)
    save_answers(
        pci_db,
        STORE,
        YEAR,
        [
            AnswerInput("8.2.1", Answer.IN_PLACE, "Ann"),
            AnswerInput("8.2.2", Answer.NOT_APPLICABLE, "Ann", "No shared accounts exist."),
            AnswerInput("8.2.5", Answer.NOT_IN_PLACE, "Ann"),
        ],
    )
    _a, groups = status(pci_db, STORE, YEAR)
    g8 = next(g for g in groups if g.group == "8")
    assert (g8.applicable, g8.answered, g8.in_place, g8.not_applicable, g8.not_in_place) == (8, 3, 1, 1, 1)
    assert g8.percent == 38
    assert sum(g.applicable for g in groups) == 28


def test_signing_needs_every_answer(pci_db: sessionmaker[Session]) -> None:
    start(pci_db)
    with pytest.raises(PciError, match="28 requirement"):
        attest(pci_db, STORE, YEAR, "Ann", "Owner")
    from shopguard.pci.catalogue import Saq, load_catalogue

    items = [AnswerInput(r.id, Answer.IN_PLACE, "Ann") for r in load_catalogue().for_saq(Saq.A)]
    save_answers(pci_db, STORE, YEAR, items)
    a = attest(pci_db, STORE, YEAR, "Ann", "Owner")
    assert a.attested_at is not None and a.attested_by == "Ann"


def test_evidence_is_hashed_checked_and_never_overwritten(tmp_path: Path) -> None:
    root = evidence_root()
    one = tmp_path / "firewall.txt"
    one.write_text("rules v1\n")
    first = store_file(one, "demo/2026")
    assert first.size == 9 and len(first.sha256) == 64
    stored = root / first.stored_path
    assert stored.read_text() == "rules v1\n"
    assert not stat.S_IMODE(os.stat(stored).st_mode) & 0o222  # read-only
    again = store_file(one, "demo/2026")
    assert again.stored_path == first.stored_path  # identical content, same file, not rewritten
    one.write_text("rules v2, changed\n")
    second = store_file(one, "demo/2026")
    assert second.stored_path != first.stored_path
    assert stored.read_text() == "rules v1\n"
    assert not list((root / "demo_2026").rglob(".incoming-*"))


def test_evidence_limits_and_types(tmp_path: Path) -> None:
    big = tmp_path / "scan.pdf"
    big.write_bytes(b"%PDF-1.7\n" + b"0" * 2048)
    with pytest.raises(EvidenceError, match="over the evidence limit of 1,024 bytes"):
        store_file(big, "demo", max_bytes=1024)
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ")
    with pytest.raises(EvidenceError, match=r"file type \.exe is not accepted"):
        store_file(exe, "demo")
    fake = tmp_path / "report.pdf"
    fake.write_text("<html>not a pdf</html>")
    with pytest.raises(EvidenceError, match=r"not a \.pdf file"):
        store_file(fake, "demo")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(EvidenceError, match="empty"):
        store_file(empty, "demo")
    assert not list(evidence_root().rglob("*.pdf"))


def test_changing_the_saq_voids_the_signature(pci_db: sessionmaker[Session]) -> None:
    from shopguard.pci.catalogue import Saq, load_catalogue

    start(pci_db)
    save_answers(
        pci_db,
        STORE,
        YEAR,
        [AnswerInput(r.id, Answer.IN_PLACE, "Ann") for r in load_catalogue().for_saq(Saq.A)],
    )
    attest(pci_db, STORE, YEAR, "Ann", "Owner")
    start(pci_db)  # same SAQ again: signature stands
    a, _ = status(pci_db, STORE, YEAR)
    assert a.attested_at is not None
    start(pci_db, Integration.DIRECT_POST)  # now SAQ A-EP
    a, groups = status(pci_db, STORE, YEAR)
    assert a.saq == "A-EP" and a.attested_at is None and a.attested_by == ""
    assert sum(g.applicable for g in groups) == 183
    assert sum(g.answered for g in groups) == 28  # the SAQ A answers still count where they apply
