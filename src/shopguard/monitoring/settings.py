"""``[stores.monitors]`` in shopguard.toml: which monitors run, how alerts behave.

Only pydantic and the standard library are imported here (config.py imports this
module). Every model forbids unknown keys like the rest of the config. Monitors
are a discriminated union on ``kind``; when ``use_defaults`` is true (the
default) monitors derived from the store (storefront, checkout, TLS, databases,
host resources) are added to the ones listed.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Seconds = Annotated[float, Field(gt=0, le=366 * 86400)]
SEVERITIES = ("info", "low", "medium", "high", "critical")
Sev = Literal["info", "low", "medium", "high", "critical"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Secret(_Model):
    """Same shape as config.SecretRef (env, file or value); kept here so this module
    does not import config.py (which imports us)."""

    env: str | None = None
    file: str | None = None
    value: str | None = Field(default=None, repr=False)

    @model_validator(mode="after")
    def _exactly_one(self) -> Secret:
        given = [n for n in ("env", "file", "value") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of env, file or value")
        return self


class _Monitor(_Model):
    name: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]
    interval_s: Seconds = 60.0
    timeout_s: Seconds = 10.0
    severity: Sev = "high"
    """Severity of the alert when this monitor goes down (routes to channels)."""
    confirm: Annotated[int, Field(ge=1, le=100)] | None = None
    """Failures in a row before it counts as down (default: the store's alerting.confirm)."""
    depends_on: tuple[str, ...] = ()
    """Names of monitors this one depends on: while one of them is down this
    monitor's alerts are suppressed (host down: do not page for each site)."""
    channels: tuple[str, ...] = ()
    """Restrict alerts to these channel names (default: every channel whose
    min_severity the alert reaches)."""
    enabled: bool = True


class HttpMonitor(_Monitor):
    kind: Literal["http"] = "http"
    url: str
    method: Literal["GET", "HEAD", "POST"] = "GET"
    expect_status: tuple[int, ...] = (200,)
    """Accepted status codes; empty accepts any 2xx/3xx."""
    max_latency_ms: Annotated[float, Field(gt=0)] | None = None
    keyword: str | None = None
    """Text that must appear in the body."""
    absent_keyword: str | None = None
    """Text that must NOT appear in the body (e.g. "Fatal error", "maintenance")."""
    watch_content: bool = False
    """Alert when the body's hash changes (for static pages: any byte counts)."""
    watch_scripts: bool = False
    """Alert when the page's script, iframe or form targets change (external script and
    iframe URLs without their query strings, form actions, the number of inline
    scripts): how a card skimmer shows up, without alerts for per-visit tokens."""
    follow_redirects: bool = False
    verify_tls: bool = True
    max_body_bytes: Annotated[int, Field(ge=0)] = 1_000_000

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return v


class JourneyMonitor(_Monitor):
    """Home page, a product page, add to basket, basket page: each must answer."""

    kind: Literal["journey"] = "journey"
    home_url: str
    product_url: str | None = None
    add_to_basket_url: str | None = None
    """POSTed (form ``add_to_basket_data``) with the session's cookies."""
    add_to_basket_data: dict[str, str] = {}
    form_token_field: str | None = None
    """Hidden form field carrying a per-session token (CSRF nonce, Magento ``form_key``):
    read from the product page and sent with the add-to-basket POST."""
    basket_url: str | None = None
    basket_keyword: str | None = None
    """Text the basket page must show after adding (e.g. the product name)."""
    interval_s: Seconds = 300.0
    timeout_s: Seconds = 30.0
    verify_tls: bool = True


class TlsMonitor(_Monitor):
    kind: Literal["tls"] = "tls"
    host: str
    port: Annotated[int, Field(ge=1, le=65535)] = 443
    server_name: str | None = None
    warn_days: Annotated[int, Field(ge=0)] = 21
    interval_s: Seconds = 3600.0
    verify: bool = True


class DomainMonitor(_Monitor):
    kind: Literal["domain"] = "domain"
    domain: str
    warn_days: Annotated[int, Field(ge=0)] = 30
    rdap_base: str = "https://rdap.org/"
    interval_s: Seconds = 86400.0
    severity: Sev = "medium"


class TcpMonitor(_Monitor):
    kind: Literal["tcp"] = "tcp"
    host: str
    port: Annotated[int, Field(ge=1, le=65535)]
    timeout_s: Seconds = 5.0


class DnsMonitor(_Monitor):
    kind: Literal["dns"] = "dns"
    record: str
    type: Literal["A", "AAAA", "CNAME", "MX", "TXT", "NS", "CAA"] = "A"
    expect: tuple[str, ...] = ()
    """Answers that must be present (empty: any answer)."""
    nameserver: str | None = None
    """IP of the resolver to ask (default: the system's)."""
    nameserver_port: Annotated[int, Field(ge=1, le=65535)] = 53
    timeout_s: Seconds = 5.0


class DatabaseMonitor(_Monitor):
    kind: Literal["mysql", "postgres"]
    dsn: str
    """mysql://user@host:port/db or postgresql://user@host:port/db (no password)."""
    password: Secret | None = None
    query: str = "SELECT 1"
    max_replication_lag_s: Annotated[float, Field(ge=0)] | None = None
    """Check replica lag (MySQL SHOW REPLICA STATUS / PostgreSQL replay delay)."""
    timeout_s: Seconds = 5.0


class RedisMonitor(_Monitor):
    kind: Literal["redis"] = "redis"
    url: str = "redis://127.0.0.1:6379/0"
    password: Secret | None = None
    timeout_s: Seconds = 5.0


class HostMonitor(_Monitor):
    """Resources of the machine the daemon runs on (psutil)."""

    kind: Literal["host"] = "host"
    max_cpu_percent: Annotated[float, Field(gt=0, le=100)] = 95.0
    max_load_per_cpu: Annotated[float, Field(gt=0)] = 4.0
    max_memory_percent: Annotated[float, Field(gt=0, le=100)] = 95.0
    max_swap_percent: Annotated[float, Field(gt=0, le=100)] = 80.0
    max_disk_percent: Annotated[float, Field(gt=0, le=100)] = 90.0
    max_inode_percent: Annotated[float, Field(gt=0, le=100)] = 90.0
    mounts: tuple[str, ...] = ()
    """Mount points to watch (default: every real local filesystem)."""
    processes: tuple[str, ...] = ()
    """Process names that must be running (e.g. nginx, php-fpm8.2, mariadbd)."""
    severity: Sev = "high"


class HeartbeatMonitor(_Monitor):
    """A push URL a cron job calls; no beat within period + grace = down."""

    kind: Literal["heartbeat"] = "heartbeat"
    period_s: Seconds = 86400.0
    grace_s: Annotated[float, Field(ge=0)] = 3600.0
    token: Secret | None = None
    """Required as ``?token=`` on the push URL when set."""
    interval_s: Seconds = 30.0


class AuditMonitor(_Monitor):
    """Scheduled security work through the same runner as ``shopguard audit``."""

    kind: Literal["audit"] = "audit"
    selectors: tuple[str, ...]
    """Check selectors, e.g. ``["scanning.files"]`` or ``["maintenance"]``."""
    interval_s: Seconds = 86400.0
    timeout_s: Seconds = 3600.0
    alert_on: Sev = "high"
    """Open findings at or above this severity make the monitor 'down'."""
    severity: Sev = "high"


Monitor = Annotated[
    HttpMonitor
    | JourneyMonitor
    | TlsMonitor
    | DomainMonitor
    | TcpMonitor
    | DnsMonitor
    | DatabaseMonitor
    | RedisMonitor
    | HostMonitor
    | HeartbeatMonitor
    | AuditMonitor,
    Field(discriminator="kind"),
]


class MaintenanceWindow(_Model):
    """One-off (``start``/``end``) or recurring (``weekdays`` + ``at`` + ``minutes``)."""

    start: datetime | None = None
    end: datetime | None = None
    weekdays: tuple[Annotated[int, Field(ge=0, le=6)], ...] = ()
    """0 = Monday ... 6 = Sunday (empty with ``at``: every day)."""
    at: time | None = None
    minutes: Annotated[int, Field(ge=1, le=7 * 1440)] | None = None
    timezone: str = "UTC"
    monitors: tuple[str, ...] = ()
    """Only these monitors (default: all of the store's)."""
    reason: str = ""

    @model_validator(mode="after")
    def _shape(self) -> MaintenanceWindow:
        oneoff = self.start is not None or self.end is not None
        recurring = self.at is not None or self.minutes is not None or bool(self.weekdays)
        if oneoff == recurring:
            raise ValueError("give either start+end (one-off) or at+minutes[+weekdays] (recurring)")
        if oneoff:
            if self.start is None or self.end is None:
                raise ValueError("a one-off window needs both start and end")
            if self.start.tzinfo is None or self.end.tzinfo is None:
                raise ValueError("start and end need a timezone offset, e.g. 2026-12-01T02:00:00+00:00")
            if self.end <= self.start:
                raise ValueError("end must be after start")
        elif self.at is None or self.minutes is None:
            raise ValueError("a recurring window needs at (HH:MM) and minutes")
        return self


class Alerting(_Model):
    confirm: Annotated[int, Field(ge=1, le=100)] = 3
    """Failures in a row before a monitor is down (and successes before it is up again)."""
    recovery_confirm: Annotated[int, Field(ge=1, le=100)] = 1
    reminder_s: Annotated[float, Field(ge=0)] = 3600.0
    """Re-send the alert this often while still down (0: never)."""
    flap_changes: Annotated[int, Field(ge=2, le=100)] = 4
    """This many state changes within ``flap_window_s`` = flapping: one notice,
    then silence until it has been stable for a whole window."""
    flap_window_s: Seconds = 900.0
    send_recovery: bool = True


class MonitoringSettings(_Model):
    enabled: bool = True
    use_defaults: bool = True
    """Add monitors derived from the store (storefront, checkout, TLS, databases, host)."""
    monitors: tuple[Monitor, ...] = ()
    alerting: Alerting = Alerting()
    maintenance: tuple[MaintenanceWindow, ...] = ()
    raw_retention_days: Annotated[float, Field(gt=0, le=3650)] = 7.0
    """Raw results are kept this long, then downsampled to hourly summaries."""
    rollup_retention_days: Annotated[float, Field(gt=0, le=3650)] = 400.0

    @model_validator(mode="after")
    def _unique(self) -> MonitoringSettings:
        names = [m.name for m in self.monitors]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"monitor names must be unique; repeated: {', '.join(dupes)}")
        return self
