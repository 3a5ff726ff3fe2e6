"""Checks for ``shopguard audit``: malicious code in the web roots, skimmers in
the database, and file integrity against the recorded baseline."""

from __future__ import annotations

import asyncio
import threading
import time

from shopguard.checks import BaseCheck, CheckContext, register_check
from shopguard.config import Store
from shopguard.findings import Finding


@register_check
class FileMalwareCheck(BaseCheck):
    """Scans every file in the store's web roots with ShopGuard's rules and heuristics."""

    id = "scanning.files.malware"
    title = "Malicious code in the web roots (card skimmers, backdoors, injected code)"
    timeout = 3600.0

    def applies(self, store: Store) -> bool:
        return store.is_local_host and bool(store.web_roots)

    async def run(self, ctx: CheckContext) -> list[Finding]:
        from shopguard.scanning.files.scan import findings_for, scan_store

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


@register_check
class FileIntegrityCheck(BaseCheck):
    """Compares the web roots with the signed baseline (PCI DSS 11.5.2)."""

    id = "scanning.files.integrity"
    title = "File integrity of the web roots (changes since the baseline)"
    timeout = 1800.0

    def applies(self, store: Store) -> bool:
        return store.is_local_host and bool(store.web_roots)

    async def run(self, ctx: CheckContext) -> list[Finding]:
        from shopguard.scanning.files.fim_findings import findings

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
