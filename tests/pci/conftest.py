"""Fixtures for the PCI tests: a fresh ShopGuard database (SQLite, and PostgreSQL where the
tables matter), an isolated data folder, and helpers that store check runs through the
foundation's real storage path (begin_run / record_check / finish_run)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from shopguard.checks import CheckRun, Outcome
from shopguard.db import open_database
from shopguard.db.models import CheckExecution
from shopguard.db.repository import begin_run, finish_run, record_check
from shopguard.findings import Finding

PG_ADMIN = os.environ.get("SHOPGUARD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
STORE = "demo"


@pytest.fixture(autouse=True)
def pci_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Evidence and data go to a per-test folder."""
    home = tmp_path / "sg-home"
    monkeypatch.setenv("SHOPGUARD_HOME", str(home))
    monkeypatch.delenv("SHOPGUARD_DB", raising=False)
    return home


@pytest.fixture
def pci_sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'shopguard.db'}"


@pytest.fixture
def pci_pg_url() -> Iterator[str]:
    name = f"sg_pci_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pci_db(pci_sqlite_url: str) -> Iterator[sessionmaker[Session]]:
    sessions = open_database(pci_sqlite_url)
    yield sessions
    sessions.kw["bind"].dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def pci_any_db(request: pytest.FixtureRequest) -> Iterator[sessionmaker[Session]]:
    url = request.getfixturevalue("pci_sqlite_url" if request.param == "sqlite" else "pci_pg_url")
    sessions = open_database(url)
    yield sessions
    sessions.kw["bind"].dispose()


def _store_run(
    db: sessionmaker[Session],
    results: Sequence[tuple[str, Outcome, list[Finding]]],
    *,
    store: str = STORE,
    finished_at: datetime | None = None,
) -> int:
    """Store one run of the given checks through the foundation's repository."""
    run_id = begin_run(db, [store], "test")
    for check_id, outcome, findings in results:
        record_check(db, run_id, CheckRun(check_id, store, outcome, findings))
    finish_run(db, run_id)
    if finished_at is not None:  # age the run (the repository stamps "now")
        with db.begin() as s:
            s.execute(
                update(CheckExecution).where(CheckExecution.run_id == run_id).values(finished_at=finished_at)
            )
    return run_id


@pytest.fixture
def store_run() -> object:
    """``store_run(db, [(check_id, outcome, findings)], finished_at=...)`` -> run id."""
    return _store_run
