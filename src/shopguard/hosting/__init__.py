"""Hosting and environment: a host hardening audit, local or over SSH.

Public surface for other protocols (maintenance reuses the transport to list OS
packages):

* :func:`open_transport` -- a :class:`HostTransport` for a store's ``host``.
* :func:`hardening_score` -- the 0-100 score and its formula.
* Remote web roots over the transport (inventory, file scan, file integrity):
  :func:`list_remote_tree` (one ``find`` walk with metadata), :func:`fetch_remote_files`
  (bounded reads), :func:`hash_remote_files` (sha256 on the host), :func:`remote_location`
  (``ssh://user@host:port:/path``) and :func:`mirror_path` (where a file goes in a local copy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopguard.hosting.score import SCORE_FORMULA, HardeningScore, hardening_score
from shopguard.hosting.transport.interface import HostTransport, TransportError
from shopguard.hosting.transport.tree import Fetched, Listing, RemoteEntry, mirror_path, remote_location
from shopguard.hosting.transport.tree import RawTransport as RemoteTransport
from shopguard.hosting.transport.tree import fetch_files as fetch_remote_files
from shopguard.hosting.transport.tree import hash_files as hash_remote_files
from shopguard.hosting.transport.tree import list_tree as list_remote_tree

if TYPE_CHECKING:
    from shopguard.config import Store

__all__ = [
    "SCORE_FORMULA",
    "Fetched",
    "HardeningScore",
    "HostTransport",
    "Listing",
    "RemoteEntry",
    "RemoteTransport",
    "TransportError",
    "fetch_remote_files",
    "hardening_score",
    "hash_remote_files",
    "list_remote_tree",
    "mirror_path",
    "open_transport",
    "remote_location",
]


def open_transport(store: Store) -> HostTransport:
    """The transport for ``store.host``: local, or SSH with the store's key and
    known_hosts (connects lazily, on the first command). Close it with ``aclose()``."""
    if store.is_local_host:
        from shopguard.hosting.transport.local import LocalTransport

        return LocalTransport()
    from shopguard.hosting.transport.ssh import SSHTarget, SSHTransport

    return SSHTransport(
        SSHTarget.parse(store.host),
        key=store.ssh_key,
        known_hosts=store.known_hosts,
        connect_timeout=store.hosting.command_timeout_s,
    )
