"""The policy library: which templates ShopGuard ships and who must acknowledge each."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PolicyTemplate:
    slug: str
    title: str
    applies_to: tuple[str, ...] = ()
    """Roster roles that must acknowledge it; empty means everyone."""
    pci: tuple[str, ...] = ()
    """PCI DSS v4.0.1 requirements the policy supports."""

    @property
    def filename(self) -> str:
        return f"{self.slug}.md.j2"


LIBRARY: tuple[PolicyTemplate, ...] = (
    PolicyTemplate("information-security", "Information Security Policy", (), ("12.1.1", "12.1.2", "12.1.3")),
    PolicyTemplate("acceptable-use", "Acceptable Use Policy", (), ("12.2.1",)),
    PolicyTemplate("access-control", "Access Control Policy", (), ("7.2.1", "8.3.6", "8.4.1", "8.4.2")),
    PolicyTemplate("cardholder-data", "Cardholder Data Handling Policy", (), ("3.1.1", "3.2.1", "6.4.3")),
    PolicyTemplate("data-retention", "Data Retention and Disposal Policy", (), ("3.2.1", "9.4.6", "9.4.7")),
    PolicyTemplate(
        "change-patch",
        "Change and Patch Management Policy",
        ("owner", "admin", "developer"),
        ("6.3.3", "6.5.1"),
    ),
    PolicyTemplate(
        "logging-monitoring",
        "Logging and Monitoring Policy",
        ("owner", "admin", "developer"),
        ("10.2.1", "10.5.1", "11.5.2"),
    ),
    PolicyTemplate(
        "vendors", "Vendor and Third-Party Management Policy", ("owner", "admin"), ("12.8.1", "12.8.4")
    ),
    PolicyTemplate("backup-recovery", "Backup and Recovery Policy", ("owner", "admin"), ("12.10.1",)),
    PolicyTemplate(
        "secure-development", "Secure Development Policy", ("developer",), ("6.2.1", "6.2.2", "6.4.3")
    ),
    PolicyTemplate("remote-work", "Remote Work and Devices Policy", (), ("12.2.1", "5.2.1")),
    PolicyTemplate("security-training", "Security Awareness Training Policy", (), ("12.6.1", "12.6.3")),
    PolicyTemplate("incident-response", "Incident Response Policy", (), ("12.10.1", "12.10.2")),
)

BY_SLUG = {t.slug: t for t in LIBRARY}


def template(slug: str) -> PolicyTemplate:
    try:
        return BY_SLUG[slug]
    except KeyError:
        known = ", ".join(BY_SLUG)
        raise KeyError(f"no policy template {slug!r} (known: {known})") from None
