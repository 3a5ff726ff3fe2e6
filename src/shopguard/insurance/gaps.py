"""Coverage gap analysis: what the store needs but lacks, and limits that look low.

The breach-cost estimate is deliberately simple and shown with every figure and its
source, so an owner (or broker) can check it and change the inputs in shopguard.toml:

    records exposed = customer records held
                      + card payments per year x exposure days / 365
    estimate        = records exposed x cost per record

Per-record figures come from studies of larger organisations; for a small store they
are a yardstick for a conversation with a broker, not a price. Not insurance advice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from shopguard.insurance.coverages import KINDS, CoverageKind
from shopguard.insurance.models import InsurancePolicy
from shopguard.insurance.money import fmt_money
from shopguard.insurance.register import policies_in_force
from shopguard.insurance.settings import InsuranceSettings


@dataclass(frozen=True)
class Estimate:
    customer_records: int
    card_transactions_per_year: int
    exposure_days: int
    cards_exposed: int
    records_exposed: int
    cost_per_record: float
    currency: str
    total: int
    sources: tuple[str, ...]

    def explain(self) -> str:
        return (
            f"{self.customer_records:,} customer records + "
            f"{self.card_transactions_per_year:,} card payments/year x {self.exposure_days} days / 365 "
            f"= {self.cards_exposed:,} cards -> {self.records_exposed:,} records x {self.currency} "
            f"{self.cost_per_record:,.0f} per record = {fmt_money(self.total, self.currency)}"
        )


def estimate(settings: InsuranceSettings) -> Estimate | None:
    """None when the store has not told us its record count or card volume."""
    if settings.customer_records == 0 and settings.card_transactions_per_year == 0:
        return None
    cards = round(settings.card_transactions_per_year * settings.exposure_days / 365)
    records = settings.customer_records + cards
    return Estimate(
        customer_records=settings.customer_records,
        card_transactions_per_year=settings.card_transactions_per_year,
        exposure_days=settings.exposure_days,
        cards_exposed=cards,
        records_exposed=records,
        cost_per_record=settings.cost_per_record,
        currency=settings.currency,
        total=round(records * settings.cost_per_record),
        sources=(settings.cost_per_record_source, settings.exposure_days_source),
    )


@dataclass(frozen=True)
class Gap:
    kind: str
    """missing, low_limit, low_aggregate, no_estimate, currency."""
    coverage: CoverageKind | None
    policy_number: str
    message: str
    have: int | None = None
    want: int | None = None


def required_kinds(settings: InsuranceSettings) -> list[CoverageKind]:
    if settings.required_coverages is None:
        return list(KINDS)
    wanted = set(settings.required_coverages)
    return [k for k in KINDS if k.id in wanted]


def analyse(
    s: Session, settings: InsuranceSettings, today: date
) -> tuple[list[InsurancePolicy], list[Gap], Estimate | None]:
    """Gaps across the policies in force today (coverages are combined across policies)."""
    policies = policies_in_force(s, today)
    est = estimate(settings)
    gaps: list[Gap] = []
    if not policies:
        return policies, gaps, est
    best: dict[str, tuple[int, InsurancePolicy]] = {}
    for p in policies:
        for c in p.coverages:
            if c.kind not in best or c.limit > best[c.kind][0]:
                best[c.kind] = (c.limit, p)
    numbers = ", ".join(p.policy_number for p in policies)
    for k in required_kinds(settings):
        if k.id not in best:
            gaps.append(Gap("missing", k, numbers, f"No {k.title.lower()} cover: {k.what}."))
            continue
        limit, pol = best[k.id]
        if est is not None and k.compare_to_estimate and pol.currency == est.currency and limit < est.total:
            gaps.append(
                Gap(
                    "low_limit",
                    k,
                    pol.policy_number,
                    f"{k.title} limit {fmt_money(limit, pol.currency)} is below the breach-cost estimate "
                    f"{fmt_money(est.total, est.currency)}.",
                    limit,
                    est.total,
                )
            )
    if est is not None:
        for p in policies:
            if p.currency != est.currency:
                gaps.append(
                    Gap(
                        "currency",
                        None,
                        p.policy_number,
                        f"Policy is in {p.currency}, the estimate in {est.currency}: limits not compared.",
                    )
                )
            elif p.aggregate_limit is not None and p.aggregate_limit < est.total:
                gaps.append(
                    Gap(
                        "low_aggregate",
                        None,
                        p.policy_number,
                        f"Aggregate limit {fmt_money(p.aggregate_limit, p.currency)} is below the "
                        f"breach-cost estimate {fmt_money(est.total, est.currency)}.",
                        p.aggregate_limit,
                        est.total,
                    )
                )
    return policies, gaps, est
