"""What a probe returns, and the context probes share."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import httpx


class Status(StrEnum):
    UP = "up"
    DOWN = "down"
    SKIPPED = "skipped"
    """Could not be checked for a reason outside the target (e.g. RDAP unreachable)."""
    CONFIG_ERROR = "config_error"
    """The monitor's own configuration is wrong; the others still run."""


@dataclass(frozen=True)
class ProbeResult:
    status: Status
    message: str = ""
    """Plain words: the cause when down, a summary when up."""
    latency_ms: float | None = None
    data: dict[str, Any] = field(default_factory=dict)
    """Small extra facts (days_left, content hash, metrics). Never secrets."""

    @property
    def ok(self) -> bool:
        return self.status is Status.UP


class ConfigProblem(Exception):
    """Raised by a probe when its own settings are unusable."""


@dataclass
class ProbeContext:
    """Shared resources for probes, created once by the daemon."""

    http: httpx.AsyncClient
    http_insecure: httpx.AsyncClient
    blocking: concurrent.futures.ThreadPoolExecutor
    """For blocking client libraries (PyMySQL, psutil): never the loop's default pool,
    so a hung database cannot starve the result writer."""
    last_beat: Callable[[str], float | None]
    """monitor key -> wall time of the last heartbeat (None: never)."""
    started_wall: float
    wall: Callable[[], float]
    allow_inline_secrets: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    """Values a probe keeps between runs (e.g. the last content hash), per monitor key."""
