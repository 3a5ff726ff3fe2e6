"""Migration 0009 creates exactly the tables the policies and insurance models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shopguard.db import open_database
from shopguard.db.base import Base
from shopguard.db.registry import import_all_models

OURS = ("policy_", "people", "training_records", "insurance_")


def test_migration_matches_models(db_url: str):
    sessions = open_database(db_url)
    engine = sessions.kw["bind"]
    import_all_models()
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()

    def table_of(entry: object) -> str:
        item = entry[0] if isinstance(entry, list) else entry
        for part in item[1:] if isinstance(item, tuple) else ():
            name = getattr(part, "name", None) if not isinstance(part, str) else None
            table = getattr(part, "table", None)
            if table is not None:
                return str(table.name)
            if name:
                return str(name)
            if isinstance(part, str):
                return part
        return ""

    mine = [d for d in diff if table_of(d).startswith(OURS)]
    assert mine == []
