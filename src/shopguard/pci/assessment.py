"""The assessment: one per store and year, with answers, remediation tasks and attestation.

Every write is one transaction, so a crash leaves either the old or the new state.
Answers are validated before anything is written; errors name the requirement and field.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shopguard.db.base import utcnow
from shopguard.pci.catalogue import Catalogue, Requirement, Saq, load_catalogue
from shopguard.pci.models import PciAnswer, PciAssessment, PciTask
from shopguard.pci.saq import SaqDecision


class PciError(ValueError):
    """A PCI command cannot do what was asked; the message says why and what to do."""


NOT_A_QSA = (
    "ShopGuard is not a PCI SSC Qualified Security Assessor (QSA) or Approved Scanning Vendor (ASV). "
    "Signing here records that you reviewed your own self-assessment; it is not a certification. "
    "Sign the official PCI SSC Attestation of Compliance as well and send it where your acquirer asks."
)
ATTESTATION_STATEMENT = (
    "I have reviewed every answer of this self-assessment. To the best of my knowledge the answers "
    "are complete and true for the store's card payment environment, the evidence attached is genuine, "
    "and any ShopGuard suggestion counted as an answer was confirmed by a person. I will keep the "
    "controls answered In Place in place, and I will tell my acquirer if that changes."
)
"""What the signer confirms (shown next to every signing form; the CLI prints it)."""


class Answer(StrEnum):
    """The responses an SAQ allows."""

    IN_PLACE = "in-place"
    IN_PLACE_CCW = "in-place-ccw"
    """In Place with a Compensating Control Worksheet."""
    IN_PLACE_CUSTOMIZED = "in-place-customized"
    """In Place using the Customized Approach."""
    NOT_APPLICABLE = "not-applicable"
    NOT_TESTED = "not-tested"
    NOT_IN_PLACE = "not-in-place"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def needs_justification(self) -> bool:
        return self in _JUSTIFY

    @property
    def counts_in_place(self) -> bool:
        return self in (Answer.IN_PLACE, Answer.IN_PLACE_CCW, Answer.IN_PLACE_CUSTOMIZED)

    @classmethod
    def parse(cls, text: str) -> Answer:
        key = " ".join(str(text).strip().lower().replace("_", "-").replace("-", " ").split())
        for a in cls:
            if key in {a.value.replace("-", " "), a.label.lower()} or key in _ALIASES.get(a, ()):
                return a
        allowed = ", ".join(a.value for a in cls)
        raise ValueError(f"{text!r} is not an answer: expected one of {allowed}")


_LABELS = {
    Answer.IN_PLACE: "In Place",
    Answer.IN_PLACE_CCW: "In Place with CCW",
    Answer.IN_PLACE_CUSTOMIZED: "In Place (Customized Approach)",
    Answer.NOT_APPLICABLE: "Not Applicable",
    Answer.NOT_TESTED: "Not Tested",
    Answer.NOT_IN_PLACE: "Not in Place",
}
_ALIASES = {
    Answer.IN_PLACE_CCW: ("ccw", "compensating control", "in place with compensating control"),
    Answer.IN_PLACE_CUSTOMIZED: ("customized", "customised", "customized approach"),
    Answer.NOT_APPLICABLE: ("n/a", "na"),
}
_JUSTIFY = {Answer.IN_PLACE_CCW, Answer.IN_PLACE_CUSTOMIZED, Answer.NOT_APPLICABLE, Answer.NOT_TESTED}


@dataclass(frozen=True)
class AnswerInput:
    requirement_id: str
    answer: Answer
    person: str
    justification: str = ""
    on: date | None = None
    source: str = "manual"
    findings: tuple[str, ...] = ()


def current_year() -> int:
    return utcnow().year


def validate_answer(cat: Catalogue, saq: Saq, item: AnswerInput) -> None:
    """Raise :class:`PciError` naming the requirement and the field at fault."""
    rid = item.requirement_id
    if not cat.has(rid):
        raise PciError(
            f"requirement {rid}: field 'id': not a PCI DSS v4.0.1 requirement in ShopGuard's catalogue"
        )
    req = cat.get(rid)
    if saq not in req.saqs:
        raise PciError(f"requirement {rid}: field 'id': not part of {saq.long_name}; nothing to answer there")
    if not item.person.strip():
        raise PciError(f"requirement {rid}: field 'person': who answered is required")
    if item.answer.needs_justification and not item.justification.strip():
        raise PciError(
            f"requirement {rid}: field 'justification': required for '{item.answer.label}' "
            "(say why it does not apply, or describe the control and how it was tested)"
        )
    if item.on is not None and item.on > utcnow().date():
        raise PciError(f"requirement {rid}: field 'date': {item.on} is in the future")


def get_assessment(s: Session, store: str, year: int) -> PciAssessment | None:
    return s.scalar(select(PciAssessment).where(PciAssessment.store == store, PciAssessment.year == year))


def require_assessment(s: Session, store: str, year: int) -> PciAssessment:
    a = get_assessment(s, store, year)
    if a is None:
        raise PciError(
            f"no PCI assessment for store {store!r} in {year}: choose the SAQ first with "
            f"`shopguard pci saq --store {store}`"
        )
    return a


def save_decision(
    db: sessionmaker[Session], store: str, year: int, decision: SaqDecision, by: str
) -> PciAssessment:
    """Create or update the year's assessment with the SAQ decision (one transaction)."""
    with db.begin() as s:
        a = get_assessment(s, store, year)
        if a is None:
            a = PciAssessment(store=store, year=year)
            s.add(a)
        if a.saq and a.saq != decision.saq.value and a.attested_at is not None:
            # A signature covers one questionnaire: changing the SAQ needs a new one.
            a.attested_at, a.attested_by, a.attested_title = None, "", ""
        a.saq = decision.saq.value
        a.integration = decision.integration.value
        a.saq_reasons = list(decision.reasons)
        a.conditions = decision.to_dict()["conditions"]  # type: ignore[assignment]
        a.decided_by = by
        a.updated_at = utcnow()
        s.flush()
        return a


