"""A Content-Security-Policy built from the approved payment-page inventory.

Start it as ``Content-Security-Policy-Report-Only``: browsers then report what the
policy would block without blocking it, so nothing breaks while it is tuned. Switch
to the enforcing header once the reports are quiet.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from shopguard.scanning.pages.models import PageApproval


def _origin(url: str) -> str:
    p = urlsplit(url)
    return f"{p.scheme}://{p.netloc}"


def build_policy(approvals: Iterable[PageApproval], storefront: str, *, report_uri: str | None = None) -> str:
    own = _origin(storefront)
    scripts: set[str] = set()
    hashes: set[str] = set()
    frames: set[str] = set()
    connect: set[str] = set()
    for a in approvals:
        if a.kind == "script" and _origin(a.identifier) != own:
            scripts.add(_origin(a.identifier))
        elif a.kind == "inline-script":
            hashes.add(f"'{a.identifier}'")
        elif a.kind == "iframe" and _origin(a.identifier) != own:
            frames.add(_origin(a.identifier))
        elif a.kind == "destination" and a.identifier != own:
            connect.add(a.identifier)
    directives = [
        ("default-src", ["'self'"]),
        ("script-src", ["'self'", *sorted(scripts), *sorted(hashes)]),
        ("style-src", ["'self'", "'unsafe-inline'"]),
        ("img-src", ["'self'", "data:", *sorted(connect)]),
        ("connect-src", ["'self'", *sorted(connect)]),
        ("frame-src", ["'self'", *sorted(frames)] if frames else ["'self'"]),
        ("object-src", ["'none'"]),
        ("base-uri", ["'self'"]),
        ("form-action", ["'self'", *sorted(frames)]),
        ("frame-ancestors", ["'self'"]),
    ]
    if urlsplit(storefront).scheme == "https":
        directives.append(("upgrade-insecure-requests", []))
    if report_uri:
        directives.append(("report-uri", [report_uri]))
    return "; ".join(" ".join([name, *values]) for name, values in directives)


def server_lines(policy: str, enforce: bool) -> dict[str, str]:
    header = "Content-Security-Policy" if enforce else "Content-Security-Policy-Report-Only"
    return {
        "header": f"{header}: {policy}",
        "nginx": f'add_header {header} "{policy}" always;',
        "apache": f'Header always set {header} "{policy}"',
    }
