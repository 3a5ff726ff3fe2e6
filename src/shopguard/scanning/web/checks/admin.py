"""``scanning.web.admin``: administration logins reachable from the whole internet."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

from shopguard.checks import BaseCheck, CheckContext, register_check
from shopguard.findings import Finding, Refs, Severity
from shopguard.scanning.web.client import FetchError, Response, ScopedClient, http_client
from shopguard.scanning.web.softnotfound import Baseline, baseline
from shopguard.scanning.web.targets import origins

PASSWORD_FIELD = re.compile(rb"<input[^>]+type\s*=\s*[\"']?password", re.IGNORECASE)


@dataclass(frozen=True)
class AdminPath:
    path: str
    product: str
    marker: re.Pattern[bytes]
    fix: str


def _m(p: str) -> re.Pattern[bytes]:
    return re.compile(p.encode(), re.IGNORECASE)


RESTRICT = (
    "Allow the admin only from your own addresses (nginx: "
    "`location /{path} {{ allow 203.0.113.10; deny all; ... }}`; "
    "Apache: `Require ip 203.0.113.10`), or put it behind a VPN; turn on two-factor login for every admin."
)
ADMIN_PATHS = (
    AdminPath("/wp-login.php", "WordPress", _m(r"name=\"log\"|id=\"user_login\"|wp-submit"), RESTRICT),
    AdminPath("/wp-admin/", "WordPress", _m(r"id=\"user_login\"|wp-submit"), RESTRICT),
    AdminPath(
        "/admin",
        "Magento",
        _m(r"Magento Admin|admin__field|magento-login"),
        RESTRICT
        + (
            " Magento: also set a custom admin path (`bin/magento setup:config:set --backend-frontname=...`)."
        ),
    ),
    AdminPath("/index.php/admin", "Magento", _m(r"Magento Admin|admin__field"), RESTRICT),
    AdminPath("/admin/", "OpenCart", _m(r"OpenCart|route=common/login"), RESTRICT),
    AdminPath("/admin/", "Shopware", _m(r"Shopware Administration|sw-login"), RESTRICT),
    AdminPath("/backend/", "Shopware 5", _m(r"Shopware Backend|Shopware\.app"), RESTRICT),
    AdminPath("/admin/", "Django", _m(r"Django (site )?admin|id=\"login-form\""), RESTRICT),
    AdminPath("/dashboard/", "Django Oscar", _m(r"oscar"), RESTRICT),
    AdminPath("/administrator/", "Joomla", _m(r"Joomla|mod-login-username"), RESTRICT),
    AdminPath("/user/login", "Drupal", _m(r"Drupal|user-login-form"), RESTRICT),
    # Generic paths need the word in the page title, not just anywhere (a customer login
    # page may mention "administration" in its footer).
    AdminPath("/admin/", "generic", _m(r"<title>[^<]*(admin|dashboard|back.?office)"), RESTRICT),
    AdminPath("/admin/login", "generic", _m(r"<title>[^<]*(admin|dashboard|back.?office)"), RESTRICT),
    AdminPath("/backoffice/", "generic", _m(r"<title>[^<]*(admin|back.?office)"), RESTRICT),
)


def is_admin_login(resp: Response, ap: AdminPath, base: Baseline) -> bool:
    if resp.status != 200 or not PASSWORD_FIELD.search(resp.body) or not ap.marker.search(resp.body):
        return False
    return not base.looks_like(resp)


@register_check
class AdminSurface(BaseCheck):
    id = "scanning.web.admin"
    title = "Administration logins are not open to the whole internet"

    async def run(self, ctx: CheckContext) -> AsyncIterator[Finding]:
        client = await http_client(ctx)
        for root in origins(ctx.store):
            try:
                base = await baseline(client, root)
            except FetchError:
                continue
            paths = sorted({ap.path for ap in ADMIN_PATHS})
            got = await asyncio.gather(*(self._get(client, root + p) for p in paths))
            answers = dict(zip(paths, got, strict=True))
            reported: set[str] = set()
            for ap in ADMIN_PATHS:
                resp = answers.get(ap.path)
                if resp is None or resp.url in reported or not is_admin_login(resp, ap, base):
                    continue
                reported.add(resp.url)
                yield Finding(
                    self.id,
                    Severity.MEDIUM,
                    f"{'An' if ap.product == 'generic' else 'The ' + ap.product} admin login is reachable "
                    f"from anywhere ({ap.path})",
                    resp.url,
                    detail="Anyone on the internet can try passwords on the shop's admin login. Stolen or "
                    "guessed admin passwords are how most skimmers get into a shop.",
                    remediation=ap.fix.format(path=ap.path.strip("/")),
                    evidence={"status": resp.status, "product": ap.product, "requested": root + ap.path},
                    refs=Refs(pci=("8.4.2", "8.3.4"), cwe=("CWE-284", "CWE-307")),
                    key=ap.path,
                )

    async def _get(self, client: ScopedClient, url: str) -> Response | None:
        try:
            return await client.get(url, follow_redirects=True, max_redirects=3, max_bytes=131072)
        except FetchError:
            return None
