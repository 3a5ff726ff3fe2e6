"""Ecosystem-correct version comparison.

PyPI (PEP 440), npm (semver), Debian and RPM versions are compared with
``univers``. Composer versions use our own key: univers' ``ComposerVersion``
treats Magento's ``2.4.3-p1`` as a pre-release of 2.4.3 and orders ``RC`` below
``beta``, both the opposite of Composer (``-p``/``-patch`` is a later release;
stability order is dev < alpha < beta < RC < stable < patch).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from univers import versions as uv


class BadVersion(ValueError):
    """A version string the ecosystem's rules cannot read."""


_STABILITY = {
    "dev": 0,
    "alpha": 1,
    "a": 1,
    "beta": 2,
    "b": 2,
    "rc": 3,
    "": 4,
    "stable": 4,
    "patch": 5,
    "p": 5,
    "pl": 5,
}
_COMPOSER_RE = re.compile(
    r"^v?(\d+(?:\.\d+){0,3})(?:[.\-_+]?(dev|stable|alpha|beta|rc|patch|pl|a|b|p)[.\-]?(\d+)?)?(?:[-+].*)?$",
    re.IGNORECASE,
)


def composer_key(text: str) -> tuple[Any, ...]:
    """Sort key following Composer's VersionParser normalisation."""
    m = _COMPOSER_RE.match(text.strip())
    if not m:
        raise BadVersion(f"{text!r} is not a Composer version")
    nums = [int(p) for p in m.group(1).split(".")]
    nums += [0] * (4 - len(nums))
    stab = _STABILITY[(m.group(2) or "").lower()]
    return (*nums, stab, int(m.group(3) or 0))


_NUM_RE = re.compile(r"\d+|[A-Za-z]+")


def generic_key(text: str) -> tuple[Any, ...]:
    """Numeric-first key for server software (``1.24.0``, ``10.11.6``, ``8.2.7-1``)."""
    core = re.match(r"^v?(\d+(?:\.\d+)*)(.*)$", text.strip())
    if not core:
        raise BadVersion(f"{text!r} does not start with a number")
    nums = tuple(int(p) for p in core.group(1).split("."))
    nums += (0,) * (4 - len(nums))
    rest = core.group(2)
    # a trailing letter part (1.1.1w) sorts after the bare number; "-rc1" before it
    pre = -1 if re.match(r"^[-.]?(alpha|beta|rc|a|b|dev)", rest, re.I) else 0
    return (*nums, pre, tuple((0, int(t)) if t.isdigit() else (1, t) for t in _NUM_RE.findall(rest)))


# PHP's version_compare() special forms (ext/standard/versioning.c): a part that matches none of
# them sorts below "dev"; a number ranks as "#"; a missing part compares as "#" against a word and
# below any number ("1.0" < "1.0.0" but "1.0rc1" < "1.0" < "1.0pl1").
_PHP_FORMS: tuple[tuple[str, int], ...] = (
    ("dev", 1),
    ("alpha", 2),
    ("a", 2),
    ("beta", 3),
    ("b", 3),
    ("RC", 4),
    ("rc", 4),
    ("#", 5),
    ("pl", 6),
    ("p", 6),
)
_PHP_SPLIT = re.compile(r"\d+|[^\d.]+")
_PHP_END = (5, -1)


def php_version_key(text: str) -> tuple[tuple[int, int], ...]:
    """Sort key that orders versions exactly as PHP's ``version_compare()`` does.

    WordPress plugins and themes are versioned by their authors with no rule, and WordPress,
    WP-CLI and the Wordfence feed all compare them with ``version_compare()``; so do we.
    """
    t = text.strip()
    if not t or not t[0].isalnum():
        raise BadVersion(f"{text!r} is not a version")
    canon = re.sub(r"[-_+]", ".", t)
    parts: list[tuple[int, int]] = []
    for tok in _PHP_SPLIT.findall(canon):
        if tok.isdigit():
            parts.append((5, int(tok)))
        else:
            parts.append(next(((rank, 0) for form, rank in _PHP_FORMS if tok.startswith(form)), (0, 0)))
    if not parts:
        raise BadVersion(f"{text!r} is not a version")
    return (*parts, _PHP_END)


_UNIVERS = {
    "PyPI": uv.PypiVersion,
    "npm": uv.SemverVersion,
    "SEMVER": uv.SemverVersion,
    "retirejs": uv.SemverVersion,
    "Debian": uv.DebianVersion,
    "Ubuntu": uv.DebianVersion,
    "Red Hat": uv.RpmVersion,
    "AlmaLinux": uv.RpmVersion,
    "Rocky Linux": uv.RpmVersion,
}

_JS_PRE_RE = re.compile(r"^(\d+(?:\.\d+)*)([a-z]+\d*)$", re.I)


def scheme_of(ecosystem: str) -> str:
    """The comparison scheme for an OSV ecosystem (``Debian:12`` -> ``Debian``)."""
    base = ecosystem.split(":", 1)[0]
    if base in _UNIVERS or base in ("Packagist", "WordPress"):
        return base
    return "generic"


@lru_cache(maxsize=200_000)
def parse(scheme: str, text: str) -> Any:
    """A comparable object for ``text`` under ``scheme``; raises BadVersion."""
    if scheme == "Packagist":
        return composer_key(text)
    if scheme == "generic":
        return generic_key(text)
    if scheme == "WordPress":
        return php_version_key(text)
    cls = _UNIVERS[scheme]
    t = text.strip()
    if cls is uv.SemverVersion:
        t = t.lstrip("v=")
        m = _JS_PRE_RE.match(t)
        if m:  # retire.js writes "1.9.0b1"
            t = f"{m.group(1)}-{m.group(2)}"
    try:
        # univers orders its versions by ``value`` alone (the only attrs field with order=True);
        # comparing that value directly gives the same order without attrs' per-call tuple building.
        return cls(t).value
    except Exception as exc:  # univers raises several types
        raise BadVersion(f"{text!r} is not a valid {scheme} version") from exc


def compare(scheme: str, a: str, b: str) -> int:
    va, vb = parse(scheme, a), parse(scheme, b)
    return (va > vb) - (va < vb)


def is_valid(scheme: str, text: str) -> bool:
    try:
        parse(scheme, text)
    except BadVersion:
        return False
    return True
