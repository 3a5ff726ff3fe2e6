"""The task payload: what a publisher sends and a worker checks before any work."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from shopguard.cluster.settings import TASK_SCHEMA


class PayloadError(ValueError):
    """A task message this worker cannot read (a bug or a foreign publisher)."""


class SchemaTooNew(PayloadError):
    """The task was written by a newer ShopGuard than this worker."""


@dataclass(frozen=True)
class TaskPayload:
    kind: str
    """``audit`` (one store) or ``monitor`` (a batch of stores in one asyncio loop)."""
    stores: tuple[str, ...]
    selectors: tuple[str, ...]
    """Protocols, check-id prefixes or check ids; empty: every check."""
    enqueued_at: float
    """Publisher's wall clock (``time.time()``); the worker measures queue lag from it."""
    schema: int = TASK_SCHEMA

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "kind": self.kind,
            "stores": list(self.stores),
            "selectors": list(self.selectors),
            "enqueued_at": self.enqueued_at,
        }

    @classmethod
    def new(
        cls, kind: str, stores: list[str] | tuple[str, ...], selectors: tuple[str, ...], schema: int
    ) -> TaskPayload:
        return cls(kind, tuple(stores), tuple(selectors), time.time(), schema)

    @classmethod
    def from_dict(cls, data: Any) -> TaskPayload:
        if not isinstance(data, dict) or not isinstance(data.get("schema"), int):
            raise PayloadError(f"task payload has no schema version: {str(data)[:200]}")
        schema = data["schema"]
        if schema > TASK_SCHEMA:
            raise SchemaTooNew(
                f"task schema {schema} is newer than this worker understands ({TASK_SCHEMA}): "
                "upgrade ShopGuard on this worker (workers first, then publishers; see docs/cluster.md)"
            )
        try:
            kind = str(data["kind"])
            stores = tuple(str(s) for s in data["stores"])
            selectors = tuple(str(s) for s in data.get("selectors", ()))
            enqueued_at = float(data.get("enqueued_at", time.time()))
        except (KeyError, TypeError, ValueError) as exc:
            raise PayloadError(f"task payload is malformed ({exc}): {str(data)[:200]}") from None
        if kind not in ("audit", "monitor") or not stores:
            raise PayloadError(f"task payload: unknown kind {kind!r} or no stores")
        return cls(kind, stores, selectors, enqueued_at, schema)
