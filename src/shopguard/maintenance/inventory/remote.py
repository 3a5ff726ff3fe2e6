"""Web roots on a remote host, read over the hosting protocol's read-only SSH transport.

Only the files the inventory reads are fetched (``find`` lists them, ``head -c`` reads them;
both on the transport's allow-list): platform version files, WordPress plugin and theme headers,
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
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from shopguard.maintenance.inventory.files import SKIP_DIRS, scan_paths
from shopguard.maintenance.inventory.jsfiles import MAX_JS_BYTES
from shopguard.maintenance.inventory.lockfiles import PARSERS
from shopguard.maintenance.inventory.textio import MAX_LOCKFILE_BYTES
from shopguard.maintenance.model import Inventory
from shopguard.maintenance.vulndb.retirejs import Detector

MAX_REMOTE_FILES = 20_000
"""More files than this (a web root full of bundled JavaScript) are not fetched; a warning says so."""
_BATCH = 100
"""Files per ``head`` command (one round trip each)."""

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


class _Result(Protocol):
    @property
    def returncode(self) -> int: ...

    @property
    def stdout(self) -> str: ...

    @property
    def stderr(self) -> str: ...


class RemoteFiles(Protocol):
    """What this needs of the hosting protocol's ``HostTransport``."""

    name: str

    async def run(self, argv: Sequence[str], *, timeout: float = ...) -> _Result: ...

    async def read_files(
        self, paths: Sequence[str], *, max_bytes: int = ...
    ) -> dict[str, bytes | Exception]: ...


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
        "-print",
        ")",
        "-o",
        "(",
        "-type",
        "f",
        "(",
        *wanted,
        ")",
        "-print",
        ")",
    ]


async def remote_web_root_inventory(
    transport: RemoteFiles, root: str, detector: Detector | None
) -> Inventory:
    """The file inventory of ``root`` on the transport's host."""
    where = f"{transport.name}:{root}"
    inv = Inventory()
    res = await transport.run(find_command(root), timeout=300)
    if res.returncode != 0 and not res.stdout:
        inv.warn(where, f"cannot list the web root: {res.stderr.strip() or f'find exited {res.returncode}'}")
        return inv
    if res.returncode != 0:
        inv.warn(where, f"some folders could not be listed: {res.stderr.strip().splitlines()[-1]}")
    listed = [p for p in res.stdout.splitlines() if p.startswith(root.rstrip("/") + "/")]
    if len(listed) > MAX_REMOTE_FILES:
        inv.warn(where, f"more than {MAX_REMOTE_FILES} files to read; the rest were not inventoried")
        listed = listed[:MAX_REMOTE_FILES]
    base = root.rstrip("/")
    with tempfile.TemporaryDirectory(prefix="shopguard-remote-") as tmp:
        mirror = Path(tmp) / "root"
        mirror.mkdir()
        files = []
        for p in listed:
            rel = posixpath.relpath(p, base)
            if rel == "catalog":  # OpenCart is told by this folder next to index.php
                (mirror / rel).mkdir()
            elif not rel.startswith(".."):
                files.append((p, rel))
        for limit, group in (
            (MAX_JS_BYTES + 1, [f for f in files if f[1].endswith(".js")]),
            (MAX_LOCKFILE_BYTES + 1, [f for f in files if not f[1].endswith(".js")]),
        ):
            for i in range(0, len(group), _BATCH):
                chunk = group[i : i + _BATCH]
                got = await transport.read_files([p for p, _ in chunk], max_bytes=limit)
                for p, rel in chunk:
                    data = got.get(p)
                    if isinstance(data, bytes):
                        dest = mirror / rel
                        dest.parent.mkdir(parents=True, exist_ok=True)
                        dest.write_bytes(data)
                    else:
                        inv.warn(f"{transport.name}:{p}", f"cannot read: {data}")
        local = scan_paths([mirror], detector)
    prefix = str(mirror)

    def back(loc: str) -> str:
        return f"{transport.name}:{base}{loc[len(prefix) :]}" if loc.startswith(prefix) else loc

    inv.add(dataclasses.replace(c, location=back(c.location)) for c in local.components)
    for w in local.warnings:
        inv.warn(back(w.location), w.message)
    return inv
