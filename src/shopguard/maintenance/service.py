"""The maintenance protocol's operations, shared by the checks and the CLI."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from shopguard.config import Store
from shopguard.maintenance.inventory.files import scan_paths
from shopguard.maintenance.inventory.host import (
    HostReader,
    HostUnavailable,
    LocalHost,
    scan_host,
    scan_transport,
)
from shopguard.maintenance.inventory.remote import remote_web_root_inventory
from shopguard.maintenance.matching import Match
from shopguard.maintenance.model import Component, Inventory
from shopguard.maintenance.sources.interface import VulnerabilitySource
from shopguard.maintenance.sources.local import LocalSource
from shopguard.maintenance.vulndb.retirejs import BadRepository, Detector, load_repository
from shopguard.maintenance.vulndb.sync import retire_path

log = logging.getLogger(__name__)


def load_detector(path: Path | None = None) -> Detector | None:
    """The retire.js detector from the synced repository (None if not synced yet)."""
    p = path or retire_path()
    if not p.exists():
        return None
    try:
        return Detector(load_repository(p))
    except BadRepository as exc:
        log.warning("%s", exc)
        return None


def collect(
    paths: Iterable[Path],
    *,
    host: HostReader | bool = False,
    retire_repository: Path | None = None,
) -> Inventory:
    """Everything a store runs: from its folders, and from the host when asked."""
    inv = scan_paths(list(paths), load_detector(retire_repository))
    if host:
        inv.extend(scan_host(host if not isinstance(host, bool) else LocalHost()))
    return inv


def store_inventory(store: Store, *, host: bool = True, web_roots: bool = True) -> Inventory:
    """A store's inventory outside an audit (the CLI): its web roots when they are on this machine,
    and its host's OS, packages and runtimes, locally or over SSH (the hosting protocol's transport).
    Raises HostUnavailable when a remote host cannot be read."""
    if store.is_local_host:
        reader = LocalHost(rpm_dbpath=store.maintenance.rpm_dbpath) if host else False
        return collect(store.web_roots if web_roots else (), host=reader)
    roots = [str(r) for r in store.web_roots] if web_roots else []
    if not roots and not host:
        return Inventory()
    return asyncio.run(_remote_inventory(store, roots, host))


async def remote_inventory(transport: Any, roots: Sequence[str], host: bool) -> Inventory:
    """Web roots and (when ``host``) the OS, packages and runtimes of a remote host, over one
    transport. The host part raises HostUnavailable when the host cannot be read."""
    inv = Inventory()
    detector = load_detector()
    for root in roots:
        try:
            inv.extend(await remote_web_root_inventory(transport, root, detector))
        except Exception as exc:  # the transport's own error types (unreachable, timed out ...)
            raise HostUnavailable(f"could not read the web root {root} on {transport.name}: {exc}") from exc
    if host:
        inv.extend(await scan_transport(transport))
    return inv


async def _remote_inventory(store: Store, roots: Sequence[str], host: bool) -> Inventory:
    from shopguard.hosting import open_transport

    transport = open_transport(store)
    try:
        return await remote_inventory(transport, roots, host)
    finally:
        await transport.aclose()


def find_vulnerabilities(
    components: Sequence[Component], source: VulnerabilitySource | None = None
) -> dict[Component, list[Match]]:
    src = source or LocalSource()
    return src.query([c for c in components if c.version])
