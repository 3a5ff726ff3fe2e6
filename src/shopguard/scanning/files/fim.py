"""File integrity monitoring (PCI DSS 11.5.2): a signed baseline of the web roots
and a fast comparison against it.

Storage choice: one file per store in the user data folder, not database tables.
A check must compare ~70,000 entries in well under a second; one sequential read
and a dict beat loading as many ORM rows. A file is also trivially replaced
atomically (write a temporary file, fsync, ``os.replace``), so an interrupted
baseline never replaces a good one, and it is signed as a whole with a keyed
hash (HMAC-SHA256) whose key lives in a separate 0600 file, so an edited
baseline is detected. Accept history (who, when, why) is kept inside the signed
file. The baseline is not shared between machines; each host that runs
``shopguard fim`` keeps its own.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import getpass
import hashlib
import hmac
import json
import os
import secrets
import stat
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shopguard.paths import user_data_dir
from shopguard.scanning.files.walker import WalkStats, display_path, walk

FORMAT_VERSION = 1
ALGORITHMS = ("blake3", "sha256")

Entry = list[Any]
"""[size, mtime_ns, ctime_ns, inode, mode, uid, gid, hash]"""
SIZE, MTIME, CTIME, INO, MODE, UID, GID, HASH = range(8)


class BaselineError(Exception):
    """The baseline is missing, unreadable, or fails its signature check."""


class BaselineTampered(BaselineError):
    pass


def fim_dir() -> Path:
    return user_data_dir() / "fim"


def baseline_path(store: str) -> Path:
    return fim_dir() / f"{store}.baseline"


def key_path() -> Path:
    return user_data_dir() / "fim.key"


def load_key(create: bool = False) -> bytes:
    """The signing key (32 random bytes, hex in a 0600 file). Refuses a key others can read."""
    path = key_path()
    if not path.exists():
        if not create:
            raise BaselineError(f"{path}: the baseline signing key is missing; run `shopguard fim baseline`")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return load_key(False)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
    st = path.stat()
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise BaselineError(
            f"{path}: the baseline key is readable by other users (mode {stat.S_IMODE(st.st_mode):o}); "
            f"run: chmod 600 {path}"
        )
    try:
        return bytes.fromhex(path.read_text().strip())
    except ValueError:
        raise BaselineError(f"{path}: not a ShopGuard key (expected 64 hex characters)") from None


# -- hashing ---------------------------------------------------------------------


def _hasher(algorithm: str) -> Any:
    if algorithm == "blake3":
        import blake3

        return blake3.blake3()
    return hashlib.sha256()


def hash_file(path: str, algorithm: str) -> str | None:
    """Hex digest of a file's content, or None when it vanished or cannot be read."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        h = _hasher(algorithm)
        while chunk := os.read(fd, 1 << 20):
            h.update(chunk)
        return str(h.hexdigest())
    except OSError:
        return None
    finally:
        os.close(fd)


def _hash_batch(args: tuple[list[str], str]) -> list[str | None]:
    paths, algorithm = args
    return [hash_file(p, algorithm) for p in paths]


def hash_paths(paths: list[str], algorithm: str, jobs: int = 0) -> list[str | None]:
    """Hash many files: in this process when few, else on one worker process per core
    (per-file overhead, not the hash, dominates on shop trees of small files)."""
    if len(paths) < 2048:
        return _hash_batch((paths, algorithm))
    import multiprocessing

    from shopguard.scanning.files.engine import default_jobs

    jobs = jobs or default_jobs()
    size = 1024
    batches = [(paths[i : i + size], algorithm) for i in range(0, len(paths), size)]
    ctx = multiprocessing.get_context("forkserver")
    with cf.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        out: list[str | None] = []
        for part in pool.map(_hash_batch, batches):
            out.extend(part)
    return out


def _entry(st: os.stat_result, digest: str | None) -> Entry:
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_mode, st.st_uid, st.st_gid, digest]


# -- the baseline file ------------------------------------------------------------


