"""Alembic environment: uses the engine handed over by shopguard.db.migrate()."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from shopguard.db.base import Base
from shopguard.db.registry import import_all_models

import_all_models()

engine: Engine = context.config.attributes["connection_engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
