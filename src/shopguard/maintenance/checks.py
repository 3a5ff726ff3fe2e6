"""The maintenance protocol's checks: known vulnerabilities, end-of-life, inventory gaps."""

from __future__ import annotations

import asyncio
import datetime as dt

from shopguard.checks import BaseCheck, CheckContext, register_check
from shopguard.config import Store
from shopguard.findings import Finding
from shopguard.maintenance.assess import (
    EOL_CHECK,
    INVENTORY_CHECK,
    VULN_CHECK,
    eol_findings,
    vulnerability_findings,
    warning_findings,
)
from shopguard.maintenance.model import Inventory
from shopguard.maintenance.service import collect, find_vulnerabilities
from shopguard.maintenance.settings import MaintenanceSettings
from shopguard.maintenance.sources.interface import VulnerabilitySource
from shopguard.maintenance.sources.local import LocalSource
from shopguard.maintenance.sources.osv_api import OsvApiSource


def _settings(store: Store) -> MaintenanceSettings:
    return store.maintenance


def _applies(store: Store) -> bool:
    return bool(store.web_roots) or (store.is_local_host and _settings(store).inventory_host)


async def store_inventory(ctx: CheckContext) -> Inventory:
    """The store's inventory, built once per run and shared by the checks."""
    s = _settings(ctx.store)
    host = ctx.store.is_local_host and s.inventory_host

    def build() -> Inventory:
        return collect(ctx.store.web_roots, host=host)

    inv: Inventory = await ctx.resources.get("maintenance.inventory", lambda: asyncio.to_thread(build))
    return inv


def _source(store: Store) -> VulnerabilitySource:
    s = _settings(store)
    return OsvApiSource(s.osv_api_url) if s.vulnerability_source == "osv-api" else LocalSource()


@register_check
class KnownVulnerabilities(BaseCheck):
    id = VULN_CHECK
    title = "Software with known vulnerabilities"
    timeout = 600.0

    def applies(self, store: Store) -> bool:
        return _applies(store)

    async def run(self, ctx: CheckContext) -> list[Finding]:
        inv = await store_inventory(ctx)
        source = _source(ctx.store)
        found = await asyncio.to_thread(find_vulnerabilities, inv.unique(), source)
        return vulnerability_findings(found, dt.date.today(), source.name)


@register_check
class EndOfLife(BaseCheck):
    id = EOL_CHECK
    title = "End-of-life and outdated software"
    timeout = 600.0

    def applies(self, store: Store) -> bool:
        return _applies(store)

    async def run(self, ctx: CheckContext) -> list[Finding]:
        inv = await store_inventory(ctx)
        return eol_findings(inv.unique(), dt.date.today())


@register_check
class InventoryGaps(BaseCheck):
    id = INVENTORY_CHECK
    title = "Files the inventory could not read"
    timeout = 600.0

    def applies(self, store: Store) -> bool:
        return _applies(store)

    async def run(self, ctx: CheckContext) -> list[Finding]:
        inv = await store_inventory(ctx)
        return warning_findings(inv.warnings)
