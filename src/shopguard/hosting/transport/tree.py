"""Reading a web root on a remote host through the read-only transport: one ``find`` walk,
bounded fetches of file contents into a private local copy, and hashing on the host.

Shared by the protocols that read remote web roots (the maintenance inventory, the file scan
and file integrity monitoring); each uses these and keeps its own logic. Every command is on
the transport's allow-list:

* ``find ROOT -xdev [( -path P ... ) -prune -printf 'P %p\\0' -o] -printf FORMAT`` lists
  every entry with its type, size, times, inode, mode and owner; records end in NUL, the
  one byte a file name cannot hold, so names with spaces, newlines and bytes that are not
  UTF-8 come back exactly (kept in ``str`` with surrogate escapes, as ``os.fsdecode`` does);
* ``head --verbose --bytes=N -- FILE...`` reads up to N bytes of many files per round trip; the output
  is cut with the sizes from the listing (content cannot fake a file boundary), and a
  batch that does not add up is read again one file at a time;
* ``sha256sum -z -- FILE...`` hashes files on the host (``-z``: names unescaped, NUL ended).

Locations are written as ``ssh://user@host:port:/remote/path`` (:func:`remote_location`).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from shopguard.hosting.transport.interface import CommandTimeout

LIST_TIMEOUT_S = 600.0
READ_TIMEOUT_S = 120.0
HASH_TIMEOUT_S = 600.0
BATCH_FILES = 200
"""Files per ``head``/``sha256sum`` command."""
BATCH_ARGV_BYTES = 48 * 1024
"""Bytes of file names per command (OpenSSH accepts requests up to 256 KB)."""
BATCH_READ_BYTES = 16 * 1024 * 1024
"""Bytes of content per ``head`` command."""

FIND_FORMAT = "%y %s %T@ %C@ %i %m %U %G %p\\0"
"""type size mtime ctime inode mode uid gid path, NUL ended (find expands ``\\0``)."""
PRUNED_FORMAT = "P %p\\0"


class RawTransport(Protocol):
    """What this needs of a :class:`~shopguard.hosting.transport.interface.HostTransport`."""

    name: str

    async def run_bytes(self, argv: Sequence[str], *, timeout: float = ...) -> tuple[bytes, bytes, int]: ...


def remote_location(transport_name: str, path: str) -> str:
    """``ssh://user@host:port:/path`` (undecodable bytes shown as ``\\xNN``)."""
    return f"{transport_name}:{os.fsencode(path).decode('utf-8', 'backslashreplace')}"


@dataclass(frozen=True)
class RemoteEntry:
    """One entry of a remote listing (what ``os.lstat`` would say locally)."""

    path: str
    """Absolute path on the host (surrogate escapes for bytes that are not UTF-8)."""
    rel: str
    """The path below the root (``""`` for the root itself)."""
    kind: str
    """``f`` file, ``d`` folder, ``l`` symlink, anything else is special (FIFO, socket, device)."""
    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    mode: int
    """Full ``st_mode`` (file type and permission bits)."""
    uid: int
    gid: int


@dataclass
class Listing:
    root: str
    entries: list[RemoteEntry] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    """Folders not entered (``exclude``)."""
    unreadable: list[str] = field(default_factory=list)
    """Paths ``find`` could not read (permission denied)."""
    vanished: int = 0
    errors: list[str] = field(default_factory=list)
    """Other messages from ``find``."""

    @property
    def files(self) -> list[RemoteEntry]:
        return [e for e in self.entries if e.kind == "f"]


_TYPE_BITS = {"f": 0o100000, "d": 0o040000, "l": 0o120000, "p": 0o010000, "s": 0o140000, "c": 0o020000,
              "b": 0o060000}  # fmt: skip


def _ns(stamp: bytes) -> int:
    """``1732547658.1234567890`` (find's ``%T@``) -> nanoseconds, exactly."""
    sec, _, frac = stamp.partition(b".")
    neg = sec.startswith(b"-")
    value = abs(int(sec)) * 1_000_000_000 + int((frac[:9] or b"0").ljust(9, b"0"))
    return -value if neg else value


