"""A shopper's path: home, a product page, add to basket, the basket page.

Each step uses the same cookie jar (a fresh one per run), so a basket that only
works with a session is tested as a customer would use it."""

from __future__ import annotations

import time

import httpx

from shopguard.monitoring.interface import ProbeContext, ProbeResult, Status
from shopguard.monitoring.probes.http import describe_error
from shopguard.monitoring.settings import JourneyMonitor


async def probe(spec: JourneyMonitor, key: str, ctx: ProbeContext) -> ProbeResult:
    steps: list[tuple[str, str, str | None]] = [("home page", "GET", spec.home_url)]
    if spec.product_url:
        steps.append(("product page", "GET", spec.product_url))
    if spec.add_to_basket_url:
        steps.append(("add to basket", "POST", spec.add_to_basket_url))
    if spec.basket_url:
        steps.append(("basket page", "GET", spec.basket_url))
    timings: dict[str, float] = {}
    start = time.perf_counter()
    async with httpx.AsyncClient(
        verify=spec.verify_tls,
        timeout=spec.timeout_s,
        follow_redirects=True,
        headers={"User-Agent": "ShopGuard-monitor"},
    ) as client:
        for label, method, url in steps:
            assert url is not None
            t0 = time.perf_counter()
            try:
                if method == "POST":
                    resp = await client.post(url, data=spec.add_to_basket_data)
                else:
                    resp = await client.get(url)
            except httpx.HTTPError as exc:
                return ProbeResult(
                    Status.DOWN, f"{label} ({url}): {describe_error(exc)}", data={"timings_ms": timings}
                )
            timings[label] = round((time.perf_counter() - t0) * 1000.0, 1)
            if resp.status_code >= 400:
                return ProbeResult(
                    Status.DOWN,
                    f"{label} ({url}) answered HTTP {resp.status_code}",
                    data={"timings_ms": timings},
                )
            if label == "basket page" and spec.basket_keyword and spec.basket_keyword not in resp.text:
                return ProbeResult(
                    Status.DOWN,
                    f"basket page does not show {spec.basket_keyword!r} after adding to basket",
                    data={"timings_ms": timings},
                )
    total = (time.perf_counter() - start) * 1000.0
    return ProbeResult(Status.UP, f"{len(steps)} steps answered", total, {"timings_ms": timings})
