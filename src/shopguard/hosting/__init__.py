"""Hosting and environment: a host hardening audit, local or over SSH.

Public surface for other protocols (maintenance reuses the transport to list OS
packages):

* :func:`open_transport` -- a :class:`HostTransport` for a store's ``host``.
* :func:`hardening_score` -- the 0-100 score and its formula.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopguard.hosting.score import SCORE_FORMULA, HardeningScore, hardening_score
from shopguard.hosting.transport.interface import HostTransport, TransportError

if TYPE_CHECKING:
    from shopguard.config import Store

__all__ = [
    "SCORE_FORMULA",
    "HardeningScore",
    "HostTransport",
    "TransportError",
    "hardening_score",
    "open_transport",
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
