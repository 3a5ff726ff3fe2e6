"""Checks for ``shopguard audit``: malicious code in the web roots, skimmers in
the database, and file integrity against the recorded baseline."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import TYPE_CHECKING

from shopguard.checks import BaseCheck, CheckContext, register_check
from shopguard.config import Store
from shopguard.findings import Finding

if TYPE_CHECKING:
    from shopguard.hosting import HostTransport


async def host_transport(ctx: CheckContext) -> HostTransport:
    """The store's host transport, shared with the hosting checks of the same run."""
    from shopguard.hosting import open_transport

    transport: HostTransport = await ctx.resources.get("host", lambda: open_transport(ctx.store))
    return transport


@register_check
class FileMalwareCheck(BaseCheck):
    """Scans every file in the store's web roots with ShopGuard's rules and heuristics."""

    id = "scanning.files.malware"
    title = "Malicious code in the web roots (card skimmers, backdoors, injected code)"
    timeout = 3600.0

    def applies(self, store: Store) -> bool:
        return bool(store.web_roots)

    async def run(self, ctx: CheckContext) -> list[Finding]:
        from shopguard.scanning.files.scan import findings_for, scan_store

        if not ctx.store.is_local_host:
            return await self._run_remote(ctx)
        # Leave a little time to store the findings before the runner's timeout, and
        # stop the worker thread promptly when the run is cancelled (Ctrl-C, timeout).
        deadline = time.monotonic() + max(1.0, ctx.seconds_left - 2.0)
        stop = threading.Event()
        try:
            scan = await asyncio.to_thread(scan_store, ctx.store, deadline, stop)
        except asyncio.CancelledError:
            stop.set()
            raise
        if scan.interrupted:
            raise TimeoutError(
                f"the file scan stopped at its time limit after {scan.stats.scanned} files; "
                "findings from the unscanned part are kept as they were"
            )
        return list(findings_for(scan, ctx.store.web_roots, self.id))

    async def _run_remote(self, ctx: CheckContext) -> list[Finding]:
        """Web roots on the store's SSH host: fetched in bounded batches and scanned here."""
        from shopguard.scanning.files.scan import findings_for
        from shopguard.scanning.files.scan_remote import remote_roots, scan_remote_store

        transport = await host_transport(ctx)
        deadline = time.monotonic() + max(1.0, ctx.seconds_left - 2.0)
        scan = await scan_remote_store(ctx.store, transport, deadline=deadline)
        if scan.interrupted:
            raise TimeoutError(
                f"the file scan stopped at its time limit after {scan.stats.scanned} files; "
                "findings from the unscanned part are kept as they were"
            )
        return list(findings_for(scan, remote_roots(ctx.store, transport.name), self.id))


@register_check
class FileIntegrityCheck(BaseCheck):
    """Compares the web roots with the signed baseline (PCI DSS 11.5.2)."""

    id = "scanning.files.integrity"
    title = "File integrity of the web roots (changes since the baseline)"
    timeout = 1800.0

    def applies(self, store: Store) -> bool:
        return bool(store.web_roots)

    async def run(self, ctx: CheckContext) -> list[Finding]:
        from shopguard.scanning.files.fim_findings import findings, remote_findings

        if not ctx.store.is_local_host:  # over the hosting protocol's read-only transport
            return await remote_findings(ctx.store, await host_transport(ctx), self.id)
        return await asyncio.to_thread(lambda: list(findings(ctx.store, self.id)))


@register_check
class DatabaseSkimmerCheck(BaseCheck):
    """Scans the shop's MySQL/MariaDB content tables with the same rules as files."""

    id = "scanning.files.database"
    title = "Skimmers stored in the shop database (options, posts, CMS blocks, design config)"
    timeout = 1800.0

    def applies(self, store: Store) -> bool:
        from shopguard.scanning.files.dbscan import is_mysql

        return any(is_mysql(db) for db in store.databases)

    async def run(self, ctx: CheckContext) -> list[Finding]:
        from shopguard.scanning.files.dbscan import findings_for_store
        from shopguard.scanning.files.engine import Engine
        from shopguard.scanning.files.scan import spec_for

        def work() -> list[Finding]:
            engine = Engine(spec_for(ctx.store))
            return list(findings_for_store(ctx.store, engine, self.id))

        return await asyncio.to_thread(work)
