"""HTTP(S): status, latency, keyword present/absent, content hash change."""

from __future__ import annotations

import errno
import hashlib
import re
import time

import httpx

from shopguard.monitoring.interface import ProbeContext, ProbeResult, Status
from shopguard.monitoring.settings import HttpMonitor


def describe_error(exc: BaseException) -> str:
    """Plain words for a transport failure (no URL credentials, no stack)."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectTimeout):
        return "connection timed out"
    if isinstance(exc, httpx.ReadTimeout | httpx.WriteTimeout | httpx.PoolTimeout):
        return "no answer within the timeout"
    if isinstance(exc, httpx.ConnectError):
        cause: BaseException | None = exc
        while cause is not None:
            if (
                isinstance(cause, ConnectionRefusedError)
                or getattr(cause, "errno", None) == errno.ECONNREFUSED
            ):
                return "connection refused"
            cause = cause.__cause__ or cause.__context__
        low = text.lower()
        if "name or service not known" in low or "nodename" in low or "name resolution" in low:
            return f"DNS lookup failed ({text})"
        if "refused" in low:
            return "connection refused"
        if "certificate" in low or "ssl" in low:
            return f"TLS error: {text}"
        return f"cannot connect: {text}"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.LocalProtocolError):
        return f"not a valid HTTP answer: {text}"
    return f"{type(exc).__name__}: {text}"[:300]


_SRC = re.compile(r"""<(script|iframe)\b[^>]*?\bsrc\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
_ACTION = re.compile(r"""<form\b[^>]*?\baction\s*=\s*["']?([^"'\s>]*)""", re.IGNORECASE)
_INLINE = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.IGNORECASE)


def page_shape(html: str) -> str:
    """What a skimmer changes: script/iframe sources, form targets, inline script count."""
    srcs = sorted({f"{tag.lower()}:{url.split('?', 1)[0]}" for tag, url in _SRC.findall(html)})
    actions = sorted({a.split("?", 1)[0] for a in _ACTION.findall(html)})
    return "\n".join([*srcs, *(f"form:{a}" for a in actions), f"inline-scripts:{len(_INLINE.findall(html))}"])


async def probe(spec: HttpMonitor, key: str, ctx: ProbeContext) -> ProbeResult:
    client = ctx.http if spec.verify_tls else ctx.http_insecure
    start = time.perf_counter()
    need_body = bool(spec.keyword or spec.absent_keyword or spec.watch_content or spec.watch_scripts)
    try:
        req = client.build_request(spec.method, spec.url, timeout=spec.timeout_s)
        resp = await client.send(req, stream=True, follow_redirects=spec.follow_redirects)
        try:
            body = b""
            if need_body:
                chunks: list[bytes] = []
                size = 0
                async for chunk in resp.aiter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size >= spec.max_body_bytes:
                        break
                body = b"".join(chunks)[: spec.max_body_bytes]
        finally:
            await resp.aclose()
    except httpx.HTTPError as exc:
        return ProbeResult(Status.DOWN, describe_error(exc))
    except ValueError as exc:  # e.g. an unparseable URL or header
        return ProbeResult(Status.DOWN, f"invalid answer or URL: {exc}")
    latency = (time.perf_counter() - start) * 1000.0
    code = resp.status_code
    data: dict[str, object] = {"status_code": code}
    expected = spec.expect_status
    if (expected and code not in expected) or (not expected and not 200 <= code < 400):
        want = ", ".join(map(str, expected)) if expected else "2xx/3xx"
        return ProbeResult(Status.DOWN, f"HTTP {code} (expected {want})", latency, data)
    if need_body:
        text = body.decode(resp.encoding or "utf-8", errors="replace")
        if spec.keyword and spec.keyword not in text:
            return ProbeResult(Status.DOWN, f"expected text {spec.keyword!r} not found", latency, data)
        if spec.absent_keyword and spec.absent_keyword in text:
            return ProbeResult(Status.DOWN, f"unwanted text {spec.absent_keyword!r} found", latency, data)
        if spec.watch_content or spec.watch_scripts:
            digest = hashlib.sha256(body if spec.watch_content else page_shape(text).encode()).hexdigest()
            data["content_sha256"] = digest
            before = ctx.extra.get(key, {}).get("content_sha256")
            ctx.extra.setdefault(key, {})["content_sha256"] = digest
            if before is not None and before != digest:
                data["changed_from"] = before
    if spec.max_latency_ms is not None and latency > spec.max_latency_ms:
        return ProbeResult(
            Status.DOWN, f"slow: {latency:.0f} ms (limit {spec.max_latency_ms:.0f} ms)", latency, data
        )
    return ProbeResult(Status.UP, f"HTTP {code}", latency, data)
