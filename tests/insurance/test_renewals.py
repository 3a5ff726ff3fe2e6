"""The renewal countdown shared by the insurance check and the dashboard."""

from __future__ import annotations

from datetime import date, timedelta

from shopguard.insurance.models import InsurancePolicy
from shopguard.insurance.renewals import days_left, renewal_due

TODAY = date(2026, 6, 1)


def _policy(number: str, start: date, end: date) -> InsurancePolicy:
    return InsurancePolicy(insurer="Harbour", policy_number=number, period_start=start, period_end=end)


def test_due_when_within_a_warning_step_reports_the_smallest_step_reached() -> None:
    p = _policy("A", TODAY - timedelta(days=300), TODAY + timedelta(days=25))
    due = renewal_due([p], TODAY, (60, 30, 7))
    assert due is not None
    assert (due.policy_number, due.days_left, due.warn_at) == ("A", 25, 30)
    assert days_left(p, TODAY) == 25


def test_not_due_far_from_the_end_or_when_the_next_policy_is_recorded() -> None:
    current = _policy("A", TODAY - timedelta(days=100), TODAY + timedelta(days=200))
    assert renewal_due([current], TODAY, (60, 30, 7)) is None
    ending = _policy("B", TODAY - timedelta(days=300), TODAY + timedelta(days=5))
    following = _policy("C", TODAY + timedelta(days=6), TODAY + timedelta(days=371))
    assert renewal_due([ending], TODAY, (60, 30, 7)) is not None
    assert renewal_due([ending, following], TODAY, (60, 30, 7)) is None


def test_the_policy_in_force_that_ends_last_counts_and_lapsed_cover_is_not_a_renewal() -> None:
    early = _policy("early", TODAY - timedelta(days=300), TODAY + timedelta(days=3))
    late = _policy("late", TODAY - timedelta(days=300), TODAY + timedelta(days=40))
    due = renewal_due([early, late], TODAY, (60, 30, 7))
    assert due is not None and due.policy_number == "late" and due.warn_at == 60
    lapsed = _policy("old", TODAY - timedelta(days=400), TODAY - timedelta(days=1))
    assert renewal_due([lapsed], TODAY, (60, 30, 7)) is None
