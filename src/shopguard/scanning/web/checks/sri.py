"""``scanning.web.sri``: third-party scripts carry Subresource Integrity, and no script
loads over plain HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

from shopguard.checks import BaseCheck, CheckContext, register_check
from shopguard.findings import Finding, Refs, Severity
from shopguard.scanning.web import grading
from shopguard.scanning.web.client import FetchError, http_client
from shopguard.scanning.web.observatory import MODIFIERS
from shopguard.scanning.web.targets import fetch_page, pages

SRI_FIX = (
    'Add integrity="sha384-..." crossorigin="anonymous" to the <script> tag (compute it with '
    "`curl -s URL | openssl dgst -sha384 -binary | openssl base64 -A`), or host a reviewed copy of the "
    "script on your own domain. Scripts a provider changes on purpose (payment SDKs) cannot take SRI: "
    "approve them with `shopguard pages approve` so the page monitor watches them."
)


@register_check
class SubresourceIntegrity(BaseCheck):
    id = "scanning.web.sri"
    title = "Third-party scripts are pinned with Subresource Integrity"

    async def run(self, ctx: CheckContext) -> AsyncIterator[Finding]:
        client = await http_client(ctx)
        for page in pages(ctx.store):
            try:
                resp, model = await fetch_page(client, page.url)
            except FetchError:
                continue
            if model is None or resp.status >= 400:
                continue
            v = grading.sri_result(resp, model)
            payment = page.label in ("checkout", "basket")
            for src in v.missing:
                yield Finding(
                    self.id,
                    Severity.MEDIUM if payment else Severity.LOW,
                    f"Third-party script without integrity check on the {page.label} page",
                    page.url,
                    detail=f"{src} is loaded from another site without an integrity attribute. If that "
                    "site is compromised, the script can be changed into a card skimmer and the browser "
                    "will run it."
                    + (
                        " On a payment page PCI DSS 6.4.3 asks that every script be "
                        "authorised and its integrity assured."
                        if payment
                        else ""
                    ),
                    remediation=SRI_FIX,
                    evidence={
                        "script": src,
                        "observatory_result": v.result,
                        "observatory_modifier": MODIFIERS[v.result],
                    },
                    refs=Refs(pci=("6.4.3",) if payment else (), cwe=("CWE-353", "CWE-829")),
                    key=src,
                )
