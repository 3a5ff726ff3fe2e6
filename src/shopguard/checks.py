"""The Check protocol, the registry and the async runner.

A check yields findings and never prints or exits. The runner gives each check a
timeout, limits how many run at once, reports progress, and turns any exception or
timeout into a recorded check error so that one failing check never stops a run.
Checks that do blocking work (reading many files, running a browser) must hand it
to a thread (``await asyncio.to_thread(...)``) so that timeouts and Ctrl-C work.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import os
import pkgutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, runtime_checkable

from shopguard.config import Config, Store
from shopguard.findings import PROTOCOLS, Finding, protocol_of

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 120.0
DEFAULT_CONCURRENCY = 8

# Packages the registry imports to discover checks. "monitoring" checks count
# towards the "scanning" protocol.
CHECK_PACKAGES: tuple[str, ...] = (
    "shopguard.insurance",
    "shopguard.maintenance",
    "shopguard.hosting",
    "shopguard.scanning",
    "shopguard.monitoring",
    "shopguard.pci",
    "shopguard.policies",
    "shopguard.response",
)

ProgressFn = Callable[[int, int | None], None]
CheckResult = AsyncIterator[Finding] | Iterable[Finding] | Awaitable[Iterable[Finding]]


class Resources:
    """Lazily created, per-store shared resources (HTTP client, host transport).

    Created on first use by the checks that need them and closed once the store's
    checks are done, so a run that needs no HTTP never opens a client.
    """

    def __init__(self) -> None:
        self._items: dict[str, Any] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(self, key: str, factory: Callable[[], Any]) -> Any:
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key not in self._items:
                item = factory()
                if inspect.isawaitable(item):
                    item = await item
                self._items[key] = item
            return self._items[key]

    async def aclose(self) -> None:
        for key, item in list(self._items.items()):
            closer = getattr(item, "aclose", None) or getattr(item, "close", None)
            if closer is None:
                continue
            try:
                res = closer()
                if inspect.isawaitable(res):
                    await res
            except Exception:  # closing must never mask the run's result
                log.warning("closing %s failed", key, exc_info=True)
        self._items.clear()


@dataclass
class CheckContext:
    """What a check gets: the store, limits, progress and shared resources."""

    store: Store
    config: Config
    deadline: float
    """``time.monotonic()`` value after which the check should stop."""
    progress: ProgressFn = lambda done, total: None
    resources: Resources = field(default_factory=Resources)
    db: sessionmaker[Session] | None = None
    """Read access to ShopGuard's own records (paper protocols read their data
    here). Checks never write: the runner stores what they yield."""

    @property
    def seconds_left(self) -> float:
        return max(0.0, self.deadline - time.monotonic())


@runtime_checkable
class Check(Protocol):
    """A unit of assessment. ``id``'s first segment is its protocol."""

    id: str
    title: str

    def applies(self, store: Store) -> bool: ...

    def run(self, ctx: CheckContext) -> CheckResult: ...


class BaseCheck:
    """Convenience base: subclasses set ``id`` and ``title`` and implement run()."""

    id: ClassVar[str]
    title: ClassVar[str] = ""
    timeout: ClassVar[float | None] = None
    """Overrides the runner's per-check timeout when set."""

    def applies(self, store: Store) -> bool:
        return True

    def run(self, ctx: CheckContext) -> CheckResult:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def protocol(self) -> str:
        return protocol_of(self.id)


class RecordsUnavailable(RuntimeError):
    """A records-reading check ran without ShopGuard's database (``ctx.db`` is None)."""


class RecordsCheck(BaseCheck):
    """Base for checks that read ShopGuard's own records (``ctx.db``), as the paper protocols do.

    Subclasses implement the blocking ``evaluate(ctx)``; ``run`` hands it to a thread so
    timeouts and Ctrl-C still work. ``records(ctx)`` returns the read-only sessionmaker and
    raises a clear error naming the check and its protocol when the run has no database, so
    the runner records a check error and the protocol reads "not assessed", never "ready".
    """

    def records(self, ctx: CheckContext) -> sessionmaker[Session]:
        if ctx.db is None:
            raise RecordsUnavailable(
                f"ShopGuard's database is not available to this run, so {self.id} cannot read its records; "
                f"the {self.protocol} protocol cannot be assessed"
            )
        return ctx.db

    def evaluate(self, ctx: CheckContext) -> list[Finding]:  # pragma: no cover - abstract
        raise NotImplementedError

    async def run(self, ctx: CheckContext) -> list[Finding]:
        return await asyncio.to_thread(self.evaluate, ctx)


_REGISTRY: dict[str, Check] = {}
_DISCOVERED = False

C = TypeVar("C", bound=type)


def register_check(cls: C) -> C:
    """Class decorator: instantiate and add to the registry."""
    inst = cls()
    if not isinstance(inst, Check):
        raise TypeError(f"{cls.__name__} does not implement the Check protocol")
    protocol_of(inst.id)  # validates the prefix
    if inst.id in _REGISTRY and type(_REGISTRY[inst.id]) is not cls:
        raise ValueError(f"two checks share the id {inst.id!r}")
    _REGISTRY[inst.id] = inst
    return cls


