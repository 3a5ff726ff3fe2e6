"""Where the response protocol meets the insurance register.

The insurer's notification window comes from the insurance register (through the
public ``shopguard.insurance.insurer_notifications``) when a policy is in force;
otherwise from ``[response] insurer_notification_window_hours``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from shopguard.config import Config
from shopguard.db.base import utcnow
from shopguard.insurance import insurer_notifications


def insurer_window_hours(
    config: Config, store: str, session: Session | None = None, at: datetime | None = None
) -> tuple[int | None, str]:
    """The insurer's notification window and where it came from.

    The shortest window of the policies in force at ``at`` wins: missing the
    strictest insurer's deadline can void that cover.
    """
    if session is not None:
        try:
            windows = [
                n.window_hours for n in insurer_notifications(session, at or utcnow()) if n.window_hours
            ]
        except Exception as exc:  # the register failing must not hide the setting
            return config.response.insurer_notification_window_hours, (
                f"insurance register unavailable ({type(exc).__name__}); shopguard.toml setting used"
            )
        if windows:
            return int(min(windows)), "insurance register"
    return (
        config.response.insurer_notification_window_hours,
        "shopguard.toml [response] insurer_notification_window_hours",
    )
