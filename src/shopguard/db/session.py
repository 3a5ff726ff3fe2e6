"""Engine and sessions: SQLite (WAL) by default, PostgreSQL by URL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


class DatabaseError(Exception):
    """ShopGuard's own database cannot be opened or migrated."""


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _sqlite_driver_autocommit(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None


def _sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


def make_engine(url: str, *, transactional_ddl: bool = False) -> Engine:
    """An engine for ShopGuard's database.

    ``transactional_ddl`` (SQLite only) lets SQLAlchemy, not the driver, open every
    transaction, so DDL is transactional and a migration that fails half-way leaves
    nothing behind. It is used for migrations only: at run time the driver's own
    behaviour (a transaction starts at the first write) avoids SQLite's read-to-write
    upgrade conflicts, which fail at once instead of waiting for the busy timeout.
    """
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:":
            path = Path(db)
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not path.exists():
                # Create with owner-only permissions: it holds findings and breach data.
                fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
                os.close(fd)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        if transactional_ddl:
            event.listen(engine, "connect", _sqlite_driver_autocommit)
            event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent)."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    sqlite = engine.url.get_backend_name() == "sqlite"
    target = (
        make_engine(engine.url.render_as_string(hide_password=False), transactional_ddl=True)
        if sqlite
        else engine
    )
    cfg.attributes["connection_engine"] = target
    try:
        command.upgrade(cfg, "head")
    except Exception as exc:
        safe = engine.url.render_as_string(hide_password=True)
        raise DatabaseError(f"cannot prepare ShopGuard's database at {safe}: {exc}") from exc
    finally:
        if target is not engine:
            target.dispose()


def open_database(url: str) -> sessionmaker[Session]:
    engine = make_engine(url)
    migrate(engine)
    return sessionmaker(engine, expire_on_commit=False)


def table_names(engine: Engine) -> list[str]:
    return inspect(engine).get_table_names()
