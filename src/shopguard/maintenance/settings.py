"""The ``[stores.maintenance]`` config section."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class MaintenanceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    vulnerability_source: Literal["local", "osv-api"] = "local"
    """``local``: the database `shopguard vulndb sync` keeps (works offline);
    ``osv-api``: ask api.osv.dev at every run (sends package names and versions to OSV)."""
    osv_api_url: str = "https://api.osv.dev"
    inventory_host: bool = True
    """Also list the OS, its packages and the server runtimes of the store's host: this machine for
    ``local``, over SSH (the hosting protocol's read-only transport) for ``ssh://...``."""
    rpm_dbpath: str | None = None
    """An RPM database folder to read as well (``rpm --dbpath``), on this machine; by default rpm's
    own database is read where there is no dpkg status file."""
