"""The PCI checks run through the real audit runner and storage, reading the PCI records."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from shopguard.audit import run_audit
from shopguard.config import parse_config
from shopguard.db.base import utcnow
from shopguard.findings import Severity
from shopguard.pci.assessment import Answer, AnswerInput, attest, current_year, save_answers, save_decision
from shopguard.pci.asv import add_scan, previous_quarters, quarter_of
from shopguard.pci.autoevidence import Suggested, compute_suggestions
from shopguard.pci.catalogue import Saq, load_catalogue
from shopguard.pci.models import PciAssessment
from shopguard.pci.saq import Integration, SaqAnswers, decide

STORE = "demo"
CONFIG = parse_config(
    {"stores": [{"name": STORE, "storefront_url": "https://shop.example", "payment_integration": "redirect"}]}
)


def audit_pci(db: sessionmaker[Session]) -> dict[str, list[tuple[str, Severity]]]:
    run = run_audit(CONFIG, CONFIG.stores, db, selectors=["pci"])
    assert {e[1] for e in run.executions} == {"pci.assessment", "pci.asv"}
    assert all(e[2] == "ok" for e in run.executions), run.executions
    out: dict[str, list[tuple[str, Severity]]] = {}
    for sf in run.findings:
        if sf.counts_as_open:
            out.setdefault(sf.finding.check_id, []).append((sf.finding.key, sf.finding.severity))
    return out


def all_quarters_passed(db: sessionmaker[Session], tmp_path: Path) -> None:
    today = date.today()
    for i, q in enumerate([quarter_of(today), *previous_quarters(today, 4)]):
        y, n = q.split("-Q")
        scan_day = min(date(int(y), 3 * int(n) - 2, 15), today)
        report = tmp_path / f"asv-{q}.pdf"
        report.write_bytes(f"%PDF-1.4\n% ASV report {q} {i}\n".encode())
        add_scan(
            db,
            STORE,
            report,
            quarter=q,
            scan_date=scan_day,
            vendor="Example ASV",
            passed=True,
            uploader="Ann",
        )


def test_nothing_recorded_is_reported_as_gaps(pci_db: sessionmaker[Session]) -> None:
    got = audit_pci(pci_db)
    assert got["pci.assessment.no-saq"] == [("", Severity.HIGH)]
    assert len(got["pci.asv.quarter-missing"]) == 4
    assert all(sev is Severity.HIGH for _, sev in got["pci.asv.quarter-missing"])


def test_complete_signed_assessment_and_scans_leave_no_gaps(
    pci_db: sessionmaker[Session], tmp_path: Path
) -> None:
    year = current_year()
    save_decision(
        pci_db, STORE, year, decide(SaqAnswers(Integration.REDIRECT, processor_compliant=True)), "Ann"
    )
    got = audit_pci(pci_db)
    assert "pci.assessment.not-signed" in got and "pci.assessment.unanswered" in got

    items = [AnswerInput(r.id, Answer.IN_PLACE, "Ann") for r in load_catalogue().for_saq(Saq.A)]
    items[0] = AnswerInput(items[0].requirement_id, Answer.NOT_IN_PLACE, "Ann")
    save_answers(pci_db, STORE, year, items)
    got = audit_pci(pci_db)
    assert got["pci.assessment.not-in-place"] == [(items[0].requirement_id, Severity.HIGH)]
    assert "pci.assessment.unanswered" not in got

    save_answers(pci_db, STORE, year, [AnswerInput(items[0].requirement_id, Answer.IN_PLACE, "Ann")])
    attest(pci_db, STORE, year, "Ann", "Owner")
    all_quarters_passed(pci_db, tmp_path)
    got = audit_pci(pci_db)
    assert got == {}, got  # earlier findings were resolved by the clean runs

    # 11.3.2's evidence comes from the pci.asv check, which just ran cleanly with no gap.
    sug = {s.requirement_id: s for s in compute_suggestions(pci_db, STORE, year)}
    assert sug["11.3.2"].suggested is Suggested.IN_PLACE

    # A year later the signature is stale.
    with pci_db.begin() as s:
        s.execute(update(PciAssessment).values(attested_at=utcnow() - timedelta(days=400)))
    got = audit_pci(pci_db)
    assert got["pci.assessment.expired"] == [("", Severity.HIGH)]


def test_overdue_task_is_reported(pci_db: sessionmaker[Session]) -> None:
    from shopguard.pci.assessment import set_task

    year = current_year()
    save_decision(pci_db, STORE, year, decide(SaqAnswers(Integration.REDIRECT)), "Ann")
    save_answers(pci_db, STORE, year, [AnswerInput("12.8.4", Answer.NOT_IN_PLACE, "Ann")])
    set_task(pci_db, STORE, year, "12.8.4", "Bob", date.today() - timedelta(days=1))
    got = audit_pci(pci_db)
    assert got["pci.assessment.task-overdue"] == [("12.8.4", Severity.MEDIUM)]


def test_last_years_assessment(pci_db: sessionmaker[Session]) -> None:
    last = current_year() - 1
    save_decision(pci_db, STORE, last, decide(SaqAnswers(Integration.REDIRECT)), "Ann")
    got = audit_pci(pci_db)
    assert got["pci.assessment.no-current-year"] == [(str(current_year()), Severity.MEDIUM)]
    save_answers(
        pci_db,
        STORE,
        last,
        [AnswerInput(r.id, Answer.IN_PLACE, "Ann") for r in load_catalogue().for_saq(Saq.A)],
    )
    attest(pci_db, STORE, last, "Ann", "Owner")
    with pci_db.begin() as s:  # signed a month ago, still within its 12 months
        s.execute(update(PciAssessment).values(attested_at=utcnow() - timedelta(days=30)))
    got = audit_pci(pci_db)
    assert got["pci.assessment.no-current-year"] == [(str(current_year()), Severity.LOW)]
    assert "pci.assessment.expired" not in got and "pci.assessment.not-signed" not in got
