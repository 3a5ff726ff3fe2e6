"""Shop platforms read from their own files."""

from __future__ import annotations

from pathlib import Path

from shopguard.maintenance.inventory.files import scan_paths
from shopguard.maintenance.inventory.platforms import wp_header


def write(root: Path, rel: str, data: str | bytes) -> None:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))


WOO_HEADER = """<?php
/**
 * Plugin Name: WooCommerce
 * Plugin URI: https://woocommerce.com/
 * Description: An ecommerce toolkit that helps you sell anything. Beautifully.
 * Version: 8.5.1
 * Author: Automattic
 * Requires at least: 6.3
 *
 * @package WooCommerce
 */
defined( 'ABSPATH' ) || exit;
"""


def make_wordpress(root: Path) -> None:
    write(
        root,
        "wp-includes/version.php",
        "<?php\n/**\n * WordPress Version\n */\n$wp_version = '6.4.3';\n$wp_db_version = 56657;\n",
    )
    write(root, "wp-content/plugins/woocommerce/woocommerce.php", WOO_HEADER)
    write(root, "wp-content/plugins/woocommerce/includes/class-wc.php", "<?php // no header here\n")
    # a plugin whose only version is in readme.txt
    write(
        root,
        "wp-content/plugins/contact-form-7/wp-contact-form-7.php",
        "<?php\n/*\nPlugin Name: Contact Form 7\n*/\n",
    )
    write(
        root,
        "wp-content/plugins/contact-form-7/readme.txt",
        "=== Contact Form 7 ===\nStable tag: 5.3.1\nLicense: GPLv2\n",
    )
    # a header written in Latin-1 by an old editor
    write(
        root,
        "wp-content/plugins/caf\u00e9/cafe.php",
        "<?php\n/*\nPlugin Name: Caf\xe9 Men\xfc\nVersion: 1.2\n*/\n".encode("latin-1"),
    )
    write(root, "wp-content/themes/storefront/style.css", "/*\nTheme Name: Storefront\nVersion: 4.5.0\n*/\n")
    write(root, "wp-content/plugins/empty-folder/.keep", "")
    write(root, "wp-content/plugins/index.php", "<?php\n// Silence is golden.\n")
    write(
        root,
        "wp-content/plugins/hello.php",
        "<?php\n/**\n * @package Hello_Dolly\n * @version 1.7.2\n */\n/*\n"
        "Plugin Name: Hello Dolly\nVersion: 1.7.2\n*/\n",
    )


def test_wordpress_core_plugins_themes(tmp_path: Path) -> None:
    make_wordpress(tmp_path)
    inv = scan_paths([tmp_path], None)
    got = {(c.kind, c.name): c for c in inv.components}
    core = got[("platform", "wordpress")]
    assert core.version == "6.4.3" and core.eol_product == "wordpress" and core.owner.value == "core"
    woo = got[("plugin", "woocommerce")]
    assert woo.version == "8.5.1" and woo.owner.value == "extension"
    assert woo.purl == "pkg:generic/wordpress-plugin/woocommerce@8.5.1"
    assert got[("plugin", "contact-form-7")].version == "5.3.1"
    assert got[("plugin", "caf\u00e9")].version == "1.2"
    assert got[("theme", "storefront")].version == "4.5.0"
    assert ("plugin", "empty-folder") not in got and ("plugin", "index") not in got
    assert got[("plugin", "hello")].version == "1.7.2"
    latin = [w for w in inv.warnings if "cafe.php" in w.location]
    assert latin and "Latin-1" in latin[0].message


def test_wp_header_reads_like_get_file_data() -> None:
    assert wp_header(" * Version: 2.0 */", "Version") == "2.0"
    assert wp_header("Version:1.0\n", "version") == "1.0"
    assert wp_header("no header", "Version") == ""


def test_prestashop_opencart_drupal_oscar(tmp_path: Path) -> None:
    write(tmp_path, "ps/config/settings.inc.php", "<?php\ndefine('_PS_VERSION_', '1.6.1.24');\n")
    write(
        tmp_path,
        "ps8/src/Core/Version.php",
        "<?php\nnamespace PrestaShop\\PrestaShop\\Core;\nclass Version {\n    const VERSION = '8.1.2';\n}\n",
    )
    write(tmp_path, "oc/index.php", "<?php\n// Version\ndefine('VERSION', '3.0.3.8');\n")
    write(tmp_path, "oc/catalog/controller/common/home.php", "<?php\n")
    write(tmp_path, "dr/core/lib/Drupal.php", "<?php\nclass Drupal {\n  const VERSION = '9.5.11';\n}\n")
    write(
        tmp_path, "py/venv/lib/python3.11/site-packages/oscar/__init__.py", "VERSION = (3, 2, 4, 'final')\n"
    )
    write(tmp_path, "mg/app/etc/env.php", "<?php return [];\n")
    found = {}
    for sub in ("ps", "ps8", "oc", "dr", "py", "mg"):
        inv = scan_paths([tmp_path / sub], None)
        found[sub] = inv
    assert [(c.name, c.version) for c in found["ps"].components] == [("prestashop", "1.6.1.24")]
    assert [(c.name, c.version) for c in found["ps8"].components] == [("prestashop", "8.1.2")]
    assert [(c.name, c.version) for c in found["oc"].components] == [("opencart", "3.0.3.8")]
    (drupal,) = found["dr"].components
    assert (drupal.name, drupal.version, drupal.eol_product) == ("drupal/core", "9.5.11", "drupal")
    (oscar,) = found["py"].components
    assert (oscar.name, oscar.version, oscar.purl) == ("django-oscar", "3.2.4", "pkg:pypi/django-oscar@3.2.4")
    assert any("Magento 2" in w.message and "composer.lock" in w.message for w in found["mg"].warnings)