PLUGIN_ENV = "SHOPGUARD_PLUGINS"
PLUGIN_ENTRY_POINTS = "shopguard.checks"


def discover(packages: Sequence[str] = CHECK_PACKAGES) -> None:
    """Import every ``checks`` module (or module inside a ``checks`` package), then
    third-party checks: modules in ``$SHOPGUARD_PLUGINS`` (comma-separated) and
    packages' ``shopguard.checks`` entry points."""
    global _DISCOVERED
    for pkg_name in packages:
        pkg = importlib.import_module(pkg_name)
        for info in pkgutil.walk_packages(pkg.__path__, prefix=pkg_name + "."):
            parts = info.name.split(".")
            if "checks" in parts[2:]:
                importlib.import_module(info.name)
    for name in filter(None, (m.strip() for m in os.environ.get(PLUGIN_ENV, "").split(","))):
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ImportError(f"{PLUGIN_ENV}: cannot import check plugin {name!r}: {exc}") from exc
    for ep in entry_points(group=PLUGIN_ENTRY_POINTS):
        ep.load()
    _DISCOVERED = True


def all_checks() -> list[Check]:
    if not _DISCOVERED:
        discover()
    return sorted(_REGISTRY.values(), key=lambda c: c.id)


class SelectorError(ValueError):
    pass


def matches(check_id: str, selector: str) -> bool:
    if selector in PROTOCOLS and protocol_of(check_id) == selector:
        return True
    return check_id == selector or check_id.startswith(selector + ".")


def select(checks: Iterable[Check], selectors: Sequence[str] | None) -> list[Check]:
    """Checks matching any selector (protocol id or check-id prefix)."""
    checks = list(checks)
    if not selectors:
        return checks
    for sel in selectors:
        if sel in PROTOCOLS:
            continue
        if not any(matches(c.id, sel) for c in checks):
            known = ", ".join(PROTOCOLS)
            raise SelectorError(
                f"--only {sel!r} matches no check: use a protocol ({known}) or a check-id prefix "
                "such as scanning.web (see `shopguard checks`)"
            )
    return [c for c in checks if any(matches(c.id, s) for s in selectors)]


class Outcome(StrEnum):
    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"


@dataclass
class CheckRun:
    """What happened when one check ran for one store."""

    check_id: str
    store: str
    outcome: Outcome
    findings: list[Finding]
    message: str = ""
    duration_s: float = 0.0

    @property
    def errored(self) -> bool:
        return self.outcome is not Outcome.OK


async def _collect(check: Check, ctx: CheckContext) -> list[Finding]:
    result: Any = check.run(ctx)
    if inspect.isawaitable(result):
        result = await result
    found: list[Finding] = []
    if hasattr(result, "__aiter__"):
        async for f in result:
            found.append(f)
    elif result is not None:
        found.extend(result)
    for f in found:
        if not isinstance(f, Finding):
            raise TypeError(f"check yielded {type(f).__name__}, expected Finding")
        if not (f.check_id == check.id or f.check_id.startswith(check.id + ".")):
            raise ValueError(f"finding id {f.check_id!r} is not under the check's id {check.id!r}")
    return found


async def run_one(check: Check, ctx: CheckContext, timeout: float) -> CheckRun:
    start = time.monotonic()
    t = getattr(check, "timeout", None) or timeout
    ctx.deadline = start + t
    try:
        findings = await asyncio.wait_for(_collect(check, ctx), timeout=t)
        return CheckRun(check.id, ctx.store.name, Outcome.OK, findings, duration_s=time.monotonic() - start)
    except TimeoutError:
        msg = f"did not finish within {t:g} s"
        return CheckRun(check.id, ctx.store.name, Outcome.TIMEOUT, [], msg, time.monotonic() - start)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # one failing check never stops a run
        log.debug("check %s failed", check.id, exc_info=True)
        msg = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return CheckRun(check.id, ctx.store.name, Outcome.ERROR, [], msg, time.monotonic() - start)


async def run_checks(
    config: Config,
    stores: Sequence[Store],
    checks: Sequence[Check],
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_result: Callable[[CheckRun], None] | None = None,
    progress: ProgressFn | None = None,
    db: sessionmaker[Session] | None = None,
) -> list[CheckRun]:
    """Run every applicable check for every store. Results are handed to
    ``on_result`` as they complete (the storage layer writes them then), so a run
    cut short keeps what it finished."""
    sem = asyncio.Semaphore(concurrency)
    plan: list[tuple[Check, Store]] = [(c, s) for s in stores for c in checks if c.applies(s)]
    total = len(plan)
    done = 0
    results: list[CheckRun] = []
    pools = {s.name: Resources() for s in stores}

    async def one(check: Check, store: Store) -> None:
        nonlocal done
        async with sem:
            ctx = CheckContext(store=store, config=config, deadline=0.0, resources=pools[store.name], db=db)
            res = await run_one(check, ctx, timeout)
        results.append(res)
        if on_result is not None:
            on_result(res)
        done += 1
        if progress is not None:
            progress(done, total)

    if progress is not None:
        progress(0, total)
    try:
        async with asyncio.TaskGroup() as tg:
            for check, store in plan:
                tg.create_task(one(check, store))
    finally:
        for pool in pools.values():
            await pool.aclose()
    return results
