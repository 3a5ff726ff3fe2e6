"""Shared bits of every report: ordering and the tool's identity."""

from __future__ import annotations

from collections.abc import Iterable

from shopguard import __version__
from shopguard.db.repository import StoredFinding
from shopguard.findings import PROTOCOLS

TOOL_NAME = "ShopGuard"
TOOL_URI = "https://github.com/shopguard/shopguard"
DISCLAIMER = (
    "ShopGuard is an automated self-assessment aid. It is not a PCI Approved Scanning Vendor (ASV), "
    "not a Qualified Security Assessor (QSA) and not a lawyer; its findings do not certify compliance."
)


def tool() -> dict[str, str]:
    return {"name": TOOL_NAME, "version": __version__}


def ordered(findings: Iterable[StoredFinding]) -> list[StoredFinding]:
    """Protocol order, then most severe first, then title."""
    return sorted(
        findings,
        key=lambda sf: (
            PROTOCOLS.index(sf.finding.protocol),
            -sf.finding.severity.rank,
            sf.finding.title,
            sf.finding.location,
        ),
    )
