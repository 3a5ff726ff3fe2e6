"""``scanning.web.server-banner``: version numbers in Server / X-Powered-By headers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from shopguard.checks import BaseCheck, CheckContext, register_check
from shopguard.findings import Finding, Refs, Severity
from shopguard.scanning.web.client import FetchError, http_client
from shopguard.scanning.web.targets import origin, pages

VERSION = re.compile(r"\d+(?:\.\d+)+|/\s*\d+")
BANNER_HEADERS = ("server", "x-powered-by", "x-aspnet-version", "x-aspnetmvc-version", "x-generator")


def banner_fix(header: str, value: str) -> str:
    """The config line that hides this banner."""
    v = value.lower()
    if header == "server":
        if "nginx" in v:
            return "nginx: add `server_tokens off;` to the http block of nginx.conf, then reload nginx."
        if "apache" in v:
            return (
                "Apache: set `ServerTokens Prod` and `ServerSignature Off` (on Debian/Ubuntu in "
                "/etc/apache2/conf-enabled/security.conf), then reload Apache."
            )
        if "litespeed" in v:
            return "LiteSpeed: WebAdmin > Server > General > Server Signature: hide version."
        if "iis" in v:
            return 'IIS: set removeServerHeader="true" in <requestFiltering> (IIS 10+).'
        return "Configure the web server not to send its version in the Server header."
    if header == "x-powered-by":
        if "php" in v:
            return "PHP: set `expose_php = Off` in php.ini (and in PHP-FPM's pool config), then restart PHP."
        if "express" in v:
            return "Express: call `app.disable('x-powered-by')`."
        return "Remove the X-Powered-By header in the application or with the web server."
    if header.startswith("x-aspnet"):
        return 'ASP.NET: set <httpRuntime enableVersionHeader="false" /> in web.config.'
    return "Remove this header in the application or with the web server."


@register_check
class ServerBanner(BaseCheck):
    id = "scanning.web.server-banner"
    title = "Server software versions are not disclosed in headers"

    async def run(self, ctx: CheckContext) -> AsyncIterator[Finding]:
        client = await http_client(ctx)
        seen: set[tuple[str, str, str]] = set()
        for page in pages(ctx.store):
            try:
                resp = await client.get(page.url)
            except FetchError:
                continue  # scanning.web.reachable reports it
            where = origin(resp.url)
            for header in BANNER_HEADERS:
                for value in resp.header_values(header):
                    if not VERSION.search(value) or (where, header, value) in seen:
                        continue
                    seen.add((where, header, value))
                    sev = Severity.MEDIUM if header == "x-powered-by" else Severity.LOW
                    yield Finding(
                        self.id,
                        sev,
                        f"The {header.title()} header discloses a software version ({value})",
                        where,
                        detail="Attackers read version numbers to pick exploits that work against exactly "
                        "this software. Hiding them does not fix outdated software, but it stops the shop "
                        "from advertising it.",
                        remediation=banner_fix(header, value),
                        evidence={"header": header, "value": value, "page": page.url},
                        refs=Refs(pci=("2.2.6",), cwe=("CWE-200",)),
                        key=header,
                    )