def save_answers(db: sessionmaker[Session], store: str, year: int, items: Sequence[AnswerInput]) -> int:
    """Validate every item, then write them all in one transaction (all or nothing)."""
    cat = load_catalogue()
    with db.begin() as s:
        a = require_assessment(s, store, year)
        saq = Saq(a.saq)
        for item in items:
            validate_answer(cat, saq, item)
        for item in items:
            _write_answer(s, a, item)
        a.updated_at = utcnow()
    return len(items)


def _write_answer(s: Session, a: PciAssessment, item: AnswerInput) -> None:
    rec = s.scalar(
        select(PciAnswer).where(
            PciAnswer.assessment_id == a.id, PciAnswer.requirement_id == item.requirement_id
        )
    )
    if rec is None:
        rec = PciAnswer(assessment_id=a.id, requirement_id=item.requirement_id)
        s.add(rec)
    rec.answer = item.answer.value
    rec.justification = item.justification.strip()
    rec.person = item.person.strip()
    rec.answered_on = item.on or utcnow().date()
    rec.source = item.source
    rec.findings = list(item.findings)
    rec.updated_at = utcnow()
    task = s.scalar(
        select(PciTask).where(PciTask.assessment_id == a.id, PciTask.requirement_id == item.requirement_id)
    )
    if item.answer is Answer.NOT_IN_PLACE:
        req = load_catalogue().get(item.requirement_id)
        if task is None:
            task = PciTask(
                assessment_id=a.id, requirement_id=item.requirement_id, title=f"Put in place: {req.summary}"
            )
            s.add(task)
        task.status = "open"
        task.closed_at = None
        task.findings = sorted(set(task.findings or []) | set(item.findings))
    elif task is not None and task.status == "open":
        task.status = "done"
        task.closed_at = utcnow()


TASK_STATUSES = ("open", "done")


def set_task(
    db: sessionmaker[Session],
    store: str,
    year: int,
    requirement_id: str,
    owner: str | None,
    due: date | None,
    task_status: str | None = None,
) -> PciTask:
    """Set a remediation task's owner, due date and status (open or done)."""
    if task_status is not None and task_status not in TASK_STATUSES:
        raise PciError(
            f"requirement {requirement_id}: field 'status': {task_status!r}; expected open or done"
        )
    with db.begin() as s:
        a = require_assessment(s, store, year)
        task = s.scalar(
            select(PciTask).where(PciTask.assessment_id == a.id, PciTask.requirement_id == requirement_id)
        )
        if task is None:
            raise PciError(
                f"requirement {requirement_id}: no remediation task (tasks are created when a "
                "requirement is answered Not in Place)"
            )
        if owner is not None:
            task.owner = owner
        if due is not None:
            task.due = due
        if task_status is not None and task_status != task.status:
            task.status = task_status
            task.closed_at = utcnow() if task_status == "done" else None
        return task


