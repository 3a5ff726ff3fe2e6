"""Clean negatives: Debian's WordPress and this environment's site-packages give
nothing above "low" (the issue's false-positive bar), scanned with both cores."""

from __future__ import annotations

import site
from pathlib import Path

from shopguard.findings import Severity
from shopguard.scanning.files.engine import EngineSpec, scan_tree

WORDPRESS = Path("/usr/share/wordpress")


def _above_low(scan: object) -> list[tuple[str, list[str]]]:
    return [
        (r.path, [f"{d.rule}: {d.excerpt}" for d in r.detections])
        for r in scan.results  # type: ignore[attr-defined]
        if r.severity > Severity.LOW
    ]


def test_debian_wordpress_has_no_finding_above_low(spec: EngineSpec) -> None:
    assert (WORDPRESS / "wp-includes" / "version.php").is_file(), "install Debian's wordpress package"
    scan = scan_tree([WORDPRESS], spec)
    assert scan.stats.scanned > 2000
    assert _above_low(scan) == []


def test_site_packages_have_no_finding_above_low(spec: EngineSpec) -> None:
    roots = [Path(p) for p in site.getsitepackages() if Path(p).is_dir()]
    scan = scan_tree(roots, spec)
    assert scan.stats.scanned > 1000
    assert _above_low(scan) == []
