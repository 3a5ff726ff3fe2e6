"""Consistent maintenance: software inventory, known vulnerabilities, end-of-life, SBOM.

Public surface for other protocols (hosting reads a host's runtimes through its
own transport and asks :func:`eol_status`). Imports are lazy so that importing
the config model (which holds :class:`settings.MaintenanceSettings`) stays cheap.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shopguard.maintenance.eol import EolStatus

__all__ = ["eol_status"]


def eol_status(product: str, version: str, today: dt.date | None = None) -> EolStatus | None:
    """Support status of an endoflife.date product (``php``, ``nginx``, ``debian`` ...) at ``version``.

    Returns None when the product or its release cycle is unknown. Uses the
    synced data when ``shopguard vulndb sync`` has run, else the shipped snapshot.
    """
    from shopguard.maintenance.eol import eol_status as _status

    return _status(product, version, today)
