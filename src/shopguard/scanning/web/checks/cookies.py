"""``scanning.web.cookies``: the shop's session and cart cookies carry Secure, HttpOnly
and SameSite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from shopguard.checks import BaseCheck, CheckContext, register_check
from shopguard.findings import Finding, Refs, Severity
from shopguard.scanning.web import grading
from shopguard.scanning.web.client import FetchError, http_client
from shopguard.scanning.web.targets import origin, pages

PLATFORM_FIX = {
    "php": "PHP: in php.ini set `session.cookie_secure = 1`, `session.cookie_httponly = 1` and "
    "`session.cookie_samesite = Lax`.",
    "wordpress": "WordPress/WooCommerce: serve the whole site over HTTPS (WordPress then sets Secure on its "
    "login cookies); for PHP sessions set the php.ini session.cookie_* options.",
    "magento": "Magento: Stores > Configuration > General > Web > Default Cookie Settings: "
    "Use HTTP Only = Yes; and serve everything over HTTPS (Use Secure URLs on Storefront = Yes).",
    "generic": "Set the flags where the cookie is created, or in nginx: "
    "`proxy_cookie_flags ~ secure httponly samesite=lax;`.",
}


def _fix(cookie: grading.Cookie, platform: str) -> str:
    if platform in ("wordpress", "woocommerce"):
        return PLATFORM_FIX["wordpress"]
    if platform == "magento" or cookie.name == "frontend":
        return PLATFORM_FIX["magento"]
    if cookie.name.upper() == "PHPSESSID" or platform in ("prestashop", "opencart"):
        return PLATFORM_FIX["php"]
    return PLATFORM_FIX["generic"]


@register_check
class CookieFlags(BaseCheck):
    id = "scanning.web.cookies"
    title = "Session and cart cookies are Secure, HttpOnly and SameSite"

    async def run(self, ctx: CheckContext) -> AsyncIterator[Finding]:
        client = await http_client(ctx)
        seen: dict[tuple[str, str], grading.Cookie] = {}
        where: dict[tuple[str, str], str] = {}
        for page in pages(ctx.store):
            try:
                resp = await client.get(page.url)
            except FetchError:
                continue
            for c in grading.cookies_of(resp):
                key = (origin(resp.url), c.name)
                if key not in seen:
                    seen[key] = c
                    where[key] = resp.url
        platform = ctx.store.platform.value
        for (site, name), c in sorted(seen.items()):
            https = urlsplit(site).scheme == "https"
            important = c.kind in ("session", "cart")
            missing = []
            if not c.secure:
                missing.append("Secure")
            if c.kind == "session" and not c.httponly:
                missing.append("HttpOnly")
            if c.samesite is None or c.samesite not in ("strict", "lax", "none"):
                missing.append("SameSite")
            elif c.samesite == "none" and not c.secure:
                missing.append("SameSite=None requires Secure")
            if not missing:
                continue
            if c.kind == "session" and ("Secure" in missing or "HttpOnly" in missing):
                sev = Severity.HIGH if https and "Secure" in missing else Severity.MEDIUM
            elif important or "Secure" in missing:
                sev = Severity.LOW if "Secure" not in missing or not https else Severity.MEDIUM
            else:
                sev = Severity.LOW
            cwe = []
            if "Secure" in missing:
                cwe.append("CWE-614")
            if "HttpOnly" in missing:
                cwe.append("CWE-1004")
            if any(m.startswith("SameSite") for m in missing):
                cwe.append("CWE-1275")
            yield Finding(
                self.id,
                sev,
                f"The {c.kind} cookie {name} lacks {', '.join(missing)}",
                site,
                detail=(
                    "Secure keeps the cookie off unencrypted connections, HttpOnly keeps it away from "
                    "scripts (a skimmer or XSS cannot steal the session), SameSite stops other sites "
                    "from sending it along with forged requests."
                ),
                remediation=_fix(c, platform),
                evidence={
                    "cookie": name,
                    "kind": c.kind,
                    "attributes": sorted(c.attrs),
                    "missing": missing,
                    "seen_on": where[(site, name)],
                },
                refs=Refs(pci=("6.2.4",) if c.kind == "session" else (), cwe=tuple(cwe)),
                key=name,
            )
