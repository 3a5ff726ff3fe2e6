"""The SSH transport (asyncssh): allowed read-only commands over one connection.

Host keys are always checked against a known_hosts file. A host seen for the first
time is refused with a message that names the command to confirm it
(``shopguard hosts trust ssh://...``), which shows the key's fingerprint and records
it only after the person says yes. Files are read with ``head -c`` and listed with
``find``, both on the allow-list, so the remote side needs no SFTP subsystem.
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import stat as stat_mod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncssh

from shopguard.hosting.transport.interface import (
    DEFAULT_COMMAND_TIMEOUT_S,
    DEFAULT_MAX_FILE_BYTES,
    ENV_PREFIX,
    CommandTimeout,
    FileMissing,
    FileStat,
    HostKeyUnknown,
    HostTransport,
    HostUnreachable,
    PermissionDenied,
    TransportError,
    check_allowed,
)

CONNECT_TIMEOUT_S = 10.0
KEEPALIVE_INTERVAL_S = 5.0
KEEPALIVE_COUNT_MAX = 3
MAX_PARALLEL_CHANNELS = 6
"""Below OpenSSH's default ``MaxSessions 10``."""


@dataclass(frozen=True)
class SSHTarget:
    """Where to connect, parsed from ``ssh://user@host:port``."""

    user: str
    host: str
    port: int

    @classmethod
    def parse(cls, url: str) -> SSHTarget:
        parts = urlsplit(url)
        if parts.scheme != "ssh" or not parts.hostname or not parts.username:
            raise ValueError(f"{url!r}: expected ssh://user@host:port")
        try:
            port = parts.port or 22
        except ValueError:
            raise ValueError(f"{url!r}: the port must be a number from 1 to 65535") from None
        return cls(parts.username, parts.hostname, port)

    @property
    def url(self) -> str:
        return f"ssh://{self.user}@{self.host}:{self.port}"

    @property
    def known_hosts_name(self) -> str:
        return self.host if self.port == 22 else f"[{self.host}]:{self.port}"


def default_known_hosts() -> Path:
    return Path.home() / ".ssh" / "known_hosts"


