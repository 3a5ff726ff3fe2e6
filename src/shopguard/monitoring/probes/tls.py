"""TLS certificate: trusted for the name, and days until it expires."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time
from datetime import UTC, datetime

from cryptography import x509

from shopguard.monitoring.interface import ProbeContext, ProbeResult, Status
from shopguard.monitoring.settings import TlsMonitor


async def _peer_cert(host: str, port: int, name: str, verify: bool, timeout: float) -> bytes:
    ctx = ssl.create_default_context()
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    _r, w = await asyncio.wait_for(
        asyncio.open_connection(host, port, ssl=ctx, server_hostname=name), timeout=timeout
    )
    try:
        sslobj = w.get_extra_info("ssl_object")
        der = sslobj.getpeercert(binary_form=True) if sslobj is not None else None
    finally:
        w.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await w.wait_closed()
    if not der:
        raise ssl.SSLError("the server sent no certificate")
    return bytes(der)


async def probe(spec: TlsMonitor, key: str, ctx: ProbeContext) -> ProbeResult:
    name = spec.server_name or spec.host
    where = f"{spec.host}:{spec.port}"
    start = time.perf_counter()
    try:
        der = await _peer_cert(spec.host, spec.port, name, spec.verify, spec.timeout_s)
    except ssl.SSLCertVerificationError as exc:
        return ProbeResult(Status.DOWN, f"certificate of {where} is not trusted: {exc.verify_message}")
    except TimeoutError:
        return ProbeResult(
            Status.DOWN, f"{where} did not complete a TLS handshake within {spec.timeout_s:g} s"
        )
    except socket.gaierror as exc:
        return ProbeResult(Status.DOWN, f"DNS lookup of {spec.host} failed ({exc.strerror})")
    except (OSError, ssl.SSLError) as exc:
        return ProbeResult(Status.DOWN, f"TLS handshake with {where} failed: {exc}")
    latency = (time.perf_counter() - start) * 1000.0
    cert = x509.load_der_x509_certificate(der)
    not_after = cert.not_valid_after_utc
    days = (not_after - datetime.fromtimestamp(ctx.wall(), UTC)).total_seconds() / 86400.0
    data = {
        "not_after": not_after.isoformat(),
        "days_left": round(days, 2),
        "subject": cert.subject.rfc4514_string(),
    }
    if days < 0:
        return ProbeResult(
            Status.DOWN, f"certificate expired {-days:.0f} days ago ({not_after:%Y-%m-%d})", latency, data
        )
    if days < spec.warn_days:
        return ProbeResult(
            Status.DOWN,
            f"certificate expires in {days:.0f} days ({not_after:%Y-%m-%d}); renew it",
            latency,
            data,
        )
    return ProbeResult(Status.UP, f"certificate valid for {days:.0f} more days", latency, data)
