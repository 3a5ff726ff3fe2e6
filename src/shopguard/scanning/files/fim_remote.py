"""File integrity monitoring of web roots on a remote host, over the hosting protocol's
read-only transport (the same SSH connection the host audit and the inventory use).

One ``find -printf`` walk per root lists path, size, mtime, ctime, inode, mode and owner of
every file (NUL-separated, so any file name comes back exactly); only files whose
(size, mtime, ctime, inode) differ from the baseline are hashed, by ``sha256sum`` on the host,
in batches (``paranoid`` hashes all). The baseline is the local one's format, signed with the
same local key and kept on this machine; its roots are named
``ssh://user@host:port:/path``. Remote roots are hashed with sha256, which every host has
(coreutils), whatever ``fim_hash`` says: BLAKE3 has no standard tool on servers.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from shopguard.hosting import hash_remote_files, list_remote_tree, remote_location
from shopguard.scanning.files import fim
from shopguard.scanning.files.walker import WalkStats

if TYPE_CHECKING:
    from shopguard.hosting import RemoteEntry, RemoteTransport

REMOTE_ALGORITHM = "sha256"


def root_key(transport_name: str, root: str) -> str:
    """How a remote root is named in the baseline and in findings: ``ssh://u@h:p:/path``."""
    return remote_location(transport_name, posixpath.normpath(str(root)))


async def walk_remote(
    transport: RemoteTransport, root: str, exclude: Iterable[str], stats: WalkStats
) -> list[RemoteEntry] | None:
    """The regular files below ``root`` (None when the root is gone); counts like the local walker."""
    try:
        listing = await list_remote_tree(transport, root, exclude)
    except FileNotFoundError:
        stats.vanished += 1
        return None
    except PermissionError:
        stats.note_unreadable(root_key(transport.name, root))
        return None
    files = []
    for e in listing.entries:
        if e.kind == "f":
            files.append(e)
            stats.bytes += e.size
        elif e.kind == "d":
            stats.dirs += 1
        elif e.kind == "l":
            stats.symlinks_skipped += 1
        else:
            stats.special_skipped += 1
    stats.files += len(files)
    stats.excluded += len(listing.pruned)
    stats.vanished += listing.vanished
    for p in listing.unreadable:
        stats.note_unreadable(remote_location(transport.name, p))
    return files


def _entry(e: RemoteEntry, digest: str) -> fim.Entry:
    return [e.size, e.mtime_ns, e.ctime_ns, e.inode, e.mode, e.uid, e.gid, digest]


async def build_remote(
    store: str, transport: RemoteTransport, roots: Sequence[str], *, exclude: Iterable[str] = ()
) -> tuple[fim.Baseline, WalkStats]:
    """The baseline of remote ``roots`` (same format as :func:`fim.build`)."""
    stats = WalkStats()
    excluded = [str(e) for e in exclude]
    out: dict[str, fim.RootFiles] = {}
    for root in roots:
        key = root_key(transport.name, root)
        files = await walk_remote(transport, str(root), excluded, stats)
        if files is None:
            raise fim.BaselineError(f"web root {key} is not a folder that can be read")
        digests = await hash_remote_files(transport, [e.path for e in files])
        entries: dict[str, fim.Entry] = {}
        for e in files:
            digest = digests.get(e.path)
            if digest is None:
                stats.note_unreadable(remote_location(transport.name, e.path))
                continue
            entries[e.rel] = _entry(e, digest)
        out[key] = fim.RootFiles.from_entries(entries)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return fim.Baseline(store, REMOTE_ALGORITHM, out, now), stats


async def compare_remote(
    baseline: fim.Baseline,
    transport: RemoteTransport,
    *,
    paranoid: bool = False,
    exclude: Iterable[str] = (),
    keep_current: bool = False,
) -> fim.Comparison:
    """Like :func:`fim.compare`, for a baseline of remote roots on ``transport``'s host."""
    if baseline.algorithm != REMOTE_ALGORITHM:
        raise fim.BaselineError(
            f"the baseline uses {baseline.algorithm}; remote web roots are hashed with sha256: "
            "record a new one with `shopguard fim baseline --force`"
        )
    stats = WalkStats()
    changes: list[fim.Change] = []
    current: dict[str, dict[str, fim.Entry]] = {}
    rehashed = unchanged = 0
    prefix = transport.name + ":"
    excluded = [str(e) for e in exclude]
    for key, old in baseline.roots.items():
        if not key.startswith(prefix):
            raise fim.BaselineError(
                f"the baseline root {key} is not on {transport.name}: the store's host changed; "
                "record a new baseline with `shopguard fim baseline --force`"
            )
        root = key[len(prefix) :]
        same: list[str] = []
        to_hash: list[RemoteEntry] = []
        files = await walk_remote(transport, root, excluded, stats) or []
        get = ({} if paranoid else old.fast_keys()).get
        for e in files:
            if get(e.rel) == (e.size, e.mtime_ns, e.ctime_ns, e.inode):
                same.append(e.rel)
            else:
                to_hash.append(e)
        unchanged += len(same)
        rehashed += len(to_hash)
        digests = await hash_remote_files(transport, [e.path for e in to_hash])
        hashed = [
            (
                remote_location(transport.name, e.path),
                e.rel,
                None if (d := digests.get(e.path)) is None else _entry(e, d),
            )
            for e in to_hash
        ]
        now = fim.diff_root(key, old, same, hashed, stats, changes)
        if keep_current:
            current[key] = {**{rel: old[rel] for rel in same}, **now}
    changes.sort(key=lambda c: (c.path, c.kind))
    return fim.Comparison(changes, stats, rehashed, unchanged, current if keep_current else None)
