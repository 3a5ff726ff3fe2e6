"""TLS facts with the standard library's ``ssl`` and ``cryptography`` (no sslyze: AGPL).

Every probe is one handshake, all of them run concurrently, each with its own
timeout; connections go only to addresses the scan's scope allows. Old protocols
are probed at ``@SECLEVEL=0`` so OpenSSL 3 still offers them. Cipher families that
OpenSSL 3 no longer implements at all (RC4, 3DES, DES, EXPORT) are probed with a
hand-made TLS 1.2 ClientHello whose ServerHello tells which suite the server picked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import ssl
import struct
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID

PROTOCOLS: dict[str, ssl.TLSVersion] = {
    "TLSv1.0": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}

# OpenSSL cipher strings for families OpenSSL 3 can still negotiate (TLS 1.2 and below).
OPENSSL_FAMILIES: dict[str, str] = {
    "NULL (no encryption)": "eNULL:@SECLEVEL=0",
    "anonymous (no authentication)": "aNULL:!eNULL:@SECLEVEL=0",
    "static RSA key exchange (no forward secrecy)": "kRSA:!eNULL:!aNULL:@SECLEVEL=0",
    "CBC with SHA-1": "ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA:ECDHE-ECDSA-AES128-SHA:"
    "ECDHE-ECDSA-AES256-SHA:DHE-RSA-AES128-SHA:DHE-RSA-AES256-SHA:AES128-SHA:AES256-SHA:@SECLEVEL=0",
}

# IANA cipher suite ids for families OpenSSL 3 no longer has (raw ClientHello probe).
RAW_FAMILIES: dict[str, tuple[int, ...]] = {
    "RC4": (0x0005, 0x0004, 0xC011, 0xC007, 0x0018, 0x008A, 0xC016),
    "3DES": (0x000A, 0xC012, 0xC008, 0x0016, 0x0013, 0x008B, 0xC017),
    "DES": (0x0009, 0x0015, 0x0012, 0x001A),
    "EXPORT": (0x0003, 0x0006, 0x0008, 0x000B, 0x000E, 0x0011, 0x0014, 0x0017, 0x0019),
}


# Common SSLv3 suites (RSA/DHE with AES, 3DES, RC4) for the SSLv3 probe.
SSL3_SUITES: tuple[int, ...] = (0x002F, 0x0035, 0x000A, 0x0005, 0x0004, 0x0033, 0x0039, 0x0016)


@dataclass(frozen=True)
class Handshake:
    ok: bool
    version: str | None = None
    cipher: str | None = None
    der: bytes | None = None
    error: str | None = None
    verify_error: str | None = None


@dataclass
class TlsFacts:
    host: str
    port: int
    reachable: bool = False
    error: str | None = None
    protocols: dict[str, bool] = field(default_factory=dict)
    weak_families: dict[str, bool] = field(default_factory=dict)
    trusted: bool | None = None
    trust_error: str | None = None
    negotiated: str | None = None
    cipher: str | None = None
    cert: x509.Certificate | None = None
    seconds: float = 0.0

    @property
    def not_after(self) -> datetime | None:
        return self.cert.not_valid_after_utc if self.cert else None

    def days_left(self, now: datetime | None = None) -> int | None:
        if self.cert is None:
            return None
        now = now or datetime.now(UTC)
        return (self.cert.not_valid_after_utc - now).days

    def key_description(self) -> tuple[str, int | None]:
        if self.cert is None:
            return ("unknown", None)
        key = self.cert.public_key()
        if isinstance(key, rsa.RSAPublicKey):
            return ("RSA", key.key_size)
        if isinstance(key, ec.EllipticCurvePublicKey):
            return ("EC", key.curve.key_size)
        if isinstance(key, dsa.DSAPublicKey):
            return ("DSA", key.key_size)
        if isinstance(key, ed25519.Ed25519PublicKey):
            return ("Ed25519", 256)
        if isinstance(key, ed448.Ed448PublicKey):
            return ("Ed448", 456)
        return (type(key).__name__, None)

    def signature_hash(self) -> str | None:
        if self.cert is None:
            return None
        algo = self.cert.signature_hash_algorithm
        return algo.name if algo is not None else None

    def names(self) -> list[str]:
        if self.cert is None:
            return []
        try:
            san = self.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            names = [*san.get_values_for_type(x509.DNSName)]
            names += [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
            if names:
                return names
        except x509.ExtensionNotFound:
            pass
        return [str(a.value) for a in self.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]

    def self_signed(self) -> bool:
        return self.cert is not None and self.cert.issuer == self.cert.subject


def host_matches(host: str, names: list[str]) -> bool:
    """RFC 6125 matching: exact, or one left-most wildcard label; IPs only exactly."""
    host = host.lower().rstrip(".")
    try:
        ip = ipaddress.ip_address(host)
        return any(_same_ip(ip, n) for n in names)
    except ValueError:
        pass
    for name in names:
        n = name.lower().rstrip(".")
        if n == host:
            return True
        head, _, rest = host.partition(".")
        if n.startswith("*.") and rest and head and rest == n[2:]:
            return True
    return False


def _same_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, name: str) -> bool:
    try:
        return ipaddress.ip_address(name) == ip
    except ValueError:
        return False


def _context(
    *,
    version: ssl.TLSVersion | None = None,
    ciphers: str | None = None,
    verify: bool = False,
    cafile: Path | None = None,
) -> ssl.SSLContext:
    if verify:
        ctx = ssl.create_default_context()
        if cafile is not None:
            ctx.load_verify_locations(cafile=str(cafile))
        ctx.check_hostname = True
    else:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        # Probing deprecated protocols is the point: they must be found where still enabled.
        warnings.simplefilter("ignore", DeprecationWarning)
        if version is not None:
            ctx.minimum_version = version
            ctx.maximum_version = version
            if version < ssl.TLSVersion.TLSv1_2:
                ctx.set_ciphers("ALL:@SECLEVEL=0")
        if ciphers is not None:
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2  # TLS 1.3 suites cannot be chosen like this
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.set_ciphers(ciphers)
    return ctx


async def handshake(ip: str, port: int, host: str, ctx: ssl.SSLContext, timeout: float) -> Handshake:
    sni = None if _is_ip(host) else host
    writer = None
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(
                ip,
                port,
                ssl=ctx,
                server_hostname=sni or (host if ctx.check_hostname else None),
                ssl_handshake_timeout=timeout,
            )
            obj = writer.get_extra_info("ssl_object")
            return Handshake(
                True, obj.version(), (obj.cipher() or (None,))[0], obj.getpeercert(binary_form=True)
            )
    except ssl.SSLCertVerificationError as exc:
        return Handshake(False, error="certificate", verify_error=exc.verify_message or str(exc))
    except ssl.SSLError as exc:
        return Handshake(False, error=exc.reason or str(exc))
    except TimeoutError:
        return Handshake(False, error="timed out")
    except OSError as exc:
        return Handshake(False, error=exc.strerror or str(exc))
    finally:
        if writer is not None:
            writer.close()
            try:
                async with asyncio.timeout(1):
                    await writer.wait_closed()
            except (OSError, ssl.SSLError, TimeoutError):
                pass


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


def client_hello(suites: tuple[int, ...], sni: str | None, version: int = 0x0303) -> bytes:
    """A minimal ClientHello (TLS 1.2 by default, 0x0300 for SSLv3) offering only ``suites``."""
    body = struct.pack("!H", version) + os.urandom(32) + b"\x00"
    body += struct.pack("!H", 2 * len(suites)) + b"".join(struct.pack("!H", s) for s in suites)
    body += b"\x01\x00"  # compression: null
    ext = b""
    if sni:
        name = sni.encode("idna")
        entry = b"\x00" + struct.pack("!H", len(name)) + name
        sni_data = struct.pack("!H", len(entry)) + entry
        ext += struct.pack("!HH", 0x0000, len(sni_data)) + sni_data
    # supported groups and point formats so ECDHE suites can be chosen
    groups = struct.pack("!H", 6) + struct.pack("!HHH", 0x0017, 0x0018, 0x001D)
    ext += struct.pack("!HH", 0x000A, len(groups)) + groups
    ext += struct.pack("!HH", 0x000B, 2) + b"\x01\x00"
    sigs = struct.pack("!H", 8) + struct.pack("!HHHH", 0x0401, 0x0501, 0x0201, 0x0403)
    ext += struct.pack("!HH", 0x000D, len(sigs)) + sigs
    body += struct.pack("!H", len(ext)) + ext
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


async def raw_suite_accepted(
    ip: str, port: int, host: str, suites: tuple[int, ...], timeout: float, version: int = 0x0303
) -> bool:
    """True when the server answers the ClientHello with a ServerHello choosing one of ``suites``
    (and, for an SSLv3 hello, agreeing to SSLv3)."""
    writer = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(ip, port)
            writer.write(client_hello(suites, None if _is_ip(host) else host, version))
            await writer.drain()
            head = await reader.readexactly(5)
            if head[0] != 0x16:
                return False  # an alert (handshake failure) or garbage
            length = struct.unpack("!H", head[3:5])[0]
            rec = await reader.readexactly(min(length, 16384))
            if not rec or rec[0] != 0x02 or len(rec) < 39:
                return False
            sid_len = rec[38]
            off = 39 + sid_len
            if len(rec) < off + 2:
                return False
            chosen = struct.unpack("!H", rec[off : off + 2])[0]
            server_version = struct.unpack("!H", rec[4:6])[0]
            return chosen in suites and (version == 0x0303 or server_version == version)
    except (OSError, TimeoutError, asyncio.IncompleteReadError):
        return False
    finally:
        if writer is not None:
            writer.close()


async def gather_facts(
    host: str, port: int, ip: str, *, timeout: float = 5.0, cafile: Path | None = None
) -> TlsFacts:
    """Every TLS fact for one endpoint, with all handshakes in parallel."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    facts = TlsFacts(host, port)
    base = await handshake(ip, port, host, _context(), timeout)
    if not base.ok:
        facts.error = base.error
        facts.seconds = loop.time() - start
        return facts
    facts.reachable = True
    facts.negotiated, facts.cipher = base.version, base.cipher
    if base.der:
        facts.cert = x509.load_der_x509_certificate(base.der)
    names = list(PROTOCOLS)
    fams = list(OPENSSL_FAMILIES)
    raws = list(RAW_FAMILIES)
    jobs = [
        handshake(ip, port, host, _context(verify=True, cafile=cafile), timeout),
        *(handshake(ip, port, host, _context(version=PROTOCOLS[n]), timeout) for n in names),
        *(handshake(ip, port, host, _context(ciphers=OPENSSL_FAMILIES[f]), timeout) for f in fams),
    ]
    raw_jobs = [
        *(raw_suite_accepted(ip, port, host, RAW_FAMILIES[r], timeout) for r in raws),
        raw_suite_accepted(ip, port, host, SSL3_SUITES, timeout, version=0x0300),
    ]
    results, raw_all = await asyncio.gather(asyncio.gather(*jobs), asyncio.gather(*raw_jobs))
    raw_results = raw_all[:-1]
    verified = results[0]
    facts.trusted = verified.ok
    facts.trust_error = verified.verify_error or (None if verified.ok else verified.error)
    facts.protocols["SSLv3"] = raw_all[-1]
    for n, r in zip(names, results[1 : 1 + len(names)], strict=True):
        facts.protocols[n] = r.ok
    for f, r in zip(fams, results[1 + len(names) :], strict=True):
        facts.weak_families[f] = r.ok
    for f, ok in zip(raws, raw_results, strict=True):
        facts.weak_families[f] = ok
    facts.seconds = loop.time() - start
    return facts
