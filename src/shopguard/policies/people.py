"""The roster, acknowledgements of published policies, and training records."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shopguard.db.base import utcnow
from shopguard.policies.library import PolicyError, add_months, get_document, published
from shopguard.policies.models import Acknowledgement, Person, PolicyDocument, PolicyVersion, TrainingRecord
from shopguard.policies.settings import PoliciesSettings

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TRAINING_RESULTS = ("passed", "failed", "attended")
ACK_METHODS = ("cli", "web", "email", "paper")


class PolicyInputError(Exception):
    """Bad input; ``problems`` lists every row/field at fault. Nothing was imported."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(f"{source}: nothing imported; fix these and try again:\n  " + "\n  ".join(problems))


def parse_date(value: object, where: str) -> date:
    """ISO dates only (YYYY-MM-DD): 03/04/2025 means different days in different countries."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{where}: {text!r} is not a date; expected YYYY-MM-DD") from None


def parse_roles(value: object, allowed: Sequence[str], where: str) -> list[str]:
    if isinstance(value, list | tuple):
        roles = [str(r).strip().lower() for r in value]
    else:
        roles = [r.strip().lower() for r in re.split(r"[;,|]", str(value or "")) if r.strip()]
    unknown = [r for r in roles if r not in allowed]
    if unknown:
        raise ValueError(f"{where}: unknown role {unknown[0]!r}; expected one of {', '.join(allowed)}")
    if not roles:
        raise ValueError(f"{where}: at least one role is required ({', '.join(allowed)})")
    return roles


def check_email(value: object, where: str) -> str:
    text = str(value or "").strip().lower()
    if not EMAIL.match(text):
        raise ValueError(f"{where}: {text!r} is not an e-mail address")
    return text


@dataclass(frozen=True)
class PersonIn:
    email: str
    name: str
    roles: list[str]
    start_date: date | None
    end_date: date | None = None


def validate_person(
    row: dict[str, object], allowed: Sequence[str], where: str
) -> tuple[PersonIn | None, list[str]]:
    problems: list[str] = []
    email = name = ""
    roles: list[str] = []
    start = end = None
    try:
        email = check_email(row.get("email"), f"{where}, field email")
    except ValueError as e:
        problems.append(str(e))
    name = str(row.get("name") or "").strip()
    if not name:
        problems.append(f"{where}, field name: required")
    try:
        roles = parse_roles(row.get("roles"), allowed, f"{where}, field roles")
    except ValueError as e:
        problems.append(str(e))
    for key in ("start_date", "end_date"):
        raw = row.get(key)
        if raw in (None, ""):
            continue
        try:
            d = parse_date(raw, f"{where}, field {key}")
            start, end = (d, end) if key == "start_date" else (start, d)
        except ValueError as e:
            problems.append(str(e))
    if problems:
        return None, problems
    return PersonIn(email, name, roles, start, end), []


def upsert_people(s: Session, people: Iterable[PersonIn]) -> int:
    n = 0
    for p in people:
        rec = s.scalar(select(Person).where(Person.email == p.email))
        if rec is None:
            rec = Person(email=p.email)
            s.add(rec)
        rec.name, rec.roles, rec.start_date, rec.end_date = p.name, p.roles, p.start_date, p.end_date
        n += 1
    return n


ROSTER_COLUMNS = ("email", "name", "roles", "start_date")


def import_roster_csv(db: sessionmaker[Session], path: Path, settings: PoliciesSettings) -> int:
    """Columns: email, name, roles (separated by ; or |), start_date (YYYY-MM-DD), end_date
    (optional). All rows or none are imported."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyInputError(str(path), [f"cannot read the file: {exc}"]) from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ROSTER_COLUMNS if c not in header]
    if missing:
        raise PolicyInputError(
            str(path),
            [f"header: missing column(s) {', '.join(missing)}; expected {', '.join(ROSTER_COLUMNS)}"],
        )
    reader.fieldnames = header
    rows: list[PersonIn] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(reader, start=2):  # row 1 is the header
        if not any((v or "").strip() for v in raw.values() if isinstance(v, str)):
            continue
        person, errs = validate_person(dict(raw), settings.staff_roles, f"row {i}")
        problems.extend(errs)
        if person is not None:
            if person.email in seen:
                problems.append(f"row {i}, field email: {person.email} already on row {seen[person.email]}")
            seen[person.email] = i
            rows.append(person)
    if problems:
        raise PolicyInputError(str(path), problems)
    with db.begin() as s:
        return upsert_people(s, rows)


