"""Outside-in web scan: TLS, headers, cookies, exposures, fingerprint.

Public surface for other protocols (keep this module free of heavy imports):
:func:`detected_software` reads what ``scanning.web.fingerprint`` and
``scanning.web.js-libraries`` stored, for the maintenance protocol's vulnerability and
end-of-life matching.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

FINGERPRINT_CHECK = "scanning.web.fingerprint"
JS_LIBRARIES_CHECK = "scanning.web.js-libraries"


class _FindingLike(Protocol):
    check_id: str
    evidence: Any


@dataclass(frozen=True)
class DetectedSoftware:
    product: str
    """``wordpress``, ``magento``, ``php``, ``nginx``, ``jquery``, ``wordpress-plugin:<slug>`` ..."""
    version: str | None
    kind: str
    """platform, plugin, server, language or js-library."""


def detected_software(findings: Iterable[_FindingLike]) -> list[DetectedSoftware]:
    """Software the web scan saw, from stored findings (``db.models.FindingRecord`` or
    ``findings.Finding``), without duplicates."""
    seen: dict[tuple[str, str], DetectedSoftware] = {}
    for f in findings:
        ev = f.evidence or {}
        if f.check_id == FINGERPRINT_CHECK and ev.get("product"):
            sw = DetectedSoftware(str(ev["product"]), ev.get("version"), str(ev.get("kind", "platform")))
        elif f.check_id == JS_LIBRARIES_CHECK and ev.get("library"):
            sw = DetectedSoftware(str(ev["library"]), ev.get("version"), "js-library")
        else:
            continue
        key = (sw.kind, sw.product)
        if key not in seen or (sw.version and not seen[key].version):
            seen[key] = sw
    return list(seen.values())
