"""YAML export and import of the whole policies protocol (library, roster, acks, training,
vendors), so it can live in git. Import checks everything first and writes in one
transaction: a bad row names its place (``people[3].start_date``) and nothing is imported.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shopguard.policies.library import Status
from shopguard.policies.models import (
    Acknowledgement,
    Person,
    PolicyDocument,
    PolicyVersion,
    TrainingRecord,
    Vendor,
)
from shopguard.policies.people import PolicyInputError, parse_date, validate_person, validate_training
from shopguard.policies.render import text_hash
from shopguard.policies.settings import PoliciesSettings

_VERSION_TIMES = ("created_at", "approved_at", "published_at", "retired_at", "reviewed_at")
_VERSION_TEXTS = ("change_note", "created_by", "approved_by", "reviewed_by")


def _dt(v: datetime | None) -> str | None:
    return v.astimezone(UTC).isoformat() if v else None


def _d(v: date | None) -> str | None:
    return v.isoformat() if v else None


def export_data(db: sessionmaker[Session]) -> dict[str, Any]:
    with db() as s:
        policies = []
        for doc in s.scalars(select(PolicyDocument).order_by(PolicyDocument.slug)):
            versions = []
            for v in doc.versions:
                item: dict[str, Any] = {"number": v.number, "status": v.status, "text_sha256": v.text_hash}
                for k in _VERSION_TEXTS:
                    item[k] = getattr(v, k)
                for k in _VERSION_TIMES:
                    item[k] = _dt(getattr(v, k))
                item["text"] = v.text
                versions.append(item)
            policies.append(
                {
                    "slug": doc.slug,
                    "title": doc.title,
                    "applies_to": list(doc.applies_to),
                    "versions": versions,
                }
            )
        people = [
            {
                "email": p.email,
                "name": p.name,
                "roles": list(p.roles),
                "start_date": _d(p.start_date),
                "end_date": _d(p.end_date),
            }
            for p in s.scalars(select(Person).order_by(Person.email))
        ]
        acks = [
            {
                "email": a.person.email,
                "policy": a.version.document.slug,
                "version": a.version.number,
                "text_sha256": a.text_hash,
                "at": _dt(a.acknowledged_at),
                "method": a.method,
                "note": a.note,
            }
            for a in s.scalars(select(Acknowledgement).order_by(Acknowledgement.id))
        ]
        training = [
            {
                "email": t.person.email,
                "course": t.course,
                "completed_on": _d(t.completed_on),
                "result": t.result,
                "expires_on": _d(t.expires_on),
                "provider": t.provider,
            }
            for t in s.scalars(select(TrainingRecord).order_by(TrainingRecord.id))
        ]
        vendors = [
            {
                "name": v.name,
                "service": v.service,
                "data": v.data,
                "pci_attestation": _d(v.pci_attestation),
                "contact": v.contact,
            }
            for v in s.scalars(select(Vendor).order_by(Vendor.name))
        ]
    return {
        "policies": policies,
        "people": people,
        "acknowledgements": acks,
        "training": training,
        "vendors": vendors,
    }


class _Dumper(yaml.SafeDumper):
    """Multi-line text (policy bodies) as literal blocks, so diffs in git read well."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def export_yaml(db: sessionmaker[Session]) -> str:
    return dump_yaml(export_data(db))


