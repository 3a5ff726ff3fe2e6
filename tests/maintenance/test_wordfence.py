"""The Wordfence Intelligence feed: import, matching WordPress plugins/themes/core, plan, CLI."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import sqlite3
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopguard.cli.app import app
from shopguard.maintenance.assess import vulnerability_findings
from shopguard.maintenance.service import collect
from shopguard.maintenance.sources.local import LocalSource
from shopguard.maintenance.versions import compare
from shopguard.maintenance.vulndb.sync import SyncError, SyncReport, sync

from .conftest import FRIENDSOFPHP, RETIREJS, send

DATA = Path(__file__).resolve().parents[1] / "data" / "wordfence"
PRODUCTION = DATA / "production-feed-sample.json"
SCANNER = DATA / "scanner-feed-sample.json"
TODAY = dt.date(2026, 11, 25)

CF7 = "WF-0b2a7d9e-5c1f-4b8e-9f0a-3c6d2e1f4a01"
GALLERY = "WF-1c3b8e0f-6d2a-4c9f-8a1b-4d7e3f2a5b02"
GALLERY_THEME = "WF-2d4c9f1a-7e3b-4d0a-9b2c-5e8f4a3b6c03"
STOREFRONT = "WF-3e5d0a2b-8f4c-4e1b-8c3d-6f9a5b4c7d04"
CORE = "WF-4f6e1b3c-9a5d-4f2c-9d4e-7a0b6c5d8e05"
FORMS = "WF-7c9b4e6f-2d8a-4c5f-8a7b-0d3e9f8a1b08"


def _plugin(root: Path, slug: str, version: str, name: str | None = None) -> None:
    d = root / "wp-content" / "plugins" / slug
    d.mkdir(parents=True)
    (d / f"{slug}.php").write_text(
        f"<?php\n/**\n * Plugin Name: {name or slug}\n * Version: {version}\n */\n", encoding="utf-8"
    )


def _theme(root: Path, slug: str, version: str) -> None:
    d = root / "wp-content" / "themes" / slug
    d.mkdir(parents=True)
    (d / "style.css").write_text(f"/*\nTheme Name: {slug}\nVersion: {version}\n*/\n", encoding="utf-8")


def wordpress_tree(root: Path, core: str = "6.4.1") -> Path:
    (root / "wp-includes").mkdir(parents=True)
    (root / "wp-includes" / "version.php").write_text(f"<?php\n$wp_version = '{core}';\n", encoding="utf-8")
    _plugin(root, "contact-form-7", "5.3.1", "Contact Form 7")  # affected, fixed in 5.3.2
    _plugin(root, "acme-gallery", "2.0", "Acme Gallery")  # PHP: 2.0 < 2.0.0, so inside [1.0, 2.0.0)
    _plugin(root, "acme-forms", "3.9.9")  # scanner feed: < 4.0
    _plugin(root, "hello-dolly", "1.7.2")  # no advisory
    _theme(root, "acme-gallery", "3.0")  # the theme record, not the plugin's
    _theme(root, "storefront-lite", "1.5")  # exactly the fixed version: not affected
    return root


@pytest.fixture
def wf_db(tmp_path: Path) -> Path:
    target = tmp_path / "wf.sqlite"
    sync(download=False, db_path=target, eol_url=None, wordfence_feeds=[PRODUCTION, SCANNER])
    return target


def test_import_counts_skips_and_names_the_damaged_record(tmp_path: Path) -> None:
    target = tmp_path / "wf.sqlite"
    report = sync(download=False, db_path=target, eol_url=None, wordfence_feeds=[PRODUCTION, SCANNER])
    prod = report.stats["wordfence:production-feed-sample.json"]
    assert (prod.advisories, prod.skipped) == (5, 2)  # the informational notice and the damaged record
    assert prod.warnings == [
        f"{PRODUCTION}:6b8a3d5e-1c7f-4b4e-9f6a-9c2d8e7f0a07: software[0].type: 'widget' is not plugin, "
        "theme or core"
    ]
    assert report.stats["wordfence:scanner-feed-sample.json"].advisories == 1
    conn = sqlite3.connect(target)
    rows = conn.execute(
        "SELECT ecosystem, name, ranges, fixed FROM affected WHERE advisory_id = ?", (GALLERY,)
    ).fetchall()
    assert rows == [
        (
            "WordPress:plugin",
            "acme-gallery",
            '[["1.0",true,"2.0.0",false,""],["2.1",true,"2.4.1",true,""]]',
            '["2.0.0","2.4.2"]',
        )
    ]
    adv = conn.execute(
        "SELECT source, aliases, published, severity, score, url FROM advisory WHERE id = ?", (CF7,)
    ).fetchone()
    assert adv[:5] == ("wordfence", '["CVE-2020-35489"]', "2020-12-17T00:00:00Z", "critical", 10.0)
    assert adv[5].startswith("https://www.wordfence.com/threat-intel/vulnerabilities/id/0b2a7d9e")


def test_php_version_compare_order() -> None:
    """WordPress versions compare as PHP's version_compare() does (the feed's own rule)."""
    ordered = ["1.0-dev", "1.0alpha1", "1.0b2", "1.0RC1", "1.0", "1.0.0", "1.0.1", "1.0pl1", "1.10"]
    for a, b in itertools.pairwise(ordered):
        assert compare("WordPress", a, b) == -1, (a, b)
        assert compare("WordPress", b, a) == 1, (b, a)
    assert compare("WordPress", "5.3.2", "5.3.2") == 0
    assert compare("WordPress", "2.0", "2.0.0") == -1  # PHP: a missing part is lower than any number
    assert compare("WordPress", "1.0pl1", "1.0.1") == 1  # and "pl" ranks above a number


def test_wordpress_tree_matches_plugins_themes_and_core(tmp_path: Path, wf_db: Path) -> None:
    inv = collect([wordpress_tree(tmp_path / "wp")])
    found = LocalSource(wf_db).query(inv.unique())
    by_name = {(c.kind, c.name): sorted(m.advisory.id for m in ms) for c, ms in found.items()}
    assert by_name == {
        ("plugin", "contact-form-7"): [CF7],
        ("plugin", "acme-gallery"): [GALLERY],
        ("plugin", "acme-forms"): [FORMS],
        ("theme", "acme-gallery"): [GALLERY_THEME],
        ("platform", "wordpress"): [CORE],
    }
    findings = {
        f.evidence["component"] + "/" + f.evidence["purl"]: f
        for f in vulnerability_findings(found, TODAY, "local")
    }
    cf7 = findings["contact-form-7/pkg:generic/wordpress-plugin/contact-form-7@5.3.1"]
    assert cf7.severity.value == "critical"
    assert cf7.evidence["smallest_fix"] == "5.3.2"
    assert cf7.evidence["command"] == "wp plugin update contact-form-7 --version=5.3.2"
    adv = cf7.evidence["advisories"][0]
    assert adv["aliases"] == ["CVE-2020-35489"] and adv["fixed"] == ["5.3.2"] and adv["cvss_score"] == 10.0
    assert "CVE-2020-35489" in cf7.refs.cve
    assert CF7 in cf7.evidence["pci_6_3_3_overdue"]
    gallery = findings["acme-gallery/pkg:generic/wordpress-plugin/acme-gallery@2.0"]
    assert gallery.evidence["smallest_fix"] == "2.0.0"  # outside both ranges
    theme = findings["acme-gallery/pkg:generic/wordpress-theme/acme-gallery@3.0"]
    assert theme.evidence["smallest_fix"] is None and "wp theme update acme-gallery" in theme.remediation
    core = findings["wordpress/pkg:generic/wordpress@6.4.1"]
    assert core.evidence["smallest_fix"] == "6.4.2" and core.evidence["command"].startswith("wp core update")
    forms = findings["acme-forms/pkg:generic/wordpress-plugin/acme-forms@3.9.9"]
    assert forms.evidence["advisories"][0]["severity_source"] == "unscored"


@pytest.mark.parametrize(
    ("slug", "version", "hit"),
    [
        ("contact-form-7", "5.3.2", False),
        ("contact-form-7", "4.0", True),
        ("acme-gallery", "0.9", False),
        ("acme-gallery", "1.0", True),
        ("acme-gallery", "2.0.0", False),
        ("acme-gallery", "2.0.5", False),
        ("acme-gallery", "2.1", True),
        ("acme-gallery", "2.4.1", True),
        ("acme-gallery", "2.4.2", False),
    ],
)
def test_plugin_range_edges(tmp_path: Path, wf_db: Path, slug: str, version: str, hit: bool) -> None:
    root = tmp_path / "wp"
    (root / "wp-includes").mkdir(parents=True)
    (root / "wp-includes" / "version.php").write_text("<?php\n$wp_version = '6.7.1';\n", encoding="utf-8")
    _plugin(root, slug, version)
    found = LocalSource(wf_db).query(collect([root]).unique())
    assert any(c.name == slug for c in found) is hit


def test_cli_sync_and_plan_upgrade_the_plugin(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["vulndb", "sync", "--wordfence-from", str(PRODUCTION), "--no-eol"])
    assert res.exit_code == 0, res.output
    assert "wordfence:production-feed-sample.json: 5 advisories, 5 affected packages, 2 skipped" in res.output
    root = wordpress_tree(tmp_path / "wp")
    plan = runner.invoke(app, ["maintenance", "plan", str(root), "--format", "json"])
    assert plan.exit_code == 0, plan.output
    items = {i["component"] + "@" + i["version"]: i for i in json.loads(plan.stdout)}
    cf7 = items["contact-form-7@5.3.1"]
    assert cf7["owner"] == "extension" and cf7["target"] == "5.3.2"
    assert cf7["command"] == "wp plugin update contact-form-7 --version=5.3.2"
    assert cf7["rank"] < items["acme-gallery@2.0"]["rank"]  # critical before medium
    assert items["wordpress@6.4.1"]["target"] == "6.4.2"


def test_truncated_feed_keeps_previous_database(tmp_path: Path) -> None:
    runner = CliRunner()
    assert (
        runner.invoke(app, ["vulndb", "sync", "--wordfence-from", str(PRODUCTION), "--no-eol"]).exit_code == 0
    )
    db = Path(os.environ["SHOPGUARD_HOME"]) / "vulndb" / "vulndb.sqlite"
    before = db.read_bytes()
    cut = tmp_path / "cut.json"
    cut.write_bytes(PRODUCTION.read_bytes()[:3000])
    res = runner.invoke(app, ["vulndb", "sync", "--wordfence-from", str(cut), "--no-eol"])
    assert res.exit_code == 3
    assert f"{cut}: damaged or truncated Wordfence feed" in res.output and "previous database" in res.output
    assert db.read_bytes() == before
    wrong = tmp_path / "list.json"
    wrong.write_text("[1, 2]")
    with pytest.raises(SyncError, match="not a Wordfence feed"):
        sync(download=False, db_path=tmp_path / "x.sqlite", eol_url=None, wordfence_feeds=[wrong])


def test_feed_download_sends_the_api_key(http_server: Callable[..., str], tmp_path: Path) -> None:
    seen: list[str | None] = []

    def feed(req: BaseHTTPRequestHandler) -> None:
        seen.append(req.headers.get("Authorization"))
        if req.headers.get("Authorization") != "Bearer k-123":
            send(req, 401, b'{"message": "API key required"}')
            return
        send(req, 200, PRODUCTION.read_bytes())

    def file(path: Path) -> Callable[[BaseHTTPRequestHandler], None]:
        return lambda req: send(req, 200, path.read_bytes())

    base = http_server(
        {"/v3/production": feed, "/fop.tar.gz": file(FRIENDSOFPHP), "/retire.json": file(RETIREJS)}
    )
    target = tmp_path / "dl.sqlite"

    def run(key: str | None) -> SyncReport:
        return sync(
            db_path=target,
            eol_url=None,
            ecosystems=(),
            friendsofphp_url=f"{base}/fop.tar.gz",
            retire_url=f"{base}/retire.json",
            wordfence_url=f"{base}/v3/production",
            wordfence_key=key,
        )

    with pytest.raises(SyncError, match=r"HTTP 401 \(the Wordfence feed: .* --no-wordfence\)"):
        run(None)
    assert not target.exists()
    report = run("k-123")
    assert report.stats["wordfence:wordfence-feed.json"].advisories == 5
    assert seen == [None, "Bearer k-123"]