@dataclass
class Baseline:
    store: str
    algorithm: str
    roots: dict[str, dict[str, Entry]]
    """root path -> {path relative to the root -> entry}"""
    created: str
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.roots.values())

    def to_bytes(self) -> bytes:
        doc = {
            "format": FORMAT_VERSION,
            "store": self.store,
            "algorithm": self.algorithm,
            "created": self.created,
            "history": self.history,
            "roots": self.roots,
        }
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def _sign(payload: bytes, key: bytes) -> str:
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def save(baseline: Baseline, path: Path | None = None) -> Path:
    """Write atomically: temporary file in the same folder, fsync, rename."""
    path = path or baseline_path(baseline.store)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    for stale in path.parent.glob(path.name + ".*.tmp"):  # left by a killed run
        with contextlib.suppress(OSError):
            stale.unlink()
    payload = baseline.to_bytes()
    signature = _sign(payload, load_key(create=True))
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload + b"\n" + signature.encode() + b"\n")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def load(store: str, path: Path | None = None) -> Baseline:
    """Read and verify a baseline. Raises BaselineTampered when the signature fails."""
    path = path or baseline_path(store)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BaselineError(
            f"no baseline for store {store!r} ({path}); run `shopguard fim baseline`"
        ) from None
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read the baseline: {exc.strerror}") from None
    payload, _, sig = raw.rstrip(b"\n").rpartition(b"\n")
    key = load_key()
    if not payload or not hmac.compare_digest(_sign(payload, key).encode(), sig.strip()):
        raise BaselineTampered(
            f"{path}: the baseline's signature does not match: it was changed outside ShopGuard "
            "or signed with another key"
        )
    doc = json.loads(payload)
    if doc.get("format") != FORMAT_VERSION or doc.get("store") != store:
        raise BaselineError(f"{path}: not a format-{FORMAT_VERSION} baseline for store {store!r}")
    return Baseline(doc["store"], doc["algorithm"], doc["roots"], doc["created"], doc.get("history", []))


# -- building and comparing ------------------------------------------------------


def _rel(root: str, path: str) -> str:
    return path[len(root) :].lstrip("/") if path != root else os.path.basename(root)


def _scan_root(
    root: str, stats: WalkStats, exclude: Iterable[Path]
) -> Iterator[tuple[str, str, os.stat_result]]:
    for path, st in walk([root], stats, exclude=exclude):
        yield path, _rel(root, path), st


def build(
    store: str,
    roots: Iterable[Path],
    algorithm: str = "blake3",
    *,
    exclude: Iterable[Path] = (),
    jobs: int = 0,
) -> tuple[Baseline, WalkStats]:
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown hash {algorithm!r}: expected one of {', '.join(ALGORITHMS)}")
    stats = WalkStats()
    out: dict[str, dict[str, Entry]] = {}
    for root_path in roots:
        root = os.path.abspath(root_path)
        if not os.path.isdir(root):
            raise BaselineError(f"web root {root} is not a folder")
        items = list(_scan_root(root, stats, exclude))
        digests = hash_paths([p for p, _, _ in items], algorithm, jobs)
        files: dict[str, Entry] = {}
        for (_path, rel, st), digest in zip(items, digests, strict=True):
            if digest is None:
                stats.note_unreadable(_path)
                continue
            files[rel] = _entry(st, digest)
        out[root] = files
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return Baseline(store, algorithm, out, now), stats


@dataclass(frozen=True)
class Change:
    kind: str
    """added, removed, changed (content), permissions (mode/owner only)"""
    path: str
    """Printable absolute path."""
    before: Entry | None
    after: Entry | None


@dataclass
class Comparison:
    changes: list[Change]
    stats: WalkStats
    rehashed: int = 0
    unchanged: int = 0


