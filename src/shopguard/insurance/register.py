"""The register of cyber insurance policies: validate, store, export, import (YAML).

Import checks every policy and field first and writes in one transaction; an error
names the place (``insurance[1].coverages.extortion.limit``) and nothing is imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shopguard.db.base import utcnow
from shopguard.insurance.coverages import BY_ID
from shopguard.insurance.models import Coverage, InsurancePolicy, UnderwritingAnswer
from shopguard.insurance.money import parse_money

ANSWERS = ("yes", "no", "partial")


class InsuranceInputError(Exception):
    """Bad insurance input; ``problems`` names each place. Nothing was stored."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{source}: nothing imported; fix these and try again:\n  " + "\n  ".join(problems))


@dataclass
class CoverageIn:
    kind: str
    limit: int
    sublimits: dict[str, int] = field(default_factory=dict)
    retention: int | None = None
    notes: str = ""


@dataclass
class PolicyIn:
    insurer: str
    policy_number: str
    period_start: date
    period_end: date
    currency: str = "USD"
    aggregate_limit: int | None = None
    retention: int | None = None
    broker: dict[str, str] = field(default_factory=dict)
    notification_window_hours: int | None = None
    notification_hotline: str = ""
    notification_email: str = ""
    exclusions: list[str] = field(default_factory=list)
    notes: str = ""
    coverages: list[CoverageIn] = field(default_factory=list)


def _date(value: Any, where: str, problems: list[str]) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        problems.append(f"{where}: {value!r} is not a date; expected YYYY-MM-DD")
        return None


def _money(value: Any, where: str, problems: list[str]) -> int | None:
    if value in (None, ""):
        return None
    try:
        return parse_money(value, where)
    except ValueError as exc:
        problems.append(str(exc))
        return None


def validate_policy(row: Any, where: str) -> tuple[PolicyIn | None, list[str]]:
    """Check one policy mapping; returns it or the list of problems."""
    problems: list[str] = []
    if not isinstance(row, dict):
        return None, [f"{where}: expected a mapping"]
    known = {
        "insurer",
        "policy_number",
        "period_start",
        "period_end",
        "currency",
        "aggregate_limit",
        "retention",
        "broker",
        "notification",
        "exclusions",
        "notes",
        "coverages",
    }
    for k in sorted(set(row) - known):
        problems.append(f"{where}.{k}: unknown field (expected one of {', '.join(sorted(known))})")
    for k in ("insurer", "policy_number"):
        if not str(row.get(k) or "").strip():
            problems.append(f"{where}.{k}: required")
    start = _date(row.get("period_start"), f"{where}.period_start", problems)
    end = _date(row.get("period_end"), f"{where}.period_end", problems)
    if start and end and end <= start:
        problems.append(f"{where}.period_end: {end} is not after period_start {start}")
    currency = str(row.get("currency") or "USD").upper()
    if len(currency) != 3 or not currency.isalpha():
        problems.append(f"{where}.currency: {currency!r}; expected a 3-letter code such as USD, EUR, GBP")
    broker = row.get("broker") or {}
    if not isinstance(broker, dict):
        problems.append(f"{where}.broker: expected a mapping with name, email, phone")
        broker = {}
    note = row.get("notification") or {}
    if not isinstance(note, dict):
        problems.append(f"{where}.notification: expected a mapping with window_hours, hotline, email")
        note = {}
    window = note.get("window_hours")
    if window is not None and (not isinstance(window, int) or isinstance(window, bool) or window <= 0):
        problems.append(f"{where}.notification.window_hours: {window!r}; expected a whole number of hours")
        window = None
    exclusions = row.get("exclusions") or []
    if not isinstance(exclusions, list):
        problems.append(f"{where}.exclusions: expected a list")
        exclusions = []
    coverages: list[CoverageIn] = []
    raw_cov = row.get("coverages") or {}
    if not isinstance(raw_cov, dict):
        problems.append(f"{where}.coverages: expected a mapping of coverage -> limit")
        raw_cov = {}
    for kind, spec in raw_cov.items():
        w = f"{where}.coverages.{kind}"
        if kind not in BY_ID:
            problems.append(f"{w}: unknown coverage; expected one of {', '.join(BY_ID)}")
            continue
        if not isinstance(spec, dict):
            spec = {"limit": spec}
        limit = _money(spec.get("limit"), f"{w}.limit", problems)
        if limit is None and not any(p.startswith(f"{w}.limit") for p in problems):
            problems.append(f"{w}.limit: required")
        subs: dict[str, int] = {}
        for sk, sv in (spec.get("sublimits") or {}).items():
            amount = _money(sv, f"{w}.sublimits.{sk}", problems)
            if amount is not None:
                if limit is not None and amount > limit:
                    problems.append(f"{w}.sublimits.{sk}: {amount} is more than the coverage limit {limit}")
                subs[str(sk)] = amount
        if limit is not None:
            coverages.append(
                CoverageIn(
                    kind,
                    limit,
                    subs,
                    _money(spec.get("retention"), f"{w}.retention", problems),
                    str(spec.get("notes") or ""),
                )
            )
    aggregate = _money(row.get("aggregate_limit"), f"{where}.aggregate_limit", problems)
    retention = _money(row.get("retention"), f"{where}.retention", problems)
    if problems or start is None or end is None:
        return None, problems
    return (
        PolicyIn(
            insurer=str(row["insurer"]).strip(),
            policy_number=str(row["policy_number"]).strip(),
            period_start=start,
            period_end=end,
            currency=currency,
            aggregate_limit=aggregate,
            retention=retention,
            broker={k: str(v) for k, v in broker.items() if k in {"name", "email", "phone"}},
            notification_window_hours=window,
            notification_hotline=str(note.get("hotline") or ""),
            notification_email=str(note.get("email") or ""),
            exclusions=[str(x) for x in exclusions],
            notes=str(row.get("notes") or ""),
            coverages=coverages,
        ),
        [],
    )


