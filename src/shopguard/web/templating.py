"""Jinja2 templates (autoescaped) and the helpers they use."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates

from shopguard.findings import PROTOCOL_TITLES
from shopguard.web.nav import items_for

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def _json(value: Any) -> str:
    import json

    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


templates.env.filters["when"] = _when
templates.env.filters["pretty"] = _json
templates.env.globals["PROTOCOL_TITLES"] = PROTOCOL_TITLES
templates.env.globals["nav_items"] = items_for