class SSHTransport(HostTransport):
    """One lazily opened SSH connection; a failure to connect is remembered so
    that every check reports it at once instead of each retrying."""

    def __init__(
        self,
        target: SSHTarget,
        *,
        key: Path | None = None,
        known_hosts: Path | None = None,
        connect_timeout: float = CONNECT_TIMEOUT_S,
        keepalive_interval: float = KEEPALIVE_INTERVAL_S,
    ) -> None:
        self.target = target
        self.name = target.url
        self.key = key
        self.known_hosts = known_hosts or default_known_hosts()
        self.connect_timeout = connect_timeout
        self.keepalive_interval = keepalive_interval
        self._conn: asyncssh.SSHClientConnection | None = None
        self._failure: TransportError | None = None
        self._lock = asyncio.Lock()
        self._channels = asyncio.Semaphore(MAX_PARALLEL_CHANNELS)

    async def _connection(self) -> asyncssh.SSHClientConnection:
        async with self._lock:
            if self._failure is not None:
                raise self._failure
            if self._conn is None:
                try:
                    self._conn = await self._open()
                except TransportError as exc:
                    self._failure = exc
                    raise
            return self._conn

    async def _open(self) -> asyncssh.SSHClientConnection:
        t = self.target
        if not self.known_hosts.is_file():
            raise HostKeyUnknown(
                f"no known_hosts file at {self.known_hosts}; confirm the host key first with "
                f"`shopguard hosts trust {t.url}`"
            )
        options: dict[str, Any] = {
            "username": t.user,
            "port": t.port,
            "known_hosts": str(self.known_hosts),
            "connect_timeout": self.connect_timeout,
            "keepalive_interval": self.keepalive_interval,
            "keepalive_count_max": KEEPALIVE_COUNT_MAX,
            "config": [],
        }
        if self.key is not None:
            if not self.key.is_file():
                raise TransportError(f"SSH key file {self.key} does not exist")
            options["client_keys"] = [str(self.key)]
            options["agent_path"] = None
        try:
            return await asyncssh.connect(t.host, **options)
        except asyncssh.HostKeyNotVerifiable:
            raise HostKeyUnknown(
                f"the host key of {t.url} is not in {self.known_hosts} (or changed); "
                f"if this is the first connection, confirm it with `shopguard hosts trust {t.url}`"
            ) from None
        except asyncssh.PermissionDenied:
            raise PermissionDenied(f"SSH login as {t.user} on {t.host}:{t.port} was refused") from None
        except TimeoutError:
            raise HostUnreachable(
                f"{t.host}:{t.port} did not answer within {self.connect_timeout:g} s"
            ) from None
        except (OSError, asyncssh.Error) as exc:
            raise HostUnreachable(f"cannot connect to {t.host}:{t.port}: {exc}") from None

    async def _run_bytes(self, argv: Sequence[str], timeout: float) -> tuple[bytes, bytes, int]:
        check_allowed(argv)
        conn = await self._connection()
        # bytes, so that file names which are not UTF-8 (held as surrogate escapes) reach the
        # host as they are; shlex quotes every argument for the remote shell
        command = shlex.join([*ENV_PREFIX, *argv]).encode("utf-8", "surrogateescape")
        async with self._channels:
            try:
                proc = await asyncio.wait_for(
                    conn.run(command, check=False, encoding=None, stdin=asyncssh.DEVNULL),
                    timeout,
                )
            except TimeoutError:
                raise CommandTimeout(
                    f"`{shlex.join(argv)}` on {self.target.host} did not finish within {timeout:g} s "
                    "(host busy or hung)"
                ) from None
            except (
                asyncssh.ConnectionLost,
                asyncssh.DisconnectError,
                asyncssh.ChannelOpenError,
                OSError,
            ) as exc:
                self._failure = HostUnreachable(f"lost the SSH connection to {self.target.host}: {exc}")
                raise self._failure from None
        rc = proc.exit_status
        if rc is None:  # killed by a signal or the channel closed without a status
            if conn.is_closed():
                self._failure = HostUnreachable(f"lost the SSH connection to {self.target.host}")
                raise self._failure
            rc = 255
        out = proc.stdout if isinstance(proc.stdout, bytes) else b""
        err = proc.stderr if isinstance(proc.stderr, bytes) else b""
        return out, err, rc

    @staticmethod
    def _raise_for(path: str, stderr: bytes) -> None:
        text = stderr.decode("utf-8", "replace")
        if "No such file or directory" in text or "Not a directory" in text:
            raise FileMissing(f"{path} does not exist")
        if "Permission denied" in text:
            raise PermissionDenied(f"permission denied reading {path}")
        if "Is a directory" in text:
            raise TransportError(f"{path} is a folder, not a file")
        raise TransportError(f"cannot read {path}: {text.strip()[:200]}")

    async def read_file(self, path: str, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> bytes:
        out, err, rc = await self._run_bytes(
            ["head", "-c", str(max_bytes), "--", path], DEFAULT_COMMAND_TIMEOUT_S
        )
        if rc != 0:
            self._raise_for(path, err)
        return out

    async def read_files(
        self, paths: Sequence[str], *, max_bytes: int = DEFAULT_MAX_FILE_BYTES
    ) -> dict[str, bytes | TransportError]:
        """One ``head -v`` for all files; its ``==> path <==`` headers split the output."""
        if len(paths) <= 1:
            return await super().read_files(paths, max_bytes=max_bytes)
        out, err, _ = await self._run_bytes(
            ["head", "-vc", str(max_bytes), "--", *paths], DEFAULT_COMMAND_TIMEOUT_S
        )
        result: dict[str, bytes | TransportError] = {}
        marks = []
        pos = 0
        for p in paths:
            head = b"==> " + p.encode() + b" <==\n"
            i = out.find(head, pos)
            if i >= 0:
                marks.append((p, i, i + len(head)))
                pos = i + len(head)
        for k, (p, _, start) in enumerate(marks):
            end = (
                marks[k + 1][1] - 1 if k + 1 < len(marks) else len(out)
            )  # head adds a blank line between files
            result[p] = out[start:end]
        errors = err.decode("utf-8", "replace")
        for p in paths:
            if p not in result:
                line = next((x for x in errors.splitlines() if f"'{p}'" in x), "")
                try:
                    self._raise_for(p, line.encode())
                except TransportError as exc:
                    result[p] = exc
        return result

    async def stat_many(self, paths: Sequence[str]) -> dict[str, FileStat | None]:
        if not paths:
            return {}
        out, err, _rc = await self._run_bytes(
            ["stat", "-c", "%f %u %g %s %Y %n", "--", *paths], DEFAULT_COMMAND_TIMEOUT_S
        )
        found: dict[str, FileStat | None] = {p: None for p in paths}
        for line in out.decode("utf-8", "replace").splitlines():
            parts = line.split(" ", 5)
            if len(parts) == 6 and parts[5] in found:
                found[parts[5]] = self._parse_stat(parts[5], parts[:5])
        for line in err.decode("utf-8", "replace").splitlines():
            if "Permission denied" in line:
                raise PermissionDenied(f"permission denied: {line.strip()[:200]}")
        return found

    async def stat(self, path: str) -> FileStat | None:
        return (await self.stat_many([path]))[path]

    @staticmethod
    def _parse_stat(path: str, fields: Sequence[str]) -> FileStat:
        raw, uid, gid, size, mtime = fields
        mode = int(raw, 16)
        kind = (
            "f"
            if stat_mod.S_ISREG(mode)
            else "d"
            if stat_mod.S_ISDIR(mode)
            else "l"
            if stat_mod.S_ISLNK(mode)
            else "o"
        )
        return FileStat(path, kind, stat_mod.S_IMODE(mode), int(uid), int(gid), int(size), int(mtime))

    async def listdir(self, path: str) -> list[str]:
        out, err, rc = await self._run_bytes(
            ["find", path, "-mindepth", "1", "-maxdepth", "1", "-printf", "%f\\n"], DEFAULT_COMMAND_TIMEOUT_S
        )
        if rc != 0:
            self._raise_for(path, err)
        return sorted(x for x in out.decode("utf-8", "replace").split("\n") if x)

    async def aclose(self) -> None:
        if self._conn is not None:
            self._conn.close()
            with contextlib.suppress(TimeoutError, asyncio.TimeoutError, OSError, asyncssh.Error):
                await asyncio.wait_for(self._conn.wait_closed(), 5)
            self._conn = None


async def fetch_host_key(url: str, *, timeout: float = CONNECT_TIMEOUT_S) -> asyncssh.SSHKey:
    """The host's public key, fetched without logging in (for ``hosts trust``)."""
    t = SSHTarget.parse(url)
    try:
        key = await asyncio.wait_for(asyncssh.get_server_host_key(t.host, t.port, config=[]), timeout)
    except (OSError, asyncssh.Error, TimeoutError) as exc:
        raise HostUnreachable(f"cannot reach {t.host}:{t.port}: {exc}") from None
    if key is None:
        raise HostUnreachable(f"{t.host}:{t.port} sent no host key")
    return key


def record_host_key(url: str, key: asyncssh.SSHKey, known_hosts: Path) -> str:
    """Append ``key`` for the host in ``url`` to ``known_hosts``; returns the line."""
    t = SSHTarget.parse(url)
    line = f"{t.known_hosts_name} {key.export_public_key('openssh').decode().strip()}\n"
    known_hosts.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(known_hosts, "a", encoding="utf-8") as fh:
        fh.write(line)
    return line.strip()
