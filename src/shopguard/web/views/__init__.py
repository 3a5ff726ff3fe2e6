"""Dashboard sections, one module per protocol or area.

Every module in this package that defines ``router`` (an ``APIRouter``) is included by
``create_app``; modules register their navigation entries with ``shopguard.web.nav.add``.
"""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    found: list[APIRouter] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            found.append(router)
    return found
