"""`shopguard pages list|revoke|csp` on a stored inventory (no browser needed)."""

from __future__ import annotations

from typer.testing import CliRunner

from shopguard.cli.app import app
from shopguard.db import open_database
from shopguard.scanning.pages.browser import PageInventory, ScriptItem
from shopguard.scanning.pages.inventory import approve


def test_list_csp_revoke(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'sg.db'}"
    cfg = tmp_path / "shopguard.toml"
    cfg.write_text(
        '[[stores]]\nname = "main"\nstorefront_url = "https://shop.example/"\n'
        'checkout_url = "https://shop.example/checkout"\n'
    )
    inv = PageInventory(
        "checkout", "https://shop.example/checkout", final_url="https://shop.example/checkout"
    )
    inv.scripts = [
        ScriptItem("script", "https://js.pay.example/sdk.js", "https://js.pay.example/sdk.js", "aa")
    ]
    inv.iframes = ["https://js.pay.example/card"]
    approve(open_database(db_url), "main", [inv], "NimbusPay card form SDK", "alice")
    run = CliRunner()

    out = run.invoke(app, ["pages", "list", "--config", str(cfg), "--db", db_url])
    assert out.exit_code == 0 and "https://js.pay.example/sdk.js" in out.stdout and "alice" in out.stdout

    out = run.invoke(app, ["pages", "csp", "--config", str(cfg), "--db", db_url, "--enforce"])
    assert out.exit_code == 0
    header = out.stdout.splitlines()[0]
    assert header.startswith(
        "Content-Security-Policy: default-src 'self'; script-src 'self' https://js.pay.example"
    )
    assert "upgrade-insecure-requests" in header and "frame-src 'self' https://js.pay.example" in header
    assert 'add_header Content-Security-Policy "' in out.stdout

    out = run.invoke(
        app, ["pages", "revoke", "https://js.pay.example/sdk.js", "--config", str(cfg), "--db", db_url]
    )
    assert out.exit_code == 0
    out = run.invoke(
        app, ["pages", "revoke", "https://js.pay.example/sdk.js", "--config", str(cfg), "--db", db_url]
    )
    assert out.exit_code == 2

    out = run.invoke(app, ["pages", "approve", "--why", "short", "--config", str(cfg), "--db", db_url])
    assert out.exit_code == 2 and "justification" in out.stderr
