"""Isolation: signs that the shop shares its server with unrelated sites.

The seed's rule: a store that takes cards lives on a dedicated, properly configured
instance. On shared hosting a hole in any neighbour's site (or a neighbour's
malicious code) can reach the shop's files, sessions and database credentials.
"""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from shopguard.checks import CheckContext, register_check
from shopguard.findings import Finding, Severity
from shopguard.hosting.base import CouldNotCheck, HostCheck
from shopguard.hosting.facts import Facts
from shopguard.hosting.transport.interface import TransportError

THRESHOLD = 3


def base_domain(name: str) -> str:
    parts = name.lower().strip(".").split(".")
    return ".".join(parts[-2:])


def _is_name(name: str) -> bool:
    if name in ("_", "localhost", "") or name.startswith("~") or ("*" in name and name.count(".") < 2):
        return False
    try:
        ipaddress.ip_address(name.strip("[]"))
        return False
    except ValueError:
        return "." in name


@register_check
class Isolation(HostCheck):
    id = "hosting.isolation"
    title = "The shop has the server to itself"
    subject = "signs of shared hosting"

    async def inspect(self, ctx: CheckContext, facts: Facts) -> AsyncIterator[Finding]:
        own = base_domain(urlsplit(str(ctx.store.storefront_url)).hostname or "")
        reasons: list[str] = []
        evidence: dict[str, object] = {}
        try:
            from shopguard.hosting.checks.nginx import nginx_conf

            conf = await nginx_conf(facts)
            names = {
                base_domain(a)
                for s in conf.servers
                for d in s.children("server_name")
                for a in d.args
                if _is_name(a)
            } - {own}
            if len(names) >= THRESHOLD:
                reasons.append(f"nginx serves {len(names)} other domains")
                evidence["other_domains"] = sorted(names)[:20]
        except (CouldNotCheck, TransportError):
            pass
        try:
            from shopguard.hosting.checks.php import fpm_pools

            _, pools, _ = await fpm_pools(facts)
            users = {p.values.get("user", "") for p in pools}
            if len(users) >= THRESHOLD:
                reasons.append(f"{len(pools)} PHP-FPM pools run as {len(users)} different users")
                evidence["fpm_users"] = sorted(users)[:20]
        except (CouldNotCheck, TransportError):
            pass
        homes = [
            a.home
            for a in await facts.accounts()
            if a.uid >= 1000 and a.uid != 65534 and a.home.startswith("/home/")
        ]
        stats = await facts.transport.stat_many([f"{h}/public_html" for h in homes])
        sites = [h for h in homes if stats[f"{h}/public_html"] is not None]
        if len(sites) >= THRESHOLD:
            reasons.append(f"{len(sites)} accounts have their own public_html (a hosting panel layout)")
            evidence["public_html_homes"] = sites[:20]
        humans = [a.name for a in await facts.accounts() if a.uid >= 1000 and a.uid != 65534 and a.can_login]
        if len(humans) >= 10:
            reasons.append(f"{len(humans)} login accounts")
            evidence["login_accounts"] = len(humans)
        if reasons:
            yield self.finding(
                "shared",
                Severity.MEDIUM,
                "This server looks shared with other sites: " + "; ".join(reasons),
                "this server",
                detail="A store that takes card payments should live on a dedicated, properly configured "
                "server. On a shared one, a hole in any neighbour's site, or a neighbour's own code, can "
                "reach "
                "the shop's files, sessions and database passwords, and you cannot harden what you do not "
                "control.",
                remediation="Move the shop to a dedicated VPS or managed instance (or at least a separate "
                "PHP-FPM "
                "pool user and open_basedir per site, with no shared writable folders).",
                evidence=evidence | {"reasons": reasons},
                pci=("2.2.3", "12.8.1"),
                key="shared",
            )
