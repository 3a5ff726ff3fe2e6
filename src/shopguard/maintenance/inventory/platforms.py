"""Shop platforms read from their own files (not from a lockfile).

WordPress core, plugins and themes; PrestaShop; OpenCart; Drupal without a
composer.lock; Django Oscar installed in a virtualenv. Magento 2, Shopware and
Drupal with Composer are read from composer.lock (see known.py).
"""

from __future__ import annotations

import re
from pathlib import Path

from shopguard.maintenance.inventory.textio import ReadProblem, read_head
from shopguard.maintenance.model import Component, Inventory, Owner, make_purl


def _generic(
    name: str,
    version: str,
    loc: Path,
    *,
    owner: Owner,
    kind: str,
    eol: str = "",
    ns: str | None = None,
    match_keys: tuple[tuple[str, str], ...] = (),
) -> Component:
    return Component(
        name=name,
        version=version,
        ecosystem="WordPress" if ns and ns.startswith("wordpress") else "generic",
        purl=make_purl("generic", name, version, namespace=ns),
        owner=owner,
        location=str(loc),
        kind=kind,
        eol_product=eol,
        match_keys=match_keys,
    )


def _wp_keys(kind: str, slug: str) -> tuple[tuple[str, str], ...]:
    """Where the Wordfence feed's advisories for this software are filed (vulndb/wordfence.py)."""
    return ((f"WordPress:{kind}", slug.lower()),)


def _php_assign(text: str, pattern: str) -> str | None:
    m = re.search(pattern, text)
    return m.group(1) if m else None


def _read(path: Path, inv: Inventory, size: int = 65536) -> str | None:
    try:
        text, note = read_head(path, size)
    except ReadProblem as exc:
        inv.warn(str(path), str(exc))
        return None
    if note:
        inv.warn(str(path), note)
    return text


def wordpress(root: Path, inv: Inventory) -> bool:
    vfile = root / "wp-includes" / "version.php"
    if not vfile.is_file():
        return False
    text = _read(vfile, inv)
    version = _php_assign(text or "", r"\$wp_version\s*=\s*['\"]([^'\"]+)['\"]") or ""
    if not version:
        inv.warn(str(vfile), "no $wp_version found; WordPress version unknown")
    core = _generic(
        "wordpress",
        version,
        vfile,
        owner=Owner.CORE,
        kind="platform",
        eol="wordpress",
        match_keys=_wp_keys("core", "wordpress"),
    )
    inv.add([core])
    content = root / "wp-content"
    for folder, kind in (("plugins", "plugin"), ("themes", "theme")):
        base = content / folder
        if not base.is_dir():
            continue
        for d in sorted(p for p in base.iterdir() if p.is_dir()):
            comp = _wp_extension(d, kind, inv)
            if comp:
                inv.add([comp])
        if kind == "plugin":  # single-file plugins such as hello.php
            for f in sorted(p for p in base.glob("*.php") if p.is_file()):
                comp = _wp_single_file_plugin(f, inv)
                if comp:
                    inv.add([comp])
    return True


def _wp_single_file_plugin(f: Path, inv: Inventory) -> Component | None:
    text = _read(f, inv, 8192)
    if not text or not wp_header(text, "Plugin Name"):
        return None  # index.php ("Silence is golden") and other helpers
    version = wp_header(text, "Version")
    if not version:
        inv.warn(str(f), f"plugin {f.stem}: no Version header; version unknown")
    return _generic(
        f.stem,
        version,
        f,
        owner=Owner.EXTENSION,
        kind="plugin",
        ns="wordpress-plugin",
        match_keys=_wp_keys("plugin", f.stem),
    )


_HEADER = r"^[ \t/*#@]*{}:(.*)$"


def wp_header(text: str, field: str) -> str:
    """A WordPress file-header field, read the way get_file_data() does."""
    m = re.search(_HEADER.format(re.escape(field)), text, re.MULTILINE | re.IGNORECASE)
    return re.sub(r"\s*(?:\*/|\?>).*$", "", m.group(1)).strip() if m else ""


