"""File integrity monitoring (PCI DSS 11.5.2): a signed baseline of the web roots
and a fast comparison against it.

Storage choice: one file per store in the user data folder, not database tables.
A check must compare ~70,000 entries in well under a second; one sequential read
beats loading as many ORM rows. Inside the file each root is stored as columns
(the paths as one string, the stat fields and the digests as packed bytes), so
loading costs a few string decodes rather than half a million JSON objects, and
the check compares one tuple per file. A file is also trivially replaced
atomically (write a temporary file, fsync, ``os.replace``), so an interrupted
baseline never replaces a good one, and it is signed as a whole with a keyed
hash (keyed BLAKE3; HMAC-SHA256 in format 1) whose key lives in a separate 0600
file, so an edited baseline is detected. Accept history (who, when, why) is kept
inside the signed file. The baseline is not shared between machines; each host
that runs ``shopguard fim`` keeps its own.
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
import sys
import tempfile
from array import array
from base64 import b64decode, b64encode
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shopguard.paths import user_data_dir
from shopguard.scanning.files.walker import WalkStats, display_path, list_folder, walk_folders

FORMAT_VERSION = 2
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

FastKey = tuple[int, int, int, int]
"""(size, mtime_ns, ctime_ns, inode): equal means the file is not re-read."""


class RootFiles(Mapping[str, Entry]):
    """The entries of one web root, kept as columns; an :data:`Entry` list is only
    made for the files a caller asks about (changes, accept)."""

    __slots__ = ("_fast", "_index", "digests", "ids", "paths", "times")

    def __init__(self, paths: list[str], times: array[int], ids: array[int], digests: bytes) -> None:
        if len(times) != 3 * len(paths) or len(ids) != 4 * len(paths) or len(digests) != 32 * len(paths):
            raise BaselineError("baseline columns have different lengths")
        self.paths = paths
        self.times = times
        """size, mtime_ns, ctime_ns per file (signed 64-bit)"""
        self.ids = ids
        """inode, mode, uid, gid per file (unsigned 64-bit)"""
        self.digests = digests
        self._index: dict[str, int] | None = None
        self._fast: dict[str, FastKey] | None = None

    @classmethod
    def from_entries(cls, files: Mapping[str, Entry]) -> RootFiles:
        if isinstance(files, RootFiles):
            return files
        paths = list(files)
        times: array[int] = array("q")
        ids: array[int] = array("Q")
        digests: list[bytes] = []
        for rel in paths:
            e = files[rel]
            times.extend((e[SIZE], e[MTIME], e[CTIME]))
            ids.extend((e[INO], e[MODE], e[UID], e[GID]))
            digests.append(bytes.fromhex(str(e[HASH])))
        return cls(paths, times, ids, b"".join(digests))

    def fast_keys(self) -> dict[str, FastKey]:
        """rel path -> (size, mtime_ns, ctime_ns, inode), built once with C-level slicing."""
        if self._fast is None:
            t, i = self.times, self.ids
            keys = zip(t[0::3], t[1::3], t[2::3], i[0::4], strict=True)
            self._fast = dict(zip(self.paths, keys, strict=True))
        return self._fast

    def _position(self, rel: str) -> int | None:
        if self._index is None:
            self._index = dict(zip(self.paths, range(len(self.paths)), strict=True))
        return self._index.get(rel)

    def __getitem__(self, rel: str) -> Entry:
        n = self._position(rel)
        if n is None:
            raise KeyError(rel)
        t, i = self.times, self.ids
        return [t[3 * n], t[3 * n + 1], t[3 * n + 2], i[4 * n], i[4 * n + 1], i[4 * n + 2], i[4 * n + 3],
                self.digests[32 * n : 32 * n + 32].hex()]  # fmt: skip

    def __contains__(self, rel: object) -> bool:
        return isinstance(rel, str) and self._position(rel) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)

    def to_doc(self) -> dict[str, str]:
        return {
            "paths": "\0".join(self.paths),  # the one character no file name can hold
            "times": b64encode(self.times.tobytes()).decode("ascii"),
            "ids": b64encode(self.ids.tobytes()).decode("ascii"),
            "digests": b64encode(self.digests).decode("ascii"),
        }

    @classmethod
    def from_doc(cls, doc: dict[str, str]) -> RootFiles:
        paths = doc["paths"].split("\0") if doc["paths"] else []
        times: array[int] = array("q")
        times.frombytes(b64decode(doc["times"]))
        ids: array[int] = array("Q")
        ids.frombytes(b64decode(doc["ids"]))
        return cls(paths, times, ids, b64decode(doc["digests"]))


@dataclass
class Baseline:
    store: str
    algorithm: str
    roots: dict[str, RootFiles]
    """root path -> its files (path relative to the root -> entry)"""
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
            "byteorder": sys.byteorder,
            "history": self.history,
            "roots": {root: files.to_doc() for root, files in self.roots.items()},
        }
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def _sign(payload: bytes, key: bytes, scheme: str = "blake3") -> str:
    """The signature line: keyed BLAKE3 (a MAC by design, ~10x faster than HMAC-SHA256
    on a 15 MB baseline), or the HMAC-SHA256 of format-1 baselines (no prefix)."""
    if scheme == "blake3":
        import blake3

        return "blake3:" + str(blake3.blake3(payload, key=key).hexdigest())
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def _verify(payload: bytes, key: bytes, signature: bytes) -> bool:
    scheme = "blake3" if signature.startswith(b"blake3:") else "hmac-sha256"
    return bool(payload) and hmac.compare_digest(_sign(payload, key, scheme).encode(), signature)


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
    if not _verify(payload, key, sig.strip()):
        raise BaselineTampered(
            f"{path}: the baseline's signature does not match: it was changed outside ShopGuard "
            "or signed with another key"
        )
    doc = json.loads(payload)
    fmt = doc.get("format")
    if fmt not in (1, FORMAT_VERSION) or doc.get("store") != store:
        raise BaselineError(f"{path}: not a format-{FORMAT_VERSION} baseline for store {store!r}")
    if fmt == FORMAT_VERSION and doc.get("byteorder") != sys.byteorder:
        raise BaselineError(f"{path}: written on a {doc.get('byteorder')}-endian machine; record a new one")
    try:
        roots = {
            root: RootFiles.from_doc(files) if fmt == FORMAT_VERSION else RootFiles.from_entries(files)
            for root, files in doc["roots"].items()
        }  # format 1 (one JSON list per file) is still read; the next save writes format 2
    except (KeyError, TypeError, ValueError) as exc:
        raise BaselineError(f"{path}: damaged baseline ({exc})") from None
    return Baseline(doc["store"], doc["algorithm"], roots, doc["created"], doc.get("history", []))


# -- building and comparing ------------------------------------------------------


def _files(
    root: str, stats: WalkStats, exclude: Iterable[Path]
) -> Iterator[tuple[str, str, list[tuple[str, os.stat_result]]]]:
    """Per folder of ``root``: (folder path with a trailing slash, the same relative to
    the root, [(name, lstat), ...])."""
    cut = len(root.rstrip("/")) + 1
    for folder, files in walk_folders([root], stats, exclude=exclude):
        if folder == root:
            yield root.rstrip("/") + "/", "", files
        else:
            yield folder + "/", folder[cut:] + "/", files


def sweep(
    folders: Iterable[tuple[str, str, list[tuple[str, os.stat_result]]]],
    fast: Mapping[str, FastKey],
    same: list[str],
    to_hash: list[tuple[str, str, os.stat_result]],
) -> None:
    """Sort the files of ``folders`` into unchanged (``same``: rel paths) and to re-read."""
    get = fast.get
    keep, rehash = same.append, to_hash.append
    # the hot loop: one dict lookup and one tuple comparison per file
    for folder, prefix, files in folders:
        for name, st in files:
            rel = prefix + name
            if get(rel) == (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino):
                keep(rel)
            else:
                rehash((folder + name, rel, st))


SPLIT_MIN_FILES = 20_000
"""Below this many files a second process costs more than it saves."""


def split_walk(
    root: str, fast: Mapping[str, FastKey], stats: WalkStats, exclude: Iterable[Path]
) -> tuple[list[str], list[tuple[str, str, os.stat_result]]] | None:
    """:func:`sweep` over ``root`` in two processes, or None to do it in one.

    The unchanged-tree check is mostly the kernel answering ``lstat`` once per file, which
    one process does on one core. A forked child takes about half of the root's folders (by
    the baseline's file counts), with the baseline already in its memory, and sends back only
    its result. Used only when it is safe and worth it: two cores or more, a large tree, and
    no other thread in this process (forking beside threads can deadlock the child). A
    folder reached from both halves (a bind mount, a hard-linked folder) cannot be
    de-duplicated across processes, so then the answer is None and one process walks it
    all, as always."""
    import pickle
    import threading

    if len(fast) < SPLIT_MIN_FILES or (os.cpu_count() or 1) < 2 or threading.active_count() != 1:
        return None
    if not hasattr(os, "fork"):
        return None
    top = root.rstrip("/") + "/"
    try:
        subs = sorted(e.name for e in os.scandir(top) if e.is_dir(follow_symlinks=False))
    except OSError:
        return None
    weight: dict[str, int] = dict.fromkeys(subs, 0)
    for rel in fast:
        head, sep, _ = rel.partition("/")
        if sep and head in weight:
            weight[head] += 1
    halves: tuple[list[str], list[str]] = ([], [])
    load = [0, 0]
    for name in sorted(subs, key=lambda n: -weight[n]):
        side = 0 if load[0] <= load[1] else 1
        halves[side].append(name)
        load[side] += weight[name]
    if not halves[1] or max(load) > 0.8 * sum(load):
        return None  # one folder holds nearly everything: nothing to share

    try:
        rst = os.stat(top)
    except OSError:
        return None
    root_ident = (rst.st_dev, rst.st_ino)

    def walk_half(names: list[str], own: WalkStats) -> tuple[list[str], list[Any], set[tuple[int, int]]]:
        seen = {root_ident}  # as in one walk: the root itself is never entered again
        same: list[str] = []
        to_hash: list[tuple[str, str, os.stat_result]] = []
        for name in names:
            folders = walk_folders([top + name], own, exclude=exclude, seen=seen)
            sweep(((f + "/", f[len(top) :] + "/", files) for f, files in folders), fast, same, to_hash)
        return same, to_hash, seen

    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: walk its half, send the result, leave without cleanup handlers
        code = 0
        try:
            os.close(read_fd)
            child_stats = WalkStats()
            result = (*walk_half(halves[1], child_stats), child_stats)
            with os.fdopen(write_fd, "wb") as out:
                pickle.dump(result, out, protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    mine_stats = WalkStats()
    reader = os.fdopen(read_fd, "rb")
    theirs = None
    try:
        mine = walk_half(halves[0], mine_stats)
        # Our own child, over a pipe only it and we hold: not untrusted data.
        theirs = pickle.load(reader)  # noqa: S301
    except (EOFError, pickle.UnpicklingError, OSError):
        theirs = None  # the child failed: walk in one process
    finally:
        reader.close()  # first, so a child still writing gets EPIPE instead of waiting for ever
        _, status = os.waitpid(pid, 0)
    if theirs is None or status != 0:
        return None
    theirs_same, theirs_hash, theirs_seen, theirs_stats = theirs
    if (mine[2] & theirs_seen) - {root_ident}:
        return None
    root_stats = WalkStats()
    same: list[str] = []
    to_hash: list[tuple[str, str, os.stat_result]] = []
    root_files = list_folder(top.rstrip("/") or "/", root_stats)
    sweep([(top, "", root_files)], fast, same, to_hash)
    same += mine[0] + theirs_same
    to_hash += mine[1] + theirs_hash
    for part in (root_stats, mine_stats, theirs_stats):
        stats.merge(part)
    return same, to_hash


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
    out: dict[str, RootFiles] = {}
    for root_path in roots:
        root = os.path.abspath(root_path)
        if not os.path.isdir(root):
            raise BaselineError(f"web root {root} is not a folder")
        items = [
            (folder + name, prefix + name, st)
            for folder, prefix, files in _files(root, stats, exclude)
            for name, st in files
        ]
        digests = hash_paths([p for p, _, _ in items], algorithm, jobs)
        files: dict[str, Entry] = {}
        for (path, rel, st), digest in zip(items, digests, strict=True):
            if digest is None:
                stats.note_unreadable(path)
                continue
            files[rel] = _entry(st, digest)
        out[root] = RootFiles.from_entries(files)
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
    current: dict[str, dict[str, Entry]] | None = None
    """The state found (what ``accept`` records); only kept when asked for."""


def compare(
    baseline: Baseline,
    *,
    paranoid: bool = False,
    exclude: Iterable[Path] = (),
    jobs: int = 0,
    keep_current: bool = False,
) -> Comparison:
    """Compare the web roots with the baseline. Unchanged size, mtime, ctime and
    inode mean the file is not re-read unless ``paranoid`` (ctime moves with any
    write, chmod or chown, and cannot be set back by the file's owner)."""
    stats = WalkStats()
    changes: list[Change] = []
    current: dict[str, dict[str, Entry]] = {}
    rehashed = unchanged = 0
    for root, old in baseline.roots.items():
        to_hash: list[tuple[str, str, os.stat_result]] = []
        same: list[str] = []
        if not os.path.isdir(root):
            stats.vanished += 1
        else:
            fast = {} if paranoid else old.fast_keys()
            walked = None if paranoid or jobs == 1 else split_walk(root, fast, stats, exclude)
            if walked is None:
                sweep(_files(root, stats, exclude), fast, same, to_hash)
            else:
                same, to_hash = walked
        unchanged += len(same)
        digests = hash_paths([p for p, _, _ in to_hash], baseline.algorithm, jobs)
        rehashed += len(to_hash)
        hashed = [
            (path, rel, None if digest is None else _entry(st, digest))
            for (path, rel, st), digest in zip(to_hash, digests, strict=True)
        ]
        now = diff_root(root, old, same, hashed, stats, changes)
        if keep_current:
            current[root] = {**{rel: old[rel] for rel in same}, **now}
    changes.sort(key=lambda c: (c.path, c.kind))
    return Comparison(changes, stats, rehashed, unchanged, current if keep_current else None)


def diff_root(
    root: str,
    old: RootFiles,
    same: list[str],
    hashed: list[tuple[str, str, Entry | None]],
    stats: WalkStats,
    changes: list[Change],
) -> dict[str, Entry]:
    """Changes of one root (appended to ``changes``): ``same`` were not re-read, ``hashed``
    are (path, rel, entry or None when unreadable). Returns the re-read entries."""
    now: dict[str, Entry] = {}
    seen = len(same)
    for path, rel, entry in hashed:
        prev = old.get(rel)
        seen += prev is not None
        if entry is None:
            stats.note_unreadable(path)
            if prev is not None:
                now[rel] = prev  # cannot tell; do not report it as removed
            continue
        now[rel] = entry
        shown = display_path(os.path.join(root, rel))
        if prev is None:
            changes.append(Change("added", shown, None, entry))
        elif prev[HASH] != entry[HASH]:
            changes.append(Change("changed", shown, prev, entry))
        elif (prev[MODE], prev[UID], prev[GID]) != (entry[MODE], entry[UID], entry[GID]):
            changes.append(Change("permissions", shown, prev, entry))
    if seen < len(old):  # something in the baseline was not seen
        found = set(same).union(now)
        for rel in old:
            if rel not in found:
                changes.append(Change("removed", display_path(os.path.join(root, rel)), old[rel], None))
    return now


def accept(
    store: str,
    reason: str,
    *,
    by: str | None = None,
    paths: Iterable[Path] = (),
    exclude: Iterable[Path] = (),
    compared: Callable[[Baseline], Comparison] | None = None,
    location_prefix: str = "",
) -> tuple[Baseline, Comparison]:
    """Record the current state as the new baseline (all of it, or only ``paths``),
    with who accepted it and why. Returns the new baseline and what was accepted.
    For remote roots, ``compared`` gives the comparison (made with ``keep_current``) and
    ``location_prefix`` (``ssh://user@host:port:``) names where ``paths`` are."""
    if not reason.strip():
        raise ValueError("a reason is required to accept changes (for example: 'deploy of release 2.4.1')")
    old = load(store)
    if compared is None:
        comparison = compare(old, paranoid=False, exclude=exclude, keep_current=True)
    else:
        comparison = compared(old)
    current = comparison.current or {}
    only = [location_prefix + os.path.abspath(p) for p in paths]

    def wanted(root: str, rel: str) -> bool:
        if not only:
            return True
        full = os.path.join(root, rel)
        return any(full == p or full.startswith(p.rstrip("/") + "/") for p in only)

    roots: dict[str, RootFiles] = {}
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
        roots[root] = RootFiles.from_entries(merged)
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
