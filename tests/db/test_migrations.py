"""The migrations, applied in order, build exactly what every protocol's models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from shopguard.db import open_database
from shopguard.db.base import Base
from shopguard.db.registry import import_all_models
from shopguard.db.session import MIGRATIONS


def test_one_linear_history() -> None:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(cfg)
    assert len(script.get_heads()) == 1, script.get_heads()
    revisions = list(script.walk_revisions())
    assert revisions[-1].revision == "0001_foundation"
    assert all(not isinstance(r.down_revision, tuple) for r in revisions)


def test_migrations_match_all_models(db_url: str) -> None:
    sessions = open_database(db_url)
    engine = sessions.kw["bind"]
    import_all_models()
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert diff == []
