"""The ``[cluster]`` section of shopguard.toml: Celery workers with PostgreSQL.

Without it ShopGuard runs everything in-process (the embedded default). Imports only
pydantic and the standard library so that config.py can use it.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

TASK_SCHEMA = 1
"""Version of the task payload this code writes and understands. A worker refuses
payloads with a newer version (see docs/cluster.md, rolling upgrades)."""

HEAVY_SELECTORS: tuple[str, ...] = ("scanning.files", "scanning.pages")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Secret(_Model):
    """Same shape as config.SecretRef (env, file or value); resolved by config.SecretRef."""

    env: str | None = None
    file: str | None = None
    value: str | None = Field(default=None, repr=False)


class ScheduleEntry(_Model):
    """Enqueue ``selectors`` for every store every ``every_minutes``."""

    selectors: tuple[str, ...] = ()
    """Protocols or check-id prefixes; empty means every check."""
    every_minutes: Annotated[float, Field(gt=0, le=60 * 24 * 31)] = 60 * 24
    kind: str = "audit"
    """``audit`` (one task per store and selector) or ``monitor`` (batched)."""

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        if v not in ("audit", "monitor"):
            raise ValueError("expected 'audit' or 'monitor'")
        return v


class ClusterSettings(_Model):
    broker_url: str
    """Celery broker: ``amqp://user@host:5672//`` (RabbitMQ) or ``redis://host:6379/0``.
    Put no password here: use ``broker_password``."""
    broker_password: _Secret | None = None
    result_backend: str = "redis://127.0.0.1:6379/1"
    result_backend_password: _Secret | None = None
    database_url: str
    """PostgreSQL URL for ShopGuard's records (``postgresql://shopguard@db/shopguard``)."""
    database_password: _Secret | None = None
    redis_url: str = "redis://127.0.0.1:6379/2"
    """Redis for the fleet-wide concurrency limits (per store and per host)."""
    redis_password: _Secret | None = None
    queue_prefix: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")] = "shopguard"
    """Queues are ``<prefix>.default``, ``<prefix>.heavy`` and ``<prefix>.monitor``."""
    heavy_selectors: tuple[str, ...] = HEAVY_SELECTORS
    per_store_concurrency: Annotated[int, Field(ge=1, le=1000)] = 2
    per_host_concurrency: Annotated[int, Field(ge=1, le=1000)] = 4
    lease_seconds: Annotated[float, Field(ge=1, le=3600)] = 60.0
    """A slot held by a worker that died is freed after this long (live workers renew it)."""
    slot_wait_seconds: Annotated[float, Field(ge=0, le=3600)] = 600.0
    """How long a task waits for a free slot before it is retried later."""
    max_attempts: Annotated[int, Field(ge=1, le=100)] = 3
    """Deliveries of one task before it is recorded as a check error (poison task)."""
    check_timeout: Annotated[float, Field(gt=0, le=24 * 3600)] = 120.0
    task_schema: Annotated[int, Field(ge=1)] = TASK_SCHEMA
    """Payload version publishers write; pin to the older version during a rolling upgrade."""
    refuse_retries: Annotated[int, Field(ge=0, le=1000)] = 3
    """How often a worker hands back a task of a newer schema before failing it."""
    publish_attempts: Annotated[int, Field(ge=1, le=100)] = 6
    """Tries to hand a task to the broker (with back-off: 0.5, 1, 2, 4 ... s) before failing."""
    monitor_batch_size: Annotated[int, Field(ge=1, le=100_000)] = 200
    batch_concurrency: Annotated[int, Field(ge=1, le=1000)] = 32
    """Stores of one monitor batch checked at once (in one asyncio loop)."""
    schedule: tuple[ScheduleEntry, ...] = ()
    metrics_port: Annotated[int, Field(ge=0, le=65535)] = 0
    """Port of the Prometheus exporter started with ``shopguard worker`` (0: off)."""

    @field_validator("broker_url", "result_backend", "redis_url", "database_url")
    @classmethod
    def _no_inline_password(cls, v: str) -> str:
        parts = urlsplit(v)
        if not parts.scheme:
            raise ValueError("expected a URL such as amqp://guest@127.0.0.1:5672//")
        if parts.password:
            raise ValueError('holds a password; move it to the matching *_password = {env = "VAR"}')
        return v

    @field_validator("task_schema")
    @classmethod
    def _schema_known(cls, v: int) -> int:
        if v > TASK_SCHEMA:
            raise ValueError(f"this ShopGuard writes task schema {TASK_SCHEMA} at most")
        return v

    def queue(self, name: str) -> str:
        return f"{self.queue_prefix}.{name}"

    @property
    def queues(self) -> tuple[str, str, str]:
        return (self.queue("default"), self.queue("heavy"), self.queue("monitor"))


def with_password(url: str, password: str | None) -> str:
    """``url`` with ``password`` put into its netloc (percent-encoded)."""
    if not password:
        return url
    parts = urlsplit(url)
    user = parts.username or ""
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
