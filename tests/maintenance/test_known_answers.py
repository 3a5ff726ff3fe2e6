"""Known answers pinned against the real advisory data (PyPI OSV export, FriendsOfPHP, retire.js)."""

from __future__ import annotations

from pathlib import Path

from shopguard.maintenance.matching import smallest_fix
from shopguard.maintenance.model import Component, Owner, make_purl
from shopguard.maintenance.sources.local import LocalSource


def comp(eco: str, name: str, version: str, keys: tuple[tuple[str, str], ...] = ()) -> Component:
    return Component(
        name, version, eco, make_purl(eco, name, version), Owner.LIBRARY, "test", match_keys=keys
    )


def test_old_django_matches_its_advisories(synced_db: Path) -> None:
    src = LocalSource(synced_db)
    dj = comp("PyPI", "Django", "3.0.0")
    matches = src.query([dj])[dj]
    by_id = {m.advisory.id: m for m in matches}
    # CVE-2021-3281: archive extraction directory traversal, fixed in 3.0.12
    assert "PYSEC-2021-9" in by_id
    assert {"CVE-2021-3281", "GHSA-fvgf-6h6h-3322"} <= set(by_id["PYSEC-2021-9"].ids)
    assert "3.0.12" in by_id["PYSEC-2021-9"].fixed
    assert len(matches) == 10
    assert smallest_fix(dj, matches) == "3.1.12"


def test_fixed_django_does_not_match_that_advisory(synced_db: Path) -> None:
    src = LocalSource(synced_db)
    dj = comp("PyPI", "django", "3.0.12")
    assert "PYSEC-2021-9" not in {m.advisory.id for m in src.query([dj]).get(dj, [])}
    assert src.query([comp("PyPI", "django", "4.2.16")]) == {}


def test_jinja2(synced_db: Path) -> None:
    src = LocalSource(synced_db)
    old = comp("PyPI", "Jinja2", "2.10")
    matches = src.query([old])[old]
    assert {m.advisory.id for m in matches} == {"PYSEC-2019-217", "PYSEC-2021-66"}
    assert "CVE-2019-10906" in matches[0].ids + matches[1].ids
    assert smallest_fix(old, matches) == "2.11.3"
    assert src.query([comp("PyPI", "jinja2", "3.1.4")]) == {}


def test_magento_from_friendsofphp(synced_db: Path) -> None:
    src = LocalSource(synced_db)
    m224 = comp("Packagist", "magento/product-community-edition", "2.2.4")
    ids = {m.advisory.id for m in src.query([m224])[m224]}
    # "Magento 2.2.5 and 2.1.14 Security update": branch 2.2 is >=2.2,<2.2.5
    assert "FOP-magento/product-community-edition-2018-06-27" in ids
    m225 = comp("Packagist", "magento/product-community-edition", "2.2.5")
    assert "FOP-magento/product-community-edition-2018-06-27" not in {
        m.advisory.id for m in src.query([m225]).get(m225, [])
    }
    # a -p patch release is newer than its base release (Composer ordering)
    assert src.query([comp("Packagist", "magento/product-community-edition", "2.4.7-p3")]) == {}


def test_jquery_1_12_4_from_retirejs(synced_db: Path) -> None:
    src = LocalSource(synced_db)
    jq = comp("npm", "jquery", "1.12.4", (("retirejs", "jquery"),))
    matches = src.query([jq])[jq]
    all_ids = {i for m in matches for i in m.ids}
    assert {"CVE-2020-11022", "CVE-2020-11023", "CVE-2019-11358", "CVE-2015-9251"} <= all_ids
    assert smallest_fix(jq, matches) == "3.5.0"
    jq371 = comp("npm", "jquery", "3.7.1", (("retirejs", "jquery"),))
    assert src.query([jq371]) == {}


def test_batch_query_answers_each_component(synced_db: Path) -> None:
    src = LocalSource(synced_db)
    batch = [comp("PyPI", "django", "3.0.0"), comp("PyPI", "jinja2", "2.10"), comp("PyPI", "jinja2", "3.1.4")]
    found = src.query(batch)
    assert set(found) == {batch[0], batch[1]}
