"""The task body without Celery: one run per task id, however often it is delivered."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from demo.run import start as start_demo
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from shopguard.checks import CheckRun, Outcome
from shopguard.cluster.execute import claim, execute
from shopguard.cluster.models import ClusterTask
from shopguard.cluster.payload import PayloadError, SchemaTooNew, TaskPayload
from shopguard.cluster.settings import TASK_SCHEMA
from shopguard.config import Config, load_config
from shopguard.db import open_database
from shopguard.db.models import CheckExecution, FindingRecord, RunRecord
from shopguard.db.repository import load_run, record_check
from shopguard.findings import Finding, Severity

from .conftest import FETCH

pytestmark = pytest.mark.postgres


@pytest.fixture
def setup(tmp_path: Path, postgres_url: str) -> Iterator[tuple[Config, sessionmaker[Session]]]:
    shop = start_demo(shop_port=0, provider_port=0)
    root = tmp_path / "root"
    root.mkdir()
    p = tmp_path / "shopguard.toml"
    p.write_text(f'[[stores]]\nname = "s"\nstorefront_url = "{shop.shop_url}"\nweb_roots = ["{root}"]\n'
                 f'[cluster]\nbroker_url = "amqp://127.0.0.1//"\ndatabase_url = "{postgres_url}"\n'
                 "max_attempts = 2\n")  # fmt: skip
    db = open_database(postgres_url)
    try:
        yield load_config(p), db
    finally:
        shop.stop()
        db.kw["bind"].dispose()


def counts(db: sessionmaker[Session]) -> tuple[int, int, int]:
    with db() as s:
        return (
            s.scalar(select(func.count()).select_from(RunRecord)) or 0,
            s.scalar(select(func.count()).select_from(CheckExecution)) or 0,
            s.scalar(select(func.count()).select_from(FindingRecord)) or 0,
        )


Setup = tuple[Config, sessionmaker[Session]]


def test_an_interrupted_attempt_is_redone_into_the_same_run(
    setup: tuple[Config, sessionmaker[Session]],
) -> None:
    config, db = setup
    assert config.cluster is not None
    payload = TaskPayload.new("audit", ["s"], (FETCH,), TASK_SCHEMA)
    # First delivery: the run is claimed, then the worker dies (nothing more happens).
    first = claim(db, "task-1", payload, "q", "w1")
    assert not first.done and first.attempts == 1
    # ...after it had stored part of its work.
    half = Finding(FETCH + ".half", Severity.HIGH, "Seen only by the killed attempt", "http://x/")
    record_check(db, first.run_id, CheckRun(FETCH, "s", Outcome.OK, [half]))
    got = execute(config, config.cluster, db, "task-1", payload, "q", redis_url=None)
    assert got["status"] == "finished" and got["run_id"] == first.run_id
    runs, execs, findings = counts(db)
    assert (runs, execs) == (1, 1) and findings >= 3
    run = load_run(db, first.run_id)
    assert {sf.status.value for sf in run.findings} == {"new"}
    assert "Seen only by the killed attempt" not in {sf.finding.title for sf in run.findings}
    # Delivered again after it finished (the ack was lost): nothing changes.
    again = execute(config, config.cluster, db, "task-1", payload, "q", redis_url=None)
    assert again["status"] == "duplicate"
    assert counts(db) == (runs, execs, findings)
    with db() as s:
        row = s.get(ClusterTask, "task-1")
        assert row is not None and row.attempts == 2 and row.status == "finished"


def test_deliveries_that_keep_dying_end_as_a_check_error(setup: Setup) -> None:
    config, db = setup
    assert config.cluster is not None
    payload = TaskPayload.new("audit", ["s"], (FETCH,), TASK_SCHEMA)
    for _ in range(2):  # two deliveries that never came back
        claim(db, "task-p", payload, "q", "w1")
    got = execute(config, config.cluster, db, "task-p", payload, "q", redis_url=None)
    assert got["status"] == "poisoned"
    run = load_run(db, int(str(got["run_id"])))
    assert run.status == "failed"
    assert [(e[1], e[2]) for e in run.executions] == [(FETCH, "error")]
    assert "gave up after 2 deliveries" in run.executions[0][3]


def test_deliveries_that_failed_with_an_error_are_not_counted_as_crashes(setup: Setup) -> None:
    """A database outage makes deliveries fail with Python errors (Celery retries them)
    without a chance to note it anywhere: they must not add up to a poison verdict."""
    config, db = setup
    assert config.cluster is not None
    payload = TaskPayload.new("audit", ["s"], (FETCH,), TASK_SCHEMA)
    for retries in range(3):  # three deliveries that raised after claiming (retries 0, 1, 2)
        got = claim(db, "task-e", payload, "q", "w1", retries)
        assert got.crashes == 0
    got_result = execute(config, config.cluster, db, "task-e", payload, "q", redis_url=None, retries=3)
    assert got_result["status"] == "finished"
    # ...whereas a delivery that never came back counts, whatever the retries before it.
    claim(db, "task-f", payload, "q", "w1", 0)  # raised: retried
    claim(db, "task-f", payload, "q", "w1", 1)  # killed
    assert claim(db, "task-f", payload, "q", "w1", 1).crashes == 1


def test_payload_versions() -> None:
    payload = TaskPayload.new("audit", ["s"], (), TASK_SCHEMA)
    assert TaskPayload.from_dict(payload.to_dict()) == payload
    with pytest.raises(SchemaTooNew, match=f"task schema {TASK_SCHEMA + 1} is newer"):
        TaskPayload.from_dict({**payload.to_dict(), "schema": TASK_SCHEMA + 1})
    with pytest.raises(PayloadError, match="no schema version"):
        TaskPayload.from_dict({"kind": "audit"})
    with pytest.raises(PayloadError, match="unknown kind"):
        TaskPayload.from_dict({**payload.to_dict(), "kind": "mine-bitcoin"})
