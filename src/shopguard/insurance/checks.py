"""Checks that read the insurance register (via ctx.db): cover held, gaps, renewals, answers."""

from __future__ import annotations

from sqlalchemy import select

from shopguard.checks import CheckContext, RecordsCheck, register_check
from shopguard.db.base import utcnow
from shopguard.findings import Finding, Severity
from shopguard.insurance.gaps import analyse
from shopguard.insurance.models import InsurancePolicy
from shopguard.insurance.readiness import answers
from shopguard.insurance.renewals import renewal_due

NOT_ADVICE = (
    "ShopGuard is not an insurer or broker; this is not insurance advice. Discuss cover with your broker."
)


@register_check
class PolicyHeld(RecordsCheck):
    id = "insurance.policy"
    title = "A cyber insurance policy is in force and not about to lapse"

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        today = utcnow().date()
        warn = sorted(ctx.config.insurance.renewal_warn_days, reverse=True)
        with self.records(ctx)() as s:
            allp = list(s.scalars(select(InsurancePolicy).order_by(InsurancePolicy.period_end)))
        if not allp:
            return [
                Finding(
                    "insurance.policy",
                    Severity.HIGH,
                    "No cyber insurance policy recorded",
                    "insurance",
                    detail="A card breach at a small store typically brings forensic, notification and "
                    "card-brand costs that can end the business. Record the policy you hold, or get quotes. "
                    + NOT_ADVICE,
                    remediation="shopguard insurance template > policy.yaml; fill it in; "
                    "shopguard insurance import policy.yaml",
                )
            ]
        in_force = [p for p in allp if p.period_start <= today <= p.period_end]
        future = [p for p in allp if p.period_start > today]
        out: list[Finding] = []
        if not in_force:
            last = allp[-1]
            if future:
                sev, title = (
                    Severity.HIGH,
                    f"No cyber cover today: next policy starts {future[0].period_start}",
                )
            else:
                sev, title = Severity.HIGH, f"Cyber insurance expired on {last.period_end} ({last.insurer})"
            out.append(
                Finding(
                    "insurance.policy",
                    sev,
                    title,
                    f"insurance/{last.policy_number}",
                    detail="An incident discovered while uninsured is not covered. " + NOT_ADVICE,
                    remediation="Renew with your broker, then record the new policy: "
                    "shopguard insurance import policy.yaml",
                    evidence={"period_end": last.period_end.isoformat()},
                    key="lapsed",
                )
            )
            return out
        due = renewal_due(allp, today, warn)
        if due is not None:
            w = due.warn_at
            sev = Severity.HIGH if w <= 7 else Severity.MEDIUM if w <= 30 else Severity.LOW
            out.append(
                Finding(
                    "insurance.policy",
                    sev,
                    f"Cyber insurance renews in {due.days_left} day(s) ({due.period_end})",
                    f"insurance/{due.policy_number}",
                    detail="Start the renewal early: insurers ask for a fresh application with security "
                    "questions. `shopguard insurance readiness` prepares the answers.",
                    remediation="shopguard insurance readiness --format md > answers.md; "
                    "send it to your broker",
                    evidence={"period_end": due.period_end.isoformat(), "days_left": due.days_left},
                    key="renewal",
                )
            )
        return out


@register_check
class CoverageGaps(RecordsCheck):
    id = "insurance.coverage"
    title = "The cover held fits the store's risk (coverages and limits)"

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        settings = ctx.config.insurance
        with self.records(ctx)() as s:
            policies, gaps, est = analyse(s, settings, utcnow().date())
        if not policies:
            return []  # insurance.policy reports that there is no cover at all
        out: list[Finding] = []
        if est is None:
            out.append(
                Finding(
                    "insurance.coverage",
                    Severity.LOW,
                    "Limits not checked: record count and card volume unknown",
                    "insurance/estimate",
                    remediation="Set [insurance] customer_records and card_transactions_per_year in "
                    "shopguard.toml",
                    key="no-estimate",
                )
            )
        est_ev = (
            {
                "estimate": est.total,
                "currency": est.currency,
                "how": est.explain(),
                "sources": list(est.sources),
            }
            if est
            else {}
        )
        for g in gaps:
            if g.kind == "missing" and g.coverage is not None:
                out.append(
                    Finding(
                        "insurance.coverage",
                        g.coverage.missing_severity,
                        f"No {g.coverage.title.lower()} cover",
                        f"insurance/coverage/{g.coverage.id}",
                        detail=g.message + " " + NOT_ADVICE,
                        remediation=f"Ask your broker to add {g.coverage.title.lower()} cover",
                        evidence={"policies": g.policy_number},
                        key=g.coverage.id,
                    )
                )
            elif g.kind in {"low_limit", "low_aggregate"}:
                name = g.coverage.title if g.coverage else "Aggregate"
                cid = g.coverage.id if g.coverage else "aggregate"
                out.append(
                    Finding(
                        "insurance.coverage",
                        Severity.MEDIUM,
                        f"{name} limit looks low for this store",
                        f"insurance/coverage/{cid}",
                        detail=g.message + " The estimate is a yardstick, not a quote. " + NOT_ADVICE,
                        remediation="Review the limit with your broker; adjust the estimate's inputs under "
                        "[insurance] in shopguard.toml if they are wrong",
                        evidence={"limit": g.have, "policy": g.policy_number, **est_ev},
                        key=cid,
                    )
                )
            elif g.kind == "currency":
                out.append(
                    Finding(
                        "insurance.coverage",
                        Severity.LOW,
                        "Limits not compared: policy and estimate currencies differ",
                        f"insurance/{g.policy_number}",
                        detail=g.message,
                        remediation="Set [insurance] currency to the policy's currency",
                        key="currency",
                    )
                )
        return out


@register_check
class Readiness(RecordsCheck):
    id = "insurance.readiness"
    title = "Underwriting answers match ShopGuard's evidence"

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        with self.records(ctx)() as s:
            rows = answers(s, ctx.store.name)
        out = []
        for a in rows:
            if a.conflict:
                out.append(
                    Finding(
                        "insurance.readiness",
                        Severity.MEDIUM,
                        f"Insurance answer contradicts the evidence: {a.question.question}",
                        f"insurance/question/{a.question.id}",
                        detail=f"You answered {a.owner_answer!r}; {a.detail}. A wrong answer on an "
                        "application can let the insurer refuse a claim. " + NOT_ADVICE,
                        remediation="Fix the findings, or correct your answer: shopguard insurance answer "
                        f"{a.question.id} {a.answer}",
                        evidence={"owner": a.owner_answer, "evidence": a.answer},
                        key=a.question.id,
                    )
                )
            elif a.answer == "no" and a.source == "evidence":
                out.append(
                    Finding(
                        "insurance.readiness",
                        Severity.LOW,
                        f"An insurer would hear 'no': {a.question.question}",
                        f"insurance/question/{a.question.id}",
                        detail=a.detail,
                        remediation="Fix the findings behind it before renewal",
                        key=a.question.id,
                    )
                )
            elif a.answer == "unanswered":
                out.append(
                    Finding(
                        "insurance.readiness",
                        Severity.LOW,
                        f"Unanswered underwriting question: {a.question.question}",
                        f"insurance/question/{a.question.id}",
                        remediation=f"shopguard insurance answer {a.question.id} yes|no|partial --by NAME",
                        key=a.question.id,
                    )
                )
        return out