def compare(
    baseline: Baseline,
    *,
    paranoid: bool = False,
    exclude: Iterable[Path] = (),
    jobs: int = 0,
) -> tuple[Comparison, dict[str, dict[str, Entry]]]:
    """Compare the web roots with the baseline; also return the current state
    (what ``accept`` would record). Unchanged size, mtime, ctime and inode mean
    the file is not re-read unless ``paranoid``."""
    stats = WalkStats()
    changes: list[Change] = []
    current: dict[str, dict[str, Entry]] = {}
    rehashed = unchanged = 0
    for root, old in baseline.roots.items():
        now: dict[str, Entry] = {}
        to_hash: list[tuple[str, str, os.stat_result]] = []
        cut = len(root.rstrip("/")) + 1
        if not os.path.isdir(root):
            stats.vanished += 1
        else:
            get = old.get
            for path, st in walk([root], stats, exclude=exclude):
                rel = path[cut:]
                prev = get(rel)
                if (
                    prev is not None
                    and not paranoid
                    and prev[MTIME] == st.st_mtime_ns
                    and prev[CTIME] == st.st_ctime_ns
                    and prev[SIZE] == st.st_size
                    and prev[INO] == st.st_ino
                ):
                    # ctime moves with any chmod/chown too, so the entry is still exact
                    now[rel] = prev
                    unchanged += 1
                else:
                    to_hash.append((path, rel, st))
        digests = hash_paths([p for p, _, _ in to_hash], baseline.algorithm, jobs)
        rehashed += len(to_hash)
        for (path, rel, st), digest in zip(to_hash, digests, strict=True):
            if digest is None:
                stats.note_unreadable(path)
                if rel in old:
                    now[rel] = old[rel]  # cannot tell; do not report it as removed
                continue
            entry = _entry(st, digest)
            now[rel] = entry
            prev = old.get(rel)
            shown = display_path(os.path.join(root, rel))
            if prev is None:
                changes.append(Change("added", shown, None, entry))
            elif prev[HASH] != entry[HASH]:
                changes.append(Change("changed", shown, prev, entry))
            elif (prev[MODE], prev[UID], prev[GID]) != (entry[MODE], entry[UID], entry[GID]):
                changes.append(Change("permissions", shown, prev, entry))
        added = sum(1 for c in changes if c.kind == "added" and c.path.startswith(display_path(root)))
        if len(now) - added < len(old):  # something in the baseline was not seen
            for rel, prev in old.items():
                if rel not in now:
                    changes.append(Change("removed", display_path(os.path.join(root, rel)), prev, None))
        current[root] = now
    changes.sort(key=lambda c: (c.path, c.kind))
    return Comparison(changes, stats, rehashed, unchanged), current


def accept(
    store: str,
    reason: str,
    *,
    by: str | None = None,
    paths: Iterable[Path] = (),
    exclude: Iterable[Path] = (),
) -> tuple[Baseline, Comparison]:
    """Record the current state as the new baseline (all of it, or only ``paths``),
    with who accepted it and why. Returns the new baseline and what was accepted."""
    if not reason.strip():
        raise ValueError("a reason is required to accept changes (for example: 'deploy of release 2.4.1')")
    old = load(store)
    comparison, current = compare(old, paranoid=False, exclude=exclude)
    only = [os.path.abspath(p) for p in paths]

    def wanted(root: str, rel: str) -> bool:
        if not only:
            return True
        full = os.path.join(root, rel)
        return any(full == p or full.startswith(p.rstrip("/") + "/") for p in only)

    roots: dict[str, dict[str, Entry]] = {}
    accepted = [
        c
        for c in comparison.changes
        if not only or any(c.path == p or c.path.startswith(p.rstrip("/") + "/") for p in only)
    ]
    for root, files in old.roots.items():
        merged = dict(files)
        for rel, entry in current.get(root, {}).items():
            if wanted(root, rel):
                merged[rel] = entry
        for rel in list(merged):
            if rel not in current.get(root, {}) and wanted(root, rel):
                del merged[rel]
        roots[root] = merged
    counts: dict[str, int] = {}
    for c in accepted:
        counts[c.kind] = counts.get(c.kind, 0) + 1
    history = [
        *old.history,
        {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "by": by or getpass.getuser(),
            "reason": reason.strip(),
            "paths": [display_path(p) for p in only],
            "accepted": counts,
        },
    ][-200:]
    new = Baseline(store, old.algorithm, roots, old.created, history)
    save(new)
    return new, Comparison(accepted, comparison.stats, comparison.rehashed, comparison.unchanged)
