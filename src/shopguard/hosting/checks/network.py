"""Network: what listens on which address, and whether a firewall denies by default."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

from shopguard.checks import CheckContext, register_check
from shopguard.findings import Finding, Severity
from shopguard.hosting.base import CouldNotCheck, HostCheck
from shopguard.hosting.facts import Facts
from shopguard.hosting.transport.interface import CommandMissing

SENSITIVE_PORTS: dict[int, tuple[str, Severity]] = {
    3306: ("MySQL/MariaDB", Severity.HIGH),
    33060: ("MySQL X protocol", Severity.HIGH),
    5432: ("PostgreSQL", Severity.HIGH),
    6379: ("Redis", Severity.HIGH),
    11211: ("Memcached", Severity.HIGH),
    9200: ("Elasticsearch/OpenSearch", Severity.HIGH),
    9300: ("Elasticsearch/OpenSearch cluster", Severity.HIGH),
    5672: ("RabbitMQ (AMQP)", Severity.HIGH),
    15672: ("RabbitMQ management", Severity.HIGH),
    25672: ("RabbitMQ cluster", Severity.HIGH),
    4369: ("Erlang port mapper (RabbitMQ)", Severity.HIGH),
    27017: ("MongoDB", Severity.HIGH),
    5984: ("CouchDB", Severity.HIGH),
    8983: ("Solr", Severity.HIGH),
    9000: ("PHP-FPM (FastCGI)", Severity.CRITICAL),
    2375: ("Docker API without TLS", Severity.CRITICAL),
    10000: ("Webmin", Severity.HIGH),
    2083: ("cPanel", Severity.MEDIUM),
    8443: ("Plesk/admin panel", Severity.MEDIUM),
}
"""Ports of databases, caches, queues and admin services: never on a public address."""


@dataclass(frozen=True)
class Listener:
    proto: str
    address: str
    port: int
    process: str

    @property
    def loopback(self) -> bool:
        addr = self.address.strip("[]").split("%", 1)[0]
        if addr in ("localhost",):
            return True
        try:
            return ipaddress.ip_address(addr).is_loopback
        except ValueError:
            return False


_PROC = re.compile(r'users:\(\("([^"]+)"')


def parse_ss(text: str) -> list[Listener]:
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 5:
            continue
        local = parts[4]
        addr, _, port = local.rpartition(":")
        if not port.isdigit():
            continue
        m = _PROC.search(line)
        out.append(Listener(parts[0], addr, int(port), m.group(1) if m else ""))
    return out


async def listeners(facts: Facts) -> list[Listener]:
    async def read() -> list[Listener]:
        res = await facts.run(["ss", "-Htulnp"])
        if not res.ok:
            raise CouldNotCheck(
                f"could not list listening sockets because ss failed: {res.stderr.strip()[:200]}"
            )
        return parse_ss(res.stdout)

    return await facts.memo("ss", read)


@register_check
class ListeningServices(HostCheck):
    id = "hosting.network.listening"
    title = "Databases, caches and admin services listen on loopback only"
    subject = "listening sockets (ss)"

    async def inspect(self, ctx: CheckContext, facts: Facts) -> AsyncIterator[Finding]:
        public: list[str] = []
        seen: set[tuple[int, str]] = set()
        for lst in await listeners(facts):
            if lst.loopback:
                continue
            public.append(f"{lst.proto} {lst.address}:{lst.port} {lst.process}".strip())
            svc = SENSITIVE_PORTS.get(lst.port)
            if svc is None or (lst.port, lst.address) in seen:
                continue
            seen.add((lst.port, lst.address))
            name, sev = svc
            yield self.finding(
                "exposed",
                sev,
                f"{name} listens on a public address ({lst.address}:{lst.port})",
                f"{lst.address}:{lst.port}",
                detail="Databases, caches and admin services must only be reachable from the machine itself "
                "(or a private network). Exposed, they are brute-forced or read without any password.",
                remediation=f"Bind {name} to 127.0.0.1 in its config (e.g. bind-address = 127.0.0.1 / "
                f"listen_addresses = 'localhost' / bind 127.0.0.1), or block port {lst.port} in the "
                "firewall.",
                evidence={
                    "proto": lst.proto,
                    "address": lst.address,
                    "port": lst.port,
                    "process": lst.process,
                },
                pci=("1.3.1", "1.4.1", "2.2.4"),
                cis=("3.5",),
                key=f"{lst.proto}:{lst.address}:{lst.port}",
            )
        if public:
            yield self.finding(
                "public",
                Severity.INFO,
                f"{len(public)} service(s) listen on non-loopback addresses",
                "listening sockets",
                detail="Everything here can be reached from the network unless a firewall blocks it; "
                "only the web server (80/443) and SSH usually need to be.",
                remediation="Stop or rebind any service that does not need to be reachable.",
                evidence={"listeners": sorted(public)[:50]},
                pci=("1.2.5",),
                key="inventory",
            )


def nft_default_deny(ruleset: str) -> bool | None:
    """True when an input-hook chain has ``policy drop``; None when no input chain."""
    found = None
    for m in re.finditer(r"type filter hook input[^;]*;[^}]*?policy (\w+)", ruleset):
        found = True if m.group(1) == "drop" else bool(found)
    return found


def iptables_default_deny(rules: str) -> bool | None:
    m = re.search(r"^-P INPUT (\w+)", rules, re.M)
    return None if m is None else m.group(1) in ("DROP", "REJECT")


def ufw_default_deny(status: str) -> bool | None:
    if "Status: active" not in status:
        return False if "Status: inactive" in status else None
    return bool(re.search(r"Default: (deny|reject) \(incoming\)", status))


@register_check
class Firewall(HostCheck):
    id = "hosting.firewall"
    title = "A firewall blocks inbound traffic by default"
    subject = "the firewall"

    async def inspect(self, ctx: CheckContext, facts: Facts) -> AsyncIterator[Finding]:
        tried: dict[str, str] = {}
        verdict: bool | None = None
        for argv, judge in (
            (["ufw", "status", "verbose"], ufw_default_deny),
            (["nft", "list", "ruleset"], nft_default_deny),
            (["iptables", "-S"], iptables_default_deny),
        ):
            try:
                res = await facts.run(argv)
            except CommandMissing:
                tried[argv[0]] = "not installed"
                continue
            if not res.ok:
                raise CouldNotCheck(
                    f"could not check {self.subject} because `{res.command}` failed: "
                    f"{res.stderr.strip()[:200]}"
                )
            v = judge(res.stdout)
            tried[argv[0]] = {True: "default deny", False: "default accept", None: "no input policy"}[v]
            if v:
                return
            verdict = v if verdict is None else verdict
        try:
            res = await facts.run(["firewall-cmd", "--state"])
            tried["firewall-cmd"] = res.stdout.strip() or res.stderr.strip()[:100]
            if res.stdout.strip() == "running":
                return  # firewalld zones reject unsolicited inbound traffic by default
        except CommandMissing:
            tried["firewall-cmd"] = "not installed"
        yield self.finding(
            "no-default-deny",
            Severity.MEDIUM,
            "No host firewall denies inbound traffic by default",
            "firewall",
            detail="With a default-deny firewall, a service that starts listening by mistake (a database, "
            "a debug port) stays unreachable. If your provider filters traffic in front of the server, "
            "record that; ShopGuard cannot see it from inside.",
            remediation="apt-get install ufw && ufw default deny incoming && ufw allow OpenSSH && "
            "ufw allow 'Nginx Full' && ufw enable",
            evidence={"tools": tried},
            pci=("1.3.1", "1.4.2"),
            cis=("3.5.1",),
        )