def attest(db: sessionmaker[Session], store: str, year: int, by: str, title: str) -> PciAssessment:
    """Record that a named officer reviewed and signed the working copy."""
    if not by.strip():
        raise PciError("field 'by': the name of the person signing is required")
    with db.begin() as s:
        a = require_assessment(s, store, year)
        missing = unanswered(s, a)
        if missing:
            raise PciError(
                f"{len(missing)} requirement(s) of {Saq(a.saq).long_name} have no answer yet "
                f"(first: {', '.join(missing[:5])}); answer them before signing"
            )
        a.attested_at = utcnow()
        a.attested_by = by.strip()
        a.attested_title = title.strip()
        return a


def applicable(a: PciAssessment) -> list[Requirement]:
    return load_catalogue().for_saq(Saq(a.saq))


def unanswered(s: Session, a: PciAssessment) -> list[str]:
    done = {r.requirement_id for r in s.scalars(select(PciAnswer).where(PciAnswer.assessment_id == a.id))}
    return [r.id for r in applicable(a) if r.id not in done]


@dataclass
class GroupStatus:
    group: str
    title: str
    applicable: int = 0
    answered: int = 0
    in_place: int = 0
    not_applicable: int = 0
    not_tested: int = 0
    not_in_place: int = 0
    open_tasks: int = 0
    not_in_place_ids: list[str] = field(default_factory=list)

    @property
    def percent(self) -> int:
        return round(100 * self.answered / self.applicable) if self.applicable else 100


def status(db: sessionmaker[Session], store: str, year: int) -> tuple[PciAssessment, list[GroupStatus]]:
    """Progress per requirement group."""
    cat = load_catalogue()
    with db() as s:
        a = require_assessment(s, store, year)
        answers = {
            r.requirement_id: Answer(r.answer)
            for r in s.scalars(select(PciAnswer).where(PciAnswer.assessment_id == a.id))
        }
        tasks = list(
            s.scalars(select(PciTask).where(PciTask.assessment_id == a.id, PciTask.status == "open"))
        )
    groups: dict[str, GroupStatus] = {}
    for req in cat.for_saq(Saq(a.saq)):
        g = groups.setdefault(req.group, GroupStatus(req.group, cat.groups[req.group]))
        g.applicable += 1
        ans = answers.get(req.id)
        if ans is None:
            continue
        g.answered += 1
        if ans.counts_in_place:
            g.in_place += 1
        elif ans is Answer.NOT_APPLICABLE:
            g.not_applicable += 1
        elif ans is Answer.NOT_TESTED:
            g.not_tested += 1
        else:
            g.not_in_place += 1
            g.not_in_place_ids.append(req.id)
    for t in tasks:
        grp = t.requirement_id.split(".", 1)[0]
        if grp in groups:
            groups[grp].open_tasks += 1
    return a, list(groups.values())


def answers_of(s: Session, a: PciAssessment) -> dict[str, PciAnswer]:
    return {r.requirement_id: r for r in s.scalars(select(PciAnswer).where(PciAnswer.assessment_id == a.id))}


def tasks_of(s: Session, a: PciAssessment, only_open: bool = False) -> list[PciTask]:
    q = select(PciTask).where(PciTask.assessment_id == a.id)
    if only_open:
        q = q.where(PciTask.status == "open")
    return sorted(s.scalars(q), key=lambda t: load_catalogue().get(t.requirement_id).sort_key)


def latest_assessment(s: Session, store: str) -> PciAssessment | None:
    return s.scalar(
        select(PciAssessment).where(PciAssessment.store == store).order_by(PciAssessment.year.desc()).limit(1)
    )


def requirement_ids(items: Iterable[Requirement]) -> list[str]:
    return [r.id for r in items]
