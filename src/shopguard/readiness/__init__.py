"""The litmus test: one status per protocol, computed from the run's own data."""

from shopguard.readiness.litmus import LitmusRow, ReadinessStatus, litmus

__all__ = ["LitmusRow", "ReadinessStatus", "litmus"]
