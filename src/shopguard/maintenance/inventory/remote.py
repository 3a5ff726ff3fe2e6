"""Web roots on a remote host, read over the hosting protocol's read-only SSH transport.

Only the files the inventory reads are fetched (``find`` lists them, ``head`` reads them; both on
the transport's allow-list, through the hosting protocol's shared remote-tree helpers that the
file scan and file integrity monitoring use too): platform version files, WordPress plugin and theme headers,
lockfiles and shipped ``.js`` files. They are copied into a private temporary folder with the
same layout, the ordinary file inventory runs over that copy, and every location is written back
as ``ssh://user@host:port:/remote/path``. Nothing on the host is changed. (Django Oscar
installed in a virtualenv under the web root is not looked for remotely: site-packages is not
walked; a lockfile that names it is read as usual.)
"""

from __future__ import annotations

import dataclasses
import posixpath
import tempfile
from pathlib import Path

from shopguard.hosting import (
    RemoteTransport,
    fetch_remote_files,
    list_remote_tree,
    mirror_path,
    remote_location,
)
from shopguard.hosting.transport.tree import FIND_FORMAT
from shopguard.maintenance.inventory.files import SKIP_DIRS, scan_paths
from shopguard.maintenance.inventory.jsfiles import MAX_JS_BYTES
from shopguard.maintenance.inventory.lockfiles import PARSERS
from shopguard.maintenance.inventory.textio import MAX_LOCKFILE_BYTES
from shopguard.maintenance.model import Inventory
from shopguard.maintenance.vulndb.retirejs import Detector

MAX_REMOTE_FILES = 20_000
"""More files than this (a web root full of bundled JavaScript) are not fetched; a warning says so."""

_PLATFORM_FILES = (
    "wp-includes/version.php",
    "src/Core/Version.php",
    "app/AppKernel.php",
    "config/settings.inc.php",
    "config/autoload.php",
    "index.php",
    "core/lib/Drupal.php",
    "app/etc/env.php",
)
"""What platforms.py reads at fixed places below a web root."""


def find_command(root: str) -> list[str]:
    """One ``find`` listing every file the inventory would read below ``root``."""
    r = root.rstrip("/") or "/"
    prune: list[str] = []
    for d in sorted(SKIP_DIRS):
        prune += [*(["-o"] if prune else []), "-name", d]
    wanted: list[str] = []
    for name in (*sorted(PARSERS), "requirements*.txt", "*.js"):
        wanted += [*(["-o"] if wanted else []), "-name", name]
    for rel in _PLATFORM_FILES:
        wanted += ["-o", "-path", f"{r}/{rel}"]
    plugins, themes = f"{r}/wp-content/plugins", f"{r}/wp-content/themes"
    wanted += ["-o", "(", "-path", f"{plugins}/*.php", "-not", "-path", f"{plugins}/*/*/*", ")"]
    wanted += ["-o", "-path", f"{plugins}/*/readme.txt", "-o", "-path", f"{themes}/*/style.css"]
    wanted += ["-o", "-path", f"{themes}/*/readme.txt"]
    return [
        "find",
        r,
        "(",
        "-type",
        "d",
        "(",
        *prune,
        ")",
        "-prune",
        ")",
        "-o",
        "(",
        "-type",
        "d",
        "-path",
        f"{r}/catalog",
        "-printf",
        FIND_FORMAT,
        ")",
        "-o",
        "(",
        "-type",
        "f",
        "(",
        *wanted,
        ")",
        "-printf",
        FIND_FORMAT,
        ")",
    ]


async def remote_web_root_inventory(
    transport: RemoteTransport, root: str, detector: Detector | None
) -> Inventory:
    """The file inventory of ``root`` on the transport's host."""
    base = posixpath.normpath(root)
    where = remote_location(transport.name, base)
    inv = Inventory()
    try:
        listing = await list_remote_tree(transport, base, argv=find_command(base))
    except OSError as exc:
        inv.warn(where, f"cannot list the web root: {exc}")
        return inv
    if listing.unreadable or listing.errors:
        last = (listing.errors or [f"{p}: Permission denied" for p in listing.unreadable])[-1]
        inv.warn(where, f"some folders could not be listed: {last}")
    listed = [e for e in listing.entries if e.rel and not e.rel.startswith("..")]
    if len(listed) > MAX_REMOTE_FILES:
        inv.warn(where, f"more than {MAX_REMOTE_FILES} files to read; the rest were not inventoried")
        listed = listed[:MAX_REMOTE_FILES]
    with tempfile.TemporaryDirectory(prefix="shopguard-remote-") as tmp:
        mirror = Path(tmp) / "root"
        mirror.mkdir()
        files = []
        for e in listed:
            if e.kind == "d" and e.rel == "catalog":  # OpenCart is told by this folder next to index.php
                (mirror / e.rel).mkdir()
            elif e.kind == "f":
                files.append(e)
        for limit, group in (
            (MAX_JS_BYTES + 1, [e for e in files if e.rel.endswith(".js")]),
            (MAX_LOCKFILE_BYTES + 1, [e for e in files if not e.rel.endswith(".js")]),
        ):
            got = await fetch_remote_files(transport, [(e.path, e.size) for e in group], max_bytes=limit)
            for e in group:
                data = got.content.get(e.path)
                if data is not None:
                    dest = mirror_path(mirror, e.rel)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_bytes(data)
                else:
                    inv.warn(
                        remote_location(transport.name, e.path), f"cannot read: {got.failed.get(e.path)}"
                    )
        local = scan_paths([mirror], detector)
    prefix = str(mirror)

    def back(loc: str) -> str:
        return f"{transport.name}:{base}{loc[len(prefix) :]}" if loc.startswith(prefix) else loc

    inv.add(dataclasses.replace(c, location=back(c.location)) for c in local.components)
    for w in local.warnings:
        inv.warn(back(w.location), w.message)
    return inv