def _parse_dt(value: Any, where: str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        d = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(
            f"{where}: {value!r} is not a date-time; expected e.g. 2025-03-01T09:00:00+00:00"
        ) from None
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def _list(data: dict[str, Any], key: str, problems: list[str]) -> list[dict[str, Any]]:
    raw = data.get(key) or []
    if not isinstance(raw, list):
        problems.append(f"{key}: expected a list")
        return []
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            problems.append(f"{key}[{i}]: expected a mapping")
            continue
        out.append(item)
    return out


def import_yaml(db: sessionmaker[Session], path: Path, settings: PoliciesSettings) -> dict[str, int]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyInputError(str(path), [f"cannot read the file: {exc}"]) from None
    except yaml.YAMLError as exc:
        raise PolicyInputError(str(path), [f"not valid YAML: {exc}"]) from None
    if not isinstance(data, dict):
        raise PolicyInputError(
            str(path), ["top level: expected a mapping with policies, people, training ..."]
        )
    unknown = sorted(set(data) - {"policies", "people", "acknowledgements", "training", "vendors"})
    if unknown:
        raise PolicyInputError(str(path), [f"{k}: unknown section" for k in unknown])
    try:
        return import_data(db, data, settings)
    except PolicyInputError as exc:
        raise PolicyInputError(str(path), exc.problems) from None


def import_data(
    db: sessionmaker[Session], data: dict[str, Any], settings: PoliciesSettings
) -> dict[str, int]:
    problems: list[str] = []
    counts = {"policies": 0, "versions": 0, "people": 0, "acknowledgements": 0, "training": 0, "vendors": 0}
    with db() as s, s.begin():
        # Everything happens in this one transaction; any problem rolls it all back.
        people_rows = _list(data, "people", problems)
        for i, row in enumerate(people_rows):
            person, errs = validate_person(row, settings.staff_roles, f"people[{i}]")
            problems.extend(errs)
            if person is not None:
                rec = s.scalar(select(Person).where(Person.email == person.email)) or Person(
                    email=person.email
                )
                s.add(rec)
                rec.name, rec.roles, rec.start_date, rec.end_date = (
                    person.name,
                    person.roles,
                    person.start_date,
                    person.end_date,
                )
                counts["people"] += 1
        s.flush()
        for i, row in enumerate(_list(data, "policies", problems)):
            _import_policy(s, row, f"policies[{i}]", problems, counts)
        s.flush()
        for i, row in enumerate(_list(data, "acknowledgements", problems)):
            _import_ack(s, row, f"acknowledgements[{i}]", problems, counts)
        for i, row in enumerate(_list(data, "training", problems)):
            _import_training(s, row, f"training[{i}]", settings, problems, counts)
        for i, row in enumerate(_list(data, "vendors", problems)):
            where = f"vendors[{i}]"
            name = str(row.get("name") or "").strip()
            if not name:
                problems.append(f"{where}.name: required")
                continue
            v = s.scalar(select(Vendor).where(Vendor.name == name)) or Vendor(name=name)
            s.add(v)
            v.service, v.data, v.contact = (str(row.get(k) or "") for k in ("service", "data", "contact"))
            try:
                att = row.get("pci_attestation")
                v.pci_attestation = (
                    parse_date(att, f"{where}.pci_attestation") if att not in (None, "") else None
                )
            except ValueError as e:
                problems.append(str(e))
            counts["vendors"] += 1
        if problems:
            raise PolicyInputError("import", problems)
    return counts


def _import_policy(
    s: Session, row: dict[str, Any], where: str, problems: list[str], counts: dict[str, int]
) -> None:
    slug = str(row.get("slug") or "").strip()
    if not slug:
        problems.append(f"{where}.slug: required")
        return
    doc = s.scalar(select(PolicyDocument).where(PolicyDocument.slug == slug))
    if doc is None:
        doc = PolicyDocument(slug=slug, title=str(row.get("title") or slug), applies_to=[])
        s.add(doc)
        counts["policies"] += 1
    if "title" in row:
        doc.title = str(row["title"])
    if "applies_to" in row:
        doc.applies_to = [str(r) for r in row.get("applies_to") or []]
    existing = {v.number: v for v in doc.versions}
    published_count = 0
    for j, vrow in enumerate(row.get("versions") or []):
        w = f"{where}.versions[{j}]"
        if not isinstance(vrow, dict):
            problems.append(f"{w}: expected a mapping")
            continue
        number, text, status = vrow.get("number"), vrow.get("text"), str(vrow.get("status") or "draft")
        if not isinstance(number, int) or number < 1:
            problems.append(f"{w}.number: {number!r}; expected a whole number from 1")
            continue
        if not isinstance(text, str) or not text.strip():
            problems.append(f"{w}.text: required")
            continue
        if status not in {x.value for x in Status}:
            problems.append(f"{w}.status: {status!r}; expected draft, approved, published or retired")
            continue
        h = text_hash(text)
        if vrow.get("text_sha256") and vrow["text_sha256"] != h:
            problems.append(
                f"{w}.text_sha256: does not match the text (the text was changed after publication?)"
            )
            continue
        if status == Status.PUBLISHED:
            published_count += 1
        if status != Status.DRAFT and not str(vrow.get("approved_by") or "").strip():
            problems.append(f"{w}.approved_by: required for a {status} version")
            continue
        times: dict[str, datetime | None] = {}
        for k in _VERSION_TIMES:
            if vrow.get(k) in (None, ""):
                times[k] = None
                continue
            try:
                times[k] = _parse_dt(vrow[k], f"{w}.{k}")
            except ValueError as e:
                problems.append(str(e))
        if status == Status.PUBLISHED and times.get("published_at") is None:
            problems.append(f"{w}.published_at: required for a published version")
            continue
        v = existing.get(number)
        if v is not None and v.text_hash != h and v.status != Status.DRAFT:
            problems.append(
                f"{w}.text: version {number} of {slug} is {v.status} here and its text is immutable; "
                "give the change a new version number"
            )
            continue
        if v is None:
            v = PolicyVersion(number=number, text=text, text_hash=h)
            doc.versions.append(v)
        elif v.text_hash != h:
            v.text, v.text_hash = text, h
        v.status = status
        for k in _VERSION_TEXTS:
            setattr(v, k, str(vrow.get(k) or ""))
        for k, val in times.items():
            if val is not None or k != "created_at":
                setattr(v, k, val)
        counts["versions"] += 1
    if published_count > 1 or sum(v.status == Status.PUBLISHED for v in doc.versions) > 1:
        problems.append(
            f"{where}.versions: more than one version would be published; at most one may be "
            "(mark the older one retired)"
        )


def _import_ack(
    s: Session, row: dict[str, Any], where: str, problems: list[str], counts: dict[str, int]
) -> None:
    email = str(row.get("email") or "").strip().lower()
    person = s.scalar(select(Person).where(Person.email == email))
    if person is None:
        problems.append(f"{where}.email: {email!r} is not on the roster (add them under people)")
        return
    doc = s.scalar(select(PolicyDocument).where(PolicyDocument.slug == str(row.get("policy") or "")))
    if doc is None:
        problems.append(f"{where}.policy: {row.get('policy')!r} is not in the library")
        return
    version = next((v for v in doc.versions if v.number == row.get("version")), None)
    if version is None:
        problems.append(f"{where}.version: {doc.slug} has no version {row.get('version')!r}")
        return
    if version.status not in {Status.PUBLISHED, Status.RETIRED}:
        problems.append(
            f"{where}.version: version {version.number} was never published; it cannot be acknowledged"
        )
        return
    if row.get("text_sha256") and row["text_sha256"] != version.text_hash:
        problems.append(f"{where}.text_sha256: does not match version {version.number} of {doc.slug}")
        return
    try:
        at = _parse_dt(row.get("at"), f"{where}.at")
    except ValueError as e:
        problems.append(str(e))
        return
    dup = s.scalar(
        select(Acknowledgement).where(
            Acknowledgement.person_id == person.id,
            Acknowledgement.version_id == version.id,
            Acknowledgement.acknowledged_at == at,
        )
    )
    if dup is None:
        s.add(
            Acknowledgement(
                person=person,
                version=version,
                text_hash=version.text_hash,
                acknowledged_at=at,
                method=str(row.get("method") or "cli"),
                note=str(row.get("note") or ""),
            )
        )
        counts["acknowledgements"] += 1


def _import_training(
    s: Session,
    row: dict[str, Any],
    where: str,
    settings: PoliciesSettings,
    problems: list[str],
    counts: dict[str, int],
) -> None:
    try:
        t = validate_training(row, settings, where)
    except PolicyInputError as exc:
        problems.extend(exc.problems)
        return
    person = s.scalar(select(Person).where(Person.email == t.email))
    if person is None:
        problems.append(f"{where}.email: {t.email!r} is not on the roster (add them under people)")
        return
    dup = s.scalar(
        select(TrainingRecord).where(
            TrainingRecord.person_id == person.id,
            TrainingRecord.course == t.course,
            TrainingRecord.completed_on == t.completed_on,
        )
    )
    if dup is None:
        s.add(
            TrainingRecord(
                person=person,
                course=t.course,
                completed_on=t.completed_on,
                result=t.result,
                expires_on=t.expires_on,
                provider=t.provider,
            )
        )
        counts["training"] += 1
