"""Load the basket and checkout in headless Chromium and record what runs there.

Debian's Chromium is driven through Playwright (never ``playwright install``), with
flags that stop it from making calls of its own and a fresh profile per run. Every
request the page makes goes through a route handler that refuses hosts resolving to
private addresses (unless the store's scope allows them) and records it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import shutil
import socket
import tempfile
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from shopguard.config import Store
from shopguard.scanning.web.client import Scope, is_public_address
from shopguard.scanning.web.html import parse_page

CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--metrics-recording-only",
    "--no-default-browser-check",
)
SECURITY_HEADERS = (
    "content-security-policy",
    "content-security-policy-report-only",
    "strict-transport-security",
    "x-frame-options",
    "x-content-type-options",
    "referrer-policy",
    "permissions-policy",
)
MAX_SCRIPT_BYTES = 5_000_000

# Collected in every frame once the page has settled: scripts in the DOM now, and
# scripts added after the first parse (recorded by the init script below).
_INIT_SCRIPT = """
(() => {
  window.__shopguardInjected = [];
  const seen = new WeakSet();
  const note = (el) => {
    if (!el || el.tagName !== 'SCRIPT' || seen.has(el)) return;
    seen.add(el);
    window.__shopguardInjected.push({src: el.src || null, text: el.src ? null : (el.textContent || '')});
  };
  const start = () => {
    new MutationObserver((ms) => ms.forEach((m) => m.addedNodes.forEach(note)))
      .observe(document.documentElement, {childList: true, subtree: true});
  };
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else { start(); }
})();
"""
_COLLECT = """
() => ({
  scripts: Array.from(document.scripts).map((s) => ({
    src: s.src || null, text: s.src ? null : (s.textContent || ''), integrity: s.integrity || '',
    type: s.type || ''})),
  injected: window.__shopguardInjected || [],
  iframes: Array.from(document.querySelectorAll('iframe[src]')).map((f) => f.src),
})
"""


def sha256_b64(data: bytes) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def strip_query(url: str) -> str:
    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc, p.path, "", ""))


def origin_of(url: str) -> str:
    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc, "", "", ""))


@dataclass(frozen=True)
class ScriptItem:
    kind: str
    """``script`` (external) or ``inline-script``."""
    identifier: str
    """URL without query, or the CSP hash of the inline text."""
    url: str | None = None
    sha256: str = ""
    """Content hash of an external script as the browser received it."""
    integrity: str = ""
    injected: bool = False
    """Not in the HTML the server sent: added by a script at run time."""
    frame: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "identifier": self.identifier,
            "url": self.url,
            "sha256": self.sha256,
            "integrity": bool(self.integrity),
            "injected": self.injected,
        }


@dataclass
class PageInventory:
    label: str
    url: str
    final_url: str = ""
    status: int | None = None
    error: str | None = None
    scripts: list[ScriptItem] = field(default_factory=list)
    iframes: list[str] = field(default_factory=list)
    requests: list[tuple[str, str, str]] = field(default_factory=list)
    """(method, URL, resource type) of every request the page made."""
    blocked: list[str] = field(default_factory=list)
    """Requests refused because they pointed at internal addresses."""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def destinations(self) -> list[str]:
        """Origins the page sent requests to (where card data could go)."""
        out: list[str] = []
        for _, url, _ in self.requests:
            if urlsplit(url).scheme in ("http", "https"):
                o = origin_of(url)
                if o not in out:
                    out.append(o)
        return out

    def summary(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "final_url": self.final_url,
            "status": self.status,
            "scripts": [s.to_dict() for s in self.scripts][:60],
            "iframes": self.iframes[:20],
            "destinations": self.destinations[:40],
            "requests": len(self.requests),
            "blocked": self.blocked[:10],
            "headers": self.headers,
        }


class BrowserMissing(RuntimeError):
    """The configured Chromium binary does not exist (ShopGuard never downloads one)."""


class _Guard:
    """Decides per request whether the browser may fetch it."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self._cache: dict[str, bool] = {}

    async def allowed(self, url: str) -> bool:
        p = urlsplit(url)
        if p.scheme not in ("http", "https"):
            return p.scheme in ("data", "blob", "about")
        host = (p.hostname or "").strip("[]")
        if self.scope.allow_private:
            return True
        if host in self._cache:
            return self._cache[host]
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, p.port or 443, type=socket.SOCK_STREAM)
            ok = bool(infos) and all(is_public_address(str(i[4][0])) for i in infos)
        except OSError:
            ok = False
        self._cache[host] = ok
        return ok


async def inventory_pages(store: Store, timeout_s: float = 45.0) -> list[PageInventory]:
    """Run the add-to-cart steps, then inventory the basket and the checkout."""
    from playwright.async_api import async_playwright

    settings = store.pages
    if not os.access(settings.chromium, os.X_OK):
        raise BrowserMissing(
            f"Chromium not found at {settings.chromium}: install Debian's chromium package "
            '(apt-get install chromium) or set chromium = "/path/to/chromium" in [stores.pages]'
        )
    targets = [
        (label, str(url))
        for label, url in (("basket", store.basket_url), ("checkout", store.checkout_url))
        if url
    ]
    guard = _Guard(Scope.for_store(store))
    profile = tempfile.mkdtemp(prefix="shopguard-chromium-")
    results: list[PageInventory] = []
    try:
        async with asyncio.timeout(timeout_s), async_playwright() as pw:
            context = await pw.chromium.launch_persistent_context(
                profile,
                executable_path=settings.chromium,
                headless=True,
                args=[*CHROMIUM_ARGS, *settings.chromium_args],
                ignore_https_errors=True,
                service_workers="block",
            )
            try:
                await context.add_init_script(_INIT_SCRIPT)
                page = context.pages[0] if context.pages else await context.new_page()
                page.set_default_timeout(min(15_000, timeout_s * 1000))
                await _run_steps(page, store, guard)
                for label, url in targets:
                    results.append(await _inventory(page, label, url, guard, settings.settle_ms))
            finally:
                await context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return results


