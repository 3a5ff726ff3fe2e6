"""A check plugin loaded through $SHOPGUARD_PLUGINS by the interruption tests."""

from __future__ import annotations

import asyncio
from pathlib import Path

from shopguard.checks import BaseCheck, CheckContext, register_check
from shopguard.findings import Finding, Severity


@register_check
class QuickCheck(BaseCheck):
    id = "response.test-plugin.quick"
    title = "Test plugin: finishes at once"

    def run(self, ctx: CheckContext) -> list[Finding]:
        return [Finding(self.id, Severity.HIGH, "Plugin finding", ctx.store.name)]


@register_check
class SlowCheck(BaseCheck):
    id = "response.test-plugin.slow"
    title = "Test plugin: signals it started, then takes a minute"

    async def run(self, ctx: CheckContext) -> list[Finding]:
        marker = Path(str(ctx.store.web_roots[0])) / "slow-check-started"
        marker.write_text("started")
        await asyncio.sleep(60)
        return []
