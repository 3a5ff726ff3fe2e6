"""A shopper's path: home, a product page, add to basket, the basket page.

Each step uses the same cookie jar (a fresh one per run), so a basket that only
works with a session is tested as a customer would use it."""

from __future__ import annotations

import re
import time
from html import unescape as html_unescape

import httpx

from shopguard.monitoring.interface import ProbeContext, ProbeResult, Status
from shopguard.monitoring.probes.http import describe_error
from shopguard.monitoring.settings import JourneyMonitor


def form_token(html: str, field: str) -> str | None:
    """Value of the first ``<input name=FIELD value=...>`` (attribute order free)."""
    for tag in re.findall(r"<input\b[^>]*>", html, flags=re.IGNORECASE):
        if re.search(rf"""\bname\s*=\s*["']?{re.escape(field)}["'\s>]""", tag, flags=re.IGNORECASE):
            m = re.search(r"""\bvalue\s*=\s*["']([^"']*)["']""", tag, flags=re.IGNORECASE)
            return html_unescape(m.group(1)) if m else ""
    return None


async def probe(spec: JourneyMonitor, key: str, ctx: ProbeContext) -> ProbeResult:
    steps: list[tuple[str, str, str | None]] = [("home page", "GET", spec.home_url)]
    if spec.product_url:
        steps.append(("product page", "GET", spec.product_url))
    if spec.add_to_basket_url:
        steps.append(("add to basket", "POST", spec.add_to_basket_url))
    if spec.basket_url:
        steps.append(("basket page", "GET", spec.basket_url))
    timings: dict[str, float] = {}
    token: dict[str, str] = {}
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
                    resp = await client.post(url, data={**spec.add_to_basket_data, **token})
                else:
                    resp = await client.get(url)
            except httpx.HTTPError as exc:
                return ProbeResult(
                    Status.DOWN, f"{label} ({url}): {describe_error(exc)}", data={"timings_ms": timings}
                )
            timings[label] = round((time.perf_counter() - t0) * 1000.0, 1)
            if label == "product page" and spec.form_token_field:
                value = form_token(resp.text, spec.form_token_field)
                if value is None:
                    return ProbeResult(
                        Status.DOWN,
                        f"product page has no form field {spec.form_token_field!r} "
                        "(add to basket impossible)",
                        data={"timings_ms": timings},
                    )
                token = {spec.form_token_field: value}
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
