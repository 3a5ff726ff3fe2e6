"""Notification view of one incident: deadlines per party and draft notices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from shopguard.config import Config, Store
from shopguard.db.base import utcnow
from shopguard.response import deadlines
from shopguard.response.appraisal import DataKind
from shopguard.response.hooks import insurer_window_hours
from shopguard.response.incidents import IncidentError, appraisal_of, sent_map
from shopguard.response.laws import NOT_LEGAL_ADVICE, Obligation, obligations, sorted_obligations
from shopguard.response.models import Incident
from shopguard.response.plan import render_template, store_jurisdictions
from shopguard.response.runbooks import runbooks


def store_of(config: Config, name: str) -> Store | None:
    return next((s for s in config.stores if s.name == name), None)


def store_zone(config: Config, store: Store | None) -> ZoneInfo:
    if store is not None and store.timezone:
        return deadlines.zone(store.timezone, f"stores.{store.name}.timezone")
    return deadlines.zone(config.company.timezone, "company.timezone")


@dataclass(frozen=True)
class NotificationView:
    incident: Incident
    tz: ZoneInfo
    items: list[Obligation]
    now: datetime

    def local(self, t: datetime | None) -> str:
        return fmt_local(t, self.tz)

    @property
    def overdue(self) -> list[Obligation]:
        return [o for o in self.items if o.overdue(self.now) and o.sent is None]


def fmt_local(t: datetime | None, tz: ZoneInfo) -> str:
    if t is None:
        return "-"
    return t.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def fmt_utc(t: datetime | None) -> str:
    return "-" if t is None else t.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def view(s: Session, inc: Incident, config: Config, now: datetime | None = None) -> NotificationView:
    store = store_of(config, inc.store)
    tz = store_zone(config, store)
    hours, _ = insurer_window_hours(config, inc.store, s, inc.discovered_at)
    card = runbooks()[inc.scenario].card_data if inc.scenario in runbooks() else True
    items = obligations(
        appraisal=appraisal_of(inc),
        store_jurisdictions=store_jurisdictions(store) if store else [],
        discovered_at=inc.discovered_at,
        tz=tz,
        sent=sent_map(s, inc),
        acquirer_hours=config.response.acquirer_notification_hours,
        insurer_hours=hours,
        card_data_suspected=card,
    )
    now = now or utcnow()
    return NotificationView(inc, tz, sorted_obligations(items, now), now)


def draft(s: Session, inc: Incident, config: Config, party: str) -> str:
    """A draft notice for one party, from the templates in data/response/notices/."""
    v = view(s, inc, config)
    ob = next((o for o in v.items if o.id == party), None)
    if ob is None:
        known = ", ".join(o.id for o in v.items) or "none"
        raise IncidentError(f"party: {party!r} is not among this incident's parties ({known})")
    template = {
        "authority": "authority",
        "individuals": "individuals",
        "acquirer": "acquirer",
        "insurer": "insurer",
    }.get(ob.law.kind)
    if template is None:
        raise IncidentError(f"party: {party} is an internal assessment; there is no notice to draft")
    a = appraisal_of(inc)
    lead = config.contacts.security_lead
    contact = (
        ", ".join(x for x in ((lead.name, lead.email, lead.phone) if lead else ()) if x)
        or "[add contacts.security_lead to shopguard.toml]"
    )
    ctx_appraisal = None
    if a is not None:
        window = (
            f"{fmt_local(a.window_start, v.tz)} to {fmt_local(a.window_end, v.tz)}"
            if a.window_start
            else "[not yet established]"
        )
        ctx_appraisal = {
            "kinds": ", ".join(k.value.replace("_", " ") for k in a.data_kinds),
            "records": a.records,
            "affected": ", ".join(f"{k}: {n}" for k, n in a.affected.items()) or "not broken down",
            "window": window,
        }
    kinds = set(a.data_kinds) if a else set()
    consequences = (
        "Fraudulent use of payment cards; phishing using the stolen details."
        if kinds & {DataKind.CARD_NUMBER, DataKind.CVV}
        else "Phishing and account takeover using the information involved."
    )
    company = config.company
    return render_template(
        f"notices/{template}.md.j2",
        company={"name": company.legal_name or company.name or "[company name]", "address": company.address},
        recipient=ob.law.recipient,
        citation=ob.law.citation,
        contact=contact,
        store=inc.store,
        incident={
            "id": inc.id,
            "title": inc.title,
            "phase": inc.phase,
            "discovered_local": fmt_local(inc.discovered_at, v.tz),
            "discovered_utc": fmt_utc(inc.discovered_at),
        },
        appraisal=ctx_appraisal,
        consequences=consequences,
        late=ob.overdue(v.now),
        due=fmt_local(ob.due, v.tz),
        card=bool(kinds & {DataKind.CARD_NUMBER, DataKind.CVV}),
        password=DataKind.PASSWORD in kinds,
        not_legal_advice=NOT_LEGAL_ADVICE,
    )
