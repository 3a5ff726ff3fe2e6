#!/usr/bin/env python3
"""Build ShopGuard's end-of-life snapshot from endoflife.date product files.

Usage: python scripts/build_eol_snapshot.py ../shared/data/eol src/shopguard/data/eol/eol.json

Keeps facts only (cycle names, dates, latest versions); no prose. Source:
endoflife.date (https://endoflife.date, MIT licence).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import yaml


def _val(v: object) -> object:
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, bool) or v is None:
        return v
    return str(v)


def product_cycles(doc: dict) -> list[dict]:
    out = []
    for r in doc.get("releases") or []:
        out.append(
            {
                "cycle": str(r["releaseCycle"]),
                "release": _val(r.get("releaseDate")),
                "support": _val(r.get("eoas")),
                "eol": _val(r.get("eol")),
                "extended": _val(r.get("eoes")),
                "latest": _val(r.get("latest")),
                "latest_date": _val(r.get("latestReleaseDate")),
                "lts": _val(r.get("lts")),
            }
        )
    return out


def main(src: Path, dest: Path) -> None:
    products = {}
    for f in sorted(src.glob("*.yaml")):
        doc = yaml.safe_load(f.read_text(encoding="utf-8"))
        products[f.stem] = {"title": str(doc.get("title", f.stem)), "cycles": product_cycles(doc)}
    data = {
        "source": "https://endoflife.date (endoflife-date/endoflife.date, MIT licence)",
        "built_from": "endoflife.date product pages' release front matter",
        "products": products,
    }
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(data, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{dest}: {len(products)} products, {sum(len(p['cycles']) for p in products.values())} cycles")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
