"""``scanning.web.wordpress``: XML-RPC with system.multicall, and user enumeration through
``?author=N`` and the REST users endpoint."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from shopguard.checks import BaseCheck, CheckContext, register_check
from shopguard.config import Store
from shopguard.findings import Finding, Refs, Severity
from shopguard.scanning.web.client import FetchError, ScopedClient, http_client
from shopguard.scanning.web.fingerprint import fingerprint
from shopguard.scanning.web.targets import origin

LIST_METHODS = (
    b'<?xml version="1.0"?><methodCall><methodName>system.listMethods</methodName>'
    b"<params></params></methodCall>"
)
_AUTHOR = re.compile(r"/author/([^/?#]+)/?")


@register_check
class WordPressSurface(BaseCheck):
    id = "scanning.web.wordpress"
    title = "WordPress XML-RPC and user enumeration are closed"

    def applies(self, store: Store) -> bool:
        return True  # decided at run time from the configured platform or the fingerprint

    async def run(self, ctx: CheckContext) -> AsyncIterator[Finding]:
        configured = ctx.store.platform.value in ("wordpress", "woocommerce")
        fp = await fingerprint(ctx)
        if not configured and fp.platform not in ("wordpress", "woocommerce"):
            return
        client = await http_client(ctx)
        root = origin(str(ctx.store.storefront_url))
        async for f in self._xmlrpc(client, root):
            yield f
        async for f in self._users(client, root):
            yield f

    async def _xmlrpc(self, client: ScopedClient, root: str) -> AsyncIterator[Finding]:
        url = root + "/xmlrpc.php"
        try:
            resp = await client.request(
                "POST", url, headers={"Content-Type": "text/xml"}, content=LIST_METHODS, max_bytes=262144
            )
        except FetchError:
            return
        if resp.status != 200 or b"<methodResponse>" not in resp.body:
            return
        multicall = b"system.multicall" in resp.body
        pingback = b"pingback.ping" in resp.body
        yield Finding(
            self.id + ".xmlrpc",
            Severity.MEDIUM if multicall else Severity.LOW,
            "WordPress XML-RPC is open" + (" with system.multicall" if multicall else ""),
            url,
            detail="xmlrpc.php accepts logins; with system.multicall one request tries hundreds of "
            "passwords, which slips past most login rate limits."
            + (" pingback.ping also lets others use the site to flood third parties." if pingback else ""),
            remediation="If no app uses XML-RPC (Jetpack and the mobile app may), block it: nginx "
            "`location = /xmlrpc.php { deny all; }`; "
            "Apache `<Files xmlrpc.php> Require all denied </Files>`; "
            "or a security plugin's 'disable XML-RPC' switch.",
            evidence={"system.multicall": multicall, "pingback.ping": pingback},
            refs=Refs(pci=("8.3.4",), cwe=("CWE-307",)),
        )

    async def _users(self, client: ScopedClient, root: str) -> AsyncIterator[Finding]:
        names: list[str] = []
        how: list[str] = []
        try:
            resp = await client.get(root + "/wp-json/wp/v2/users", follow_redirects=True, max_bytes=262144)
            if resp.status == 200 and resp.content_type == "application/json":
                data = json.loads(resp.body)
                if isinstance(data, list):
                    names += [str(u.get("slug")) for u in data if isinstance(u, dict) and u.get("slug")]
                    if names:
                        how.append("/wp-json/wp/v2/users")
        except (FetchError, ValueError):
            pass
        for n in (1, 2):
            try:
                r = await client.get(f"{root}/?author={n}", follow_redirects=False, cache=False)
            except FetchError:
                continue
            loc = r.location or ""
            m = _AUTHOR.search(urlsplit(loc).path) if r.is_redirect else None
            if m and m.group(1) not in names:
                names.append(m.group(1))
                if "?author=N" not in how:
                    how.append("?author=N")
        if not names:
            return
        yield Finding(
            self.id + ".user-enumeration",
            Severity.MEDIUM,
            "WordPress reveals user names (login names for password guessing)",
            root + "/",
            detail=f"Anyone can list account names through {' and '.join(how)}; attackers then only need "
            "to guess the password.",
            remediation="Block `?author=` scans and the REST users route for visitors (a security plugin, or "
            "nginx `if ($args ~ '^author=') { return 403; }` and "
            "`location ~ ^/wp-json/wp/v2/users { deny all; }`); "
            "use admin login names that differ from the public display names.",
            evidence={"names_found": len(names), "first": names[:3], "via": how},
            refs=Refs(pci=("8.3.4",), cwe=("CWE-200", "CWE-204")),
        )
