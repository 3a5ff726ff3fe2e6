"""Shared fixtures: ShopGuard's own database on SQLite and on the machine's PostgreSQL."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.orm import Session, sessionmaker

from shopguard.db import open_database

PG_ADMIN_URL = os.environ.get("SHOPGUARD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")

# A suite started as a background job (`cmd &` in a shell without job control, as some CI
# runners do) inherits an ignored SIGINT, and so does every command it starts: the tests
# that press Ctrl-C on `shopguard audit` would then test nothing. Ctrl-C is restored here,
# for this process and the commands it starts.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own ShopGuard data folder and config folder."""
    monkeypatch.setenv("SHOPGUARD_HOME", str(tmp_path / "sg-home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.delenv("SHOPGUARD_DB", raising=False)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'shopguard.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh database on the machine's PostgreSQL, dropped afterwards."""
    name = f"sg_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Run a storage test against both supported databases."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def db(db_url: str) -> Iterator[sessionmaker[Session]]:
    sessions = open_database(db_url)
    yield sessions
    engine = sessions.kw["bind"]
    engine.dispose()
