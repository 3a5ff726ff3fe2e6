"""Migration 0011 creates exactly what the web models (and the findings index) describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shopguard.db import open_database
from shopguard.db.base import Base
from shopguard.db.registry import import_all_models


def _names(entry: object) -> str:
    return repr(entry)


def test_migration_matches_models(db_url: str) -> None:
    sessions = open_database(db_url)
    engine = sessions.kw["bind"]
    import_all_models()
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    mine = [d for d in diff if "web_" in _names(d) or "ix_findings_severity_last_seen" in _names(d)]
    assert mine == []
