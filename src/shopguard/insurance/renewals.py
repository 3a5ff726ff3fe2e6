"""When the cover runs out: the renewal countdown shared by the check and the dashboard."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from shopguard.insurance.models import InsurancePolicy


@dataclass(frozen=True)
class RenewalDue:
    policy_number: str
    insurer: str
    period_end: date
    days_left: int
    warn_at: int
    """The renewal_warn_days step reached (e.g. 30 when 30 or fewer days are left)."""


def days_left(policy: InsurancePolicy, today: date) -> int:
    return (policy.period_end - today).days


def renewal_due(
    policies: Sequence[InsurancePolicy], today: date, warn_days: Sequence[int]
) -> RenewalDue | None:
    """The policy in force that ends last, when it ends within the largest warning step and
    no later policy has been recorded yet (then the renewal is done); else None."""
    in_force = [p for p in policies if p.period_start <= today <= p.period_end]
    if not in_force or not warn_days or any(p.period_start > today for p in policies):
        return None
    pol = max(in_force, key=lambda p: p.period_end)
    left = days_left(pol, today)
    reached = [w for w in warn_days if left <= w]
    if not reached:
        return None
    return RenewalDue(pol.policy_number, pol.insurer, pol.period_end, left, min(reached))
