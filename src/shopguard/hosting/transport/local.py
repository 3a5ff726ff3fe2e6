"""The local transport: this machine, through subprocesses and the file system."""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat as stat_mod
from collections.abc import Sequence

from shopguard.hosting.transport.interface import (
    DEFAULT_MAX_FILE_BYTES,
    ENV_PREFIX,
    CommandTimeout,
    FileMissing,
    FileStat,
    HostTransport,
    PermissionDenied,
    TransportError,
    check_allowed,
)


def _kind(mode: int) -> str:
    if stat_mod.S_ISREG(mode):
        return "f"
    if stat_mod.S_ISDIR(mode):
        return "d"
    if stat_mod.S_ISLNK(mode):
        return "l"
    return "o"


def _os_error(path: str, exc: OSError) -> TransportError:
    if isinstance(exc, FileNotFoundError | NotADirectoryError):
        return FileMissing(f"{path} does not exist")
    if isinstance(exc, PermissionError):
        return PermissionDenied(f"permission denied reading {path}")
    return TransportError(f"cannot read {path}: {exc.strerror or exc}")


class LocalTransport(HostTransport):
    name = "local"

    async def _run_bytes(self, argv: Sequence[str], timeout: float) -> tuple[bytes, bytes, int]:
        check_allowed(argv)
        proc = await asyncio.create_subprocess_exec(
            *ENV_PREFIX,
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout)
        except (TimeoutError, asyncio.CancelledError) as exc:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 9)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(proc.wait(), 2)
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise CommandTimeout(f"`{' '.join(argv)}` did not finish within {timeout:g} s") from None
        return out, err, proc.returncode if proc.returncode is not None else -1

    async def read_file(self, path: str, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> bytes:
        def read() -> bytes:
            try:
                with open(path, "rb") as fh:
                    return fh.read(max_bytes)
            except IsADirectoryError:
                raise TransportError(f"{path} is a folder, not a file") from None
            except OSError as exc:
                raise _os_error(path, exc) from None

        return await asyncio.to_thread(read)

    async def stat(self, path: str) -> FileStat | None:
        def do() -> FileStat | None:
            try:
                st = os.lstat(path)
            except (FileNotFoundError, NotADirectoryError):
                return None
            except OSError as exc:
                raise _os_error(path, exc) from None
            return FileStat(
                path,
                _kind(st.st_mode),
                stat_mod.S_IMODE(st.st_mode),
                st.st_uid,
                st.st_gid,
                st.st_size,
                int(st.st_mtime),
            )

        return await asyncio.to_thread(do)

    async def listdir(self, path: str) -> list[str]:
        def do() -> list[str]:
            try:
                return sorted(os.listdir(path))
            except OSError as exc:
                raise _os_error(path, exc) from None

        return await asyncio.to_thread(do)
