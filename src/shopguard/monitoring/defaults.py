"""The monitors a store gets without configuring any: derived from its config."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal
from urllib.parse import urlsplit

from shopguard.checks import matches
from shopguard.config import Store
from shopguard.monitoring.settings import (
    AuditMonitor,
    DatabaseMonitor,
    HostMonitor,
    HttpMonitor,
    Monitor,
    Secret,
    TcpMonitor,
    TlsMonitor,
)

DAY = 86400.0

# Scheduled security work: (name, selector, interval, applies, why). Cadences follow
# PCI DSS v4.0.1 where it sets one; a job is only added when checks for its selector
# are installed (so a ShopGuard without, say, the file scanner adds no broken job).
SCHEDULED: tuple[tuple[str, str, float, str], ...] = (
    ("scan-files", "scanning.files", 7 * DAY, "web_roots"),  # 11.5.2: change detection at least weekly
    ("scan-pages", "scanning.pages", 7 * DAY, "checkout_url"),  # 11.6.1: payment page tamper check weekly
    ("scan-web", "scanning.web", 7 * DAY, ""),  # external view of the shop
    ("vulnerabilities", "maintenance", DAY, ""),  # 6.3.1: new vulnerabilities identified promptly
    ("hosting", "hosting", 7 * DAY, ""),
)


def default_audits(store: Store, known_checks: Sequence[str] | None = None) -> list[Monitor]:
    """Scheduled audits for the selectors that have registered checks."""
    if known_checks is None:
        from shopguard.checks import all_checks

        known_checks = [c.id for c in all_checks()]
    out: list[Monitor] = []
    for name, selector, interval, needs in SCHEDULED:
        if needs and not getattr(store, needs):
            continue
        if any(matches(cid, selector) for cid in known_checks):
            out.append(AuditMonitor(name=name, selectors=(selector,), interval_s=interval, severity="high"))
    return out


def default_monitors(store: Store, known_checks: Sequence[str] | None = None) -> list[Monitor]:
    """Storefront and checkout HTTP, TLS expiry when https, each database, the host,
    and scheduled security work.

    Explicitly configured monitors with the same name replace these."""
    out: list[Monitor] = []
    parent: tuple[str, ...] = ()
    if not store.is_local_host:
        ssh = urlsplit(store.host)
        out.append(
            TcpMonitor(
                name="host", host=ssh.hostname or "", port=ssh.port or 22, severity="critical", interval_s=30
            )
        )
        parent = ("host",)
    front = str(store.storefront_url)
    out.append(
        HttpMonitor(
            name="storefront", url=front, severity="critical", follow_redirects=True, depends_on=parent
        )
    )
    if store.checkout_url is not None:
        out.append(
            HttpMonitor(
                name="checkout",
                url=str(store.checkout_url),
                severity="critical",
                follow_redirects=True,
                watch_scripts=True,
                depends_on=parent,
            )
        )
    seen_tls: set[tuple[str, int]] = set()
    for url in (store.storefront_url, store.checkout_url):
        if url is None or url.scheme != "https" or not url.host:
            continue
        pair = (url.host, url.port or 443)
        if pair in seen_tls:
            continue
        seen_tls.add(pair)
        name = "tls" if not seen_tls - {pair} else f"tls-{url.host}"
        out.append(TlsMonitor(name=name, host=pair[0], port=pair[1], severity="high", depends_on=parent))
    for db in store.databases:
        scheme = urlsplit(db.dsn).scheme
        kind: Literal["mysql", "postgres"]
        if scheme.startswith("postgres"):
            kind = "postgres"
        elif scheme.startswith(("mysql", "mariadb")):
            kind = "mysql"
        else:
            continue
        pw = (
            Secret.model_validate(db.password.model_dump(exclude_none=True, mode="json"))
            if db.password
            else None
        )
        out.append(
            DatabaseMonitor(
                name=f"db-{db.name}",
                kind=kind,
                dsn=db.dsn,
                password=pw,
                severity="critical",
                depends_on=parent,
            )
        )
    if store.is_local_host:
        out.append(HostMonitor(name="host-resources", severity="high", interval_s=60))
    out.extend(default_audits(store, known_checks))
    return out


def monitors_for(store: Store) -> list[Monitor]:
    settings = store.monitors
    if not settings.enabled:
        return []
    mine = {m.name: m for m in settings.monitors}
    base = [m for m in default_monitors(store) if m.name not in mine] if settings.use_defaults else []
    return [m for m in [*base, *settings.monitors] if m.enabled]


def target_of(spec: Monitor) -> str:
    """What a monitor checks, for people (never a secret)."""
    kind = spec.kind
    if kind == "http":
        return spec.url  # type: ignore[union-attr]
    if kind == "journey":
        return spec.home_url  # type: ignore[union-attr]
    if kind in {"tls", "tcp"}:
        return f"{spec.host}:{spec.port}"  # type: ignore[union-attr]
    if kind == "domain":
        return spec.domain  # type: ignore[union-attr]
    if kind == "dns":
        return f"{spec.record} {spec.type}"  # type: ignore[union-attr]
    if kind in {"mysql", "postgres"}:
        p = urlsplit(spec.dsn)  # type: ignore[union-attr]
        return f"{kind}://{p.hostname}:{p.port or ''}{p.path}"
    if kind == "redis":
        p = urlsplit(spec.url)  # type: ignore[union-attr]
        return f"redis://{p.hostname}:{p.port or 6379}"
    if kind == "audit":
        return "audit: " + ", ".join(spec.selectors)  # type: ignore[union-attr]
    return kind
