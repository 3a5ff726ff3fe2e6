"""Certificate verdicts from facts: expiry countdown, key size, signature, chain, host name.
Certificates are made with cryptography in the test; no network needed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from shopguard.findings import Severity
from shopguard.scanning.web.checks.tls import judge
from shopguard.scanning.web.tls import TlsFacts, host_matches

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
GOOD_PROTOCOLS = {"TLSv1.0": False, "TLSv1.1": False, "TLSv1.2": True, "TLSv1.3": True}


def cert(
    days_left: float, *, key=None, algo=None, names=("shop.example",), issuer="Test CA"
) -> x509.Certificate:
    key = key or ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=60))
        .not_valid_after(NOW + timedelta(days=days_left))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
    )
    return builder.sign(key, algo or hashes.SHA256())


def facts(c: x509.Certificate, trusted: bool = True, trust_error: str | None = None) -> TlsFacts:
    return TlsFacts(
        "shop.example",
        443,
        reachable=True,
        protocols=dict(GOOD_PROTOCOLS),
        weak_families={},
        trusted=trusted,
        trust_error=trust_error,
        cert=c,
    )


def verdicts(f: TlsFacts) -> dict[str, Severity]:
    return {x.key: x.severity for x in judge("scanning.web.tls", f, now=NOW)}


@pytest.mark.parametrize(
    ("days", "sev"),
    [(90, None), (25, Severity.LOW), (10, Severity.MEDIUM), (3, Severity.HIGH), (-1, Severity.CRITICAL)],
)
def test_expiry_countdown(days, sev):
    got = verdicts(facts(cert(days + 0.5)))
    assert got.get("expiry") is sev


def test_small_rsa_key():
    # (SHA-1 signatures cannot be produced with this OpenSSL 3 any more, so that branch is not exercised)
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    got = verdicts(facts(cert(90, key=weak)))
    assert got == {"key-size": Severity.HIGH}


def test_incomplete_chain_and_untrusted_and_wrong_host():
    f = facts(cert(90), trusted=False, trust_error="unable to get local issuer certificate")
    [trust] = [x for x in judge("scanning.web.tls", f, now=NOW) if x.key == "trust"]
    assert "chain is incomplete" in trust.title and "fullchain.pem" in trust.remediation
    other = facts(cert(90, names=("other.example",)))
    assert verdicts(other) == {"hostname": Severity.HIGH}


def test_good_endpoint_gives_nothing():
    assert verdicts(facts(cert(90))) == {}


def test_host_matching_rules():
    assert host_matches("www.shop.example", ["*.shop.example"])
    assert not host_matches("a.b.shop.example", ["*.shop.example"])
    assert not host_matches("shop.example", ["*.shop.example"])
    assert host_matches("127.0.0.1", ["localhost", "127.0.0.1"])
