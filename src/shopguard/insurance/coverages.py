"""The coverages a small online store's cyber policy should have, in plain words."""

from __future__ import annotations

from dataclasses import dataclass

from shopguard.findings import Severity


@dataclass(frozen=True)
class CoverageKind:
    id: str
    title: str
    what: str
    missing_severity: Severity
    compare_to_estimate: bool = False
    """Whether its limit should at least match the breach-cost estimate."""


KINDS: tuple[CoverageKind, ...] = (
    CoverageKind(
        "breach_response",
        "Breach response",
        "forensic investigation, customer notification, credit monitoring, call centre, PR and legal "
        "advice after a breach",
        Severity.HIGH,
        True,
    ),
    CoverageKind(
        "business_interruption",
        "Business interruption",
        "lost profit and extra costs while the store is down after a cyber attack",
        Severity.MEDIUM,
    ),
    CoverageKind(
        "extortion",
        "Cyber extortion and ransomware",
        "expert negotiation and, where lawful, ransom payments",
        Severity.MEDIUM,
    ),
    CoverageKind(
        "data_restoration",
        "Data and system restoration",
        "rebuilding the store, restoring data and cleaning malware",
        Severity.MEDIUM,
    ),
    CoverageKind(
        "network_privacy_liability",
        "Network security and privacy liability",
        "claims by customers and others whose data was exposed, and the defence costs",
        Severity.HIGH,
        True,
    ),
    CoverageKind(
        "media_liability",
        "Media liability",
        "claims over content on the store's site: copyright, trademark, defamation",
        Severity.LOW,
    ),
    CoverageKind(
        "regulatory",
        "Regulatory fines and defence",
        "defence in data protection investigations and fines where insurable by law",
        Severity.MEDIUM,
    ),
    CoverageKind(
        "pci_fines",
        "PCI fines and assessments",
        "contractual fines, fraud recovery and case-management fees the card brands charge through "
        "the acquirer after a card data breach",
        Severity.HIGH,
    ),
    CoverageKind(
        "social_engineering",
        "Social engineering and funds transfer fraud",
        "money lost when someone is tricked into paying a fake invoice or changing bank details",
        Severity.MEDIUM,
    ),
)

BY_ID = {k.id: k for k in KINDS}


def kind(coverage_id: str) -> CoverageKind:
    try:
        return BY_ID[coverage_id]
    except KeyError:
        raise ValueError(f"unknown coverage {coverage_id!r}; expected one of {', '.join(BY_ID)}") from None
