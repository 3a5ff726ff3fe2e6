from __future__ import annotations

import pytest

from shopguard.maintenance.versions import BadVersion, compare, is_valid, scheme_of


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("2.4.3", "2.4.3-p1"),  # Magento patch releases come after the release
        ("2.4.3-p1", "2.4.3-p2"),
        ("2.4.3-p2", "2.4.4"),
        ("1.0.0-beta2", "1.0.0-RC1"),  # Composer: beta < RC < stable
        ("1.0.0-RC1", "1.0.0"),
        ("v2.4.3", "2.4.4"),
        ("2.1", "2.1.14"),
    ],
)
def test_composer_order(a: str, b: str) -> None:
    assert compare("Packagist", a, b) < 0
    assert compare("Packagist", b, a) > 0


def test_pep440_and_semver_and_debian() -> None:
    assert compare("PyPI", "2.2", "2.2.18") < 0
    assert compare("PyPI", "3.0.0rc1", "3.0.0") < 0
    assert compare("PyPI", "1.0.post1", "1.0") > 0
    assert compare("npm", "1.9.0b1", "1.9.0") < 0  # retire.js writes pre-releases this way
    assert compare("npm", "1.12.4", "1.9.1") > 0
    assert compare("Debian", "1:2.3-1", "2.9-1") > 0  # epoch wins
    assert compare("Debian", "1.2.3-1~deb12u1", "1.2.3-1") < 0


def test_scheme_of_and_bad_versions() -> None:
    assert scheme_of("Debian:12") == "Debian"
    assert scheme_of("Packagist") == "Packagist"
    assert scheme_of("WordPress:plugin") == "WordPress"  # PHP version_compare (test_wordfence)
    assert scheme_of("Rocky Linux:9") == "Rocky Linux"
    assert scheme_of("Magento") == "generic"
    assert not is_valid("PyPI", "not a version!")
    with pytest.raises(BadVersion):
        compare("Packagist", "dev-master", "1.0")
    assert compare("generic", "1.1.1w", "1.1.1") > 0
    assert compare("generic", "8.2.0-rc1", "8.2.0") < 0
