"""Jinja2 templates (autoescaped) and the helpers they use."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from shopguard.findings import PROTOCOL_TITLES
from shopguard.web.nav import items_for

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.auto_reload = False
"""Templates ship inside the package and do not change while serving: no stat per render."""


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


@lru_cache(maxsize=128)
def _options_cached(values: tuple[str, ...], selected: str) -> Markup:
    return Markup("").join(
        Markup('<option value="{0}"{1}>{0}</option>').format(v, Markup(" selected") if v == selected else "")
        for v in values
    )


def options(values: Sequence[str], selected: str | None) -> Markup:
    """``<option>`` elements for a select (escaped), ``selected`` marked. Cached: the store
    list of an agency is hundreds of names, rendered on every findings and monitoring page."""
    return _options_cached(tuple(values), selected or "")


def _json(value: Any) -> str:
    import json

    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


templates.env.filters["when"] = _when
templates.env.filters["pretty"] = _json
templates.env.globals["PROTOCOL_TITLES"] = PROTOCOL_TITLES
templates.env.globals["nav_items"] = items_for
templates.env.globals["options"] = options