def find_listing_command(root: str, exclude: Iterable[str] = ()) -> list[str]:
    prune: list[str] = []
    for p in exclude:
        prune += [*(["-o"] if prune else []), "-path", p.rstrip("/") or "/"]
    head = ["(", *prune, ")", "-prune", "-printf", PRUNED_FORMAT, "-o"] if prune else []
    return ["find", root, "-xdev", *head, "-printf", FIND_FORMAT]


def _find_error_path(line: str) -> str | None:
    # find: '/srv/www/private': Permission denied
    if line.startswith("find: '") and "': " in line:
        return line[len("find: '") : line.rindex("': ")]
    return None


async def list_tree(
    transport: RawTransport, root: str, exclude: Iterable[str] = (), *, argv: Sequence[str] | None = None
) -> Listing:
    """Every entry below ``root`` (not crossing into other file systems), with its metadata.
    ``argv`` is a ``find`` of the caller's own (what to list) whose printing actions use
    ``-printf FIND_FORMAT``. Raises the transport's errors; a root that cannot be listed at all
    raises FileNotFoundError or PermissionError with find's message."""
    root = posixpath.normpath(root)
    command = list(argv) if argv is not None else find_listing_command(root, exclude)
    out, err, rc = await transport.run_bytes(command, timeout=LIST_TIMEOUT_S)
    listing = Listing(root)
    base = root.rstrip("/") + "/"
    for rec in out.split(b"\0"):
        if not rec:
            continue
        if rec.startswith(b"P "):
            listing.pruned.append(os.fsdecode(rec[2:]))
            continue
        parts = rec.split(b" ", 8)
        if len(parts) != 9:
            continue
        kind, size, mtime, ctime, ino, mode, uid, gid, raw = parts
        path = os.fsdecode(raw)
        rel = "" if path == root else path[len(base) :] if path.startswith(base) else path
        k = kind.decode("ascii", "replace")
        listing.entries.append(
            RemoteEntry(path, rel, k, int(size), _ns(mtime), _ns(ctime), int(ino),
                        _TYPE_BITS.get(k, 0) | int(mode, 8), int(uid), int(gid))
        )  # fmt: skip
    for line in err.decode("utf-8", "surrogateescape").splitlines():
        where = _find_error_path(line)
        if where is not None and line.endswith("Permission denied"):
            listing.unreadable.append(where)
        elif where is not None and line.endswith("No such file or directory") and where != root:
            listing.vanished += 1
        elif line.strip():
            listing.errors.append(line.strip())
    if not listing.entries and rc != 0:
        message = "; ".join(listing.errors) or f"find exited {rc}"
        if any(
            line.endswith("No such file or directory") for line in err.decode(errors="replace").splitlines()
        ):
            raise FileNotFoundError(f"{remote_location(transport.name, root)} does not exist")
        if listing.unreadable:
            raise PermissionError(f"permission denied listing {remote_location(transport.name, root)}")
        raise OSError(f"cannot list {remote_location(transport.name, root)}: {message}")
    return listing


def _batches(paths: Sequence[str], sizes: Sequence[int] | None = None) -> Iterable[list[int]]:
    """Indexes of ``paths`` in groups that keep each command small."""
    batch: list[int] = []
    names = content = 0
    for i, p in enumerate(paths):
        n = len(os.fsencode(p)) + 3
        c = sizes[i] if sizes is not None else 0
        if batch and (
            len(batch) >= BATCH_FILES or names + n > BATCH_ARGV_BYTES or content + c > BATCH_READ_BYTES
        ):
            yield batch
            batch, names, content = [], 0, 0
        batch.append(i)
        names += n
        content += c
    if batch:
        yield batch


