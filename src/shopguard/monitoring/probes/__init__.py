"""One module per monitor kind; :func:`probe_for` maps a monitor to its probe."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from shopguard.monitoring.interface import ProbeContext, ProbeResult

Probe = Callable[[Any, str, ProbeContext], Awaitable[ProbeResult]]


def probe_for(kind: str) -> Probe:
    from shopguard.monitoring.probes import (
        audit_hook,
        databases,
        dns,
        domain,
        heartbeat,
        host,
        http,
        journey,
        redis_ping,
        tcp,
        tls,
    )

    table: dict[str, Probe] = {
        "http": http.probe,
        "journey": journey.probe,
        "tls": tls.probe,
        "domain": domain.probe,
        "tcp": tcp.probe,
        "dns": dns.probe,
        "mysql": databases.probe,
        "postgres": databases.probe,
        "redis": redis_ping.probe,
        "host": host.probe,
        "heartbeat": heartbeat.probe,
        "audit": audit_hook.probe,
    }
    return table[kind]
