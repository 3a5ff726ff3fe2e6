"""End-of-life facts: which release cycle a version belongs to, and its dates.

Data: the snapshot shipped in ``shopguard/data/eol/eol.json`` (built from
endoflife.date, MIT), replaced by a fresher copy in the user data folder after
``shopguard vulndb sync``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from shopguard.maintenance.versions import BadVersion, parse
from shopguard.paths import user_data_dir

SUPPORT_WARNING_DAYS = 90


def synced_path() -> Path:
    return user_data_dir() / "vulndb" / "eol.json"


@lru_cache(maxsize=4)
def _load(path: str | None) -> dict[str, Any]:
    if path and Path(path).exists():
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    else:
        data = json.loads(
            resources.files("shopguard.data").joinpath("eol/eol.json").read_text(encoding="utf-8")
        )
    return dict(data["products"])


def products(path: Path | None = None) -> dict[str, Any]:
    p = path or synced_path()
    return _load(str(p) if p.exists() else None)


def clear_cache() -> None:
    _load.cache_clear()


def _date(v: object) -> dt.date | None:
    if isinstance(v, str) and len(v) >= 10:
        try:
            return dt.date.fromisoformat(v[:10])
        except ValueError:
            return None
    return None


@dataclass(frozen=True)
class EolStatus:
    """Where one version stands in its product's support life."""

    product: str
    version: str
    cycle: str
    eol_date: dt.date | None
    """End of life (security fixes stop); None when not announced or unknown."""
    is_eol: bool
    support_end: dt.date | None
    """End of active support (bug fixes stop), where the product has one."""
    latest: str
    """Latest release of this cycle."""
    is_latest: bool
    latest_cycle: str
    """Newest cycle of the product."""
    extended_end: dt.date | None = None
    upgrade_cycle: str = ""
    """The oldest newer release line still supported (the smallest safe jump), '' if none."""
    upgrade_to: str = ""
    """Latest release of ``upgrade_cycle`` (or the cycle name when unknown)."""

    def days_left(self, today: dt.date) -> int | None:
        return (self.eol_date - today).days if self.eol_date else None


def _cycle_for(version: str, cycles: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The cycle whose name is the longest dotted prefix of ``version`` (``8.1`` for ``8.1.27``)."""
    v = version.strip().lstrip("v")
    best = None
    for c in cycles:
        name = str(c["cycle"])
        same_line = v == name or v.startswith((name + ".", name + "-", name + "p"))
        if same_line and (best is None or len(name) > len(str(best["cycle"]))):
            best = c
    return best


def _newer_or_equal(version: str, latest: str, product: str) -> bool:
    scheme = "Packagist" if product == "magento" else "generic"
    try:
        return bool(parse(scheme, version) >= parse(scheme, latest))
    except BadVersion:
        return version == latest


def eol_status(
    product: str, version: str, today: dt.date | None = None, *, path: Path | None = None
) -> EolStatus | None:
    """Support status of ``product`` at ``version`` on ``today``; None if the product or cycle is unknown.

    ``product`` is an endoflife.date id (``php``, ``wordpress``, ``nginx``, ``debian`` ...).
    """
    today = today or dt.date.today()
    entry = products(path).get(product)
    if not entry or not version:
        return None
    cycles = entry["cycles"]
    c = _cycle_for(version, cycles)
    if c is None:
        return None
    eol_raw = c.get("eol")
    eol_date = _date(eol_raw)
    is_eol = bool(eol_raw) if isinstance(eol_raw, bool) else (eol_date is not None and eol_date <= today)
    latest = str(c.get("latest") or "")
    up = _next_supported(cycles, c, today)
    return EolStatus(
        product=product,
        version=version,
        cycle=str(c["cycle"]),
        eol_date=eol_date,
        is_eol=is_eol,
        support_end=_date(c.get("support")),
        latest=latest,
        is_latest=not latest or _newer_or_equal(version, latest, product),
        latest_cycle=str(cycles[0]["cycle"]) if cycles else "",
        extended_end=_date(c.get("extended")),
        upgrade_cycle=str(up["cycle"]) if up else "",
        upgrade_to=str(up.get("latest") or up["cycle"]) if up else "",
    )


def _supported(c: dict[str, Any], today: dt.date) -> bool:
    eol = c.get("eol")
    if isinstance(eol, bool):
        return not eol
    d = _date(eol)
    return d is None or d > today + dt.timedelta(days=SUPPORT_WARNING_DAYS)


def _next_supported(
    cycles: list[dict[str, Any]], current: dict[str, Any], today: dt.date
) -> dict[str, Any] | None:
    """endoflife.date lists cycles newest first: walk back from the current one to the first supported."""
    idx = next((i for i, c in enumerate(cycles) if c is current), None)
    if idx is None:
        return None
    for c in reversed(cycles[:idx]):
        if _supported(c, today):
            return c
    return None


def from_api(product_json: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """endoflife.date API v1 (``/api/{product}.json``) entries -> snapshot cycles."""

    def val(v: object) -> object:
        return v if isinstance(v, bool) or v is None else str(v)

    return [
        {
            "cycle": str(r["cycle"]),
            "release": val(r.get("releaseDate")),
            "support": val(r.get("support")),
            "eol": val(r.get("eol")),
            "extended": val(r.get("extendedSupport")),
            "latest": val(r.get("latest")),
            "latest_date": val(r.get("latestReleaseDate")),
            "lts": val(r.get("lts")),
        }
        for r in product_json
        if isinstance(r, dict) and "cycle" in r
    ]
