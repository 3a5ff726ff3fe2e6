"""The one currency every check pays in: :class:`Finding`.

A finding's fingerprint is derived from its check id, its location and a key the
check chooses (never from its wording), so the same problem seen tomorrow is the
same finding even if we improve the title.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

JSON = Any
"""A JSON-serialisable value (kept loose on purpose: evidence is small and varied)."""

PROTOCOLS: tuple[str, ...] = (
    "insurance",
    "maintenance",
    "hosting",
    "scanning",
    "pci",
    "policies",
    "response",
)
"""The seven protocols, in the order the litmus table prints them."""

PROTOCOL_TITLES: Mapping[str, str] = {
    "insurance": "Cyber insurance",
    "maintenance": "Consistent maintenance",
    "hosting": "Hosting and environment",
    "scanning": "Security scans and monitoring",
    "pci": "PCI DSS compliance",
    "policies": "Infosec policies",
    "response": "Emergency response plan",
}

# Packages whose checks count towards the "scanning" protocol (the seed's
# "security scans and monitoring").
_PROTOCOL_ALIASES: Mapping[str, str] = {"monitoring": "scanning"}


def protocol_of(check_id: str) -> str:
    """Return the protocol a check id belongs to (its first dotted segment)."""
    head = check_id.split(".", 1)[0]
    proto = _PROTOCOL_ALIASES.get(head, head)
    if proto not in PROTOCOLS:
        raise ValueError(f"check id {check_id!r} does not start with a protocol ({', '.join(PROTOCOLS)})")
    return proto


class Severity(StrEnum):
    """How bad a finding is. Ordered: ``Severity.HIGH > Severity.LOW``."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls(text.strip().lower())
        except ValueError:
            names = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown severity {text!r}: expected one of {names}") from None


_RANK = {s: i for i, s in enumerate(Severity)}


class FindingStatus(StrEnum):
    """Lifecycle of a stored finding across runs."""

    NEW = "new"
    OPEN = "open"
    RESOLVED = "resolved"


class Triage(StrEnum):
    """A person's decision on a finding; survives later runs."""

    NONE = "none"
    ACCEPTED_RISK = "accepted_risk"
    FALSE_POSITIVE = "false_positive"


@dataclass(frozen=True)
class Refs:
    """Cross-references that let auditors and tools map a finding."""

    pci: tuple[str, ...] = ()
    """PCI DSS v4.0.1 requirement ids, e.g. ``"6.4.3"``."""
    cwe: tuple[str, ...] = ()
    """CWE ids, e.g. ``"CWE-319"``."""
    cve: tuple[str, ...] = ()
    """Advisory ids: ``"CVE-2023-1234"``, ``"GHSA-..."``, ``"PYSEC-..."``."""

    def to_dict(self) -> dict[str, list[str]]:
        return {"pci": list(self.pci), "cwe": list(self.cwe), "cve": list(self.cve)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Refs:
        data = data or {}
        return cls(
            pci=tuple(data.get("pci", ())),
            cwe=tuple(data.get("cwe", ())),
            cve=tuple(data.get("cve", ())),
        )


@dataclass(frozen=True)
class Finding:
    """One problem a check found, described for a store owner and for a machine."""

    check_id: str
    """Dotted id whose first part is the protocol: ``"scanning.web.server-banner"``."""
    severity: Severity
    title: str
    """One line a store owner understands."""
    location: str
    """URL, file path, or ``host:port``."""
    detail: str = ""
    """What it means, in plain words."""
    remediation: str = ""
    """What to do; the command or config line where there is one."""
    evidence: Mapping[str, JSON] = field(default_factory=dict)
    """Small, JSON-serialisable, never secrets."""
    refs: Refs = field(default_factory=Refs)
    key: str = ""
    """Extra identity chosen by the check (e.g. a header name or advisory id) when
    one check can report several problems at the same location."""

    @property
    def protocol(self) -> str:
        return protocol_of(self.check_id)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.check_id, self.location, self.key)

    def to_dict(self) -> dict[str, JSON]:
        return {
            "check_id": self.check_id,
            "protocol": self.protocol,
            "severity": self.severity.value,
            "title": self.title,
            "detail": self.detail,
            "location": self.location,
            "evidence": dict(self.evidence),
            "remediation": self.remediation,
            "refs": self.refs.to_dict(),
            "fingerprint": self.fingerprint,
        }


def fingerprint(check_id: str, location: str, key: str = "") -> str:
    """Stable identity of a finding: sha256 over check id, location and key."""
    payload = json.dumps([check_id, location, key], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]
