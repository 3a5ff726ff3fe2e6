"""Classify a file by its content, never by its name.

Malware hides in ``.ico``, ``.txt``, ``.htaccess`` and files with no extension,
so the kind that decides which rules and heuristics apply comes from the bytes.
Only the config-file kind (``.htaccess``, ``.user.ini``) uses the name, because
those files are plain text whose meaning comes from where the server reads them.
"""

from __future__ import annotations

import re
from enum import StrEnum

HEAD = 8192
"""Bytes looked at to decide the kind (PHP tags are also searched in the whole window)."""


class Kind(StrEnum):
    PHP = "php"
    JS = "js"
    HTML = "html"
    SERVER_CONFIG = "config"
    """``.htaccess``, ``.user.ini``, ``php.ini``: read by the web server or PHP."""
    TEXT = "text"
    IMAGE = "image"
    BINARY = "binary"


_IMAGE_MAGIC = (
    b"GIF87a",
    b"GIF89a",
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"\x00\x00\x01\x00",  # .ico
    b"BM",
    b"RIFF",  # webp
    b"II*\x00",
    b"MM\x00*",
)
_PHP_OPEN = re.compile(rb"<\?(?:[pP][hH][pP]\b|=|[$@](?=[A-Za-z_{$]))")
_SHORT_OPEN_AT_START = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<\?[\s$@/(]")
_CONTROLS = bytes(b for b in range(32) if b < 9 or b > 13)
_HTML_TOKENS = (
    b"<!doctype html",
    b"<html",
    b"<head",
    b"<body",
    b"<script",
    b"<form",
    b"<iframe",
    b"<div",
    b"<meta",
)
_JS_TOKENS = (
    b"function",
    b"var ",
    b"=>",
    b"document.",
    b"window.",
    b"const ",
    b"let ",
    b"require(",
    b"export ",
)
_CONFIG_NAMES = (b".htaccess", b".user.ini", b"php.ini", b".htpasswd")


def is_text(head: bytes) -> bool:
    """Text if there is no NUL byte and few control characters in the head."""
    if not head:
        return True
    if b"\x00" in head:
        return False
    sample = head[:2048]
    controls = len(sample) - len(sample.translate(None, _CONTROLS))
    return controls * 100 < len(sample) * 3


def classify(name: bytes, data: bytes) -> Kind:
    """The kind of a file from its first bytes (``name`` only for server config files)."""
    head = data[:HEAD]
    base = name.rsplit(b"/", 1)[-1].lower()
    if base in _CONFIG_NAMES:
        return Kind.SERVER_CONFIG
    if (head.startswith(_IMAGE_MAGIC) and not head.startswith(b"BM")) or _looks_bmp(head):
        return Kind.IMAGE
    text = is_text(head)
    # Binary files (compiled Python, fonts, archives) often quote "<?php" in their
    # strings; they count as PHP only when they start as PHP.
    if has_php_open(data) if text else _PHP_OPEN.match(head.lstrip(b"\xef\xbb\xbf \t\r\n")):
        return Kind.PHP
    if not text:
        return Kind.BINARY
    low = head[:4096].lower()
    if b"<" in low and any(t in low for t in _HTML_TOKENS):
        return Kind.HTML
    if any(t in low for t in _JS_TOKENS):
        return Kind.JS
    return Kind.TEXT


def has_php_open(data: bytes) -> bool:
    """``<?php`` (any case), ``<?=`` or a short tag followed by code (``<?$x=``)
    anywhere, or a short tag at the very start; found with a fast byte search."""
    if _SHORT_OPEN_AT_START.match(data[:64]):
        return True
    pos = data.find(b"<?")
    while pos != -1:
        if _PHP_OPEN.match(data, pos):
            return True
        pos = data.find(b"<?", pos + 2)
    return False


def _looks_bmp(head: bytes) -> bool:
    return len(head) > 26 and head.startswith(b"BM") and head[14] in (12, 40, 56, 108, 124)
