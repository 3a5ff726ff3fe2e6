"""``scanning.web.headers``: security headers on the storefront and the checkout,
graded like the HTTP Observatory (see docs/scanning-web.md for the mapping)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from shopguard.checks import BaseCheck, CheckContext, register_check
from shopguard.findings import Finding, Refs, Severity
from shopguard.scanning.web import grading
from shopguard.scanning.web.client import FetchError, ScopedClient, http_client
from shopguard.scanning.web.observatory import MODIFIERS
from shopguard.scanning.web.targets import Page, fetch_page, pages

CORS_PROBE_ORIGIN = "https://cors-probe.shopguard.invalid"

CSP_FIX = (
    "Start with a report-only policy and tighten it: nginx `add_header Content-Security-Policy "
    "\"default-src 'self'; script-src 'self' https://js.payment-provider.example; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'self'\" always;` (Apache: `Header always set "
    'Content-Security-Policy "..."`). `shopguard pages csp` writes one from the approved script inventory.'
)


@dataclass
class _Pending:
    """One header problem on one page, before pages with the same problem are merged."""

    check_id: str
    severity: Severity
    title: str
    page: Page
    detail: str
    fix: str
    refs: Refs
    evidence: dict[str, object]
    result: str | None


def _finding(
    check_id: str,
    sev: Severity,
    title: str,
    page: Page,
    detail: str,
    fix: str,
    refs: Refs,
    ev: dict[str, object],
    result: str | None = None,
) -> _Pending:
    return _Pending(check_id, sev, title, page, detail, fix, refs, dict(ev), result)


def merge(pending: list[_Pending]) -> list[Finding]:
    """Pages of one store usually share their headers: one finding per problem, naming
    every page that has it, located at the first such page."""
    groups: dict[tuple[str, str], list[_Pending]] = {}
    for p in pending:
        groups.setdefault((p.check_id, p.result or p.title), []).append(p)
    out = []
    for items in groups.values():
        first = items[0]
        labels = [i.page.label for i in items]
        named = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
        evidence = dict(first.evidence)
        if first.result is not None:
            evidence["observatory_result"] = first.result
            evidence["observatory_modifier"] = MODIFIERS[first.result]
        evidence["pages"] = {i.page.label: i.page.url for i in items}
        evidence["page_grades"] = {i.page.label: i.evidence.get("page_grade") for i in items}
        out.append(
            Finding(
                first.check_id,
                max(i.severity for i in items),
                f"{first.title} on the {named} page{'s' if len(labels) > 1 else ''}",
                first.page.url,
                first.detail,
                first.fix,
                evidence,
                Refs(
                    pci=tuple(sorted({r for i in items for r in i.refs.pci})),
                    cwe=tuple(sorted({r for i in items for r in i.refs.cwe})),
                ),
            )
        )
    return out


@register_check
class SecurityHeaders(BaseCheck):
    id = "scanning.web.headers"
    title = "Security headers (CSP, framing, sniffing, referrer, HSTS, CORS)"

    async def run(self, ctx: CheckContext) -> AsyncIterator[Finding]:
        client = await http_client(ctx)
        pending: list[_Pending] = []
        for page in pages(ctx.store):
            try:
                resp, model = await fetch_page(client, page.url)
            except FetchError:
                continue
            if resp.status >= 400 or resp.blocked_redirect:
                continue  # scanning.web.reachable reports it; an error page's headers say little
            g = grading.grade_page(resp, model)
            base = {"page_score": g.score, "page_grade": g.grade, "final_url": resp.url}
            pending.extend(self._judge(page, resp, model, base))
            pending.extend(await self._cors(client, page, base))
        for f in merge(pending):
            yield f

    def _judge(
        self, page: Page, resp: grading.Response, model: grading.PageModel | None, base: dict[str, object]
    ) -> list[_Pending]:
        out: list[_Pending] = []
        cid = self.id
        verdict = grading.csp_verdict(resp, model)
        csp_refs = Refs(pci=("6.4.3",) if page.label == "checkout" else (), cwe=("CWE-693",))
        csp_ev = {**base, "policy": ", ".join(resp.header_values("content-security-policy"))[:2000]}
        r = verdict.result
        if r in ("csp-not-implemented", "csp-not-implemented-but-reporting-enabled"):
            out.append(
                _finding(
                    cid + ".csp",
                    Severity.MEDIUM,
                    "No Content-Security-Policy",
                    page,
                    "Without a CSP the browser runs any script that gets into the page, including a "
                    "card skimmer injected through a plugin or a compromised third party.",
                    CSP_FIX,
                    csp_refs,
                    csp_ev,
                    r,
                )
            )
        elif r in (
            "csp-header-invalid",
            "csp-implemented-with-unsafe-inline",
            "csp-implemented-with-insecure-scheme",
        ):
            out.append(
                _finding(
                    cid + ".csp",
                    Severity.MEDIUM,
                    "The Content-Security-Policy does not stop injected scripts",
                    page,
                    "The policy is there but: "
                    + "; ".join(p for p in verdict.problems if "frame" not in p)
                    + ".",
                    "Remove 'unsafe-inline', wildcards and http: sources from script-src (use nonces or "
                    "hashes for inline scripts) and add object-src 'none'. " + CSP_FIX,
                    csp_refs,
                    csp_ev,
                    r,
                )
            )
        elif r in (
            "csp-implemented-with-unsafe-eval",
            "csp-implemented-with-insecure-scheme-in-passive-content-only",
        ):
            out.append(
                _finding(
                    cid + ".csp",
                    Severity.LOW,
                    "The Content-Security-Policy is weaker than it could be",
                    page,
                    "The policy is there but: "
                    + "; ".join(p for p in verdict.problems if "frame" not in p)
                    + ".",
                    "Remove 'unsafe-eval' (rewrite code that uses eval/new Function) and load every "
                    "resource over https:.",
                    csp_refs,
                    csp_ev,
                    r,
                )
            )
        xcto = grading.xcto_result(resp)
        if xcto != "x-content-type-options-nosniff":
            out.append(
                _finding(
                    cid + ".x-content-type-options",
                    Severity.LOW,
                    "X-Content-Type-Options: nosniff is missing",
                    page,
                    "Browsers may guess a file's type and run an uploaded file as a script.",
                    "nginx: `add_header X-Content-Type-Options nosniff always;` Apache: "
                    "`Header always set X-Content-Type-Options nosniff`.",
                    Refs(cwe=("CWE-693",)),
                    {**base, "value": resp.headers.get("x-content-type-options")},
                    xcto,
                )
            )
        xfo = grading.xfo_result(resp, verdict)
        if xfo in ("x-frame-options-not-implemented", "x-frame-options-header-invalid"):
            out.append(
                _finding(
                    cid + ".x-frame-options",
                    Severity.MEDIUM,
                    "The page can be framed by other sites (no X-Frame-Options or frame-ancestors)",
                    page,
                    "Another site can show this page in an invisible frame and trick customers into "
                    "clicking (clickjacking).",
                    "nginx: `add_header X-Frame-Options SAMEORIGIN always;` or CSP `frame-ancestors 'self'`; "
                    "Apache: `Header always set X-Frame-Options SAMEORIGIN`.",
                    Refs(cwe=("CWE-1021",)),
                    {**base, "value": resp.headers.get("x-frame-options")},
                    xfo,
                )
            )
        ref = grading.referrer_result(resp)
        if ref in ("referrer-policy-unsafe", "referrer-policy-header-invalid"):
            out.append(
                _finding(
                    cid + ".referrer-policy",
                    Severity.LOW,
                    "The Referrer-Policy leaks full page addresses to other sites",
                    page,
                    "Order and account page addresses (which may hold tokens) are sent to third parties.",
                    "nginx: `add_header Referrer-Policy strict-origin-when-cross-origin always;`",
                    Refs(cwe=("CWE-200",)),
                    {**base, "value": resp.headers.get("referrer-policy")},
                    ref,
                )
            )
        if resp.headers.get("permissions-policy") is None:
            out.append(
                _finding(
                    cid + ".permissions-policy",
                    Severity.INFO,
                    "No Permissions-Policy",
                    page,
                    "A Permissions-Policy switches off browser features the shop does not use (camera, "
                    "microphone, geolocation), so an injected script cannot use them. The Observatory "
                    "does not score it.",
                    "nginx: `add_header Permissions-Policy "
                    '"camera=(), microphone=(), geolocation=()" always;`',
                    Refs(),
                    dict(base),
                )
            )
        hsts = grading.hsts_result(resp)
        hsts_ev = {
            **base,
            "max_age": hsts.max_age,
            "include_subdomains": hsts.include_subdomains,
            "preload": hsts.preload,
            "value": resp.headers.get("strict-transport-security"),
        }
        hsts_fix = (
            'nginx: `add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;` '
            'Apache: `Header always set Strict-Transport-Security "max-age=31536000; includeSubDomains"`.'
        )
        if hsts.result in ("hsts-not-implemented", "hsts-header-invalid"):
            out.append(
                _finding(
                    cid + ".hsts",
                    Severity.MEDIUM,
                    "No valid Strict-Transport-Security (HSTS) header",
                    page,
                    "Without HSTS a customer's browser can be pushed back to unencrypted HTTP by "
                    "anyone on the network path (SSL stripping).",
                    hsts_fix,
                    Refs(pci=("4.2.1",), cwe=("CWE-319",)),
                    hsts_ev,
                    hsts.result,
                )
            )
        elif hsts.result == "hsts-implemented-max-age-less-than-six-months":
            out.append(
                _finding(
                    cid + ".hsts",
                    Severity.LOW,
                    f"HSTS max-age is short ({hsts.max_age} s, under six months)",
                    page,
                    "Browsers forget the HTTPS-only rule soon after a visit.",
                    hsts_fix,
                    Refs(pci=("4.2.1",), cwe=("CWE-319",)),
                    hsts_ev,
                    hsts.result,
                )
            )
        corp = grading.corp_result(resp)
        if corp == "corp-header-invalid":
            out.append(
                _finding(
                    cid + ".corp",
                    Severity.LOW,
                    "Invalid Cross-Origin-Resource-Policy header",
                    page,
                    "Browsers ignore a value they do not know.",
                    "Use same-origin, same-site or cross-origin.",
                    Refs(),
                    {**base, "value": resp.headers.get("cross-origin-resource-policy")},
                    corp,
                )
            )
        return out

    async def _cors(self, client: ScopedClient, page: Page, base: dict[str, object]) -> list[_Pending]:
        try:
            resp = await client.request("GET", page.url, headers={"Origin": CORS_PROBE_ORIGIN})
        except FetchError:
            return []
        acao = (resp.headers.get("access-control-allow-origin") or "").strip()
        creds = (resp.headers.get("access-control-allow-credentials") or "").strip().lower() == "true"
        ev = {**base, "probe_origin": CORS_PROBE_ORIGIN, "allow_origin": acao, "allow_credentials": creds}
        fix = (
            "Only allow the origins that need it, from a fixed list; never echo the request's Origin "
            "together with Access-Control-Allow-Credentials: true."
        )
        if acao in (CORS_PROBE_ORIGIN, "null") and creds:
            result = "cross-origin-resource-sharing-implemented-with-universal-access"
            return [
                _finding(
                    self.id + ".cors",
                    Severity.HIGH,
                    "Any website can read this page with the customer's login (CORS)",
                    page,
                    "The server echoes any Origin and allows credentials, so a malicious site "
                    "a customer visits can read their account and order pages.",
                    fix,
                    Refs(cwe=("CWE-942",)),
                    ev,
                    result,
                )
            ]
        elif acao == CORS_PROBE_ORIGIN or acao == "null":
            return [
                _finding(
                    self.id + ".cors",
                    Severity.LOW,
                    "The server allows any origin to read this page (CORS)",
                    page,
                    "The server echoes whatever Origin asks. Without credentials this exposes only "
                    "public content, but it usually means the CORS rule is broken.",
                    fix,
                    Refs(cwe=("CWE-942",)),
                    ev,
                    "cross-origin-resource-sharing-implemented-with-public-access",
                )
            ]
        return []
