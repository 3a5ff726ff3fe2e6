"""The response plan: generated from shopguard.toml and the shipped data, versioned like a policy."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from importlib import resources

import jinja2
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopguard.config import Config, Contact, PaymentIntegration, Store
from shopguard.db.base import utcnow
from shopguard.response.jurisdictions import UnknownJurisdiction, normalise
from shopguard.response.laws import NOT_LEGAL_ADVICE, law_table
from shopguard.response.models import PlanVersion
from shopguard.response.runbooks import ROLE_TITLES, ROLES, phasebook, runbooks

# Which self-assessment questionnaire an integration usually means (PCI SSC SAQ instructions).
# Owned by the pci protocol; repeated here only as a label in the plan.
SAQ_LABEL = {
    PaymentIntegration.REDIRECT: "usually SAQ A",
    PaymentIntegration.IFRAME: "usually SAQ A",
    PaymentIntegration.DIRECT_POST: "usually SAQ A-EP",
    PaymentIntegration.API: "usually SAQ D (card data reaches your server)",
}


class PlanError(ValueError):
    pass


def _env() -> jinja2.Environment:
    loader = jinja2.FunctionLoader(
        lambda name: (
            resources.files("shopguard.data").joinpath(f"response/{name}").read_text(encoding="utf-8")
        )
    )
    return jinja2.Environment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701 - Markdown
        keep_trailing_newline=True,
        trim_blocks=False,
    )


def render_template(name: str, **ctx: object) -> str:
    return _env().get_template(name).render(**ctx)


def contact_missing(c: Contact | None) -> bool:
    """A contact nobody can reach is missing: it needs a name or organisation and an e-mail or phone."""
    return c is None or not ((c.name or c.organisation) and (c.email or c.phone))


def missing_contacts(config: Config) -> list[str]:
    return [r for r in ROLES if contact_missing(getattr(config.contacts, r))]


def store_jurisdictions(store: Store) -> list[str]:
    out = []
    for i, j in enumerate(store.jurisdictions):
        try:
            n = normalise(j)
        except UnknownJurisdiction as exc:
            raise PlanError(f"stores.{store.name}.jurisdictions[{i}]: {exc}") from None
        if n not in out:
            out.append(n)
    return out


def cell(text: str) -> str:
    """Make user text safe inside a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def _fmt_hours(h: float) -> str:
    if h < 48:
        return f"{h:g} h"
    return f"{h / 24:g} days"


def plan_markdown(config: Config) -> str:
    """The plan text. Deterministic for a given config (no dates), so its hash identifies it."""
    book = phasebook()
    company_name = config.company.legal_name or config.company.name or "the company"
    contacts = []
    for role in ROLES:
        c: Contact | None = getattr(config.contacts, role)
        contacts.append(
            {
                "role": role,
                "title": ROLE_TITLES[role],
                "missing": contact_missing(c),
                "name": cell(c.name) if c else "",
                "organisation": cell(c.organisation) if c else "",
                "email": cell(c.email) if c else "",
                "phone": cell(c.phone) if c else "",
            }
        )
    stores = []
    juris: list[str] = []
    for s in config.stores:
        js = store_jurisdictions(s)
        juris += [j for j in js if j not in juris]
        stores.append(
            {
                "name": s.name,
                "url": str(s.storefront_url),
                "platform": s.platform.value,
                "payment_integration": s.payment_integration.value if s.payment_integration else "not set",
                "saq": SAQ_LABEL.get(s.payment_integration, "SAQ unknown: set payment_integration")
                if s.payment_integration
                else "SAQ unknown: set payment_integration",
                "jurisdictions": ", ".join(js) or "not set (add jurisdictions to the store)",
                "timezone": s.timezone or config.company.timezone,
            }
        )
    laws = [
        {
            "id": r.id,
            "recipient": r.recipient,
            "deadline": r.deadline_text,
            "trigger": r.trigger.replace("after:", "after notice "),
            "citation": r.citation,
        }
        for r in law_table()
        if "*" in r.jurisdictions or any(j in juris for j in r.jurisdictions)
    ]
    names = {c["role"]: (c["name"] or c["organisation"]) for c in contacts if not c["missing"]}
    phases = [
        {
            "title": p.title,
            "purpose": p.purpose,
            "lead_title": ROLE_TITLES[p.lead],
            "lead_name": names.get(p.lead, ""),
            "pci": p.pci,
            "csf": p.csf,
            "actions": p.actions,
        }
        for p in book.phases
    ]
    books = [
        {
            "title": r.title,
            "signs": r.signs,
            "tasks": [
                {
                    "phase": t.phase.replace("_", " "),
                    "task": t.task,
                    "owner": ROLE_TITLES[t.owner],
                    "due": _fmt_hours(t.due_hours),
                }
                for t in r.tasks
            ],
        }
        for r in runbooks().values()
    ]
    return render_template(
        "plan.md.j2",
        company={"display_name": company_name},
        not_legal_advice=NOT_LEGAL_ADVICE,
        stores=stores,
        contacts=contacts,
        missing_contacts=[ROLE_TITLES[r] for r in missing_contacts(config)],
        phases=phases,
        pci_elements=book.pci_elements,
        laws=laws,
        runbooks=books,
    )