def store_policy(s: Session, p: PolicyIn) -> InsurancePolicy:
    """Insert or replace (by policy number) one policy and its coverages."""
    rec = s.scalar(select(InsurancePolicy).where(InsurancePolicy.policy_number == p.policy_number))
    if rec is None:
        rec = InsurancePolicy(policy_number=p.policy_number)
        s.add(rec)
    return _apply(s, rec, p)


def save_policy(
    s: Session, p: PolicyIn, policy_id: int | None = None, where: str = "policy"
) -> InsurancePolicy:
    """Record a new policy (``policy_id`` None) or change the one with that id, policy number
    included. Unlike an import, a new policy never replaces another with the same number.

    Raises :class:`InsuranceInputError` when the number belongs to another policy, and
    :class:`LookupError` when there is no policy ``policy_id``.
    """
    same = s.scalar(select(InsurancePolicy).where(InsurancePolicy.policy_number == p.policy_number))
    if policy_id is None:
        rec = InsurancePolicy(policy_number=p.policy_number)
    else:
        found = s.get(InsurancePolicy, policy_id)
        if found is None:
            raise LookupError(f"no insurance policy with id {policy_id}")
        rec = found
    if same is not None and same is not rec:
        raise InsuranceInputError(
            where,
            [
                f"{where}.policy_number: {p.policy_number!r} is already recorded for {same.insurer}; "
                "edit that policy instead"
            ],
        )
    rec.policy_number = p.policy_number
    if policy_id is None:
        s.add(rec)
    return _apply(s, rec, p)


def _apply(s: Session, rec: InsurancePolicy, p: PolicyIn) -> InsurancePolicy:
    rec.insurer, rec.period_start, rec.period_end, rec.currency = (
        p.insurer,
        p.period_start,
        p.period_end,
        p.currency,
    )
    rec.aggregate_limit, rec.retention, rec.broker = p.aggregate_limit, p.retention, p.broker
    rec.notification_window_hours = p.notification_window_hours
    rec.notification_hotline, rec.notification_email = p.notification_hotline, p.notification_email
    rec.exclusions, rec.notes = p.exclusions, p.notes
    rec.coverages.clear()
    s.flush()
    for c in p.coverages:
        rec.coverages.append(
            Coverage(kind=c.kind, limit=c.limit, sublimits=c.sublimits, retention=c.retention, notes=c.notes)
        )
    return rec


def validate_answer(row: Any, where: str) -> tuple[dict[str, Any] | None, list[str]]:
    from shopguard.insurance.readiness import QUESTIONS

    if not isinstance(row, dict):
        return None, [f"{where}: expected a mapping"]
    problems = []
    qid = str(row.get("question") or "")
    if qid not in QUESTIONS:
        problems.append(f"{where}.question: {qid!r}; expected one of {', '.join(QUESTIONS)}")
    raw = row.get("answer")
    answer = (
        {True: "yes", False: "no"}.get(raw, str(raw or "").strip().lower())
        if isinstance(raw, bool)
        else str(raw or "").strip().lower()
    )
    if answer not in ANSWERS:
        problems.append(f"{where}.answer: {raw!r}; expected yes, no or partial")
    if problems:
        return None, problems
    return {
        "question_id": qid,
        "answer": answer,
        "note": str(row.get("note") or ""),
        "answered_by": str(row.get("answered_by") or ""),
    }, []


