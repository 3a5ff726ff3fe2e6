"""Checks that read the policy library, roster and training records (via ctx.db).

They yield the full current truth each run, so a fixed gap is resolved by the next run.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from shopguard.checks import CheckContext, RecordsCheck, register_check
from shopguard.db.base import utcnow
from shopguard.db.models import FindingRecord
from shopguard.db.triage import untriaged
from shopguard.findings import Finding, Refs, Severity
from shopguard.policies.catalog import LIBRARY
from shopguard.policies.library import latest, published, review_due
from shopguard.policies.models import Person, PolicyDocument
from shopguard.policies.people import pending, training_status
from shopguard.policies.render import statements


@register_check
class PolicyLibrary(RecordsCheck):
    id = "policies.library"
    title = "Security policies exist, are approved and published"

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        with self.records(ctx)() as s:
            docs = {d.slug: d for d in s.scalars(select(PolicyDocument))}
            if not docs:
                return [
                    Finding(
                        "policies.library",
                        Severity.HIGH,
                        "No security policies written yet",
                        "policies",
                        detail="PCI DSS 12.1.1 asks for an information security policy that is published and "
                        "known to everyone. ShopGuard ships a library of 13 policies sized for a small shop.",
                        remediation="shopguard policies init; then approve and publish each: "
                        "shopguard policies approve SLUG --by NAME && shopguard policies publish SLUG",
                        refs=Refs(pci=("12.1.1",)),
                    )
                ]
            out = []
            for t in LIBRARY:
                doc = docs.get(t.slug)
                if doc is None:
                    out.append(
                        Finding(
                            "policies.library",
                            Severity.MEDIUM,
                            f"{t.title} is missing from the policy library",
                            f"policy/{t.slug}",
                            remediation="shopguard policies init",
                            refs=Refs(pci=t.pci),
                            key=t.slug,
                        )
                    )
                    continue
                if published(doc) is not None:
                    continue
                lv = latest(doc)
                state = lv.status if lv else "empty"
                what = {
                    "draft": "is a draft nobody has approved",
                    "approved": "is approved but not published",
                }
                out.append(
                    Finding(
                        "policies.library",
                        Severity.MEDIUM,
                        f"{doc.title} {what.get(state, 'has no published version')}",
                        f"policy/{t.slug}",
                        detail="A policy only counts once it is approved by management and published to the "
                        "people it applies to (PCI DSS 12.1.1).",
                        remediation=f"shopguard policies show {t.slug}; shopguard policies approve {t.slug} "
                        f"--by NAME; shopguard policies publish {t.slug}",
                        evidence={"status": state, "version": lv.number if lv else None},
                        refs=Refs(pci=t.pci),
                        key=t.slug,
                    )
                )
            return out


@register_check
class PolicyReview(RecordsCheck):
    id = "policies.review"
    title = "Every published policy was reviewed within its cadence (PCI DSS 12.1.2)"

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        months = ctx.config.policies.review_months
        today = utcnow().date()
        out = []
        with self.records(ctx)() as s:
            for doc in s.scalars(select(PolicyDocument).order_by(PolicyDocument.slug)):
                v = published(doc)
                if v is None:
                    continue
                due = review_due(v, months)
                if due > today + timedelta(days=30):
                    continue
                overdue = due < today
                out.append(
                    Finding(
                        "policies.review",
                        Severity.MEDIUM if overdue else Severity.LOW,
                        f"{doc.title}: review {'overdue since' if overdue else 'due on'} {due.isoformat()}",
                        f"policy/{doc.slug}",
                        detail=f"Policies are reviewed at least every {months} months (PCI DSS 12.1.2).",
                        remediation=f"Read it; if it still fits: shopguard policies review {doc.slug} "
                        f"--by NAME; if not: shopguard policies edit {doc.slug} FILE --note 'what changed'",
                        evidence={"version": v.number, "review_due": due.isoformat()},
                        refs=Refs(pci=("12.1.2",)),
                        key=doc.slug,
                    )
                )
        return out


@register_check
class Acknowledgements(RecordsCheck):
    id = "policies.acknowledgements"
    title = "People have acknowledged the published policies that apply to them"

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        db = self.records(ctx)
        with db() as s:
            active = [p for p in s.scalars(select(Person)) if p.active]
        if not active:
            return [
                Finding(
                    "policies.acknowledgements",
                    Severity.MEDIUM,
                    "Nobody is on the roster, so nobody has acknowledged the policies",
                    "roster",
                    remediation="shopguard policies people import roster.csv (or people add EMAIL --name ... "
                    "--roles owner)",
                    refs=Refs(pci=("12.1.1", "12.6.3")),
                )
            ]
        by_policy: dict[str, list[str]] = {}
        titles: dict[str, tuple[str, int]] = {}
        for p in pending(db, ctx.config.policies):
            by_policy.setdefault(p.slug, []).append(f"{p.email} ({p.reason})")
            titles[p.slug] = (p.title, p.version)
        out = []
        for slug, who in sorted(by_policy.items()):
            title, version = titles[slug]
            out.append(
                Finding(
                    "policies.acknowledgements",
                    Severity.MEDIUM,
                    f"{title} v{version}: {len(who)} acknowledgement(s) outstanding",
                    f"policy/{slug}",
                    detail="Everyone must acknowledge the policies that apply to them when they start, "
                    "when a policy changes, and every year (PCI DSS 12.1.1, 12.6.3).",
                    remediation="shopguard policies pending; then shopguard policies ack EMAIL " + slug,
                    evidence={"pending": who[:50], "count": len(who)},
                    refs=Refs(pci=("12.1.1", "12.6.3")),
                    key=slug,
                )
            )
        return out


@register_check
class Training(RecordsCheck):
    id = "policies.training"
    title = "Everyone's security awareness training is current (PCI DSS 12.6.3)"

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        out = []
        words = {
            "never": "has no security awareness training on record",
            "expired": "security awareness training expired",
            "failed": "did not pass security awareness training",
        }
        for t in training_status(self.records(ctx)):
            if t.state == "current":
                continue
            out.append(
                Finding(
                    "policies.training",
                    Severity.MEDIUM,
                    f"{t.name} {words[t.state]}"
                    + (f" on {t.expires_on.isoformat()}" if t.expires_on and t.state == "expired" else ""),
                    f"person/{t.email}",
                    detail="Security awareness training at hire and at least once every 12 months "
                    "(PCI DSS 12.6.1-12.6.3).",
                    remediation=f"shopguard policies training add {t.email} --course NAME --date YYYY-MM-DD",
                    evidence={"state": t.state, "last_course": t.course},
                    refs=Refs(pci=("12.6.1", "12.6.3")),
                    key=t.email,
                )
            )
        return out


@register_check
class PolicyVersusEvidence(RecordsCheck):
    id = "policies.statements"
    title = "What the policies promise matches what ShopGuard's scans see"

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        rank = {s.value: s.rank for s in Severity}
        out = []
        with self.records(ctx)() as s:
            open_findings = [
                f
                for f in s.scalars(
                    select(FindingRecord).where(
                        FindingRecord.store == ctx.store.name,
                        FindingRecord.status != "resolved",
                        untriaged(),
                        FindingRecord.protocol != "policies",
                    )
                )
                if rank.get(f.severity, 0) >= Severity.MEDIUM.rank
            ]
            for doc in s.scalars(select(PolicyDocument).order_by(PolicyDocument.slug)):
                v = published(doc)
                if v is None:
                    continue
                for n, st in enumerate(statements(v.text)):
                    hits = [
                        f
                        for f in open_findings
                        if any(f.check_id == c or f.check_id.startswith(c + ".") for c in st.check_ids)
                    ]
                    if not hits:
                        continue
                    hits.sort(key=lambda f: -rank.get(f.severity, 0))
                    out.append(
                        Finding(
                            "policies.statements",
                            Severity.MEDIUM,
                            f"{doc.title} says one thing, the scans see another: {hits[0].title}",
                            f"policy/{doc.slug}",
                            detail=f"The policy says: \u201c{st.text}\u201d. ShopGuard has {len(hits)} open "
                            "finding(s) that contradict it. Fix the findings, or change the policy so that "
                            "it describes what you really do.",
                            remediation="shopguard report (fix the findings listed in the evidence)",
                            evidence={
                                "statement": st.text,
                                "checks": list(st.check_ids),
                                "findings": [
                                    {"check_id": f.check_id, "severity": f.severity, "title": f.title}
                                    for f in hits[:10]
                                ],
                            },
                            refs=Refs(pci=("12.1.1",)),
                            key=f"{doc.slug}#{n}",
                        )
                    )
        return out


@register_check
class VendorAttestations(RecordsCheck):
    id = "policies.vendors"
    title = "Vendors that handle card data have a PCI attestation less than a year old (PCI DSS 12.8.4)"

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        from shopguard.policies.library import add_months
        from shopguard.policies.models import Vendor

        today = utcnow().date()
        out = []
        with self.records(ctx)() as s:
            for v in s.scalars(select(Vendor).order_by(Vendor.name)):
                if v.pci_attestation is None or add_months(v.pci_attestation, 12) >= today:
                    continue
                out.append(
                    Finding(
                        "policies.vendors",
                        Severity.MEDIUM,
                        f"{v.name}'s PCI attestation is over a year old ({v.pci_attestation.isoformat()})",
                        f"vendor/{v.name}",
                        detail="The vendor policy asks for a current Attestation of Compliance from every "
                        "vendor that handles card data for us (PCI DSS 12.8.4).",
                        remediation=f"Ask {v.name} for their latest AoC, then: "
                        f"shopguard policies vendors add '{v.name}' --pci-attestation YYYY-MM-DD",
                        evidence={"pci_attestation": v.pci_attestation.isoformat()},
                        refs=Refs(pci=("12.8.4",)),
                        key=v.name,
                    )
                )
        return out
