"""One audit: select checks, run them for the chosen stores, store every result.

Every command that runs checks (``audit``, ``scan web``, ``scan files`` ...) goes
through :func:`run_audit`, so they all share storage, lifecycle and reports.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy.orm import Session, sessionmaker

from shopguard.checks import (
    DEFAULT_CONCURRENCY,
    DEFAULT_TIMEOUT_S,
    Check,
    CheckRun,
    ProgressFn,
    all_checks,
    run_checks,
    select,
)
from shopguard.config import Config, Store
from shopguard.db.repository import StoredRun, begin_run, finish_run, load_run, record_check


class AuditInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run; the run is stored as ``interrupted``."""

    def __init__(self, run_id: int) -> None:
        super().__init__(run_id)
        self.run_id = run_id


def run_audit(
    config: Config,
    stores: Sequence[Store],
    db: sessionmaker[Session],
    *,
    selectors: Sequence[str] | None = None,
    checks: Sequence[Check] | None = None,
    kind: str = "audit",
    timeout: float = DEFAULT_TIMEOUT_S,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: ProgressFn | None = None,
) -> StoredRun:
    """Run the selected checks and return the stored run.

    On Ctrl-C the run is marked ``interrupted`` and the interrupt propagates;
    results already recorded stay consistent.
    """
    chosen = select(checks if checks is not None else all_checks(), selectors)
    run_id = begin_run(db, [s.name for s in stores], ",".join(selectors or ()), kind)

    def store_result(result: CheckRun) -> None:
        record_check(db, run_id, result)

    try:
        asyncio.run(
            run_checks(
                config,
                stores,
                chosen,
                timeout=timeout,
                concurrency=concurrency,
                on_result=store_result,
                progress=progress,
                db=db,
            )
        )
    except KeyboardInterrupt:
        finish_run(db, run_id, "interrupted")
        raise AuditInterrupted(run_id) from None
    except BaseException:
        finish_run(db, run_id, "failed")
        raise
    finish_run(db, run_id, "finished")
    stored = load_run(db, run_id)
    # Imported here: every CLI command imports this module, few of them finish an audit.
    from shopguard.response import after_run
    from shopguard.scanning.pages.tamper import alert_page_changes

    # Findings that call for it (a skimmer, a changed checkout file) open incidents.
    after_run(db, stored, config)
    # A changed payment page (PCI DSS 11.6.1) is also pushed to the alert channels, once.
    alert_page_changes(db, stored, config)
    return stored
