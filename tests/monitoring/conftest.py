"""Fixtures for the monitoring tests (helpers live in sgmon_support.py)."""

from sgmon_support import db, smtp, target, webhook

__all__ = ["db", "smtp", "target", "webhook"]
