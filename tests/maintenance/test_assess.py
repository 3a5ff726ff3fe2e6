"""Findings from matches: severity from CVSS, patch age for PCI 6.3.3, smallest fix, refs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from shopguard.findings import Severity
from shopguard.maintenance.assess import vulnerability_findings
from shopguard.maintenance.model import Component, Owner, make_purl
from shopguard.maintenance.plan import build_plan, grouped
from shopguard.maintenance.sources.local import LocalSource
from shopguard.maintenance.vulndb.cvss import cvss3_base_score, label_for_score


def test_cvss3_scores_match_first_calculator() -> None:
    # reference values from FIRST's CVSS v3.1 calculator
    assert cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H") == 9.8
    assert cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N") == 6.1
    assert cvss3_base_score("CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N") == 0.0
    assert cvss3_base_score("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N") == 5.9
    assert cvss3_base_score("CVSS:2.0/AV:N") is None
    assert label_for_score(9.8) == "critical" and label_for_score(6.1) == "medium"


def c(eco: str, name: str, version: str, loc: str, keys: tuple[tuple[str, str], ...] = ()) -> Component:
    return Component(name, version, eco, make_purl(eco, name, version), Owner.LIBRARY, loc, match_keys=keys)


def test_vulnerability_finding_content(synced_db: Path) -> None:
    jinja = c("PyPI", "Jinja2", "2.10", "/srv/app/requirements.txt")
    jq = c("npm", "jquery", "1.12.4", "/srv/shop/js/jquery-1.12.4.min.js", (("retirejs", "jquery"),))
    found = LocalSource(synced_db).query([jinja, jq])
    findings = {
        f.evidence["component"]: f for f in vulnerability_findings(found, dt.date(2026, 11, 25), "local")
    }
    fj = findings["Jinja2"]
    assert fj.check_id == "maintenance.vulnerabilities" and fj.location == "/srv/app/requirements.txt"
    assert set(fj.refs.pci) == {"6.3.1", "6.3.3"}
    assert {"PYSEC-2019-217", "CVE-2019-10906", "PYSEC-2021-66", "CVE-2020-28493"} <= set(fj.refs.cve)
    assert fj.evidence["smallest_fix"] == "2.11.3" and "2.11.3" in fj.remediation
    # PYSEC records carry no score: treated as high and said so
    assert fj.severity is Severity.HIGH
    assert all(a["severity_source"] == "unscored" for a in fj.evidence["advisories"])
    assert "treated as high" in fj.detail
    # published 2019 and 2021: far older than 30 days
    assert set(fj.evidence["pci_6_3_3_overdue"]) == {"PYSEC-2019-217", "PYSEC-2021-66"}
    assert "published more than 30 days ago" in fj.title
    fq = findings["jquery"]
    # retire.js labels: medium at most for jQuery 1.12.4
    assert fq.severity is Severity.MEDIUM
    assert fq.evidence["pci_6_3_3_overdue"] == []
    assert fq.evidence["smallest_fix"] == "3.5.0"
    assert fq.key == "npm:jquery"


def test_patch_age_window(synced_db: Path) -> None:
    """An advisory becomes 'overdue' for 6.3.3 only after 30 days."""
    jinja = c("PyPI", "jinja2", "2.11.2", "req.txt")  # only PYSEC-2021-66, published 2021-02-01
    found = LocalSource(synced_db).query([jinja])
    (m,) = found[jinja]
    published = dt.date.fromisoformat(m.advisory.published[:10])  # type: ignore[index]
    fresh = vulnerability_findings(found, published + dt.timedelta(days=30), "local")[0]
    late = vulnerability_findings(found, published + dt.timedelta(days=31), "local")[0]
    assert fresh.evidence["pci_6_3_3_overdue"] == [] and late.evidence["pci_6_3_3_overdue"] == [
        "PYSEC-2021-66"
    ]
    assert fresh.fingerprint == late.fingerprint  # same problem, same finding


def test_plan_orders_by_risk_and_groups_by_owner(synced_db: Path) -> None:
    from shopguard.maintenance.assess import eol_findings

    comps = [
        c("npm", "jquery", "1.12.4", "/shop/js/jquery.js", (("retirejs", "jquery"),)),
        c("PyPI", "django", "3.0.0", "/shop/requirements.txt"),
        Component(
            "php",
            "7.4.33",
            "generic",
            "pkg:generic/php@7.4.33",
            Owner.RUNTIME,
            "local:php -v",
            "runtime",
            "php",
        ),
        Component(
            "magento/product-community-edition",
            "2.3.0",
            "Packagist",
            make_purl("Packagist", "magento/product-community-edition", "2.3.0"),
            Owner.CORE,
            "/shop/composer.lock",
            "platform",
            "magento",
        ),
    ]
    today = dt.date(2026, 11, 25)
    found = LocalSource(synced_db).query(comps)
    plan = build_plan([*vulnerability_findings(found, today, "local"), *eol_findings(comps, today)])
    names = [i.component for i in plan]
    assert names.index("magento/product-community-edition") < names.index("jquery")
    assert names.index("django") < names.index("jquery")  # high + overdue before medium
    php = next(i for i in plan if i.component == "php")
    # nearest line still supported beyond 90 days: 8.2 ends 2026-12-31, so 8.3 (latest 8.3.33)
    assert php.eol and php.target == "8.3.33" and "php" in php.command
    django = next(i for i in plan if i.component == "django")
    assert django.target == "3.1.12" and django.command.startswith("pip install 'django==3.1.12'")
    mag = next(i for i in plan if i.component.startswith("magento"))
    assert "composer require-commerce magento/product-community-edition" in mag.command
    groups = [title for title, _ in grouped(plan)]
    assert groups == ["Shop platform (core)", "Libraries (PHP, JavaScript, Python)", "Server software"]
