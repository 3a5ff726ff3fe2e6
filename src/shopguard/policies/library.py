"""Policy versions: draft -> approved -> published -> retired.

A published version is immutable (its text and sha256 are stored; the model refuses
changes). Any change to a policy makes a new version with a change note. Publishing a
version retires the one it replaces. Reviews (PCI DSS 12.1.2) are recorded on the
published version and push its next review date out.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shopguard.config import Config
from shopguard.db.base import utcnow
from shopguard.policies.catalog import LIBRARY, template
from shopguard.policies.models import PolicyDocument, PolicyVersion, Vendor
from shopguard.policies.render import build_context, render_markdown, text_hash


class Status(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    PUBLISHED = "published"
    RETIRED = "retired"


class PolicyError(Exception):
    """A request that breaks the versioning rules; the message says what to do instead."""


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def vendors_for_template(s: Session) -> list[dict[str, str]]:
    out = []
    for v in s.scalars(select(Vendor).order_by(Vendor.name)):
        out.append(
            {
                "name": v.name,
                "service": v.service,
                "data": v.data,
                "pci_attestation": v.pci_attestation.isoformat() if v.pci_attestation else "not on file",
                "contact": v.contact,
            }
        )
    return out


def get_document(s: Session, slug: str) -> PolicyDocument:
    doc = s.scalar(select(PolicyDocument).where(PolicyDocument.slug == slug))
    if doc is None:
        raise PolicyError(f"no policy {slug!r} in the library; run `shopguard policies init` first")
    return doc


def published(doc: PolicyDocument) -> PolicyVersion | None:
    for v in reversed(doc.versions):
        if v.status == Status.PUBLISHED:
            return v
    return None


def latest(doc: PolicyDocument) -> PolicyVersion | None:
    return doc.versions[-1] if doc.versions else None


def _open_version(doc: PolicyDocument) -> PolicyVersion | None:
    """The draft or approved version waiting to be published, if any."""
    v = latest(doc)
    return v if v is not None and v.status in {Status.DRAFT, Status.APPROVED} else None


def review_due(version: PolicyVersion, months: int) -> date:
    """Next review: months after the later of publication and the last review."""
    base = max(d for d in (version.published_at, version.reviewed_at, version.approved_at) if d is not None)
    return add_months(base.date(), months)


def _new_version(doc: PolicyDocument, text: str, note: str, by: str) -> PolicyVersion:
    last = latest(doc)
    number = last.number + 1 if last is not None else 1
    v = PolicyVersion(
        number=number,
        status=Status.DRAFT.value,
        text=text,
        text_hash=text_hash(text),
        change_note=note,
        created_by=by,
        created_at=utcnow(),
    )
    doc.versions.append(v)
    return v


def init_library(db: sessionmaker[Session], config: Config, by: str = "") -> list[str]:
    """Create a draft version 1 of every policy the library lacks. Returns the slugs created."""
    created: list[str] = []
    with db.begin() as s:
        context = build_context(config, vendors_for_template(s))
        for t in LIBRARY:
            if s.scalar(select(PolicyDocument.id).where(PolicyDocument.slug == t.slug)) is not None:
                continue
            doc = PolicyDocument(slug=t.slug, title=t.title, applies_to=list(t.applies_to))
            s.add(doc)
            _new_version(
                doc, render_markdown(t.slug, context), "First version from the ShopGuard template", by
            )
            created.append(t.slug)
    return created


def regenerate(
    db: sessionmaker[Session], config: Config, slug: str, note: str, by: str = ""
) -> PolicyVersion | None:
    """Re-render from the template and current config. Updates an open draft, else makes a
    new draft when the text changed. Returns the draft, or None when nothing changed."""
    template(slug)
    with db.begin() as s:
        doc = get_document(s, slug)
        text = render_markdown(slug, build_context(config, vendors_for_template(s)))
        return _store_text(doc, text, note, by)


def new_version(
    db: sessionmaker[Session], slug: str, text: str, note: str, by: str = ""
) -> PolicyVersion | None:
    """Store edited text (e.g. from a file the owner changed) as a draft."""
    with db.begin() as s:
        return _store_text(get_document(s, slug), text, note, by)


def _store_text(doc: PolicyDocument, text: str, note: str, by: str) -> PolicyVersion | None:
    if not note.strip():
        raise PolicyError("a change note is required: say what changed and why")
    open_v = _open_version(doc)
    if open_v is not None:
        if open_v.text == text:
            return None
        if open_v.status == Status.APPROVED:
            # Changing approved text withdraws the approval: it becomes a fresh draft.
            return _new_version(doc, text, note, by)
        open_v.text = text
        open_v.text_hash = text_hash(text)
        open_v.change_note = note
        return open_v
    current = published(doc)
    if current is not None and current.text == text:
        return None
    return _new_version(doc, text, note, by)


def _pick(doc: PolicyDocument, number: int | None, wanted: Status) -> PolicyVersion:
    if number is None:
        for v in reversed(doc.versions):
            if v.status == wanted:
                return v
        raise PolicyError(f"{doc.slug}: no {wanted.value} version")
    for v in doc.versions:
        if v.number == number:
            if v.status != wanted:
                raise PolicyError(f"{doc.slug} version {number} is {v.status}, not {wanted.value}")
            return v
    raise PolicyError(f"{doc.slug} has no version {number}")


def approve(
    db: sessionmaker[Session], slug: str, by: str, number: int | None = None, at: datetime | None = None
) -> PolicyVersion:
    if not by.strip():
        raise PolicyError("say who approves the policy (--by NAME)")
    with db.begin() as s:
        v = _pick(get_document(s, slug), number, Status.DRAFT)
        v.status = Status.APPROVED.value
        v.approved_by = by.strip()
        v.approved_at = at or utcnow()
        return v


def publish(
    db: sessionmaker[Session], slug: str, number: int | None = None, at: datetime | None = None
) -> PolicyVersion:
    """Publish an approved version; the previously published one is retired."""
    when = at or utcnow()
    with db.begin() as s:
        doc = get_document(s, slug)
        v = _pick(doc, number, Status.APPROVED)
        old = published(doc)
        if old is not None:
            old.status = Status.RETIRED.value
            old.retired_at = when
        v.status = Status.PUBLISHED.value
        v.published_at = when
        return v


def retire(db: sessionmaker[Session], slug: str, at: datetime | None = None) -> PolicyVersion:
    with db.begin() as s:
        v = _pick(get_document(s, slug), None, Status.PUBLISHED)
        v.status = Status.RETIRED.value
        v.retired_at = at or utcnow()
        return v


def review(db: sessionmaker[Session], slug: str, by: str, at: datetime | None = None) -> PolicyVersion:
    """Record that the published version was reviewed and still fits (PCI DSS 12.1.2)."""
    if not by.strip():
        raise PolicyError("say who reviewed the policy (--by NAME)")
    with db.begin() as s:
        v = _pick(get_document(s, slug), None, Status.PUBLISHED)
        v.reviewed_by = by.strip()
        v.reviewed_at = at or utcnow()
        return v


@dataclass(frozen=True)
class PolicyState:
    slug: str
    title: str
    latest_number: int | None
    latest_status: str | None
    published_number: int | None
    published_hash: str | None
    review_due: date | None


def library_state(db: sessionmaker[Session], review_months: int) -> list[PolicyState]:
    with db() as s:
        out = []
        for doc in s.scalars(select(PolicyDocument).order_by(PolicyDocument.slug)):
            lv, pv = latest(doc), published(doc)
            out.append(
                PolicyState(
                    doc.slug,
                    doc.title,
                    lv.number if lv else None,
                    lv.status if lv else None,
                    pv.number if pv else None,
                    pv.text_hash if pv else None,
                    review_due(pv, review_months) if pv else None,
                )
            )
        return out
