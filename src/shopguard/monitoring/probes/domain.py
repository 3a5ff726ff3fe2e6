"""Domain registration expiry through RDAP (RFC 9083). Skipped when RDAP is
unreachable: a missing answer says nothing about the domain."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx

from shopguard.monitoring.interface import ProbeContext, ProbeResult, Status
from shopguard.monitoring.settings import DomainMonitor


def expiry_from_rdap(doc: dict[str, object]) -> datetime | None:
    events = doc.get("events")
    if not isinstance(events, list):
        return None
    for ev in events:
        if (
            isinstance(ev, dict)
            and ev.get("eventAction") == "expiration"
            and isinstance(ev.get("eventDate"), str)
        ):
            text = str(ev["eventDate"]).replace("Z", "+00:00")
            try:
                when = datetime.fromisoformat(text)
            except ValueError:
                return None
            return when if when.tzinfo else when.replace(tzinfo=UTC)
    return None


async def probe(spec: DomainMonitor, key: str, ctx: ProbeContext) -> ProbeResult:
    url = spec.rdap_base.rstrip("/") + "/domain/" + spec.domain.strip(".").lower()
    start = time.perf_counter()
    try:
        resp = await ctx.http.get(url, timeout=spec.timeout_s, follow_redirects=True)
    except httpx.HTTPError as exc:
        return ProbeResult(
            Status.SKIPPED,
            f"domain expiry not checked: RDAP service {spec.rdap_base} unreachable ({type(exc).__name__}); "
            "check the expiry date with your registrar",
        )
    latency = (time.perf_counter() - start) * 1000.0
    if resp.status_code == 404:
        return ProbeResult(
            Status.SKIPPED, f"RDAP has no record for {spec.domain} (not every TLD publishes RDAP)"
        )
    if resp.status_code != 200:
        return ProbeResult(
            Status.SKIPPED, f"domain expiry not checked: RDAP answered HTTP {resp.status_code}"
        )
    try:
        doc = resp.json()
    except ValueError:
        return ProbeResult(Status.SKIPPED, "domain expiry not checked: RDAP answer is not JSON")
    when = expiry_from_rdap(doc) if isinstance(doc, dict) else None
    if when is None:
        return ProbeResult(Status.SKIPPED, f"RDAP record for {spec.domain} shows no expiration date")
    days = (when - datetime.fromtimestamp(ctx.wall(), UTC)).total_seconds() / 86400.0
    data = {"expires": when.isoformat(), "days_left": round(days, 2)}
    if days < spec.warn_days:
        return ProbeResult(
            Status.DOWN,
            f"domain {spec.domain} registration expires in {days:.0f} days ({when:%Y-%m-%d}); renew it",
            latency,
            data,
        )
    return ProbeResult(Status.UP, f"domain registered until {when:%Y-%m-%d}", latency, data)
