"""Redis and Memcached: protected mode, bind address, authentication."""

from __future__ import annotations

from collections.abc import AsyncIterator

from shopguard.checks import CheckContext, register_check
from shopguard.findings import Finding, Severity
from shopguard.hosting.base import CouldNotCheck, HostCheck
from shopguard.hosting.checks.network import listeners
from shopguard.hosting.facts import Facts
from shopguard.hosting.transport.interface import FileMissing

LOOPBACK = ("127.", "::1", "localhost", "-::1")


async def redis_get(facts: Facts, host: str, port: str, name: str) -> tuple[str | None, str]:
    """(value, error) of ``CONFIG GET name``; never returns a secret's value."""
    res = await facts.run(["redis-cli", "-h", host, "-p", port, "CONFIG", "GET", name])
    out = res.stdout.strip().splitlines()
    if res.returncode != 0 or not out or out[0].startswith(("ERR", "NOAUTH", "Could not connect")):
        return None, (res.stdout + res.stderr).strip()[:200]
    return (out[1] if len(out) > 1 else ""), ""


@register_check
class Redis(HostCheck):
    id = "hosting.redis"
    title = "Redis requires a password and listens on loopback only"
    subject = "Redis"
    optional = True

    async def inspect(self, ctx: CheckContext, facts: Facts) -> AsyncIterator[Finding]:
        for target in facts.settings.redis:
            host, _, port = target.rpartition(":")
            pong = await facts.run(["redis-cli", "-h", host, "-p", port, "PING"])
            text = (pong.stdout + pong.stderr).strip()
            if "Could not connect" in text or "Connection refused" in text:
                yield self.finding(
                    "not-checked",
                    Severity.INFO,
                    f"No Redis answers at {target}",
                    target,
                    evidence={"reason": text[:200]},
                    key="absent",
                )
                continue
            if "NOAUTH" in text:
                continue  # a password is required: the main protection is on; CONFIG needs it
            if pong.stdout.strip() != "PONG":
                raise CouldNotCheck(f"could not check Redis at {target} because it answered {text[:200]!r}")
            requirepass, err = await redis_get(facts, host, port, "requirepass")
            if requirepass is None:
                raise CouldNotCheck(f"could not check Redis at {target} because CONFIG GET failed: {err}")
            bind, _ = await redis_get(facts, host, port, "bind")
            protected, _ = await redis_get(facts, host, port, "protected-mode")
            public = [b for b in (bind or "").split() if not b.startswith(LOOPBACK)]
            if requirepass == "":
                yield self.finding(
                    "no-password",
                    Severity.HIGH if public else Severity.MEDIUM,
                    f"Redis at {target} accepts commands without a password",
                    target,
                    detail="Any process on the server (or the network, if exposed) can read sessions and "
                    "cached "
                    "data, or use CONFIG to write files.",
                    remediation="Set `requirepass <long random>` (or ACL users) in /etc/redis/redis.conf, "
                    "put the "
                    "password in the shop's config, restart Redis.",
                    evidence={"bind": bind, "public_addresses": public},
                    pci=("8.3.1", "2.2.6"),
                    key=target,
                )
            if public:
                yield self.finding(
                    "bind",
                    Severity.HIGH,
                    f"Redis at {target} listens on {', '.join(public)}",
                    target,
                    remediation="Set `bind 127.0.0.1 -::1` in /etc/redis/redis.conf and restart Redis.",
                    evidence={"bind": bind},
                    pci=("1.3.1",),
                    key=target,
                )
            if protected == "no":
                yield self.finding(
                    "protected-mode",
                    Severity.MEDIUM,
                    f"Redis at {target} has protected mode off",
                    target,
                    remediation="Set `protected-mode yes` in /etc/redis/redis.conf.",
                    evidence={"protected-mode": protected},
                    pci=("2.2.6",),
                    key=target,
                )


@register_check
class Memcached(HostCheck):
    id = "hosting.memcached"
    title = "Memcached listens on loopback only"
    subject = "Memcached"
    optional = True

    async def inspect(self, ctx: CheckContext, facts: Facts) -> AsyncIterator[Finding]:
        path = facts.settings.memcached_conf
        try:
            text = await facts.transport.read_text(path)
        except FileMissing:
            text = None
        live = [x for x in await listeners(facts) if x.port == 11211]
        if text is None and not live:
            yield self.finding(
                "not-checked",
                Severity.INFO,
                "Memcached not checked: not installed",
                path,
                evidence={"config": path},
                key="missing",
            )
            return
        opts = [line.split("#", 1)[0].strip() for line in (text or "").splitlines()]
        listen = [o.split(None, 1)[1] for o in opts if o.startswith(("-l ", "--listen")) and " " in o]
        public = [x for x in live if not x.loopback]
        if public or (text is not None and not listen):
            yield self.finding(
                "bind",
                Severity.HIGH,
                "Memcached is reachable from the network (no -l 127.0.0.1)",
                path,
                detail="Memcached has no password: anyone who reaches it reads and changes cached data, "
                "and an "
                "open UDP port is abused for DDoS amplification.",
                remediation=f"In {path}: `-l 127.0.0.1` and `-U 0`, then restart memcached.",
                evidence={
                    "listen_options": listen,
                    "public_listeners": [f"{x.address}:{x.port}" for x in public],
                },
                pci=("1.3.1", "2.2.6"),
                key="bind",
            )
