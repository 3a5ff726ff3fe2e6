"""``scanning.web.https``: is the store served over HTTPS, and does HTTP redirect to it
on the first hop?"""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

from shopguard.checks import BaseCheck, CheckContext, register_check
from shopguard.findings import Finding, Refs, Severity
from shopguard.scanning.web.client import FetchError, Response, ScopedClient, http_client
from shopguard.scanning.web.targets import pages

REFS = Refs(pci=("4.2.1",), cwe=("CWE-319",))

NGINX_REDIRECT = (
    "nginx: in the port-80 server block use `return 301 https://$host$request_uri;`. "
    "Apache: `Redirect permanent / https://www.example.com/` in the *:80 VirtualHost."
)
GET_CERT = (
    "Get a free certificate from Let's Encrypt (e.g. `certbot --nginx -d shop.example.com` or "
    "`certbot --apache`), or ask your host to turn HTTPS on, then redirect all HTTP to HTTPS."
)


def with_scheme(url: str, scheme: str, port: int | None = None) -> str:
    """Same host and path on the other scheme, on ``port`` or that scheme's default port."""
    p = urlsplit(url)
    host = p.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if port is not None:
        host = f"{host}:{port}"
    return urlunsplit((scheme, host, p.path or "/", p.query, ""))


async def _try(client: ScopedClient, url: str) -> Response | FetchError:
    try:
        return await client.get(url, follow_redirects=False)
    except FetchError as exc:
        return exc


def _first_hop_to_https(resp: Response) -> bool:
    loc = resp.location
    return resp.is_redirect and loc is not None and urlsplit(loc).scheme == "https"


@register_check
class Https(BaseCheck):
    id = "scanning.web.https"
    title = "The store is served over HTTPS and HTTP redirects to it"

    async def run(self, ctx: CheckContext) -> AsyncIterator[Finding]:
        client = await http_client(ctx)
        checked: set[str] = set()
        for page in pages(ctx.store):
            p = urlsplit(page.url)
            host_key = f"{p.hostname}{p.path}"
            if host_key in checked:
                continue
            checked.add(host_key)
            web = ctx.store.web
            if p.scheme == "https":
                plain = with_scheme(page.url, "http", web.http_port)
                async for f in self._http_redirects(client, page.label, plain):
                    yield f
            else:
                secure = with_scheme(page.url, "https", web.https_port)
                async for f in self._http_configured(client, page.label, page.url, secure):
                    yield f

    async def _http_redirects(self, client: ScopedClient, label: str, plain: str) -> AsyncIterator[Finding]:
        """The page is configured on HTTPS: its HTTP twin must redirect on the first hop."""
        resp = await _try(client, plain)
        if isinstance(resp, FetchError):
            return  # nothing listens on HTTP: nothing to downgrade to
        ev = {"http_url": plain, "status": resp.status, "location": resp.location}
        if _first_hop_to_https(resp):
            return
        if resp.is_redirect:
            yield Finding(
                self.id,
                Severity.LOW,
                f"HTTP does not redirect straight to HTTPS for the {label} page",
                plain,
                detail=f"The first redirect goes to {resp.location}, not to an https:// address, so the "
                "first hop can be intercepted and changed by anyone on the network path.",
                remediation=NGINX_REDIRECT,
                evidence=ev,
                refs=REFS,
                key="first-hop",
            )
            return
        yield Finding(
            self.id,
            Severity.HIGH if label == "checkout" else Severity.MEDIUM,
            f"The {label} page is also served over plain HTTP without a redirect",
            plain,
            detail=f"{plain} answers HTTP {resp.status} instead of redirecting to HTTPS. Customers who "
            "type the address or follow an old link use an unencrypted connection that can be read "
            "and changed on the way.",
            remediation=NGINX_REDIRECT,
            evidence=ev,
            refs=REFS,
            key="no-redirect",
        )

    async def _http_configured(
        self, client: ScopedClient, label: str, url: str, secure_url: str
    ) -> AsyncIterator[Finding]:
        """The page is configured on HTTP: is HTTPS there at all, and do we get sent to it?"""
        first = await _try(client, url)
        if isinstance(first, FetchError):
            return  # scanning.web.reachable reports a page that does not answer
        if _first_hop_to_https(first):
            return  # the config names http:// but the shop moves everyone to HTTPS at once
        secure = await _try(client, secure_url)
        ev: dict[str, object] = {
            "http_url": url,
            "http_status": first.status,
            "https_url": secure_url,
            "https": f"HTTP {secure.status}" if isinstance(secure, Response) else str(secure),
        }
        if isinstance(secure, FetchError):
            yield Finding(
                self.id,
                Severity.HIGH,
                f"The {label} page is served only over unencrypted HTTP",
                url,
                detail="No HTTPS answered on this host, so everything customers send (passwords, addresses, "
                "and on a checkout card data) crosses the internet readable and changeable by anyone on "
                "the path. PCI DSS requires strong cryptography for cardholder data in transit.",
                remediation=GET_CERT,
                evidence=ev,
                refs=REFS,
                key="http-only",
            )
            return
        yield Finding(
            self.id,
            Severity.HIGH if label == "checkout" else Severity.MEDIUM,
            f"HTTPS works but the {label} page is served over HTTP without a redirect",
            url,
            detail=f"{secure_url} answers, but {url} does not send visitors there, so they keep using "
            "the unencrypted connection.",
            remediation=NGINX_REDIRECT + " Also change the URL in shopguard.toml to https://.",
            evidence=ev,
            refs=REFS,
            key="no-redirect",
        )