async def _route_all(page: Any, guard: _Guard, inv: PageInventory | None) -> None:
    async def handle(route: Any) -> None:
        url = route.request.url
        if await guard.allowed(url):
            await route.continue_()
        else:
            if inv is not None:
                inv.blocked.append(strip_query(url))
            await route.abort("blockedbyclient")

    await page.unroute("**/*")
    await page.route("**/*", handle)


class StepFailed(RuntimeError):
    """An add-to-cart step from ``[stores.pages]`` could not be carried out."""


async def _run_steps(page: Any, store: Store, guard: _Guard) -> None:
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    await _route_all(page, guard, None)
    base = str(store.storefront_url)
    wait = store.pages.step_timeout_ms
    for n, step in enumerate(store.pages.steps, start=1):
        what = (
            f"goto {step.goto}" if step.goto else f"click {step.click}" if step.click else f"fill {step.fill}"
        )
        try:
            if step.goto is not None:
                await page.goto(urljoin(base, step.goto), wait_until="load")
            elif step.click is not None:
                await page.click(step.click, timeout=wait)
                # A form posts and navigates, an AJAX button only sends requests: either way,
                # wait until the network is quiet (a navigation keeps it busy until it loads).
                with contextlib.suppress(PlaywrightTimeout):
                    await page.wait_for_load_state("networkidle", timeout=10_000)
            elif step.fill is not None:
                await page.fill(step.fill, step.value, timeout=wait)
        except Exception as exc:
            first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            raise StepFailed(f"[stores.pages] step {n} ({what}) failed: {first}") from None


async def _inventory(page: Any, label: str, url: str, guard: _Guard, settle_ms: int) -> PageInventory:
    inv = PageInventory(label, url)
    bodies: dict[str, str] = {}
    pending: list[asyncio.Task[None]] = []

    main_scripts: list[str] = []

    def on_request(req: Any) -> None:
        inv.requests.append((req.method, req.url, req.resource_type))
        try:
            if req.resource_type == "script" and req.frame == page.main_frame:
                main_scripts.append(req.url)
        except Exception:  # noqa: S110 - a request without a frame (worker) is not a page script
            pass

    async def grab(resp: Any) -> None:
        try:
            body = await resp.body()
        except Exception:  # a body the browser dropped is simply not hashed
            return
        if len(body) <= MAX_SCRIPT_BYTES:
            bodies[resp.url] = hashlib.sha256(body).hexdigest()

    def on_response(resp: Any) -> None:
        if resp.request.resource_type == "script":
            pending.append(asyncio.ensure_future(grab(resp)))

    await _route_all(page, guard, inv)
    page.on("request", on_request)
    page.on("response", on_response)
    try:
        try:
            resp = await page.goto(url, wait_until="load")
        except Exception as exc:  # navigation errors become the inventory's error
            inv.error = str(exc).splitlines()[0][:300]
            return inv
        inv.status = resp.status if resp is not None else None
        inv.final_url = page.url
        static_html = ""
        if resp is not None:
            headers = await resp.all_headers()
            inv.headers = {k: v for k, v in headers.items() if k in SECURITY_HEADERS}
            try:
                static_html = (await resp.body()).decode("utf-8", "replace")
            except Exception:
                static_html = ""
        await page.wait_for_timeout(settle_ms)
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        static = parse_page(inv.final_url or url, static_html)
        static_srcs = {strip_query(s.src) for s in static.scripts if s.src}
        static_inline = {s.sha256 for s in static.scripts if not s.src}
        seen: set[str] = set()
        # Scripts of the shop's own page; an iframe's scripts belong to whoever serves the iframe.
        try:
            data = await page.main_frame.evaluate(_COLLECT)
        except Exception:  # a page that navigated away has nothing to report
            data = {"scripts": [], "injected": [], "iframes": []}
        for s in [*data["scripts"], *data["injected"]]:
            item = _script_item(s, bodies, static_srcs, static_inline, True, page.url)
            if item is not None and item.identifier not in seen:
                seen.add(item.identifier)
                inv.scripts.append(item)
        for src in data.get("iframes", []):
            if urlsplit(src).scheme in ("http", "https") and strip_query(src) not in inv.iframes:
                inv.iframes.append(strip_query(src))
        for req_url in main_scripts:
            if strip_query(req_url) not in seen:
                seen.add(strip_query(req_url))
                inv.scripts.append(
                    ScriptItem(
                        "script", strip_query(req_url), req_url, bodies.get(req_url, ""), injected=True
                    )
                )
    finally:
        page.remove_listener("request", on_request)
        page.remove_listener("response", on_response)
    return inv


def _script_item(
    s: dict[str, Any],
    bodies: dict[str, str],
    static_srcs: set[str],
    static_inline: set[str],
    in_main: bool,
    frame_url: str,
) -> ScriptItem | None:
    src = s.get("src")
    if src:
        ident = strip_query(src)
        return ScriptItem(
            "script",
            ident,
            src,
            bodies.get(src, ""),
            s.get("integrity") or "",
            injected=in_main and ident not in static_srcs,
            frame=frame_url,
        )
    text = s.get("text") or ""
    if not text.strip():
        return None
    h = sha256_b64(text.encode("utf-8"))
    return ScriptItem(
        "inline-script", h, None, "", "", injected=in_main and h not in static_inline, frame=frame_url
    )