def card_markdown(config: Config) -> str:
    """A one-page quick reference for the first hour, to print and pin up."""
    lead = config.contacts.security_lead
    lead_text = "**MISSING — add [contacts.security_lead]**"
    if not contact_missing(lead):
        assert lead is not None
        lead_text = ", ".join(cell(x) for x in (lead.name or lead.organisation, lead.phone, lead.email) if x)
    juris: set[str] = set()
    for st in config.stores:
        juris.update(store_jurisdictions(st))
    return render_template(
        "card.md.j2",
        company=config.company.legal_name or config.company.name or "your shop",
        lead=lead_text,
        scenarios="|".join(runbooks()),
        card_hours=config.response.acquirer_notification_hours
        if any(st.payment_integration is not None for st in config.stores)
        else None,
        gdpr=bool(juris & {"EU", "GB"}),
        contacts=[
            {
                "title": ROLE_TITLES[r],
                "missing": contact_missing(c := getattr(config.contacts, r)),
                "name": cell(c.name or c.organisation) if c else "",
                "phone": cell(c.phone) if c else "",
                "email": cell(c.email) if c else "",
            }
            for r in ROLES
        ],
        not_legal_advice=NOT_LEGAL_ADVICE,
    )


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---- versions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionInfo:
    version: int
    status: str
    text_hash: str
    created_at: datetime
    approved_by: str
    approved_at: datetime | None
    published_at: datetime | None


def _info(v: PlanVersion) -> VersionInfo:
    return VersionInfo(
        v.version, v.status, v.text_hash, v.created_at, v.approved_by, v.approved_at, v.published_at
    )


def versions(s: Session) -> list[VersionInfo]:
    return [_info(v) for v in s.scalars(select(PlanVersion).order_by(PlanVersion.version))]


def latest(s: Session, status: str | None = None) -> PlanVersion | None:
    stmt = select(PlanVersion).order_by(PlanVersion.version.desc()).limit(1)
    if status:
        stmt = stmt.where(PlanVersion.status == status)
    return s.scalar(stmt)


def save_draft(s: Session, config: Config, actor: str) -> tuple[PlanVersion, bool]:
    """Record the current text as a new draft unless the newest version already has it."""
    text = plan_markdown(config)
    h = text_hash(text)
    newest = latest(s)
    if newest is not None and newest.text_hash == h:
        return newest, False
    number = (s.scalar(select(func.max(PlanVersion.version))) or 0) + 1
    v = PlanVersion(
        version=number,
        status="draft",
        text=text,
        text_hash=h,
        stores=",".join(st.name for st in config.stores),
        created_by=actor,
        created_at=utcnow(),
    )
    s.add(v)
    s.flush()
    return v, True


def _get(s: Session, version: int | None) -> PlanVersion:
    v = latest(s) if version is None else s.scalar(select(PlanVersion).where(PlanVersion.version == version))
    if v is None:
        raise PlanError(
            "no plan version recorded: run `shopguard response plan --save` first"
            if version is None
            else f"version: no plan version {version}"
        )
    return v


def approve(s: Session, actor: str, version: int | None = None) -> PlanVersion:
    if not actor.strip():
        raise PlanError("by: say who approves the plan")
    v = _get(s, version)
    if v.status != "draft":
        raise PlanError(f"version {v.version} is {v.status}; only a draft can be approved")
    if text_hash(v.text) != v.text_hash:
        raise PlanError(f"version {v.version}: text does not match its recorded hash; save a new draft")
    v.status = "approved"
    v.approved_by = actor
    v.approved_at = utcnow()
    return v


def publish(s: Session, version: int | None = None) -> PlanVersion:
    v = _get(s, version)
    if v.status != "approved":
        raise PlanError(f"version {v.version} is {v.status}; approve it before publishing")
    if text_hash(v.text) != v.text_hash:
        raise PlanError(f"version {v.version}: text does not match its recorded hash")
    for old in s.scalars(select(PlanVersion).where(PlanVersion.status == "published")):
        old.status = "superseded"
    v.status = "published"
    v.published_at = utcnow()
    return v
