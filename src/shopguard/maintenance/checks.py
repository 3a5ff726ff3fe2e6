"""The maintenance protocol's checks: known vulnerabilities, end-of-life, inventory gaps."""

from __future__ import annotations

import asyncio
import datetime as dt

from shopguard.checks import BaseCheck, CheckContext, register_check
from shopguard.config import Store
from shopguard.findings import Finding
from shopguard.hosting import open_transport
from shopguard.maintenance.assess import (
    EOL_CHECK,
    INVENTORY_CHECK,
    VULN_CHECK,
    database_age_findings,
    eol_findings,
    vulnerability_findings,
    warning_findings,
)
from shopguard.maintenance.inventory.host import LocalHost
from shopguard.maintenance.model import Inventory
from shopguard.maintenance.service import collect, find_vulnerabilities, remote_inventory
from shopguard.maintenance.settings import MaintenanceSettings
from shopguard.maintenance.sources.interface import VulnerabilitySource
from shopguard.maintenance.sources.local import LocalSource
from shopguard.maintenance.sources.osv_api import OsvApiSource


def _settings(store: Store) -> MaintenanceSettings:
    return store.maintenance


def _applies(store: Store) -> bool:
    return bool(store.web_roots) or _settings(store).inventory_host


async def store_inventory(ctx: CheckContext) -> Inventory:
    """The store's inventory, built once per run and shared by the checks.

    The host part comes from this machine, or from the store's remote host over the hosting
    protocol's transport; an unreachable host makes the checks fail (HostUnavailable) rather
    than report a partial inventory.
    """
    store = ctx.store

    async def build() -> Inventory:
        settings = _settings(store)
        with_host = settings.inventory_host
        if store.is_local_host:
            local = LocalHost(rpm_dbpath=settings.rpm_dbpath) if with_host else False
            return await asyncio.to_thread(collect, store.web_roots, host=local)
        if not store.web_roots and not with_host:
            return Inventory()
        transport = await ctx.resources.get("maintenance.transport", lambda: open_transport(store))
        return await remote_inventory(transport, [str(r) for r in store.web_roots], with_host)

    inv: Inventory = await ctx.resources.get("maintenance.inventory", build)
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
        out = vulnerability_findings(found, dt.date.today(), source.name)
        if isinstance(source, LocalSource):
            out += database_age_findings(source.path, dt.datetime.now(dt.UTC))
        return out


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
