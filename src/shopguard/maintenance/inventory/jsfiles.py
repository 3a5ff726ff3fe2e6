"""JavaScript libraries shipped as files (jQuery and friends), found with retire.js patterns."""

from __future__ import annotations

from pathlib import Path

from shopguard.maintenance.inventory.known import classify
from shopguard.maintenance.model import Component, Inventory, make_purl
from shopguard.maintenance.vulndb.retirejs import Detector

MAX_JS_BYTES = 4 * 1024 * 1024


def scan_js(path: Path, detector: Detector, inv: Inventory) -> None:
    try:
        if path.stat().st_size > MAX_JS_BYTES:
            return  # bundles this large are built output; their libraries are in the lockfile
        content = path.read_bytes()
    except OSError as exc:
        inv.warn(str(path), f"cannot read: {exc.strerror}")
        return
    for lib, npm, version in detector.detect(path.name, content):
        owner, _, eol = classify("npm", npm)
        inv.add(
            [
                Component(
                    name=npm,
                    version=version,
                    ecosystem="npm",
                    purl=make_purl("npm", npm, version),
                    owner=owner,
                    location=str(path),
                    kind="js-file",
                    eol_product=eol,
                    match_keys=(("retirejs", lib),),
                )
            ]
        )
