"""The scoped, budgeted HTTP client every outside-in check uses.

Rules it enforces (the shop's safety and ours come first):

* **Scope**: only hosts named in the store's config (storefront, checkout, basket,
  ``web.extra_hosts``) are contacted. A redirect to any other host is recorded in
  :attr:`ScopedClient.offscope_redirects` and not followed.
* **Addresses**: every connection resolves the host itself and refuses private,
  loopback, link-local and other non-public addresses (no SSRF through DNS or a
  redirect), unless ``web.allow_private_addresses`` is set or the configured
  storefront itself is on such an address (a shop on loopback or a LAN).
* **Limits**: a request budget, a concurrency limit, a politeness delay between
  request starts, a per-request wall-clock timeout (a slow-drip server cannot
  stretch it), a maximum body size, decompression done by us with an output cap
  (no gzip bomb), and an overall deadline after which every request fails fast.

Obtain it in a check with :func:`http_client` (shared per store through
``ctx.resources``).
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
import time
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from shopguard import __version__
from shopguard.config import Store, WebScan

if TYPE_CHECKING:
    from shopguard.checks import CheckContext

RESOURCE_KEY = "http"
USER_AGENT = f"ShopGuard/{__version__} (+security self-assessment; authorised by the store owner)"
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})


class FetchError(Exception):
    """A request could not be completed; the message says why in plain words."""


class OutOfScope(FetchError):
    """The URL's host is not one the store's config names."""


class AddressRefused(FetchError):
    """The host resolved to an address the scan may not touch (private, loopback ...)."""


class BudgetExhausted(FetchError):
    """The store's request budget is spent."""


class DeadlineReached(FetchError):
    """The request or the whole scan ran out of time."""


class TooManyRedirects(FetchError):
    """A redirect chain longer than allowed (often a loop)."""


@dataclass(frozen=True)
class Hop:
    """One step of a redirect chain."""

    url: str
    status: int
    location: str | None


@dataclass(frozen=True)
class Response:
    """What the server answered; the body is capped at ``max_body_bytes``."""

    url: str
    status: int
    headers: httpx.Headers
    body: bytes
    elapsed_s: float
    truncated: bool = False
    """The body was longer than the limit (or decompressed beyond it); the rest was not read."""
    history: tuple[Hop, ...] = ()
    """Redirects followed to reach this response, in order."""
    blocked_redirect: str | None = None
    """A redirect target that was not followed because it is off scope."""

    @property
    def location(self) -> str | None:
        loc = self.headers.get("location")
        return urljoin(self.url, loc) if loc else None

    @property
    def is_redirect(self) -> bool:
        return self.status in REDIRECT_CODES and self.location is not None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    @property
    def text(self) -> str:
        charset = "utf-8"
        for part in self.headers.get("content-type", "").split(";")[1:]:
            k, _, v = part.strip().partition("=")
            if k.lower() == "charset" and v:
                charset = v.strip("\"' ")
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")

    def header_values(self, name: str) -> list[str]:
        return self.headers.get_list(name)