def _errors_by_path(stderr: bytes, prog: str) -> dict[str, str]:
    """``head: cannot open '/x' for reading: Permission denied`` -> {"/x": "Permission denied"}."""
    found: dict[str, str] = {}
    for line in stderr.decode("utf-8", "surrogateescape").splitlines():
        if "'" in line and ": " in line:
            first, last = line.index("'"), line.rindex("'")
            if last > first:
                found[line[first + 1 : last]] = line.rsplit(": ", 1)[-1]
        elif line.startswith(f"{prog}: ") and line.count(": ") >= 2:
            _, path, reason = line.split(": ", 2)
            found[path] = reason
    return found


@dataclass
class Fetched:
    """What :func:`fetch_files` read, and what it could not."""

    content: dict[str, bytes] = field(default_factory=dict)
    """Remote path -> up to ``max_bytes`` of its content."""
    failed: dict[str, str] = field(default_factory=dict)
    """Remote path -> why it could not be read (``Permission denied``, ``No such file ...``)."""


async def fetch_files(
    transport: RawTransport, files: Sequence[tuple[str, int]], *, max_bytes: int
) -> Fetched:
    """Up to ``max_bytes`` of each ``(path, size as listed)``, several files per ``head``."""
    result = Fetched()
    paths = [p for p, _ in files]
    want = [min(max(s, 0), max_bytes) for _, s in files]
    for batch in _batches(paths, want):
        if len(batch) == 1:
            await _fetch_one(transport, paths[batch[0]], max_bytes, result)
            continue
        argv = ["head", "--verbose", f"--bytes={max_bytes}", "--", *(paths[i] for i in batch)]
        out, err, _rc = await transport.run_bytes(argv, timeout=READ_TIMEOUT_S)
        errors = _errors_by_path(err, "head")
        pos, first = 0, True
        pending: list[int] = []
        ok = True
        for i in batch:
            header = (b"" if first else b"\n") + b"==> " + os.fsencode(paths[i]) + b" <==\n"
            if ok and out.startswith(header, pos) and pos + len(header) + want[i] <= len(out):
                start = pos + len(header)
                result.content[paths[i]] = out[start : start + want[i]]
                pos, first = start + want[i], False
            elif ok and paths[i] in errors:
                result.failed[paths[i]] = errors[paths[i]]
            else:
                ok = False  # a file changed size since the listing: read the rest one by one
                pending.append(i)
        if ok and pos != len(out):
            pending = list(batch)
        for i in pending:
            result.content.pop(paths[i], None)
            result.failed.pop(paths[i], None)
            await _fetch_one(transport, paths[i], max_bytes, result)
    return result


async def _fetch_one(transport: RawTransport, path: str, max_bytes: int, result: Fetched) -> None:
    try:
        out, err, rc = await transport.run_bytes(
            ["head", f"--bytes={max_bytes}", "--", path], timeout=READ_TIMEOUT_S
        )
    except CommandTimeout as exc:  # a FIFO swapped in since the listing blocks head
        result.failed[path] = str(exc)
        return
    if rc == 0:
        result.content[path] = out
    else:
        result.failed[path] = (
            err.decode("utf-8", "replace").strip().rsplit(": ", 1)[-1] or f"head exited {rc}"
        )


async def hash_files(transport: RawTransport, paths: Sequence[str]) -> dict[str, str | None]:
    """sha256 (hex) of each file, computed on the host; None where it could not be read."""
    found: dict[str, str | None] = dict.fromkeys(paths)
    for batch in _batches(paths):
        argv = ["sha256sum", "-z", "--", *(paths[i] for i in batch)]
        try:
            out, _err, _rc = await transport.run_bytes(argv, timeout=HASH_TIMEOUT_S)
        except CommandTimeout:
            continue  # left as None: cannot tell (a FIFO swapped in, or a very slow disk)
        for rec in out.split(b"\0"):
            digest, sep, name = rec.partition(b"  ")
            if sep and len(digest) == 64:
                path = os.fsdecode(name)
                if path in found:
                    found[path] = digest.decode("ascii")
    return found


def mirror_path(mirror: Path, rel: str) -> Path:
    """Where ``rel`` goes in a local copy rooted at ``mirror`` (never outside it)."""
    clean = posixpath.normpath("/" + rel).lstrip("/")
    return mirror / clean
