"""TCP port open."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import time

from shopguard.monitoring.interface import ProbeContext, ProbeResult, Status
from shopguard.monitoring.settings import TcpMonitor


async def probe(spec: TcpMonitor, key: str, ctx: ProbeContext) -> ProbeResult:
    start = time.perf_counter()
    try:
        _reader, writer = await asyncio.wait_for(
            asyncio.open_connection(spec.host, spec.port), timeout=spec.timeout_s
        )
    except TimeoutError:
        return ProbeResult(Status.DOWN, f"{spec.host}:{spec.port} did not answer within {spec.timeout_s:g} s")
    except socket.gaierror as exc:
        return ProbeResult(Status.DOWN, f"DNS lookup of {spec.host} failed ({exc.strerror})")
    except OSError as exc:
        if (
            isinstance(exc, ConnectionRefusedError)
            or exc.errno == errno.ECONNREFUSED
            or "Connect call failed" in str(exc)
        ):
            return ProbeResult(Status.DOWN, f"{spec.host}:{spec.port}: connection refused")
        return ProbeResult(Status.DOWN, f"{spec.host}:{spec.port}: {exc.strerror or exc}")
    latency = (time.perf_counter() - start) * 1000.0
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return ProbeResult(Status.UP, f"{spec.host}:{spec.port} open", latency)
