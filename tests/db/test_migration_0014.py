"""0014: accepted risks recorded before expiries existed get one (a year after acceptance),
and the migration goes down and up again cleanly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig

from shopguard.db.session import MIGRATIONS, make_engine


def _cfg(url: str) -> tuple[AlembicConfig, sa.Engine]:
    engine = make_engine(url, transactional_ddl=url.startswith("sqlite"))
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection_engine"] = engine
    return cfg, engine


def test_legacy_acceptances_get_an_expiry(db_url: str) -> None:
    cfg, engine = _cfg(db_url)
    try:
        command.upgrade(cfg, "0013_dash_response")
        accepted_at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
        cols = (
            "store, fingerprint, check_id, source_check, protocol, severity, title, detail, location, "
            "key, evidence, remediation, refs, status, first_seen, last_seen, triage, triage_reason, "
            "triage_by, triage_at"
        )
        row = {
            "check_id": "scanning.web.headers.hsts", "source_check": "scanning.web.headers",
            "protocol": "scanning", "severity": "high", "title": "t", "detail": "", "location": "x",
            "key": "", "evidence": "{}", "remediation": "", "refs": "{}", "status": "open",
            "first_seen": accepted_at, "last_seen": accepted_at, "triage_reason": "why", "triage_by": "ann",
        }  # fmt: skip
        with engine.begin() as conn:
            for fp, triage in (("a", "accepted_risk"), ("b", "false_positive"), ("c", "none")):
                conn.execute(
                    sa.text(
                        f"INSERT INTO findings ({cols}) VALUES (:store, :fp, :check_id, :source_check, "
                        ":protocol, :severity, :title, :detail, :location, :key, :evidence, :remediation, "
                        ":refs, :status, :first_seen, :last_seen, :triage, :triage_reason, :triage_by, :at)"
                    ),
                    {**row, "store": "demo", "fp": fp, "triage": triage, "at": accepted_at},
                )
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            got = dict(conn.execute(sa.text("SELECT fingerprint, triage_expires_at FROM findings")).all())
            assignees = {r[0] for r in conn.execute(sa.text("SELECT assignee FROM findings"))}
        expiry = got["a"]
        if isinstance(expiry, str):  # SQLite hands back text
            expiry = datetime.fromisoformat(expiry)
        expiry = expiry if expiry.tzinfo else expiry.replace(tzinfo=UTC)
        assert expiry == accepted_at + timedelta(days=365)
        assert got["b"] is None and got["c"] is None and assignees == {""}
        command.downgrade(cfg, "0013_dash_response")
        assert "finding_comments" not in sa.inspect(engine).get_table_names()
        command.upgrade(cfg, "head")
        assert {"finding_comments", "page_rejections"} <= set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
