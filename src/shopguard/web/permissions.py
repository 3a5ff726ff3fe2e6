"""Who may do what: the ONE role table and the ONE check every route uses."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    ANALYST = "analyst"
    EMPLOYEE = "employee"
    AUDITOR = "auditor"


class Perm(StrEnum):
    OVERVIEW_READ = "overview.read"
    FINDINGS_READ = "findings.read"
    FINDINGS_TRIAGE = "findings.triage"
    """Accept risk, mark false positive, reopen, assign, comment (one finding or many)."""
    SCANS_READ = "scans.read"
    SCANS_RUN = "scans.run"
    """Start an audit of a store from the dashboard."""
    SCRIPTS_APPROVE = "scripts.approve"
    """Approve or reject payment-page scripts (the PCI DSS 6.4.3 authorisation)."""
    MONITORING_READ = "monitoring.read"
    MONITORING_MANAGE = "monitoring.manage"
    """Plan and end maintenance windows."""
    EXPORTS_READ = "exports.read"
    POLICIES_OWN = "policies.own"
    """Read and acknowledge one's own policies (everyone with a login)."""
    AUDIT_READ = "audit.read"
    USERS_MANAGE = "users.manage"
    SECRETS_MANAGE = "secrets.manage"
    TOKENS_OWN = "tokens.own"
    ACCOUNT_OWN = "account.own"
    RESPONSE_READ = "response.read"
    """The response plan, incidents, their timelines, evidence hashes and deadlines."""
    RESPONSE_MANAGE = "response.manage"
    """Open incidents, move phases, tick tasks, add timeline entries, upload evidence."""
    POLICIES_READ = "policies.read"
    """The policy library, versions, who acknowledged what, training records."""
    POLICIES_MANAGE = "policies.manage"
    """Approve and publish policy versions; record training."""
    SETTINGS_MANAGE = "settings.manage"
    """Stores and alert channels (their secrets are never shown back)."""
    PCI_READ = "pci.read"
    PCI_EDIT = "pci.edit"
    """Choose the SAQ, answer requirements, upload evidence and ASV scan reports, confirm
    suggestions, work tasks."""
    PCI_SIGN = "pci.sign"
    """Sign (attest) a store's completed self-assessment for the year."""
    INSURANCE_READ = "insurance.read"
    INSURANCE_EDIT = "insurance.edit"
    """Record and change insurance policies and the owner's answers to underwriting questions."""


_READ = {
    Perm.OVERVIEW_READ,
    Perm.FINDINGS_READ,
    Perm.SCANS_READ,
    Perm.RESPONSE_READ,
    Perm.POLICIES_READ,
    Perm.MONITORING_READ,
}
_SELF = {Perm.POLICIES_OWN, Perm.ACCOUNT_OWN}
_COMPLIANCE_READ = {Perm.PCI_READ, Perm.INSURANCE_READ}

ROLE_PERMS: dict[Role, frozenset[Perm]] = {
    Role.OWNER: frozenset(Perm),
    Role.ADMIN: frozenset(Perm),
    Role.ANALYST: frozenset(
        _READ
        | _SELF
        | _COMPLIANCE_READ
        | {Perm.FINDINGS_TRIAGE, Perm.SCANS_RUN, Perm.EXPORTS_READ, Perm.TOKENS_OWN, Perm.RESPONSE_MANAGE}
    ),
    Role.AUDITOR: frozenset(
        _READ | _SELF | _COMPLIANCE_READ | {Perm.EXPORTS_READ, Perm.AUDIT_READ, Perm.TOKENS_OWN}
    ),
    Role.EMPLOYEE: frozenset(_SELF),
}
"""The role table. Tests walk every route against it."""


@dataclass(frozen=True)
class Principal:
    """A logged-in user, or an API token acting for one (with its scopes)."""

    user_id: int
    email: str
    role: Role
    stores: tuple[str, ...] = ()
    """Empty: every store."""
    scopes: frozenset[Perm] | None = None
    """None for a browser session; the token's scopes for an API token."""
    session_id: int | None = None
    csrf_token: str = ""

    def sees_store(self, store: str) -> bool:
        return not self.stores or store in self.stores


def allowed(principal: Principal | None, perm: Perm, store: str | None = None) -> bool:
    """The permission check. Every route and every API call goes through here."""
    if principal is None:
        return False
    if perm not in ROLE_PERMS[principal.role]:
        return False
    if principal.scopes is not None and perm not in principal.scopes:
        return False
    return store is None or principal.sees_store(store)


def visible_stores(principal: Principal, stores: Iterable[str]) -> list[str]:
    return [s for s in stores if principal.sees_store(s)]


_RANK = {Role.EMPLOYEE: 0, Role.AUDITOR: 1, Role.ANALYST: 1, Role.ADMIN: 2, Role.OWNER: 3}


def may_assign(actor: Role, role: Role) -> bool:
    """Only an owner makes owners; an admin makes anything below owner."""
    return _RANK[actor] >= _RANK[role] and actor in (Role.OWNER, Role.ADMIN)
