"""Find every ``models`` module in the package so metadata is complete."""

from __future__ import annotations

import importlib
import pkgutil

import shopguard


def import_all_models() -> None:
    for info in pkgutil.walk_packages(shopguard.__path__, prefix="shopguard."):
        if info.name.rsplit(".", 1)[-1] == "models":
            importlib.import_module(info.name)