@dataclass
class Scope:
    """Which hosts the scan may touch and which non-public addresses it may use."""

    hosts: frozenset[str]
    allow_private: bool = False

    def allows_url(self, url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and (parts.hostname or "").lower() in self.hosts

    @classmethod
    def for_store(cls, store: Store) -> Scope:
        urls = [str(u) for u in (store.storefront_url, store.checkout_url, store.basket_url) if u]
        hosts = {(urlsplit(u).hostname or "").lower() for u in urls}
        hosts |= {h.strip().lower() for h in store.web.extra_hosts if h.strip()}
        hosts.discard("")
        storefront_host = urlsplit(str(store.storefront_url)).hostname or ""
        allow = store.web.allow_private_addresses or _host_is_non_public(storefront_host)
        return cls(frozenset(hosts), allow)


def is_public_address(ip: str) -> bool:
    addr = ipaddress.ip_address(ip)
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return bool(addr.is_global) and not addr.is_multicast


def _host_is_non_public(host: str) -> bool:
    """True when the storefront host is (or resolves only to) non-public addresses."""
    host = host.strip("[]")
    try:
        return not is_public_address(host)
    except ValueError:
        pass
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return False
    addrs = {str(i[4][0]) for i in infos}
    return bool(addrs) and not any(is_public_address(a) for a in addrs)


async def resolve_checked(host: str, port: int, scope: Scope) -> list[str]:
    """Resolve ``host`` and return the addresses the scan may connect to, or raise."""
    host = host.strip("[]")
    if host.lower() not in scope.hosts:
        raise OutOfScope(f"{host} is not a host named in the store's config")
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise FetchError(f"cannot resolve {host}: {exc.strerror or exc}") from None
    addrs: list[str] = []
    for info in infos:
        ip = str(info[4][0])
        if ip not in addrs:
            addrs.append(ip)
    allowed = [a for a in addrs if scope.allow_private or is_public_address(a)]
    if not allowed:
        raise AddressRefused(
            f"{host} resolves to {', '.join(addrs)}, a private or loopback address; the scan does not "
            "touch internal addresses unless the store's config sets web.allow_private_addresses = true"
        )
    return allowed


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves and checks the address itself, then connects to that exact address
    (so a DNS answer cannot change between the check and the connection)."""

    def __init__(self, scope: Scope) -> None:
        self._scope = scope
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        last: Exception | None = None
        for ip in await resolve_checked(host, port, self._scope):
            try:
                return await self._inner.connect_tcp(
                    ip, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise AddressRefused("unix sockets are never used by the web scan")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, scope: Scope, ssl_context: ssl.SSLContext, max_connections: int) -> None:
        super().__init__(verify=ssl_context, trust_env=False)
        # httpx does not take a network backend, so build the pool ourselves with ours.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=5.0,
            http1=True,
            http2=False,
            network_backend=_GuardedBackend(scope),
        )


@functools.cache
def scan_ssl_context() -> ssl.SSLContext:
    """The scan reads sites with broken certificates too (the TLS check reports them).

    Made once per process and shared by every client: nothing is verified, so the
    system CA store is not loaded (ssl.create_default_context() reads it every time, and
    that was most of a light audit task's CPU on a cluster worker)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class _Decoder:
    """Incremental content decoding with an output cap (gzip/deflate only)."""

    def __init__(self, encoding: str) -> None:
        enc = encoding.strip().lower()
        self.supported = enc in ("", "identity", "gzip", "x-gzip", "deflate")
        self._z: Any = None
        if enc in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif enc == "deflate":
            self._z = zlib.decompressobj(zlib.MAX_WBITS)
            self._raw_deflate_tried = False

    def feed(self, data: bytes, room: int) -> tuple[bytes, bool]:
        """Return (decoded output of at most ``room`` bytes, limit_hit)."""
        if self._z is None:
            return data[:room], len(data) > room
        out = b""
        try:
            out = self._z.decompress(data, room + 1)
        except zlib.error:
            if getattr(self, "_raw_deflate_tried", True):
                raise
            # Some servers send raw deflate without the zlib header.
            self._raw_deflate_tried = True
            self._z = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._z.decompress(data, room + 1)
        if len(out) > room or self._z.unconsumed_tail:
            return out[:room], True
        return out, False


@dataclass
class ClientStats:
    requests: int = 0
    refused: int = 0
    bytes_read: int = 0
    urls: list[str] = field(default_factory=list)


class ScopedClient:
    """An async HTTP client confined to one store's scope and limits."""

    def __init__(self, scope: Scope, limits: WebScan, *, deadline: float | None = None) -> None:
        self.scope = scope
        self.limits = limits
        self.deadline = deadline if deadline is not None else time.monotonic() + limits.deadline_s
        self.stats = ClientStats()
        self.offscope_redirects: list[tuple[str, str]] = []
        """(from URL, to URL) pairs of redirects that were not followed."""
        self._sem = asyncio.Semaphore(limits.concurrency)
        self._pace = asyncio.Lock()
        self._last_start = 0.0
        self._cache: dict[str, asyncio.Future[Response]] = {}
        self._http = httpx.AsyncClient(
            transport=_GuardedTransport(scope, scan_ssl_context(), limits.concurrency),
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(limits.timeout_s),
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate", "Accept": "*/*"},
        )

    @classmethod
    def for_store(cls, store: Store) -> ScopedClient:
        return cls(Scope.for_store(store), store.web)

    @property
    def seconds_left(self) -> float:
        return self.deadline - time.monotonic()

    @property
    def budget_left(self) -> int:
        return self.limits.request_budget - self.stats.requests

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> ScopedClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def get(
        self,
        url: str,
        *,
        follow_redirects: bool = True,
        max_redirects: int = 5,
        headers: Mapping[str, str] | None = None,
        max_bytes: int | None = None,
        cache: bool = True,
    ) -> Response:
        """GET ``url``, following in-scope redirects. Plain GETs are cached per client
        so several checks reading the same page cost one request."""
        key = f"{url}|{follow_redirects}|{max_redirects}|{max_bytes}"
        if not cache or headers:
            return await self._follow("GET", url, follow_redirects, max_redirects, headers, None, max_bytes)
        fut = self._cache.get(key)
        if fut is None:
            fut = asyncio.get_running_loop().create_future()
            self._cache[key] = fut
            try:
                fut.set_result(
                    await self._follow("GET", url, follow_redirects, max_redirects, None, None, max_bytes)
                )
            except asyncio.CancelledError:
                self._cache.pop(key, None)
                fut.cancel()
                raise
            except Exception as exc:
                fut.set_exception(exc)
                fut.exception()  # mark retrieved; the caller gets it below
        return await asyncio.shield(fut)

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        follow_redirects: bool = False,
        max_bytes: int | None = None,
    ) -> Response:
        return await self._follow(method, url, follow_redirects, 5, headers, content, max_bytes)

    async def _follow(
        self,
        method: str,
        url: str,
        follow: bool,
        max_redirects: int,
        headers: Mapping[str, str] | None,
        content: bytes | None,
        max_bytes: int | None,
    ) -> Response:
        history: list[Hop] = []
        seen: set[str] = set()
        current = url
        while True:
            resp = await self._once(method, current, headers, content, max_bytes)
            if not (follow and resp.is_redirect):
                return _with_history(resp, history)
            target = resp.location
            assert target is not None
            history.append(Hop(resp.url, resp.status, target))
            if not self.scope.allows_url(target):
                self.offscope_redirects.append((resp.url, target))
                return _with_history(resp, history[:-1], blocked=target)
            if len(history) > max_redirects or target in seen:
                chain = " -> ".join([h.url for h in history] + [target])
                raise TooManyRedirects(f"redirect loop or chain longer than {max_redirects}: {chain[:500]}")
            seen.add(current)
            current = target
            if resp.status == 303 or (resp.status in (301, 302) and method == "POST"):
                method, content = "GET", None

    async def _pace_start(self) -> None:
        delay = self.limits.delay_ms / 1000.0
        async with self._pace:
            if delay:
                wait = self._last_start + delay - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
            self._last_start = time.monotonic()

    async def _once(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        content: bytes | None,
        max_bytes: int | None,
    ) -> Response:
        if not self.scope.allows_url(url):
            self.stats.refused += 1
            raise OutOfScope(f"{url}: host is not one the store's config names; not contacted")
        async with self._sem:
            if self.seconds_left <= 0:
                raise DeadlineReached("the web scan's overall deadline has passed; request not sent")
            if self.stats.requests >= self.limits.request_budget:
                raise BudgetExhausted(
                    f"request budget of {self.limits.request_budget} spent; "
                    "raise web.request_budget to scan more"
                )
            self.stats.requests += 1
            self.stats.urls.append(url)
            await self._pace_start()
            limit = min(max_bytes or self.limits.max_body_bytes, self.limits.max_body_bytes)
            wall = min(self.limits.timeout_s, self.seconds_left)
            start = time.monotonic()
            try:
                async with asyncio.timeout(wall):
                    return await self._send(method, url, headers, content, limit, start)
            except TimeoutError:
                raise DeadlineReached(f"{url}: no complete answer within {wall:.1f} s") from None
            except httpx.TooManyRedirects as exc:  # pragma: no cover - we follow ourselves
                raise TooManyRedirects(str(exc)) from None
            except httpx.HTTPError as exc:
                raise FetchError(f"{url}: {_describe_http_error(exc)}") from None
            except ssl.SSLError as exc:
                raise FetchError(f"{url}: TLS error: {exc.reason or exc}") from None

    async def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        content: bytes | None,
        limit: int,
        start: float,
    ) -> Response:
        req = self._http.build_request(method, url, headers=dict(headers or {}), content=content)
        resp = await self._http.send(req, stream=True)
        try:
            decoder = _Decoder(resp.headers.get("content-encoding", ""))
            body = bytearray()
            truncated = False
            if method != "HEAD":
                async for chunk in resp.aiter_raw():
                    self.stats.bytes_read += len(chunk)
                    if decoder.supported:
                        try:
                            out, hit = decoder.feed(chunk, limit - len(body))
                        except zlib.error:
                            break  # corrupt compressed body: keep what decoded
                    else:
                        out, hit = chunk[: limit - len(body)], len(body) + len(chunk) > limit
                    body += out
                    if hit:
                        truncated = True
                        break
        finally:
            await resp.aclose()
        return Response(
            url=str(resp.url),
            status=resp.status_code,
            headers=resp.headers,
            body=bytes(body),
            elapsed_s=time.monotonic() - start,
            truncated=truncated,
        )


def _with_history(resp: Response, history: list[Hop], blocked: str | None = None) -> Response:
    return Response(
        url=resp.url,
        status=resp.status,
        headers=resp.headers,
        body=resp.body,
        elapsed_s=resp.elapsed_s,
        truncated=resp.truncated,
        history=tuple(history),
        blocked_redirect=blocked,
    )


def _describe_http_error(exc: httpx.HTTPError) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectError):
        if "SSL" in text or "TLS" in text:
            return f"TLS handshake failed ({text})"
        return f"cannot connect ({text})"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({type(exc).__name__})"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"the server broke the HTTP protocol ({text})"
    return text


async def http_client(ctx: CheckContext) -> ScopedClient:
    """The store's shared scoped client (created on first use, closed by the runner)."""

    async def make() -> ScopedClient:
        # Scope.for_store may resolve the storefront's name: keep DNS off the event loop.
        scope = await asyncio.to_thread(Scope.for_store, ctx.store)
        return ScopedClient(scope, ctx.store.web)

    client: ScopedClient = await ctx.resources.get(RESOURCE_KEY, make)
    return client
