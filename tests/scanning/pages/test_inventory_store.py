"""The approved inventory on SQLite and PostgreSQL (migration 0004), without a browser."""

from __future__ import annotations

from shopguard.scanning.pages.browser import PageInventory, ScriptItem
from shopguard.scanning.pages.inventory import HEADERS_ID, approve, load_approved, revoke


def inventory(sha: str) -> PageInventory:
    inv = PageInventory(
        "checkout", "https://shop.example/checkout", final_url="https://shop.example/checkout"
    )
    inv.scripts = [
        ScriptItem("script", "https://js.pay.example/sdk.js", "https://js.pay.example/sdk.js?v=3", sha),
        ScriptItem("inline-script", "sha256-abc="),
    ]
    inv.iframes = ["https://js.pay.example/card"]
    inv.requests = [
        ("GET", "https://shop.example/checkout", "document"),
        ("GET", "https://js.pay.example/x", "xhr"),
    ]
    inv.headers = {"content-security-policy": "default-src 'self'"}
    return inv


def test_approve_reapprove_and_revoke(db):
    done = approve(db, "main", [inventory("aa")], "payment SDK and its card iframe", "alice")
    assert sorted(i.kind for _, i, _ in done) == [
        "destination",
        "destination",
        "iframe",
        "inline-script",
        "script",
    ]
    again = approve(db, "main", [inventory("aa")], "same again", "bob")
    assert again == []
    changed = approve(db, "main", [inventory("bb")], "vendor released SDK 3.1", "carol")
    assert [(i.identifier, action) for _, i, action in changed] == [
        ("https://js.pay.example/sdk.js", "re-approved (content changed)")
    ]
    ok = load_approved(db, "main")["checkout"]
    script = ok.get("script", "https://js.pay.example/sdk.js")
    assert script is not None and script.sha256 == "bb" and script.approved_by == "carol"
    headers = ok.get("headers", HEADERS_ID)
    assert headers is not None and headers.data == {"content-security-policy": "default-src 'self'"}
    assert load_approved(db, "other") == {}
    assert revoke(db, "main", "sha256-abc=") == 1
    assert not load_approved(db, "main")["checkout"].has("inline-script", "sha256-abc=")


def test_last_clean_monitor_run(db):
    from datetime import timedelta

    from shopguard.db.base import utcnow
    from shopguard.db.models import CheckExecution, RunRecord
    from shopguard.scanning.pages.checks import last_clean_run

    assert last_clean_run(db, "main", "scanning.pages") is None
    then = utcnow() - timedelta(days=10)
    with db.begin() as s:
        run = RunRecord(
            kind="audit", selector="", stores="main", status="finished", tool_version="t", pid=1, hostname="h"
        )
        s.add(run)
        s.flush()
        s.add(
            CheckExecution(
                run_id=run.id, store="main", check_id="scanning.pages", outcome="ok", finished_at=then
            )
        )
        s.add(
            CheckExecution(
                run_id=run.id, store="main", check_id="scanning.pages", outcome="error", finished_at=utcnow()
            )
        )
    got = last_clean_run(db, "main", "scanning.pages")
    assert got is not None and abs((got - then).total_seconds()) < 1
