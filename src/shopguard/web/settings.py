"""Dashboard settings (all with safe defaults)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class WebSettings:
    cookie_secure: Literal["auto", "always", "never"] = "auto"
    """auto: the Secure flag is set when the request came over HTTPS."""
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    max_failed_logins: int = 5
    """Consecutive failures before the account is locked."""
    lockout_minutes: int = 15
    ip_attempts_per_window: int = 20
    ip_window_seconds: int = 300
    require_totp_for_admins: bool = False
    """When true, owners and admins cannot use the dashboard until TOTP is enrolled."""
    request_threads: int = 4
    """Page handlers running at once per server process. Handlers hold Python's interpreter
    lock while they render; with dozens of them in flight every request is slowed by all the
    others and the slowest wait seconds. A few threads and a queue keep latency even."""
