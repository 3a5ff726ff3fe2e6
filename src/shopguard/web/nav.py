"""The dashboard's navigation bar, built from what each view module registers.

Each page module adds its own entry, so adding a section never means editing a shared
template; the bar shows only the entries the signed-in user's role allows.
"""

from __future__ import annotations

from dataclasses import dataclass

from shopguard.web.permissions import Perm, Principal, allowed


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    perm: Perm
    order: int


_ITEMS: dict[str, NavItem] = {}


def add(label: str, href: str, perm: Perm, order: int) -> None:
    """Register a navigation entry (idempotent: re-importing a module does not duplicate it)."""
    _ITEMS[href] = NavItem(label, href, perm, order)


def items_for(principal: Principal | None) -> list[NavItem]:
    if principal is None:
        return []
    return sorted((i for i in _ITEMS.values() if allowed(principal, i.perm)), key=lambda i: i.order)
