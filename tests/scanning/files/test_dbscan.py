"""Skimmers planted in a real MariaDB (WordPress and Magento tables) are found with
the same rules as files; clean rows are not reported. The database is dropped after."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from shopguard.audit import run_audit
from shopguard.config import parse_config
from shopguard.db import open_database

from .conftest import MALICIOUS

SKIMMER = (MALICIOUS / "js" / "checkout-helper.js").read_text()
LOADER = "eval(atob('" + base64.b64encode(b"console.log('shopguard defanged sample')").decode() + "'));"

SCHEMA = [
    "CREATE TABLE wp_options (option_id BIGINT PRIMARY KEY AUTO_INCREMENT, option_name VARCHAR(191),"
    " option_value LONGTEXT, autoload VARCHAR(20))",
    "CREATE TABLE wp_posts (ID BIGINT PRIMARY KEY AUTO_INCREMENT, post_title TEXT, post_content LONGTEXT,"
    " post_status VARCHAR(20))",
    "CREATE TABLE core_config_data (config_id INT PRIMARY KEY AUTO_INCREMENT, scope VARCHAR(8),"
    " scope_id INT, path VARCHAR(255), value TEXT)",
    "CREATE TABLE cms_block (block_id INT PRIMARY KEY AUTO_INCREMENT, identifier VARCHAR(255),"
    " content MEDIUMTEXT)",
]
ROWS = [
    ("INSERT INTO wp_options (option_name, option_value) VALUES (%s, %s)", ("siteurl", "https://shop.example")),
    ("INSERT INTO wp_options (option_name, option_value) VALUES (%s, %s)",
     ("widget_custom_html", '<script async src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>')),
    ("INSERT INTO wp_options (option_name, option_value) VALUES (%s, %s)",
     ("widget_text", f"a:1:{{s:4:\"text\";s:80:\"<script>{LOADER}</script>\";}}")),
    ("INSERT INTO wp_posts (post_title, post_content, post_status) VALUES (%s, %s, %s)",
     ("About us", "<p>We sell <b>tea</b>.</p><script>console.log('hi')</script>", "publish")),
    ("INSERT INTO core_config_data (scope, scope_id, path, value) VALUES (%s, %s, %s, %s)",
     ("default", 0, "design/footer/absolute_footer", f"<script>{SKIMMER}</script>")),
    ("INSERT INTO core_config_data (scope, scope_id, path, value) VALUES (%s, %s, %s, %s)",
     ("default", 0, "design/head/includes", '<link rel="stylesheet" href="/css/print.css">')),
    ("INSERT INTO cms_block (identifier, content) VALUES (%s, %s)",
     ("footer_links", "<ul><li><a href='/about'>About</a></li></ul>")),
]  # fmt: skip


@pytest.fixture
def planted_db() -> Iterator[str]:
    name = f"sg_files_{uuid.uuid4().hex[:10]}"
    admin = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="", autocommit=True)
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    try:
        conn = pymysql.connect(
            host="127.0.0.1", port=3306, user="root", password="", database=name, autocommit=True
        )
        with conn.cursor() as cur:
            for stmt in SCHEMA:
                cur.execute(stmt)
            for sql, args in ROWS:
                cur.execute(sql, args)
        conn.close()
        yield name
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


def test_planted_skimmers_in_mariadb_are_found(planted_db: str, tmp_path: Path, sqlite_url: str) -> None:
    cfg = parse_config(
        {
            "stores": [
                {
                    "name": "db-shop",
                    "storefront_url": "https://shop.example/",
                    "databases": [{"name": "shop", "dsn": f"mysql://root@127.0.0.1:3306/{planted_db}"}],
                }
            ]
        }
    )
    sessions = open_database(sqlite_url)
    run = run_audit(cfg, list(cfg.stores), sessions, selectors=["scanning.files.database"])
    assert run.check_errors == 0, run.executions
    flagged = {
        sf.finding.location.split(f"/{planted_db}/", 1)[1]: sf.finding
        for sf in run.findings
        if sf.finding.check_id == "scanning.files.database"
    }
    assert set(flagged) == {"core_config_data/value?config_id=1", "wp_options/option_value?option_id=3"}
    footer = flagged["core_config_data/value?config_id=1"]
    assert footer.severity.value == "critical"
    assert "design/footer/absolute_footer" in footer.title
    assert footer.evidence["matches"][0]["rule"] == "SG_JS_Card_Skimmer"
    assert flagged["wp_options/option_value?option_id=3"].severity.value == "high"
    assert "root@" not in footer.location  # no user or password in stored locations
