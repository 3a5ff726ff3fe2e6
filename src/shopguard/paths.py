"""Per-user folders (XDG on Linux), overridable by environment variables."""

from __future__ import annotations

import os
from pathlib import Path


def user_config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "shopguard"


def user_data_dir() -> Path:
    """Where ShopGuard keeps its database and evidence (``SHOPGUARD_HOME`` wins)."""
    if home := os.environ.get("SHOPGUARD_HOME"):
        return Path(home)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "shopguard"


def default_database_url() -> str:
    if url := os.environ.get("SHOPGUARD_DB"):
        return url
    return f"sqlite:///{user_data_dir() / 'shopguard.db'}"