def store_answer(s: Session, a: dict[str, Any], at: datetime | None = None) -> UnderwritingAnswer:
    rec = s.scalar(select(UnderwritingAnswer).where(UnderwritingAnswer.question_id == a["question_id"]))
    if rec is None:
        rec = UnderwritingAnswer(question_id=a["question_id"])
        s.add(rec)
    rec.answer, rec.note, rec.answered_by = a["answer"], a["note"], a["answered_by"]
    rec.answered_at = at or utcnow()
    return rec


def import_data(db: sessionmaker[Session], data: Any, source: str = "import") -> tuple[int, int]:
    """Policies and owner answers from a mapping; all or nothing."""
    if not isinstance(data, dict):
        raise InsuranceInputError(source, ["top level: expected a mapping with insurance: and underwriting:"])
    problems = [
        f"{k}: unknown section (expected insurance, underwriting)"
        for k in sorted(set(data) - {"insurance", "underwriting"})
    ]
    policies: list[PolicyIn] = []
    answers: list[dict[str, Any]] = []
    for section, validate, sink in (
        ("insurance", validate_policy, policies),
        ("underwriting", validate_answer, answers),
    ):
        rows = data.get(section) or []
        if not isinstance(rows, list):
            problems.append(f"{section}: expected a list")
            continue
        for i, row in enumerate(rows):
            item, errs = validate(row, f"{section}[{i}]")
            problems.extend(errs)
            if item is not None:
                sink.append(item)  # type: ignore[arg-type]
    raw_rows = data.get("insurance")
    if not isinstance(raw_rows, list):
        raw_rows = []
    numbers = [str(r.get("policy_number") or "").strip() for r in raw_rows if isinstance(r, dict)]
    numbers = [n for n in numbers if n]
    for n in sorted({n for n in numbers if numbers.count(n) > 1}):
        problems.append(f"insurance: policy number {n!r} appears more than once")
    if problems:
        raise InsuranceInputError(source, problems)
    with db.begin() as s:
        for p in policies:
            store_policy(s, p)
        for a in answers:
            store_answer(s, a)
    return len(policies), len(answers)


def import_yaml(db: sessionmaker[Session], path: Path) -> tuple[int, int]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError) as exc:
        raise InsuranceInputError(str(path), [f"cannot read the file: {exc}"]) from None
    except yaml.YAMLError as exc:
        raise InsuranceInputError(str(path), [f"not valid YAML: {exc}"]) from None
    return import_data(db, data, str(path))


def export_data(db: sessionmaker[Session]) -> dict[str, Any]:
    with db() as s:
        policies = []
        for p in s.scalars(select(InsurancePolicy).order_by(InsurancePolicy.period_start)):
            policies.append(
                {
                    "insurer": p.insurer,
                    "policy_number": p.policy_number,
                    "period_start": p.period_start.isoformat(),
                    "period_end": p.period_end.isoformat(),
                    "currency": p.currency,
                    "aggregate_limit": p.aggregate_limit,
                    "retention": p.retention,
                    "broker": dict(p.broker),
                    "notification": {
                        "window_hours": p.notification_window_hours,
                        "hotline": p.notification_hotline,
                        "email": p.notification_email,
                    },
                    "exclusions": list(p.exclusions),
                    "notes": p.notes,
                    "coverages": {
                        c.kind: {
                            "limit": c.limit,
                            "sublimits": dict(c.sublimits),
                            "retention": c.retention,
                            "notes": c.notes,
                        }
                        for c in p.coverages
                    },
                }
            )
        answers = [
            {
                "question": a.question_id,
                "answer": a.answer,
                "note": a.note,
                "answered_by": a.answered_by,
                "answered_at": a.answered_at.astimezone(UTC).isoformat(),
            }
            for a in s.scalars(select(UnderwritingAnswer).order_by(UnderwritingAnswer.question_id))
        ]
    return {"insurance": policies, "underwriting": answers}


def export_yaml(db: sessionmaker[Session]) -> str:
    return yaml.safe_dump(export_data(db), sort_keys=False, allow_unicode=True, width=100)


def policies_in_force(s: Session, on: date) -> list[InsurancePolicy]:
    return [
        p
        for p in s.scalars(select(InsurancePolicy).order_by(InsurancePolicy.period_end))
        if p.period_start <= on <= p.period_end
    ]
