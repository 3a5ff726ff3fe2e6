"""``scanning.web.tls``: protocols, cipher families and the certificate of every HTTPS
endpoint of the store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit

from shopguard.checks import BaseCheck, CheckContext, register_check
from shopguard.findings import Finding, Refs, Severity
from shopguard.scanning.web.client import FetchError, http_client, resolve_checked
from shopguard.scanning.web.targets import pages
from shopguard.scanning.web.tls import TlsFacts, gather_facts, host_matches

REFS = Refs(pci=("4.2.1",), cwe=("CWE-327",))
CERT_REFS = Refs(pci=("4.2.1",), cwe=("CWE-295",))
PROTOCOL_FIX = (
    "nginx: `ssl_protocols TLSv1.2 TLSv1.3;` Apache: `SSLProtocol -all +TLSv1.2 +TLSv1.3`. "
    "(Mozilla's 'intermediate' profile: https://ssl-config.mozilla.org/)"
)
CIPHER_FIX = (
    "Use Mozilla's intermediate cipher list, e.g. nginx `ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:"
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;` (Apache: SSLCipherSuite with the same list)."
)
RENEW = "Renew the certificate (Let's Encrypt: `certbot renew`; check that the renewal timer runs)."
FAMILY_SEVERITY = {
    "NULL (no encryption)": Severity.CRITICAL,
    "anonymous (no authentication)": Severity.CRITICAL,
    "EXPORT": Severity.CRITICAL,
    "RC4": Severity.HIGH,
    "DES": Severity.HIGH,
    "3DES": Severity.HIGH,
    "static RSA key exchange (no forward secrecy)": Severity.LOW,
    "CBC with SHA-1": Severity.LOW,
}


def endpoints(ctx: CheckContext) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for page in pages(ctx.store):
        p = urlsplit(page.url)
        if p.scheme == "https" and p.hostname:
            ep = (p.hostname, p.port or 443)
            if ep not in out:
                out.append(ep)
    return out


@register_check
class TlsCheck(BaseCheck):
    id = "scanning.web.tls"
    title = "TLS protocols, ciphers and certificate"

    async def run(self, ctx: CheckContext) -> AsyncIterator[Finding]:
        client = await http_client(ctx)
        timeout = min(ctx.store.web.timeout_s, 8.0)
        for host, port in endpoints(ctx):
            try:
                ip = (await resolve_checked(host, port, client.scope))[0]
            except FetchError:
                continue  # reachable/https checks report it
            facts = await gather_facts(host, port, ip, timeout=timeout, cafile=ctx.store.web.ca_bundle)
            for f in judge(self.id, facts):
                yield f


def judge(check_id: str, facts: TlsFacts, now: datetime | None = None) -> Iterator[Finding]:
    where = f"{facts.host}:{facts.port}"
    base: dict[str, object] = {
        "negotiated": facts.negotiated,
        "cipher": facts.cipher,
        "seconds": round(facts.seconds, 3),
    }
    if not facts.reachable:
        yield Finding(
            check_id + ".handshake",
            Severity.HIGH,
            "HTTPS does not work: the TLS handshake fails",
            where,
            detail=f"The server did not complete a TLS handshake ({facts.error}). Browsers show an error "
            "page instead of the shop.",
            remediation="Check the web server's TLS configuration and error log (certificate and key files, "
            "`listen 443 ssl;`).",
            evidence={"error": facts.error},
            refs=REFS,
        )
        return
    if facts.protocols.get("SSLv3"):
        yield Finding(
            check_id + ".protocols",
            Severity.CRITICAL,
            "SSLv3 is accepted",
            where,
            detail="SSLv3 is broken (POODLE): an attacker on the network can decrypt parts of the traffic.",
            remediation=PROTOCOL_FIX,
            evidence={**base, "protocols": facts.protocols},
            refs=REFS,
            key="sslv3",
        )
    old = [p for p in ("TLSv1.0", "TLSv1.1") if facts.protocols.get(p)]
    if old:
        yield Finding(
            check_id + ".protocols",
            Severity.HIGH,
            f"Outdated TLS versions are accepted ({', '.join(old)})",
            where,
            detail="TLS 1.0 and 1.1 have known weaknesses; PCI DSS does not accept them as strong "
            "cryptography, and ASV scans fail on them.",
            remediation=PROTOCOL_FIX,
            evidence={**base, "protocols": facts.protocols},
            refs=REFS,
            key="old",
        )
    if not facts.protocols.get("TLSv1.2") and not facts.protocols.get("TLSv1.3"):
        yield Finding(
            check_id + ".protocols",
            Severity.CRITICAL,
            "Neither TLS 1.2 nor TLS 1.3 is available",
            where,
            detail="Only outdated protocols are offered.",
            remediation=PROTOCOL_FIX,
            evidence={**base, "protocols": facts.protocols},
            refs=REFS,
            key="modern",
        )
    elif not facts.protocols.get("TLSv1.3"):
        yield Finding(
            check_id + ".protocols",
            Severity.LOW,
            "TLS 1.3 is not offered",
            where,
            detail="TLS 1.3 is faster and drops every legacy cipher; all current browsers use it.",
            remediation=PROTOCOL_FIX + " (TLS 1.3 needs OpenSSL 1.1.1 or newer on the server.)",
            evidence={**base, "protocols": facts.protocols},
            refs=REFS,
            key="tls13",
        )
    for family, offered in facts.weak_families.items():
        if offered:
            yield Finding(
                check_id + ".ciphers",
                FAMILY_SEVERITY.get(family, Severity.MEDIUM),
                f"Weak cipher family offered: {family}",
                where,
                detail="A client (or an attacker in the middle) can agree on a cipher that protects the "
                "connection poorly or not at all.",
                remediation=CIPHER_FIX,
                evidence={**base, "family": family},
                refs=REFS,
                key=family,
            )
    yield from _certificate(check_id, facts, where, base, now)


def _certificate(
    check_id: str, facts: TlsFacts, where: str, base: dict[str, object], now: datetime | None
) -> Iterator[Finding]:
    if facts.cert is None:
        return
    now = now or datetime.now(UTC)
    cid = check_id + ".certificate"
    names = facts.names()
    kind, bits = facts.key_description()
    ev = {
        **base,
        "subject": facts.cert.subject.rfc4514_string(),
        "issuer": facts.cert.issuer.rfc4514_string(),
        "names": names[:20],
        "not_after": facts.cert.not_valid_after_utc.isoformat(),
        "key": f"{kind} {bits}" if bits else kind,
        "signature_hash": facts.signature_hash(),
        "trust_error": facts.trust_error,
    }
    if not host_matches(facts.host, names):
        yield Finding(
            cid,
            Severity.HIGH,
            f"The certificate is not valid for {facts.host}",
            where,
            detail=f"It names {', '.join(names[:5]) or 'no host'}; browsers refuse the connection.",
            remediation=f"Install a certificate that covers this host name (certbot -d {facts.host}).",
            evidence=ev,
            refs=CERT_REFS,
            key="hostname",
        )
    days = facts.days_left(now) or 0
    if facts.cert.not_valid_after_utc < now:
        yield Finding(
            cid,
            Severity.CRITICAL,
            "The certificate has expired",
            where,
            detail=f"It expired on {facts.cert.not_valid_after_utc:%Y-%m-%d}; browsers block the shop.",
            remediation=RENEW,
            evidence=ev,
            refs=CERT_REFS,
            key="expiry",
        )
    elif days <= 30:
        sev = Severity.HIGH if days <= 7 else Severity.MEDIUM if days <= 14 else Severity.LOW
        yield Finding(
            cid,
            sev,
            f"The certificate expires in {days} days",
            where,
            detail=f"It is valid until {facts.cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC.",
            remediation=RENEW,
            evidence={**ev, "days_left": days},
            refs=CERT_REFS,
            key="expiry",
        )
    elif facts.cert.not_valid_before_utc > now:
        yield Finding(
            cid,
            Severity.HIGH,
            "The certificate is not valid yet",
            where,
            detail="Its start date is in the future (or the server clock is wrong).",
            remediation=RENEW,
            evidence=ev,
            refs=CERT_REFS,
            key="not-yet",
        )
    if facts.trusted is False and host_matches(facts.host, names) and facts.cert.not_valid_after_utc >= now:
        why = facts.trust_error or "unknown reason"
        chain = "unable to get local issuer" in why
        self_signed = " (self-signed)" if facts.self_signed() else ""
        title = (
            "The certificate chain is incomplete (intermediate certificate missing)"
            if chain
            else "The certificate is not trusted by browsers" + self_signed
        )
        yield Finding(
            cid,
            Severity.HIGH,
            title,
            where,
            detail=f"Verification failed: {why}. Customers see a security warning, and "
            "anyone could impersonate the shop with their own certificate.",
            remediation=(
                "Serve the full chain: nginx `ssl_certificate` must point to fullchain.pem, not cert.pem."
                if chain
                else "Use a certificate from a public CA (Let's Encrypt is free)."
            ),
            evidence=ev,
            refs=CERT_REFS,
            key="trust",
        )
    if (kind == "RSA" and bits is not None and bits < 2048) or (
        kind == "EC" and bits is not None and bits < 256
    ):
        yield Finding(
            cid,
            Severity.HIGH,
            f"The certificate key is too small ({kind} {bits} bits)",
            where,
            detail="Keys this small can be broken with enough computing power.",
            remediation="Issue a new certificate with an RSA 2048+ or ECDSA P-256 key.",
            evidence=ev,
            refs=CERT_REFS,
            key="key-size",
        )
    sig = (facts.signature_hash() or "").lower()
    if sig in ("md5", "sha1") and not facts.self_signed():
        yield Finding(
            cid,
            Severity.HIGH,
            f"The certificate is signed with {sig.upper()}",
            where,
            detail="Browsers reject these signatures because forgeries are practical.",
            remediation="Reissue the certificate (any current CA signs with SHA-256).",
            evidence=ev,
            refs=CERT_REFS,
            key="signature",
        )
