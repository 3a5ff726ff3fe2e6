"""DNS record: the name resolves and (optionally) gives the expected answers."""

from __future__ import annotations

import time

import dns.asyncresolver
import dns.exception
import dns.resolver

from shopguard.monitoring.interface import ProbeContext, ProbeResult, Status
from shopguard.monitoring.settings import DnsMonitor


def _norm(text: str) -> str:
    return text.strip().strip('"').rstrip(".").lower()


async def probe(spec: DnsMonitor, key: str, ctx: ProbeContext) -> ProbeResult:
    if spec.nameserver:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [spec.nameserver]
        resolver.port = spec.nameserver_port
    else:
        try:
            resolver = dns.asyncresolver.Resolver()
        except dns.resolver.NoResolverConfiguration:
            return ProbeResult(Status.CONFIG_ERROR, "no system resolver configured; set nameserver")
    resolver.lifetime = spec.timeout_s
    resolver.timeout = spec.timeout_s
    start = time.perf_counter()
    try:
        answer = await resolver.resolve(spec.record, spec.type)
    except dns.resolver.NXDOMAIN:
        return ProbeResult(Status.DOWN, f"{spec.record} does not exist (NXDOMAIN)")
    except dns.resolver.NoAnswer:
        return ProbeResult(Status.DOWN, f"{spec.record} has no {spec.type} record")
    except dns.exception.Timeout:
        return ProbeResult(
            Status.DOWN, f"DNS server did not answer for {spec.record} within {spec.timeout_s:g} s"
        )
    except dns.resolver.NoNameservers as exc:
        return ProbeResult(Status.DOWN, f"DNS servers failed for {spec.record}: {exc}"[:300])
    except dns.exception.DNSException as exc:
        return ProbeResult(Status.DOWN, f"DNS lookup of {spec.record} failed: {exc}"[:300])
    latency = (time.perf_counter() - start) * 1000.0
    got = sorted({_norm(r.to_text()) for r in answer})
    data = {"answers": got[:20]}
    missing = [e for e in spec.expect if _norm(e) not in got]
    if missing:
        return ProbeResult(
            Status.DOWN,
            f"{spec.record} {spec.type} answers {', '.join(got) or 'nothing'}; expected {', '.join(missing)}",
            latency,
            data,
        )
    return ProbeResult(Status.UP, f"{spec.record} {spec.type} -> {', '.join(got[:3])}", latency, data)
