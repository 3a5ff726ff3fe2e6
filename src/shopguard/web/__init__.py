"""The web dashboard and JSON API (FastAPI, server-rendered Jinja2 + htmx).

Public: :func:`create_app` builds the ASGI app for a ShopGuard database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI


def create_app(*args: Any, **kwargs: Any) -> FastAPI:
    from shopguard.web.app import create_app as _create

    return _create(*args, **kwargs)


__all__ = ["create_app"]