def add_person(
    db: sessionmaker[Session],
    email: str,
    name: str,
    roles: str | list[str],
    settings: PoliciesSettings,
    start_date: str | date | None = None,
) -> Person:
    row: dict[str, object] = {"email": email, "name": name, "roles": roles, "start_date": start_date or ""}
    person, errs = validate_person(row, settings.staff_roles, "person")
    if person is None:
        raise PolicyInputError("roster", errs)
    with db.begin() as s:
        upsert_people(s, [person])
        rec = s.scalar(select(Person).where(Person.email == person.email))
        assert rec is not None
        return rec


def remove_person(db: sessionmaker[Session], email: str, on: date | None = None) -> Person:
    """Mark as left (kept for the record: past acknowledgements and training stay)."""
    with db.begin() as s:
        rec = _person(s, email)
        rec.end_date = on or utcnow().date()
        return rec


def _person(s: Session, email: str) -> Person:
    rec = s.scalar(select(Person).where(Person.email == email.strip().lower()))
    if rec is None:
        raise PolicyError(
            f"nobody with e-mail {email!r} on the roster (see `shopguard policies people list`)"
        )
    return rec


def applies(doc: PolicyDocument, person: Person) -> bool:
    return not doc.applies_to or bool(set(doc.applies_to) & set(person.roles))


def acknowledge(
    db: sessionmaker[Session],
    email: str,
    slug: str,
    method: str = "cli",
    at: datetime | None = None,
    note: str = "",
) -> Acknowledgement:
    if method not in ACK_METHODS:
        raise PolicyError(f"method {method!r}: expected one of {', '.join(ACK_METHODS)}")
    with db.begin() as s:
        person = _person(s, email)
        doc = get_document(s, slug)
        v = published(doc)
        if v is None:
            raise PolicyError(f"{slug} has no published version to acknowledge")
        if not person.active:
            raise PolicyError(f"{person.email} has left (end date {person.end_date})")
        if not applies(doc, person):
            raise PolicyError(
                f"{slug} applies to roles {', '.join(doc.applies_to)}; {person.email} has none of them"
            )
        ack = Acknowledgement(
            person=person,
            version=v,
            text_hash=v.text_hash,
            acknowledged_at=at or utcnow(),
            method=method,
            note=note,
        )
        s.add(ack)
        return ack


@dataclass(frozen=True)
class Pending:
    email: str
    name: str
    slug: str
    title: str
    version: int
    reason: str
    """never, new version, expired."""
    last_ack: datetime | None


def pending(
    db: sessionmaker[Session], settings: PoliciesSettings, now: datetime | None = None
) -> list[Pending]:
    """Who still owes an acknowledgement of which published version, and why."""
    now = now or utcnow()
    out: list[Pending] = []
    with db() as s:
        docs = list(s.scalars(select(PolicyDocument).order_by(PolicyDocument.slug)))
        people = [p for p in s.scalars(select(Person).order_by(Person.email)) if p.active]
        acks = list(s.scalars(select(Acknowledgement)))
        for doc in docs:
            v = published(doc)
            if v is None:
                continue
            for p in people:
                if not applies(doc, p):
                    continue
                mine = [a for a in acks if a.person_id == p.id and a.version.document_id == doc.id]
                same = [a for a in mine if a.text_hash == v.text_hash]
                last = max((a.acknowledged_at for a in same), default=None)
                if last is not None and add_months(last.date(), settings.ack_months) > now.date():
                    continue
                if last is not None:
                    reason = "expired"
                elif mine:
                    reason = "new version"
                else:
                    reason = "never"
                prev = max((a.acknowledged_at for a in mine), default=None)
                out.append(Pending(p.email, p.name, doc.slug, doc.title, v.number, reason, prev))
    return out


