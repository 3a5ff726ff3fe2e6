"""Checks of the response protocol. They read ShopGuard's own records (ctx.db) and never write.

The litmus row for response is "ready" only when a current, published plan with every contact
exists, a drill happened within 12 months, and no open incident is overdue on a notification.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shopguard.checks import BaseCheck, CheckContext, RecordsCheck, register_check
from shopguard.config import Config
from shopguard.db.models import FindingRecord
from shopguard.db.triage import untriaged
from shopguard.findings import Finding, FindingStatus, Refs, Severity
from shopguard.response.autoopen import candidate_filter, match
from shopguard.response.drill import last_drill
from shopguard.response.hooks import insurer_window_hours
from shopguard.response.models import Incident, IncidentFinding
from shopguard.response.notify import fmt_local, view
from shopguard.response.plan import PlanError, latest, missing_contacts, plan_markdown, text_hash
from shopguard.response.runbooks import ROLE_TITLES

CONFIG_LOC = "shopguard.toml"


@register_check
class PlanCheck(RecordsCheck):
    id = "response.plan"
    title = "A current incident response plan is published"

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        return self._read(self.records(ctx), ctx.config)

    def _read(self, db: sessionmaker[Session], config: Config) -> list[Finding]:
        refs = Refs(pci=("12.10.1",))
        with db() as s:
            published = latest(s, "published")
            newest = latest(s)
        if newest is None:
            return [
                Finding(
                    "response.plan.missing",
                    Severity.HIGH,
                    "No incident response plan recorded",
                    CONFIG_LOC,
                    detail="Without a written plan, people improvise under stress and legal deadlines "
                    "are missed.",
                    remediation="Run `shopguard response plan --save`, then "
                    "`shopguard response approve --by NAME` "
                    "and `shopguard response publish`.",
                    refs=refs,
                )
            ]
        if published is None:
            return [
                Finding(
                    "response.plan.unpublished",
                    Severity.HIGH,
                    "The incident response plan is not published",
                    CONFIG_LOC,
                    detail=f"Version {newest.version} is {newest.status}.",
                    remediation="Approve and publish it: `shopguard response approve --by NAME` then "
                    "`shopguard response publish`.",
                    refs=refs,
                )
            ]
        out: list[Finding] = []
        assert published.published_at is not None
        age = (datetime.now(UTC) - published.published_at).days
        if age > config.response.plan_max_age_days:
            out.append(
                Finding(
                    "response.plan.stale",
                    Severity.MEDIUM,
                    f"The response plan was last published {age} days ago",
                    CONFIG_LOC,
                    detail="PCI DSS 12.10.2 asks for a review and test at least once every 12 months.",
                    remediation="Review the plan, then save, approve and publish it again.",
                    refs=Refs(pci=("12.10.2",)),
                    evidence={"version": published.version, "age_days": age},
                )
            )
        try:
            current = text_hash(plan_markdown(config))
        except PlanError as exc:
            out.append(
                Finding(
                    "response.plan.config",
                    Severity.HIGH,
                    "The response plan cannot be generated from shopguard.toml",
                    CONFIG_LOC,
                    detail=str(exc),
                    remediation="Fix the setting named above, then save and publish the plan.",
                    refs=refs,
                )
            )
            return out
        if current != published.text_hash:
            out.append(
                Finding(
                    "response.plan.outdated",
                    Severity.MEDIUM,
                    "The published response plan no longer matches shopguard.toml",
                    CONFIG_LOC,
                    detail="Contacts, stores or jurisdictions changed since the plan was published, so the "
                    "printed plan may send people to the wrong number.",
                    remediation="Run `shopguard response plan --save`, approve and publish the new version.",
                    refs=refs,
                    evidence={"published_version": published.version},
                )
            )
        return out


@register_check
class ContactsCheck(BaseCheck):
    id = "response.contacts"
    title = "Every contact the response plan needs is recorded"

    def run(self, ctx: CheckContext) -> Iterable[Finding]:
        for role in missing_contacts(ctx.config):
            sev = Severity.HIGH if role in ("security_lead", "payment_processor") else Severity.MEDIUM
            yield Finding(
                "response.contacts.missing",
                sev,
                f"No {ROLE_TITLES[role].lower()} contact in the response plan",
                f"{CONFIG_LOC}#contacts.{role}",
                detail="A contact needs a name or organisation and an e-mail or phone number someone can use "
                "at night.",
                remediation=f'Add [contacts.{role}] with name = "...", email = "...", phone = "..." to '
                "shopguard.toml, then save and publish the plan again.",
                refs=Refs(pci=("12.10.1",)),
                key=role,
            )
        if ctx.db is not None:
            with ctx.db() as s:
                hours, _source = insurer_window_hours(ctx.config, ctx.store.name, s)
        else:
            hours, _source = insurer_window_hours(ctx.config, ctx.store.name)
        if hours is None:
            yield Finding(
                "response.contacts.insurer-window",
                Severity.LOW,
                "The insurer's notification window is not recorded",
                f"{CONFIG_LOC}#response.insurer_notification_window_hours",
                detail="Cyber policies require notice within a set time, often 24 to 72 hours; without it "
                "ShopGuard can only say 'at once'.",
                remediation="Record the policy in the insurance register, or set "
                "[response] insurer_notification_window_hours = 48 (the figure from your policy).",
            )


@register_check
class DrillCheck(RecordsCheck):
    id = "response.drill"
    title = "The response plan was rehearsed within 12 months"

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        limit = ctx.config.response.drill_max_age_days
        with self.records(ctx)() as s:
            d = last_drill(s)
            if d is None:
                title, ev = "The response plan has never been rehearsed", {}
            else:
                age = (datetime.now(UTC) - d.finished_at).days
                if age <= limit:
                    return []
                title, ev = (
                    f"The last response drill was {age} days ago",
                    {"drill": d.id, "age_days": age},
                )
        return [
            Finding(
                "response.drill.overdue",
                Severity.MEDIUM,
                title,
                CONFIG_LOC,
                detail="A plan nobody has walked through fails at the first missing phone number.",
                remediation="Run a tabletop drill: `shopguard response drill skimmer`.",
                refs=Refs(pci=("12.10.2",)),
                evidence=ev,
            )
        ]


@register_check
class IncidentsCheck(RecordsCheck):
    id = "response.incidents"
    title = "Open incidents are on time with their notifications"

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        return self._read(self.records(ctx), ctx.config, ctx.store.name)

    def _read(self, db: sessionmaker[Session], config: Config, store: str) -> list[Finding]:
        out: list[Finding] = []
        with db() as s:
            for inc in s.scalars(select(Incident).where(Incident.store == store, Incident.status == "open")):
                try:
                    v = view(s, inc, config)
                except PlanError:
                    continue  # a bad jurisdiction code is reported by response.plan
                for o in v.overdue:
                    out.append(
                        Finding(
                            "response.incidents.notification-overdue",
                            Severity.CRITICAL,
                            f"Incident #{inc.id}: notice to {o.law.recipient} is overdue",
                            f"incident:{inc.id}",
                            detail=f"Due {fmt_local(o.due, v.tz)} under {o.law.citation}.",
                            remediation="Send it now (draft: "
                            f"`shopguard incident notify {inc.id} --draft {o.id}`), "
                            f"explain the delay, then `shopguard incident notify {inc.id} --sent {o.id} "
                            "--method ... --by ...`.",
                            refs=Refs(pci=("12.10.1",)),
                            key=o.id,
                            evidence={"party": o.id, "due_utc": o.due.isoformat() if o.due else None},
                        )
                    )
                out.append(
                    Finding(
                        "response.incidents.open",
                        Severity.INFO,
                        f"Incident #{inc.id} is open: {inc.title}",
                        f"incident:{inc.id}",
                        remediation=f"Follow `shopguard incident show {inc.id}`.",
                        evidence={"phase": inc.phase, "severity": inc.severity},
                    )
                )
            linked = select(IncidentFinding.finding_id)
            for rec in s.scalars(
                select(FindingRecord).where(
                    FindingRecord.store == store,
                    FindingRecord.status != FindingStatus.RESOLVED.value,
                    untriaged(),
                    FindingRecord.id.not_in(linked),
                    candidate_filter(),
                )
            ):
                if match(rec, config.response.downtime_threshold_minutes) is not None:
                    out.append(
                        Finding(
                            "response.incidents.unhandled",
                            Severity.HIGH,
                            f"No incident is open for: {rec.title}",
                            rec.location,
                            detail="A finding that calls for the response plan has no incident yet.",
                            remediation="Run `shopguard incident open --from-findings` (or "
                            "`shopguard audit`, "
                            "which "
                            "opens incidents automatically).",
                            key=rec.fingerprint,
                            evidence={"finding_check": rec.check_id},
                        )
                    )
        return out
