"""End-of-life facts: the shipped snapshot, the public function, and the API refresh."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import yaml

from shopguard import maintenance
from shopguard.findings import Severity
from shopguard.maintenance.assess import eol_findings
from shopguard.maintenance.eol import eol_status, products
from shopguard.maintenance.model import Component, Owner

from .conftest import EOL_DIR

TODAY = dt.date(2026, 11, 25)


def test_snapshot_matches_its_source_files() -> None:
    snap = products()
    sources = sorted(p.stem for p in EOL_DIR.glob("*.yaml"))
    assert sorted(snap) == sources
    php = yaml.safe_load((EOL_DIR / "php.yaml").read_text())
    first = php["releases"][0]
    assert snap["php"]["cycles"][0]["cycle"] == str(first["releaseCycle"])
    assert snap["php"]["cycles"][0]["eol"] == first["eol"].isoformat()
    for needed in (
        "php",
        "wordpress",
        "magento",
        "shopware",
        "drupal",
        "mysql",
        "mariadb",
        "postgresql",
        "nginx",
        "apache-http-server",
        "debian",
        "ubuntu",
        "rhel",
        "nodejs",
        "python",
        "django",
        "openssl",
        "jquery",
    ):
        assert snap[needed]["cycles"], needed


def test_eol_status_known_answers() -> None:
    old = maintenance.eol_status("php", "7.4.33", TODAY)
    assert old is not None and old.is_eol and old.cycle == "7.4" and old.eol_date == dt.date(2022, 11, 28)
    cur = eol_status("php", "8.3.1", TODAY)
    assert cur is not None and not cur.is_eol and not cur.is_latest and cur.latest == "8.3.33"
    assert eol_status("php", "8.3.33", TODAY).is_latest  # type: ignore[union-attr]
    assert eol_status("magento", "2.4.7-p3", TODAY).is_latest  # type: ignore[union-attr]  # -p3 is after 2.4.7
    assert eol_status("nosuchproduct", "1.0", TODAY) is None
    assert eol_status("php", "99.1", TODAY) is None
    jq = eol_status("jquery", "1.12.4", TODAY)
    assert jq is not None and jq.is_eol  # eol: true, no date
    # the smallest safe jump: the oldest newer line still supported, not simply the newest
    assert (jq.upgrade_cycle, jq.upgrade_to, jq.latest_cycle) == ("3", "3.7.1", "4")
    assert (old.upgrade_cycle, old.upgrade_to) == ("8.3", "8.3.33")


def comp(name: str, version: str, product: str) -> Component:
    return Component(
        name,
        version,
        "generic",
        f"pkg:generic/{name}@{version}",
        Owner.RUNTIME,
        f"local:{name}",
        "runtime",
        product,
    )


def test_eol_findings() -> None:
    found = eol_findings(
        [
            comp("php", "7.4.33", "php"),
            comp("php", "8.3.1", "php"),
            comp("php", "8.5.9", "php"),
            comp("python", "3.11.16", "python"),
        ],
        TODAY,
    )
    by = {(f.location, f.key.rsplit(":", 1)[-1]): f for f in found}
    eol = by[("local:php", "eol")]
    assert eol.severity is Severity.HIGH and set(eol.refs.pci) == {"6.3.3", "12.3.4"}
    patch = [f for f in found if f.key.endswith(":patch")]
    assert [(f.evidence["version"], f.evidence["target"], f.severity) for f in patch] == [
        ("8.3.1", "8.3.33", Severity.MEDIUM)
    ]
    # python 3.11 security support ends 2027-10-31: no finding today; within 90 days of it: low
    assert not [f for f in found if f.evidence["component"] == "python"]
    soon = eol_findings([comp("python", "3.11.16", "python")], dt.date(2027, 9, 1))
    assert [(f.severity, f.key.rsplit(":", 1)[-1]) for f in soon] == [(Severity.LOW, "support-ending")]
    assert "2027-10-31" in soon[0].title


def api_answer(product: str) -> bytes:
    """endoflife.date API v1 shape (``/api/{product}.json``), built from the product's source file."""
    doc = yaml.safe_load((EOL_DIR / f"{product}.yaml").read_text())

    def v(x: object) -> object:
        return x.isoformat() if isinstance(x, dt.date) else x

    out = []
    for r in doc["releases"]:
        out.append(
            {
                "cycle": str(r["releaseCycle"]),
                "releaseDate": v(r.get("releaseDate")),
                "eol": v(r.get("eol")),
                "latest": r.get("latest"),
                "latestReleaseDate": v(r.get("latestReleaseDate")),
                "lts": r.get("lts", False),
                "support": v(r.get("eoas", r.get("eol"))),
                "extendedSupport": v(r.get("eoes", False)),
            }
        )
    return json.dumps(out).encode()


def test_api_answer_shape_is_read(tmp_path: Path) -> None:
    from shopguard.maintenance.eol import from_api

    cycles = from_api(json.loads(api_answer("nginx")))
    assert cycles[0]["cycle"] and "eol" in cycles[0] and "latest" in cycles[0]
