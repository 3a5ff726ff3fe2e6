"""Prometheus metrics (prometheus-client) for the daemon, in its own registry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from shopguard.monitoring.interface import ProbeResult, Status

if TYPE_CHECKING:
    from shopguard.monitoring.engine import Daemon, Monitored

_UP = {"up": 1.0, "down": 0.0}


class Metrics:
    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.registry = CollectorRegistry()
        labels = ["store", "monitor", "kind"]
        self.up = Gauge(
            "shopguard_monitor_up",
            "1 when the monitor is up, 0 when down (confirmed state)",
            labels,
            registry=self.registry,
        )
        self.status = Gauge(
            "shopguard_monitor_last_result",
            "Last probe result: 1 up, 0 down, -1 skipped or config error",
            labels,
            registry=self.registry,
        )
        self.latency = Gauge(
            "shopguard_monitor_latency_seconds",
            "Latency of the last successful check",
            labels,
            registry=self.registry,
        )
        self.checks = Counter("shopguard_checks", "Checks run, by result", ["result"], registry=self.registry)
        self.lateness = Histogram(
            "shopguard_scheduler_lateness_seconds",
            "How late checks start compared with their schedule",
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5),
            registry=self.registry,
        )
        self.buffer = Gauge(
            "shopguard_db_buffered_rows", "Rows waiting to be written to the database", registry=self.registry
        )
        self.buffer.set_function(lambda: float(daemon.writer.pending) if daemon.writer else 0.0)
        self.db_failures = Gauge(
            "shopguard_db_write_failures", "Failed database flushes since start", registry=self.registry
        )
        self.db_failures.set_function(lambda: float(daemon.writer.failures) if daemon.writer else 0.0)
        self._children: dict[str, tuple[Any, Any, Any]] = {}

    def observe(self, m: Monitored, result: ProbeResult) -> None:
        ch = self._children.get(m.key)
        if ch is None:
            lv = (m.store.name, m.spec.name, m.spec.kind)
            ch = (self.up.labels(*lv), self.status.labels(*lv), self.latency.labels(*lv))
            self._children[m.key] = ch
        up, status, lat = ch
        conf = _UP.get(m.state.status)
        if conf is not None:
            up.set(conf)
        status.set(1.0 if result.status is Status.UP else 0.0 if result.status is Status.DOWN else -1.0)
        if result.latency_ms is not None and result.status is Status.UP:
            lat.set(result.latency_ms / 1000.0)
        self.checks.labels(result.status.value).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
