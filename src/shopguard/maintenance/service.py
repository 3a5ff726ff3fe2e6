"""The maintenance protocol's operations, shared by the checks and the CLI."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

from shopguard.config import Store
from shopguard.maintenance.inventory.files import scan_paths
from shopguard.maintenance.inventory.host import HostReader, LocalHost, scan_host, scan_transport
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


REMOTE_WEB_ROOTS = (
    "web roots on a remote host are not read over SSH yet (only its OS, packages and server software); "
    "run `shopguard inventory PATH` on the host, or mount its web roots and scan them locally"
)


def store_inventory(store: Store, *, host: bool = True, web_roots: bool = True) -> Inventory:
    """A store's inventory outside an audit (the CLI): its web roots when they are on this machine,
    and its host's OS, packages and runtimes, locally or over SSH (the hosting protocol's transport).
    Raises HostUnavailable when a remote host cannot be read."""
    if store.is_local_host:
        return collect(store.web_roots if web_roots else (), host=host)
    inv = Inventory()
    if store.web_roots and web_roots:
        inv.warn(store.host, REMOTE_WEB_ROOTS)
    if host:
        inv.extend(asyncio.run(_remote_host_inventory(store)))
    return inv


async def _remote_host_inventory(store: Store) -> Inventory:
    from shopguard.hosting import open_transport

    transport = open_transport(store)
    try:
        return await scan_transport(transport)
    finally:
        await transport.aclose()


def find_vulnerabilities(
    components: Sequence[Component], source: VulnerabilitySource | None = None
) -> dict[Component, list[Match]]:
    src = source or LocalSource()
    return src.query([c for c in components if c.version])
