from __future__ import annotations

import pytest
from sqlalchemy import text

from shopguard.db import make_engine, migrate
from shopguard.db.session import table_names


def test_ddl_is_transactional(db_url: str) -> None:
    engine = make_engine(db_url, transactional_ddl=True)
    with pytest.raises(RuntimeError), engine.begin() as conn:
        conn.execute(text("CREATE TABLE half_done (id INTEGER)"))
        raise RuntimeError("migration failed half-way")
    assert "half_done" not in table_names(engine)
    migrate(engine)
    migrate(engine)  # idempotent
    assert {"runs", "findings", "check_executions", "run_findings"} <= set(table_names(engine))
    engine.dispose()


def test_sqlite_uses_wal(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()
