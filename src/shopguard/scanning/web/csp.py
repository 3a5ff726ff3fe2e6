"""Parse and judge a Content-Security-Policy the way the HTTP Observatory does.

The verdict names mirror the Observatory's test results (``csp-implemented-with-
unsafe-inline`` ...) so its published score modifiers apply unchanged; see
docs/scanning-web.md for the mapping.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

DANGEROUSLY_BROAD = frozenset(
    {"ftp:", "http:", "https:", "*", "http://*", "http://*.*", "https://*", "https://*.*"}
)
UNSAFE_INLINE = frozenset({"'unsafe-inline'", "data:"})
_DIRECTIVE = re.compile(r"^[a-z][a-z0-9-]*$")
_META_CSP = re.compile(
    r"<meta\s[^>]*http-equiv\s*=\s*[\"']?content-security-policy[\"']?[^>]*>", re.IGNORECASE
)
_CONTENT = re.compile(r"content\s*=\s*(\"([^\"]*)\"|'([^']*)')", re.IGNORECASE)


class CspParseError(ValueError):
    pass


Policy = dict[str, list[str]]


def parse(header: str) -> Policy:
    """``"default-src 'self'; img-src *"`` -> ``{"default-src": ["'self'"], "img-src": ["*"]}``.

    Several policies joined with commas (several headers) are intersected by the browser;
    we keep the first occurrence of each directive, which is what a browser does inside
    one policy. Raises :class:`CspParseError` on a malformed directive name.
    """
    policy: Policy = {}
    for chunk in header.replace(",", ";").split(";"):
        tokens = chunk.strip().split()
        if not tokens:
            continue
        name = tokens[0].lower()
        if not _DIRECTIVE.match(name):
            raise CspParseError(f"not a CSP directive name: {tokens[0]!r}")
        policy.setdefault(name, [t.lower() if t.startswith("'") else t for t in tokens[1:]])
    if not policy:
        raise CspParseError("empty policy")
    return policy


def meta_policies(html: str) -> list[str]:
    """CSP values declared in ``<meta http-equiv="Content-Security-Policy">`` tags."""
    found = []
    for tag in _META_CSP.findall(html[:200_000]):
        m = _CONTENT.search(tag)
        if m:
            found.append(m.group(2) if m.group(2) is not None else m.group(3))
    return found


@dataclass(frozen=True)
class CspVerdict:
    result: str
    """The Observatory's result name for the CSP test."""
    problems: tuple[str, ...] = ()
    """Plain-words reasons, one per weakness seen."""
    frame_ancestors: bool = False
    policy: Policy = field(default_factory=dict)


def _effective(policy: Policy, name: str) -> list[str]:
    return policy.get(name, policy.get("default-src", ["*"]))


def analyze(
    header_values: Sequence[str], meta_values: Sequence[str] = (), report_only: bool = False
) -> CspVerdict:
    values = [v for v in header_values if v.strip()] + [v for v in meta_values if v.strip()]
    if not values:
        return CspVerdict(
            "csp-not-implemented-but-reporting-enabled" if report_only else "csp-not-implemented"
        )
    try:
        policy = parse(",".join(values))
    except CspParseError as exc:
        return CspVerdict("csp-header-invalid", (str(exc),))
    script = _effective(policy, "script-src")
    style = _effective(policy, "style-src")
    obj = _effective(policy, "object-src")
    has_nonce_or_hash = any(s.startswith(("'nonce-", "'sha256-", "'sha384-", "'sha512-")) for s in script)
    strict_dynamic = "'strict-dynamic'" in script
    problems: list[str] = []
    unsafe_inline = False
    # Browsers ignore 'unsafe-inline' next to a nonce or hash, and host sources next to 'strict-dynamic'.
    bad = set() if strict_dynamic else set(script) & DANGEROUSLY_BROAD
    if not (has_nonce_or_hash or strict_dynamic):
        bad |= set(script) & UNSAFE_INLINE
    if bad:
        unsafe_inline = True
        problems.append(
            f"scripts may come from anywhere or be inline ({' '.join(sorted(bad))} in script-src)"
        )
    if set(obj) & DANGEROUSLY_BROAD:
        unsafe_inline = True
        problems.append("plugins (object-src) are not restricted; add object-src 'none'")
    unsafe_eval = "'unsafe-eval'" in script
    if unsafe_eval:
        problems.append("'unsafe-eval' lets scripts run strings as code")
    active = script + obj
    passive = [s for d in ("img-src", "media-src", "font-src", "style-src") for s in _effective(policy, d)]
    insecure_active = any(s.lower().startswith("http:") or s.lower().startswith("http://") for s in active)
    insecure_passive = any(s.lower().startswith("http:") or s.lower().startswith("http://") for s in passive)
    if insecure_active:
        problems.append("scripts may load over unencrypted http:")
    frame_ancestors = "frame-ancestors" in policy
    if not frame_ancestors:
        problems.append("no frame-ancestors directive (clickjacking protection through CSP)")
    if unsafe_inline:
        result = "csp-implemented-with-unsafe-inline"
    elif insecure_active:
        result = "csp-implemented-with-insecure-scheme"
    elif unsafe_eval:
        result = "csp-implemented-with-unsafe-eval"
    elif insecure_passive:
        result = "csp-implemented-with-insecure-scheme-in-passive-content-only"
    elif set(style) & UNSAFE_INLINE:
        result = "csp-implemented-with-unsafe-inline-in-style-src-only"
    elif policy.get("default-src") == ["'none'"]:
        result = "csp-implemented-with-no-unsafe-default-src-none"
    else:
        result = "csp-implemented-with-no-unsafe"
    return CspVerdict(result, tuple(problems), frame_ancestors, policy)


def render(policy: Policy) -> str:
    return "; ".join(" ".join([name, *sources]) for name, sources in policy.items())
