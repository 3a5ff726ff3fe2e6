"""Facts about a host, read once per audit and shared by the checks that need them
(users, processes, listening sockets, the nginx dump, PHP-FPM pools)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from shopguard.checks import CheckContext
from shopguard.hosting.settings import HostingSettings
from shopguard.hosting.transport.interface import CommandResult, HostTransport

T = TypeVar("T")


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int
    home: str
    shell: str

    @property
    def can_login(self) -> bool:
        return not self.shell.endswith(("nologin", "/false", "/sync"))


class Facts:
    """Memoised reads from one host. Failures are memoised too, so ten checks
    that need a broken source report the same reason without asking ten times."""

    def __init__(self, transport: HostTransport, settings: HostingSettings) -> None:
        self.transport = transport
        self.settings = settings
        self._memo: dict[str, asyncio.Future[Any]] = {}

    async def memo(self, key: str, compute: Callable[[], Awaitable[T]]) -> T:
        fut = self._memo.get(key)
        if fut is None:
            fut = asyncio.get_running_loop().create_future()
            self._memo[key] = fut
            try:
                fut.set_result(await compute())
            except asyncio.CancelledError:
                del self._memo[key]
                fut.cancel()
                raise
            except Exception as exc:
                fut.set_exception(exc)
                fut.exception()  # mark retrieved; callers re-raise below
        return await asyncio.shield(fut) if not fut.done() else fut.result()

    async def run(self, argv: Sequence[str]) -> CommandResult:
        return await self.transport.run(argv, timeout=self.settings.command_timeout_s)

    def etc(self, name: str) -> str:
        return f"{self.settings.etc.rstrip('/')}/{name}"

    async def accounts(self) -> list[Account]:
        async def read() -> list[Account]:
            out = []
            for line in (await self.transport.read_text(self.etc("passwd"))).splitlines():
                parts = line.split(":")
                if len(parts) >= 7 and parts[2].isdigit() and parts[3].isdigit():
                    out.append(Account(parts[0], int(parts[2]), int(parts[3]), parts[5], parts[6]))
            return out

        return await self.memo("accounts", read)

    async def groups(self) -> dict[str, tuple[int, tuple[str, ...]]]:
        """group name -> (gid, member names)."""

        async def read() -> dict[str, tuple[int, tuple[str, ...]]]:
            out: dict[str, tuple[int, tuple[str, ...]]] = {}
            for line in (await self.transport.read_text(self.etc("group"))).splitlines():
                parts = line.split(":")
                if len(parts) >= 4 and parts[2].isdigit():
                    out[parts[0]] = (int(parts[2]), tuple(m for m in parts[3].split(",") if m))
            return out

        return await self.memo("groups", read)

    async def user_name(self, uid: int) -> str:
        for a in await self.accounts():
            if a.uid == uid:
                return a.name
        return str(uid)

    async def account(self, name: str) -> Account | None:
        for a in await self.accounts():
            if a.name == name:
                return a
        return None

    async def gids_of(self, name: str) -> set[int]:
        """Primary and supplementary group ids of a user."""
        acc = await self.account(name)
        gids = {acc.gid} if acc else set()
        for gid, members in (await self.groups()).values():
            if name in members:
                gids.add(gid)
        return gids

    async def processes(self) -> list[tuple[str, str]]:
        """(user, command name) of every running process."""

        async def read() -> list[tuple[str, str]]:
            res = await self.run(["ps", "-eo", "user=,comm="])
            out = []
            for line in res.stdout.splitlines():
                parts = line.split(None, 1)
                if len(parts) == 2:
                    out.append((parts[0], parts[1].strip()))
            return out

        return await self.memo("ps", read)

    async def running(self, *names: str) -> list[str]:
        procs = {c for _, c in await self.processes()}
        return [n for n in names if n in procs]

    async def installed(self, program: str) -> bool:
        """Whether a program exists in the safe PATH (one listing, shared by all checks)."""

        async def read() -> set[str]:
            dirs = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
            res = await self.run(["find", *dirs, "-maxdepth", "1", "-printf", "%f\\n"])
            return set(res.stdout.split())

        return program in await self.memo("programs", read)


async def host_facts(ctx: CheckContext) -> Facts:
    """The per-store Facts, over the per-store transport (``ctx.resources["host"]``)."""
    from shopguard.hosting import open_transport

    transport = await ctx.resources.get("host", lambda: open_transport(ctx.store))
    facts: Facts = await ctx.resources.get("hosting.facts", lambda: Facts(transport, ctx.store.hosting))
    return facts
