"""PCI checks for ``shopguard audit``: they read the PCI records and report what is missing.

They never write: the SAQ, answers and ASV reports are recorded with ``shopguard pci``.
Without ShopGuard's database (``ctx.db`` is None) they fail, so the PCI row of the litmus
table reads "not assessed" rather than a readiness nobody measured.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopguard.checks import CheckContext, RecordsCheck, register_check
from shopguard.db.base import utcnow
from shopguard.findings import Finding, Refs, Severity
from shopguard.pci.assessment import Answer, answers_of, applicable, latest_assessment, tasks_of
from shopguard.pci.asv import NOT_AN_ASV, cadence
from shopguard.pci.catalogue import Saq
from shopguard.pci.models import PciAssessment

ATTESTATION_MAX_AGE = timedelta(days=365)


def assessment_findings(s: Session, store: str, today: date) -> list[Finding]:
    cid = PciAssessmentCheck.id
    loc = f"pci:{store}"
    latest = latest_assessment(s, store)
    if latest is None:
        return [
            Finding(
                f"{cid}.no-saq",
                Severity.HIGH,
                "No PCI DSS questionnaire (SAQ) chosen for this store",
                loc,
                "A store that takes card payments must validate PCI DSS compliance every year, starting "
                "with the right Self-Assessment Questionnaire.",
                f"Run `shopguard pci saq --store {store}` to choose the SAQ, then answer it.",
                refs=Refs(pci=("12.4", "12.5.2")),
            )
        ]
    out: list[Finding] = []
    attested = s.scalars(
        select(PciAssessment).where(PciAssessment.store == store, PciAssessment.attested_at.is_not(None))
    ).all()
    newest_sign = max((a.attested_at for a in attested if a.attested_at), default=None)
    now = utcnow()
    if newest_sign is None:
        out.append(
            Finding(
                f"{cid}.not-signed",
                Severity.HIGH,
                "The PCI self-assessment has never been completed and signed",
                loc,
                f"An SAQ ({Saq(latest.saq).long_name}) was chosen for {latest.year}, but no "
                "assessment has been signed, so the store has no current PCI DSS validation.",
                f"Answer every requirement, then `shopguard pci sign --store {store} --by NAME`.",
                key="never",
            )
        )
    elif now - newest_sign > ATTESTATION_MAX_AGE:
        out.append(
            Finding(
                f"{cid}.expired",
                Severity.HIGH,
                "The last signed PCI self-assessment is more than 12 months old",
                loc,
                f"Last signed on {newest_sign:%Y-%m-%d}; PCI DSS validation is yearly.",
                f"Start this year's assessment: `shopguard pci saq --store {store}`.",
                evidence={"last_signed": newest_sign.isoformat()},
            )
        )
    if latest.year < today.year:
        # Validation is yearly from the last signature: while that is current, a missing
        # calendar-year assessment is a reminder, not a gap.
        current = newest_sign is not None and now - newest_sign <= ATTESTATION_MAX_AGE
        out.append(
            Finding(
                f"{cid}.no-current-year",
                Severity.LOW if current else Severity.MEDIUM,
                f"No PCI assessment started for {today.year}",
                loc,
                f"The newest assessment is for {latest.year}.",
                f"Run `shopguard pci saq --store {store}` to start {today.year}'s assessment.",
                key=str(today.year),
            )
        )
    answers = answers_of(s, latest)
    missing = [r.id for r in applicable(latest) if r.id not in answers]
    if missing:
        out.append(
            Finding(
                f"{cid}.unanswered",
                Severity.MEDIUM,
                f"{len(missing)} PCI requirement(s) not answered yet",
                loc,
                f"{Saq(latest.saq).long_name} for {latest.year}: unanswered {', '.join(missing[:12])}"
                + (" ..." if len(missing) > 12 else ""),
                f"`shopguard pci suggest --store {store}` pre-fills what ShopGuard can measure; answer the "
                f"rest with `shopguard pci answer`.",
                evidence={"unanswered": missing},
                key=str(latest.year),
            )
        )
    for rid, ans in sorted(answers.items()):
        if Answer(ans.answer) is Answer.NOT_IN_PLACE:
            out.append(
                Finding(
                    f"{cid}.not-in-place",
                    Severity.HIGH,
                    f"PCI DSS requirement {rid} is not in place",
                    loc,
                    f"Answered Not in Place by {ans.person} on {ans.answered_on}.",
                    f"Work the remediation task: `shopguard pci tasks --store {store}`.",
                    evidence={"findings": list(ans.findings or [])},
                    refs=Refs(pci=(rid,)),
                    key=rid,
                )
            )
    for t in tasks_of(s, latest, only_open=True):
        if t.due is not None and t.due < today:
            out.append(
                Finding(
                    f"{cid}.task-overdue",
                    Severity.MEDIUM,
                    f"PCI remediation for {t.requirement_id} is overdue",
                    loc,
                    f"Due {t.due}, owner {t.owner or 'nobody'}.",
                    "Finish the fix, re-answer the requirement, or set a new due date with a reason.",
                    refs=Refs(pci=(t.requirement_id,)),
                    key=t.requirement_id,
                )
            )
    return out


def asv_findings(s: Session, store: str, today: date) -> list[Finding]:
    cid = PciAsvCheck.id
    loc = f"pci:{store}"
    out = []
    for q in cadence(s, store, today):
        if q.status in ("missing", "failed"):
            what = "no ASV scan report recorded" if q.status == "missing" else "only failing ASV scans"
            out.append(
                Finding(
                    f"{cid}.quarter-missing",
                    Severity.HIGH,
                    f"No passing external ASV scan for {q.quarter}",
                    loc,
                    f"PCI DSS 11.3.2 needs a passing scan by an Approved Scanning Vendor every quarter; "
                    f"{q.quarter} has {what}. {NOT_AN_ASV}",
                    f"Run `shopguard pci prescan --store {store}`, fix what it lists, have your ASV rescan, "
                    f"then `shopguard pci asv add REPORT.pdf --store {store} --quarter {q.quarter}`.",
                    evidence={"scans": list(q.scans)},
                    refs=Refs(pci=("11.3.2",)),
                    key=q.quarter,
                )
            )
    return out


@register_check
class PciAssessmentCheck(RecordsCheck):
    id = "pci.assessment"
    title = "PCI DSS self-assessment chosen, answered, signed and current"

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        with self.records(ctx)() as s:
            return assessment_findings(s, ctx.store.name, utcnow().date())


@register_check
class PciAsvCheck(RecordsCheck):
    id = "pci.asv"
    title = "Quarterly external scans by an ASV recorded and passing"

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        with self.records(ctx)() as s:
            return asv_findings(s, ctx.store.name, utcnow().date())
