"""ShopGuard's own storage: SQLAlchemy models, sessions and Alembic migrations."""

from shopguard.db.base import Base, UTCDateTime, utcnow
from shopguard.db.session import DatabaseError, make_engine, migrate, open_database

__all__ = ["Base", "DatabaseError", "UTCDateTime", "make_engine", "migrate", "open_database", "utcnow"]
