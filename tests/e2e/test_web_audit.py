"""`shopguard audit` and `shopguard scan web` end to end: the demo shop's weaknesses that
belong to the web scan and the payment-page monitor are all found; a hardened nginx
gives nothing at all."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from demo.run import start
from typer.testing import CliRunner

from shopguard.cli.app import app

sys.path.insert(0, str(Path(__file__).parents[1] / "scanning" / "web"))


@pytest.fixture(autouse=True)
def _retire(monkeypatch: pytest.MonkeyPatch) -> None:
    here = Path(__file__).resolve()
    copy = next(
        p / "shared/data/retirejs/jsrepository.json"
        for p in here.parents
        if (p / "shared/data/retirejs/jsrepository.json").is_file()
    )
    monkeypatch.setenv("SHOPGUARD_RETIREJS_FILE", str(copy))


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout


def by_check(report: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for f in report["findings"]:
        if f["status"] != "resolved":
            out.setdefault(f["check_id"], []).append(f)
    return out


def test_audit_finds_every_web_weakness_of_the_demo_shop(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'sg.db'}"
    with start() as demo:
        cfg = demo.write_config(tmp_path / "shopguard.toml")
        # demo/shopguard.toml carries the add-to-basket steps; settle faster in tests
        cfg.write_text(cfg.read_text().replace("[stores.pages]\n", "[stores.pages]\nsettle_ms = 500\n"))
        assert "settle_ms = 500" in cfg.read_text()
        code, out = cli(
            "audit",
            "--config",
            str(cfg),
            "--only",
            "scanning.web,scanning.pages",
            "--format",
            "json",
            "--db",
            db,
        )
        report = json.loads(out)
        assert report["run"]["errors"] == []
        assert code == 1
        f = by_check(report)
        # 1 security headers
        assert {
            "scanning.web.headers.csp",
            "scanning.web.headers.x-frame-options",
            "scanning.web.headers.x-content-type-options",
            "scanning.web.headers.permissions-policy",
        } <= set(f)
        assert f["scanning.web.headers.csp"][0]["severity"] == "medium"
        # 2 version banners
        banners = {x["evidence"]["header"]: x["evidence"]["value"] for x in f["scanning.web.server-banner"]}
        assert banners == {"server": "Apache/2.4.29 (Ubuntu)", "x-powered-by": "PHP/7.2.24"}
        # 3 HTTP only
        assert {x["severity"] for x in f["scanning.web.https"]} == {"high"}
        # 4 and 5 exposed .git/config and .env
        exposed = {
            x["location"].removeprefix(demo.shop_url.rstrip("/")): x["severity"]
            for x in f["scanning.web.exposures"]
        }
        assert exposed["/.git/config"] in ("high", "critical") and exposed["/.env"] == "critical"
        assert "demo-not-a-real-secret" not in out
        # 6 directory listing
        assert [x["location"] for x in f["scanning.web.directory-listing"]] == [demo.shop_url + "uploads/"]
        # 7 session cookie flags
        [cookie] = f["scanning.web.cookies"]
        assert cookie["evidence"]["cookie"] == "PHPSESSID" and cookie["severity"] == "medium"
        # 8 outdated jQuery
        [jq] = f["scanning.web.js-libraries"]
        assert jq["evidence"]["library"] == "jquery" and jq["evidence"]["version"] == "1.12.4"
        # 10 third-party script on the payment page without SRI, and no inventory
        assert [x["evidence"]["script"] for x in f["scanning.web.sri"]] == [
            demo.provider_url + "widgets/analytics.js"
        ]
        inv = {x["location"]: x for x in f["scanning.pages.inventory"]}
        checkout = inv[demo.checkout_url]["evidence"]
        assert demo.provider_url + "widgets/analytics.js" in [s["identifier"] for s in checkout["scripts"]]
        assert checkout["iframes"] == [demo.provider_url + "hosted/card-form"]
        # 9 the skimmer file is in the web root but no page loads it
        assert "checkout-helper.js" not in json.dumps(f.get("scanning.pages.inventory"))

        code, out = cli(
            "pages",
            "approve",
            "--config",
            str(cfg),
            "--db",
            db,
            "--why",
            "NimbusPay card form and its analytics widget, reviewed 2026-11",
        )
        assert code == 0, out
        code, out = cli(
            "audit", "--config", str(cfg), "--only", "scanning.pages", "--format", "json", "--db", db
        )
        after = by_check(json.loads(out))
        # only the monitor's record of the page: nothing unapproved, and no change since the last run
        assert [k for k in after if k.startswith("scanning.pages.")] == ["scanning.pages.observed"]
        code, out = cli("pages", "csp", "--config", str(cfg), "--db", db)
        assert out.startswith(
            "Content-Security-Policy-Report-Only: default-src 'self'; script-src 'self' "
            + demo.provider_url.rstrip("/")
        )


def test_scan_web_without_config_and_sarif(tmp_path: Path) -> None:
    with start() as demo:
        code, out = cli(
            "scan",
            "web",
            demo.shop_url,
            "--checkout",
            demo.checkout_url,
            "--no-browser",
            "--format",
            "sarif",
            "--db",
            f"sqlite:///{tmp_path / 'sg.db'}",
        )
    assert code == 1
    sarif = json.loads(out)
    rules = {r["ruleId"] for r in sarif["runs"][0]["results"]}
    assert {"scanning.web.exposures", "scanning.web.https", "scanning.web.cookies"} <= rules


def test_scan_web_rejects_a_bad_url(tmp_path: Path) -> None:
    code, _ = cli("scan", "web", "ftp://shop.example/", "--db", f"sqlite:///{tmp_path / 'sg.db'}")
    assert code == 2


def test_audit_of_hardened_nginx_raises_nothing(tmp_path: Path) -> None:
    from webscan_nginx import free_port, hardened_servers, make_certs, run_nginx, write_site

    certs = make_certs(tmp_path / "certs")
    root = tmp_path / "www"
    write_site(root, bad=False)
    https, http = free_port(), free_port()
    with run_nginx(tmp_path / "run", hardened_servers(root, https, http, certs), https, http, root):
        cfg = tmp_path / "shopguard.toml"
        cfg.write_text(
            f'[[stores]]\nname = "hardened"\nstorefront_url = "https://127.0.0.1:{https}/"\n'
            f'[stores.web]\nhttp_port = {http}\nca_bundle = "{certs.ca}"\n'
        )
        code, out = cli(
            "audit",
            "--config",
            str(cfg),
            "--only",
            "scanning.web",
            "--format",
            "json",
            "--db",
            f"sqlite:///{tmp_path / 'sg.db'}",
        )
    report = json.loads(out)
    assert report["run"]["errors"] == []
    assert report["findings"] == []
    assert code == 0
