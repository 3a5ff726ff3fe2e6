"""The file scan of web roots on a remote host (``host = "ssh://..."``), over the hosting
protocol's read-only transport, as the maintenance inventory reads remote web roots.

One ``find`` walk lists every file with its size (the same listing the remote integrity
check uses). Files are then fetched in batches (``head --bytes``; at most ``max_file_mb`` plus
one byte each, so the engine sees that a bigger file was cut, and at most ``remote_max_mb``
for the whole scan) into a private temporary folder with the web root's layout, scanned by
the normal engine file by file, and deleted again before the next batch, so the local disk
holds one batch at a time. Every location is written back as ``ssh://user@host:port:/path``.
What the read limit left out is listed in its own finding; nothing on the host is changed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import dataclasses
import os
import posixpath
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from shopguard.config import Store
from shopguard.hosting import fetch_remote_files, hash_remote_files, mirror_path, remote_location
from shopguard.scanning.files.engine import Engine, EngineSpec, FileResult, ScanStats, TreeScan
from shopguard.scanning.files.fim_remote import root_key, walk_remote
from shopguard.scanning.files.walker import WalkStats, display_path

if TYPE_CHECKING:
    from shopguard.hosting import RemoteEntry, RemoteTransport

T = TypeVar("T")
MB = 1024 * 1024
CHUNK_BYTES = 64 * MB
"""Content fetched, written to the private copy and scanned at a time."""


class _EngineThread:
    """The engine lives on one thread of its own: yara-x scanners must be used and dropped on
    the thread that made them, and asyncio's default pool may hand work to any of its threads."""

    def __init__(self) -> None:
        self._pool = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="shopguard-remote-scan")
        self._engine: list[Engine] = []

    async def start(self, spec: EngineSpec) -> None:
        await self._call(lambda: self._engine.append(Engine(spec)))

    async def scan(self, paths: list[str], stats: ScanStats, root_len: int) -> list[FileResult]:
        def work() -> list[FileResult]:
            engine = self._engine[0]
            return [r for p in paths if (r := engine.scan_file(p, stats, root_len)) is not None]

        return await self._call(work)

    async def _call(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

    async def close(self) -> None:
        try:
            await self._call(self._engine.clear)
        finally:
            self._pool.shutdown(wait=False)


def remote_roots(store: Store, transport_name: str) -> list[str]:
    """The store's web roots as locations: ``ssh://user@host:port:/path``."""
    return [root_key(transport_name, str(r)) for r in store.web_roots]


async def scan_remote_store(
    store: Store,
    transport: RemoteTransport,
    *,
    deadline: float | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> TreeScan:
    """Scan the store's remote web roots. Transport errors (host unreachable, timeouts) are
    raised, so an unreachable host never looks like a clean one."""
    from shopguard.scanning.files.scan import spec_for

    spec = spec_for(store)
    engine = _EngineThread()
    await engine.start(spec)
    try:
        return await _scan(store, transport, spec, engine, deadline, should_stop)
    finally:
        await engine.close()


async def _scan(
    store: Store,
    transport: RemoteTransport,
    spec: EngineSpec,
    engine: _EngineThread,
    deadline: float | None,
    should_stop: Callable[[], bool],
) -> TreeScan:
    per_file = spec.max_file_bytes + 1  # one byte more: the engine reports a file it had to cut
    budget = store.files.remote_max_mb * MB
    walk_stats = WalkStats()
    stats = ScanStats()
    results: list[FileResult] = []
    scan = TreeScan(results, stats)
    spent = 0
    origin: dict[str, str] = {}
    """location -> remote path (the location shows bytes that are not UTF-8 as \\xNN)"""

    def stop() -> bool:
        return should_stop() or (deadline is not None and time.monotonic() > deadline)

    with tempfile.TemporaryDirectory(prefix="shopguard-remote-scan-") as tmp:  # mode 0700
        for n, root_like in enumerate(store.web_roots):
            root = posixpath.normpath(str(root_like))
            gone = walk_stats.vanished
            files = await walk_remote(
                transport, root, [str(p) for p in store.files.trusted_folders], walk_stats
            )
            if files is None and walk_stats.vanished > gone:  # as a local scan: a config mistake
                raise FileNotFoundError(
                    f"web root {root_key(transport.name, root)} does not exist "
                    "(check web_roots in the config)"
                )
            if not files:
                continue
            mirror = Path(tmp) / str(n)
            wanted: list[tuple[RemoteEntry, int]] = []
            for e in files:
                size = min(e.size, per_file)
                if spent + size > budget:
                    scan.not_fetched.append(remote_location(transport.name, e.path))
                    continue
                spent += size
                wanted.append((e, size))
            start = 0
            while start < len(wanted):
                if stop():
                    scan.interrupted = True
                    break
                end, chunk_bytes = start, 0
                while end < len(wanted) and (end == start or chunk_bytes + wanted[end][1] <= CHUNK_BYTES):
                    chunk_bytes += wanted[end][1]
                    end += 1
                chunk = [e for e, _ in wanted[start:end]]
                start = end
                await _scan_chunk(transport, engine, per_file, chunk, mirror, stats, results, origin)
            if scan.interrupted:
                break
    if scan.not_fetched:
        scan.not_fetched_reason = (
            f"the scan's read limit of {store.files.remote_max_mb} MB from the remote host "
            "(files.remote_max_mb) was reached"
        )
    await _fix_capped(transport, results, origin, spec)
    stats.merge(walk_stats)
    return scan


async def _scan_chunk(
    transport: RemoteTransport,
    engine: _EngineThread,
    per_file: int,
    chunk: list[RemoteEntry],
    mirror: Path,
    stats: ScanStats,
    results: list[FileResult],
    origin: dict[str, str],
) -> None:
    got = await fetch_remote_files(transport, [(e.path, e.size) for e in chunk], max_bytes=per_file)
    back: dict[str, RemoteEntry] = {}
    placed: list[tuple[str, RemoteEntry]] = []
    for e in chunk:
        if e.path in got.failed:
            reason = got.failed[e.path]
            if "No such file" in reason:
                stats.vanished += 1
            else:
                stats.note_unreadable(remote_location(transport.name, e.path))
            continue
        dest = mirror_path(mirror, e.rel or posixpath.basename(e.path))
        dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(got.content.get(e.path, b""))
        local = os.fsdecode(dest)
        back[display_path(local)] = e
        placed.append((local, e))
    root_len = len(os.fsdecode(mirror))

    try:  # heuristics see the path inside the web root, as in a local scan
        found = await engine.scan([p for p, _ in placed], stats, root_len)
    finally:
        for p, _ in placed:
            Path(p).unlink(missing_ok=True)
    for r in found:
        e = back[r.path]
        where = remote_location(transport.name, e.path)
        origin[where] = e.path
        results.append(dataclasses.replace(r, path=where, size=e.size))
    shutil.rmtree(mirror, ignore_errors=True)


async def _fix_capped(
    transport: RemoteTransport, results: list[FileResult], origin: dict[str, str], spec: EngineSpec
) -> None:
    """A file cut at the size limit was hashed from its first bytes only; like a local scan,
    record the sha256 of the whole file (computed on the host) when it has detections."""
    capped = [i for i, r in enumerate(results) if r.capped_at is not None and r.detections]
    if not capped:
        return
    paths = {i: origin[results[i].path] for i in capped}
    digests = await hash_remote_files(transport, list(paths.values()))
    drop = []
    for i, path in paths.items():
        sha = digests.get(path) or ""
        if sha and sha in spec.allow_hashes:
            drop.append(i)
        results[i] = dataclasses.replace(results[i], sha256=sha)
    for i in reversed(drop):
        del results[i]
