"""Skimmers hidden in the shop's database, scanned with the same rules as files.

Magecart-style skimmers are often stored where the platform prints them into
every page: Magento's ``core_config_data`` (design/head/includes,
design/footer/absolute_footer), CMS blocks and pages, WordPress options
(widgets, theme settings) and post content. Only MySQL/MariaDB is supported
(the platforms that keep these tables); rows are streamed with an unbuffered
cursor, so memory stays flat, and nothing is ever written.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import pymysql
import pymysql.cursors

from shopguard.config import Database, Store
from shopguard.findings import Finding, Refs, Severity
from shopguard.scanning.files.engine import Engine, FileResult
from shopguard.scanning.files.sniff import Kind, classify

CHECK_ID = "scanning.files.database"
MYSQL_SCHEMES = ("mysql", "mariadb", "mysql+pymysql", "mariadb+pymysql")
MAX_VALUE = 4 * 1024 * 1024

# Only rows that can carry script are fetched (the engine decides what is malicious).
_SQL_FILTER = (
    "({col} LIKE '%<script%' OR {col} LIKE '%javascript:%' OR {col} LIKE '%eval(%' OR {col} LIKE '%atob(%' "
    "OR {col} LIKE '%fromCharCode%' OR {col} LIKE '%createElement%' OR {col} LIKE '%<iframe%' "
    "OR {col} LIKE '%onerror%' OR {col} LIKE '%onload%' OR {col} LIKE '%<?php%')"
)


@dataclass(frozen=True)
class Target:
    """A table whose text column may carry script, and how to name a row."""

    suffix: str
    """Table name or suffix (WordPress and Magento allow table prefixes)."""
    key: str
    label: str
    column: str
    where: str = ""


TARGETS = (
    Target("options", "option_id", "option_name", "option_value"),
    Target("posts", "ID", "post_title", "post_content", "post_status <> 'trash'"),
    Target("postmeta", "meta_id", "meta_key", "meta_value"),
    Target("core_config_data", "config_id", "path", "value"),
    Target("cms_block", "block_id", "identifier", "content"),
    Target("cms_page", "page_id", "identifier", "content"),
)


class DatabaseScanError(Exception):
    pass


def is_mysql(db: Database) -> bool:
    return urlsplit(db.dsn).scheme.lower() in MYSQL_SCHEMES


def _connect(db: Database) -> tuple[pymysql.connections.Connection, str]:
    parts = urlsplit(db.dsn)
    name = parts.path.lstrip("/")
    if not name:
        raise DatabaseScanError(
            f"database {db.name!r}: the DSN names no database (mysql://user@host:3306/shop)"
        )
    password = db.password.resolve() if db.password is not None else unquote(parts.password or "")
    try:
        conn = pymysql.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 3306,
            user=unquote(parts.username or "root"),
            password=password,
            database=name,
            charset="utf8mb4",
            connect_timeout=10,
            read_timeout=600,
            cursorclass=pymysql.cursors.SSCursor,
        )
    except pymysql.MySQLError as exc:
        raise DatabaseScanError(
            f"database {db.name!r} ({_safe_dsn(db)}): cannot connect: {exc.args[-1]}"
        ) from None
    return conn, name


def _safe_dsn(db: Database) -> str:
    p = urlsplit(db.dsn)
    host = f"{p.hostname}:{p.port}" if p.port else str(p.hostname)
    return f"{p.scheme}://{host}{p.path}"


_IDENT = re.compile(r"^[A-Za-z0-9_$]{1,64}$")


def _tables(conn: pymysql.connections.Connection) -> list[str]:
    with conn.cursor(pymysql.cursors.Cursor) as cur:
        cur.execute("SHOW TABLES")
        return [str(r[0]) for r in cur.fetchall()]


def _columns(conn: pymysql.connections.Connection, table: str) -> set[str]:
    with conn.cursor(pymysql.cursors.Cursor) as cur:
        cur.execute(f"SHOW COLUMNS FROM `{table}`")
        return {str(r[0]) for r in cur.fetchall()}


def scan_database(db: Database, engine: Engine) -> Iterator[tuple[str, str, FileResult]]:
    """Yield ``(location, table, result)`` for every row with a detection."""
    conn, _ = _connect(db)
    base = _safe_dsn(db)
    try:
        tables = _tables(conn)
        for target in TARGETS:
            for table in tables:
                if not _IDENT.match(table) or not (
                    table == target.suffix or table.endswith("_" + target.suffix)
                ):
                    continue
                cols = _columns(conn, table)
                if not {target.key, target.label, target.column} <= cols:
                    continue
                yield from _scan_table(conn, base, table, target, engine)
    finally:
        conn.close()


def _scan_table(
    conn: pymysql.connections.Connection, base: str, table: str, target: Target, engine: Engine
) -> Iterator[tuple[str, str, FileResult]]:
    col = f"`{target.column}`"
    where = _SQL_FILTER.format(col=col) + (f" AND {target.where}" if target.where else "")
    sql = f"SELECT `{target.key}`, `{target.label}`, {col} FROM `{table}` WHERE {where}"  # noqa: S608 - identifiers checked
    with conn.cursor() as cur:
        cur.execute(sql)
        for key, label, value in cur:
            if value is None:
                continue
            data = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else bytes(value)
            data = data[:MAX_VALUE]
            location = f"{base}/{table}/{target.column}?{target.key}={key}"
            kind = classify(b"", data)
            if kind is Kind.TEXT:
                kind = Kind.HTML
            detections = engine.scan_bytes(data, f"/db/{table}/{label}", kind)
            if not detections:
                continue
            result = FileResult(
                location, kind.value, len(data), hashlib.sha256(data).hexdigest(), tuple(detections)
            )
            yield location, f"{table} ({target.label}={label})", result


REMEDIATION = (
    "Remove the injected script from this row: in Magento, Content > Design > Configuration (HTML Head "
    "'Scripts and Style Sheets', Footer 'Miscellaneous HTML') or Content > Blocks/Pages; in WordPress, the "
    "widget, theme option or post it belongs to. Keep a copy as evidence first. Then change every admin "
    "password, look for the backdoor that wrote it (`shopguard scan files`), and if card data may have been "
    "taken, open an incident and tell your payment processor."
)


def findings_for_store(store: Store, engine: Engine, check_id: str = CHECK_ID) -> Iterator[Finding]:
    from shopguard.scanning.files.scan import FAMILY_TITLES

    for db in store.databases:
        if not is_mysql(db):
            continue
        rows = 0
        for location, where, result in scan_database(db, engine):
            rows += 1
            main = max(result.detections, key=lambda d: (d.severity.rank, d.source != "heuristic"))
            what = FAMILY_TITLES.get(main.family.split(":", 1)[0], "Suspicious script")
            yield Finding(
                check_id=check_id,
                severity=result.severity,
                title=f"{what} stored in the database: {where}",
                location=location,
                detail="; ".join(f"{d.description} [{d.rule}]" for d in result.detections)[:2000]
                + f" (confidence: {result.confidence}).",
                remediation=REMEDIATION,
                evidence={
                    "confidence": result.confidence,
                    "sha256": result.sha256,
                    "matches": [d.to_dict() for d in result.detections[:10]],
                },
                refs=Refs(pci=("5.2.2", "6.4.3", "11.6.1", "12.10.1"), cwe=("CWE-506",)),
            )
        yield Finding(
            check_id=check_id + ".summary",
            severity=Severity.INFO,
            title=f"Scanned the database {db.name!r} for stored skimmers",
            location=_safe_dsn(db),
            detail=f"{rows} rows flagged. Tables checked: WordPress options/posts/postmeta, Magento "
            "core_config_data and CMS blocks/pages (any table prefix).",
            evidence={"flagged_rows": rows},
            refs=Refs(pci=("5.2.2", "6.4.3")),
            key=f"summary:{db.name}",
        )
