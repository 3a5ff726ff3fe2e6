"""``monitoring.status``: what the monitoring daemon last saw, as audit findings.

Reads only the monitoring tables (written by ``shopguard monitor``). When nothing
has run recently the finding says so: a store nobody watches is a gap in the
"security scans and monitoring" protocol, not a pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shopguard.checks import CheckContext, RecordsCheck, register_check
from shopguard.db.base import utcnow
from shopguard.findings import Finding, Refs, Severity
from shopguard.monitoring.models import MonitorDaemonRecord, MonitorStateRecord

STALE_AFTER = timedelta(minutes=15)
"""No daemon heartbeat and no check result for this long = monitoring not running."""

_FIX_RUN = (
    "Run the monitoring daemon: `shopguard monitor` (foreground) or install it as a service with "
    "`shopguard monitor --install-service /etc/systemd/system/shopguard-monitor.service` and "
    "`systemctl enable --now shopguard-monitor`."
)


def _read(
    db: sessionmaker[Session], store: str
) -> tuple[list[MonitorStateRecord], list[MonitorDaemonRecord]]:
    with db() as s:
        states = list(s.scalars(select(MonitorStateRecord).where(MonitorStateRecord.store == store)))
        daemons = list(s.scalars(select(MonitorDaemonRecord)))
    return states, daemons


@register_check
class MonitoringStatus(RecordsCheck):
    id = "monitoring.status"
    title = "Uptime and health monitoring is running and everything it watches is up"

    def evaluate(self, ctx: CheckContext) -> list[Finding]:
        db = self.records(ctx)
        store = ctx.store
        if not store.monitors.enabled:
            return [
                Finding(
                    check_id=f"{self.id}.disabled",
                    severity=Severity.HIGH,
                    title="Monitoring is turned off for this store",
                    location=str(store.storefront_url),
                    detail="Nobody is told when the shop, checkout, certificate or server fails.",
                    remediation=(
                        "Remove `enabled = false` under [stores.monitors] and run `shopguard monitor`."
                    ),
                    refs=Refs(pci=("10.7.2", "11.5.2")),
                )
            ]
        states, daemons = _read(db, store.name)
        found = list(self._findings(store.name, str(store.storefront_url), states, daemons))
        if not ctx.config.alerts:
            found.append(
                Finding(
                    check_id=f"{self.id}.no-alert-channel",
                    severity=Severity.MEDIUM,
                    title="Monitoring alerts reach nobody: no alert channel is configured",
                    location=str(store.storefront_url),
                    detail="Outages are recorded, but no e-mail, chat or pager message is sent.",
                    remediation=(
                        'Add an [[alerts]] channel (e.g. name = "owner-mail", '
                        'url = { env = "SHOPGUARD_MAIL_URL" }) '
                        "and test it with `shopguard alerts test owner-mail`."
                    ),
                    refs=Refs(pci=("10.7.2",)),
                )
            )
        return found

    def _findings(
        self, store: str, where: str, states: list[MonitorStateRecord], daemons: list[MonitorDaemonRecord]
    ) -> Iterable[Finding]:
        now = utcnow()
        daemon_fresh = any(
            now - d.last_seen <= STALE_AFTER and (not d.stores or store in d.stores.split(","))
            for d in daemons
        )
        checked = [s.last_check_at for s in states if s.last_check_at is not None]
        results_fresh = bool(checked) and now - max(checked) <= STALE_AFTER
        if not (daemon_fresh or results_fresh):
            last = max(checked).strftime("%Y-%m-%d %H:%M UTC") if checked else "never"
            yield Finding(
                check_id=f"{self.id}.not-running",
                severity=Severity.HIGH,
                title="No uptime monitoring is running for this store",
                location=where,
                detail=(
                    "ShopGuard has no recent monitoring results for this store (last check: "
                    f"{last}). Outages, expiring certificates and missed backups go unnoticed."
                ),
                remediation=_FIX_RUN,
                evidence={"last_check": last, "monitors_known": len(states)},
                refs=Refs(pci=("10.7.2", "11.5.2")),
            )
        for s in states:
            fid, sev, title, fix = self._describe(s)
            if fid is None:
                continue
            since = s.since.strftime("%Y-%m-%d %H:%M UTC") if s.since else "unknown"
            yield Finding(
                check_id=f"{self.id}.{fid}",
                severity=sev,
                title=title,
                location=s.target or s.key,
                detail=f"{s.last_message} (since {since}).",
                remediation=fix,
                evidence={"monitor": s.name, "kind": s.kind, "state": s.status, "since": since},
                key=s.name,
            )

    def _describe(self, s: MonitorStateRecord) -> tuple[str | None, Severity, str, str]:
        sev = Severity.parse(s.severity or "high")
        if s.status == "config_error":
            return (
                "config-error",
                Severity.MEDIUM,
                f"Monitor {s.name} cannot run: its configuration is wrong",
                "Fix the monitor's settings under [stores.monitors] in shopguard.toml "
                "(the detail says what).",
            )
        if s.status != "down":
            return None, sev, "", ""
        if s.kind == "tls":
            return (
                "tls-expiry",
                max(sev, Severity.HIGH),
                f"TLS certificate problem on {s.target}",
                "Renew or fix the certificate (e.g. `certbot renew`), then check auto-renewal is scheduled.",
            )
        if s.kind == "domain":
            return (
                "domain-expiry",
                sev,
                f"Domain registration of {s.target} expires soon",
                "Renew the domain with your registrar and turn on auto-renew.",
            )
        if s.kind == "heartbeat":
            return (
                "heartbeat-missing",
                sev,
                f"Scheduled job {s.name} has not reported in",
                "Check the cron job (e.g. the backup) ran and that it calls its heartbeat URL at the end.",
            )
        if s.kind == "audit":
            return (
                "scheduled-scan",
                sev,
                f"Scheduled security work {s.name} found problems",
                "Run `shopguard audit` to see the findings and their fixes.",
            )
        if s.kind == "host":
            return (
                "host-resources",
                sev,
                "The server is short of resources or a key process is missing",
                "Free disk space / memory or restart the missing service; see the detail.",
            )
        return (
            "down",
            sev,
            f"Monitor {s.name} is down: {s.target}",
            "Check the service named in the detail; `shopguard monitor --status` shows uptime and history.",
        )
