"""Short, harmless excerpts of matched code for findings and reports."""

from __future__ import annotations

import re

MAX_EXCERPT = 160

_URL = re.compile(r"(?i)\b(h)(tt)(ps?)(://)([^\s'\"<>)]*)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _defang_url(m: re.Match[str]) -> str:
    host_path = m.group(5)
    host, sep, rest = host_path.partition("/")
    return f"{m.group(1)}xx{m.group(3)}[://]{host.replace('.', '[.]')}{sep}{rest}"


def defang(text: str, limit: int = MAX_EXCERPT) -> str:
    """Cut to ``limit`` characters, make URLs unclickable (``hxxps[://]a[.]b``),
    break ``<script``/``<?php`` openers and show control characters as escapes."""
    text = text.replace("\r", "").replace("\n", "⏎").replace("\t", " ")
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = _URL.sub(_defang_url, text)
    text = re.sub(r"(?i)<(script|\?php|iframe)", r"<_\1", text)
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


def excerpt(data: bytes, start: int, length: int, limit: int = MAX_EXCERPT) -> str:
    """The defanged text around ``data[start:start+length]`` (some context before)."""
    lead = 24
    lo = max(0, start - lead)
    nl = data.rfind(b"\n", lo, start)
    if nl != -1:
        lo = nl + 1
    hi = min(len(data), start + max(length, 1) + 40, lo + limit * 2)
    text = data[lo:hi].decode("utf-8", "backslashreplace")
    return defang(text, limit)


def line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1