def add_training(
    db: sessionmaker[Session],
    email: str,
    course: str,
    completed_on: str | date,
    settings: PoliciesSettings,
    result: str = "passed",
    expires_on: str | date | None = None,
    provider: str = "",
) -> TrainingRecord:
    rec = validate_training(
        {
            "email": email,
            "course": course,
            "completed_on": completed_on,
            "result": result,
            "expires_on": expires_on,
            "provider": provider,
        },
        settings,
        "training",
    )
    with db.begin() as s:
        return store_training(s, [rec])[0]


@dataclass(frozen=True)
class TrainingIn:
    email: str
    course: str
    completed_on: date
    result: str
    expires_on: date
    provider: str


def validate_training(row: dict[str, object], settings: PoliciesSettings, where: str) -> TrainingIn:
    problems: list[str] = []
    email = course = result = ""
    completed = expires = None
    try:
        email = check_email(row.get("email"), f"{where}, field email")
    except ValueError as e:
        problems.append(str(e))
    course = str(row.get("course") or "").strip()
    if not course:
        problems.append(f"{where}, field course: required")
    try:
        completed = parse_date(row.get("completed_on"), f"{where}, field completed_on")
    except ValueError as e:
        problems.append(str(e))
    result = str(row.get("result") or "passed").strip().lower()
    if result not in TRAINING_RESULTS:
        problems.append(f"{where}, field result: {result!r}; expected one of {', '.join(TRAINING_RESULTS)}")
    raw_exp = row.get("expires_on")
    if raw_exp not in (None, ""):
        try:
            expires = parse_date(raw_exp, f"{where}, field expires_on")
        except ValueError as e:
            problems.append(str(e))
    if problems:
        raise PolicyInputError(where, problems)
    assert completed is not None
    expires = expires or add_months(completed, settings.training_months)
    return TrainingIn(email, course, completed, result, expires, str(row.get("provider") or ""))


def store_training(s: Session, records: Iterable[TrainingIn]) -> list[TrainingRecord]:
    out = []
    for r in records:
        person = _person(s, r.email)
        rec = TrainingRecord(
            person=person,
            course=r.course,
            completed_on=r.completed_on,
            result=r.result,
            expires_on=r.expires_on,
            provider=r.provider,
        )
        s.add(rec)
        out.append(rec)
    s.flush()
    return out


@dataclass(frozen=True)
class TrainingStatus:
    email: str
    name: str
    state: str
    """current, expired, never, failed (latest attempt failed)."""
    course: str
    expires_on: date | None


def training_status(db: sessionmaker[Session], today: date | None = None) -> list[TrainingStatus]:
    """Per active person: is their security awareness training current?"""
    today = today or utcnow().date()
    out = []
    with db() as s:
        for p in s.scalars(select(Person).order_by(Person.email)):
            if not p.active:
                continue
            recs = list(
                s.scalars(
                    select(TrainingRecord)
                    .where(TrainingRecord.person_id == p.id)
                    .order_by(TrainingRecord.completed_on)
                )
            )
            good = [r for r in recs if r.result in {"passed", "attended"}]
            if good and max(r.expires_on for r in good) >= today:
                best = max(good, key=lambda r: r.expires_on)
                out.append(TrainingStatus(p.email, p.name, "current", best.course, best.expires_on))
            elif good:
                best = max(good, key=lambda r: r.expires_on)
                out.append(TrainingStatus(p.email, p.name, "expired", best.course, best.expires_on))
            elif recs:
                out.append(TrainingStatus(p.email, p.name, "failed", recs[-1].course, None))
            else:
                out.append(TrainingStatus(p.email, p.name, "never", "", None))
    return out


def latest_versions(s: Session) -> dict[str, PolicyVersion]:
    out = {}
    for doc in s.scalars(select(PolicyDocument)):
        v = published(doc)
        if v is not None:
            out[doc.slug] = v
    return out


__all__ = [
    "Pending",
    "PolicyInputError",
    "TrainingStatus",
    "acknowledge",
    "add_person",
    "add_training",
    "import_roster_csv",
    "pending",
    "remove_person",
    "training_status",
]
