"""Many stores: ShopGuard's checks on Celery workers with PostgreSQL.

Public surface for the CLI and the dashboard (imports are lazy so that the
embedded mode never loads Celery)::

    cluster_enabled(config) -> bool
    enqueue_audit(config, stores, selectors) -> list[Enqueued]   # task ids, queues
    enqueue_monitors(config, stores, selectors) -> list[Enqueued]
    wait_for_runs(config, task_ids, timeout) -> list[dict]       # {"run_id", "status", ...}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shopguard.cluster.enqueue import Enqueued
    from shopguard.config import Config, Store


def cluster_enabled(config: Config) -> bool:
    """True when ``[cluster]`` is configured: audits are enqueued, not run in-process."""
    return config.cluster is not None


def enqueue_audit(config: Config, stores: Sequence[Store], selectors: Sequence[str] | None = None,
                  **kw: Any) -> list[Enqueued]:  # fmt: skip
    from shopguard.cluster.enqueue import enqueue_audit as impl

    return impl(config, stores, selectors, **kw)


def enqueue_monitors(config: Config, stores: Sequence[Store], selectors: Sequence[str],
                     **kw: Any) -> list[Enqueued]:  # fmt: skip
    from shopguard.cluster.enqueue import enqueue_monitors as impl

    return impl(config, stores, selectors, **kw)


def wait_for_runs(config: Config, task_ids: Sequence[str], timeout: float) -> list[dict[str, object]]:
    from shopguard.cluster.app import make_app
    from shopguard.cluster.enqueue import wait_for

    return wait_for(make_app(config), task_ids, timeout)


__all__ = ["cluster_enabled", "enqueue_audit", "enqueue_monitors", "wait_for_runs"]