def _wp_extension(d: Path, kind: str, inv: Inventory) -> Component | None:
    slug = d.name
    header_field = "Plugin Name" if kind == "plugin" else "Theme Name"
    candidates = sorted(d.glob("*.php")) if kind == "plugin" else [d / "style.css"]
    version = ""
    found_at: Path | None = None
    for f in candidates:
        if not f.is_file():
            continue
        text = _read(f, inv, 8192)
        if text and wp_header(text, header_field):
            version = wp_header(text, "Version")
            found_at = f
            break
    readme = d / "readme.txt"
    if not version and readme.is_file():
        text = _read(readme, inv, 8192) or ""
        version = wp_header(text, "Stable tag")
        found_at = found_at or readme
    if found_at is None:
        return None
    if not version:
        inv.warn(str(found_at), f"{kind} {slug}: no Version header; version unknown")
    return _generic(
        slug,
        version,
        found_at,
        owner=Owner.EXTENSION,
        kind=kind,
        ns=f"wordpress-{kind}",
        match_keys=_wp_keys(kind, slug),
    )


def prestashop(root: Path, inv: Inventory) -> bool:
    for rel, pattern in (
        ("src/Core/Version.php", r"const\s+VERSION\s*=\s*'([^']+)'"),
        ("app/AppKernel.php", r"const\s+VERSION\s*=\s*'([^']+)'"),
        ("config/settings.inc.php", r"define\(\s*'_PS_VERSION_'\s*,\s*'([^']+)'"),
        ("config/autoload.php", r"define\(\s*'_PS_VERSION_'\s*,\s*'([^']+)'"),
    ):
        f = root / rel
        if f.is_file():
            text = _read(f, inv) or ""
            if "prestashop" not in text.lower() and "_PS_" not in text:
                continue
            v = _php_assign(text, pattern)
            if v:
                inv.add([_generic("prestashop", v, f, owner=Owner.CORE, kind="platform")])
                return True
    return False


def opencart(root: Path, inv: Inventory) -> bool:
    idx = root / "index.php"
    if not (idx.is_file() and (root / "catalog").is_dir()):
        return False
    v = _php_assign(_read(idx, inv) or "", r"define\(\s*'VERSION'\s*,\s*'([^']+)'")
    if not v:
        return False
    inv.add([_generic("opencart", v, idx, owner=Owner.CORE, kind="platform")])
    return True


def drupal_file(root: Path, inv: Inventory) -> bool:
    f = root / "core" / "lib" / "Drupal.php"
    if not f.is_file():
        return False
    v = _php_assign(_read(f, inv) or "", r"const\s+VERSION\s*=\s*'([^']+)'")
    if not v:
        inv.warn(str(f), "no VERSION constant; Drupal version unknown")
    comp = Component(
        "drupal/core",
        v or "",
        "Packagist",
        make_purl("Packagist", "drupal/core", v or ""),
        Owner.CORE,
        str(f),
        "platform",
        "drupal",
    )
    inv.add([comp])
    return True


def django_oscar_installed(root: Path, inv: Inventory) -> bool:
    """Django Oscar installed in a virtualenv under the root (``.../site-packages/oscar``)."""
    found = False
    for init in root.glob("*/lib/python3*/site-packages/oscar/__init__.py"):
        m = re.search(r"VERSION\s*=\s*\(([^)]*)\)", _read(init, inv) or "")
        if not m:
            continue
        parts = [p.strip().strip("'\"") for p in m.group(1).split(",") if p.strip()]
        nums = [p for p in parts[:3] if p.isdigit()]
        version = ".".join(nums)
        inv.add(
            [
                Component(
                    "django-oscar",
                    version,
                    "PyPI",
                    make_purl("PyPI", "django-oscar", version),
                    Owner.CORE,
                    str(init),
                    "platform",
                    "",
                )
            ]
        )
        found = True
    return found


def magento_without_lock(root: Path, inv: Inventory) -> None:
    if (root / "app" / "etc" / "env.php").is_file() and not (root / "composer.lock").is_file():
        inv.warn(
            str(root), "looks like Magento 2 (app/etc/env.php) but has no composer.lock; version unknown"
        )


DETECTORS = (wordpress, prestashop, opencart, drupal_file, django_oscar_installed)
