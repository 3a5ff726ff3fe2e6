"""The maintenance protocol's checks: known vulnerabilities, end-of-life, inventory gaps."""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib

from shopguard.checks import BaseCheck, CheckContext, register_check
from shopguard.config import Store
from shopguard.findings import Finding
from shopguard.maintenance.assess import (
    EOL_CHECK,
    INVENTORY_CHECK,
    VULN_CHECK,
    database_age_findings,
    eol_findings,
    vulnerability_findings,
    warning_findings,
)
from shopguard.maintenance.inventory.host import AsyncTransportReader, HostReader, LocalHost
from shopguard.maintenance.model import Inventory
from shopguard.maintenance.service import collect, find_vulnerabilities
from shopguard.maintenance.settings import MaintenanceSettings
from shopguard.maintenance.sources.interface import VulnerabilitySource
from shopguard.maintenance.sources.local import LocalSource
from shopguard.maintenance.sources.osv_api import OsvApiSource


def _settings(store: Store) -> MaintenanceSettings:
    return store.maintenance


def _applies(store: Store) -> bool:
    return bool(store.web_roots) or _settings(store).inventory_host


async def _host_reader(ctx: CheckContext) -> tuple[HostReader | None, str]:
    """This machine, or the store's remote host through the hosting protocol's transport."""
    if not _settings(ctx.store).inventory_host:
        return None, ""
    if ctx.store.is_local_host:
        return LocalHost(), ""
    # the hosting protocol's public function (shopguard.hosting.open_transport), when present
    hosting = importlib.import_module("shopguard.hosting")
    open_transport = getattr(hosting, "open_transport", None)
    if open_transport is None:
        return (
            None,
            "the host inventory over SSH needs the hosting protocol's transport; only web roots were read",
        )
    transport = await ctx.resources.get("maintenance.transport", lambda: open_transport(ctx.store))
    return AsyncTransportReader(transport, asyncio.get_running_loop()), ""


async def store_inventory(ctx: CheckContext) -> Inventory:
    """The store's inventory, built once per run and shared by the checks."""

    async def build() -> Inventory:
        reader, problem = await _host_reader(ctx)
        inv = await asyncio.to_thread(collect, ctx.store.web_roots, host=reader or False)
        if problem:
            inv.warn(ctx.store.host, problem)
        return inv

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
