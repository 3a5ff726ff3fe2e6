"""The real command, run as a user runs it (a subprocess), without network targets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from shopguard import __version__


def sg(*args: str, cwd: Path | None = None, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shopguard", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        input=input,
        timeout=120,
    )


def test_version_and_help() -> None:
    r = sg("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"shopguard {__version__}"
    r = sg("--help")
    for cmd in ("audit", "report", "init", "config", "findings", "checks"):
        assert cmd in r.stdout


def test_init_writes_a_valid_commented_config(tmp_path: Path) -> None:
    out = tmp_path / "shopguard.toml"
    r = sg(
        "init", "-y", "--name", "acme", "--url", "https://shop.acme.example/",
        "--platform", "magento", "--payment", "redirect", "--web-root", "/srv/www", "-o", str(out),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    assert "# ShopGuard configuration" in text and 'platform = "magento"' in text
    r = sg("config", "check", "--config", str(out))
    assert r.returncode == 0, r.stderr
    assert "valid, 1 store(s): acme" in r.stdout
    assert "/srv/www is not a folder" in r.stdout
    # refuses to overwrite
    assert sg("init", "-y", "-o", str(out)).returncode == 2


def test_init_interactive_answers(tmp_path: Path) -> None:
    out = tmp_path / "s.toml"
    answers = "corner-shop\nhttps://corner.example/\n\nwordpress\niframe\nCorner Ltd\n\n"
    r = sg("init", "-o", str(out), input=answers)
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    assert 'name = "corner-shop"' in text and 'checkout_url = "https://corner.example/checkout"' in text
    assert 'payment_integration = "iframe"' in text


def test_config_errors_exit_2_naming_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[stores]]\nname = "x"\nstorefront_url = "https://x.example/"\ncheckout_url = 5\n')
    r = sg("config", "check", "--config", str(bad))
    assert r.returncode == 2
    assert str(bad) in r.stderr and "stores[0].checkout_url" in r.stderr
    r = sg("audit", "--config", str(bad))
    assert r.returncode == 2 and "stores[0].checkout_url" in r.stderr


def test_audit_usage_errors(tmp_path: Path) -> None:
    cfg = tmp_path / "shopguard.toml"
    cfg.write_text('[[stores]]\nname = "x"\nstorefront_url = "http://127.0.0.1:9/"\n')
    for args, needle in (
        (["--only", "nonsense.thing"], "matches no check"),
        (["--format", "pdf"], "--format 'pdf'"),
        (["--fail-on", "urgent"], "--fail-on 'urgent'"),
        (["--store", "nope"], "no store named 'nope'"),
    ):
        r = sg("audit", "--config", str(cfg), *args)
        assert r.returncode == 2, (args, r.stderr)
        assert needle in r.stderr
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    r = sg("audit", "--config", str(empty))
    assert r.returncode == 2 and "no [[stores]]" in r.stderr
    r = sg("audit", cwd=tmp_path / "..")
    assert r.returncode == 2 and "no config found" in r.stderr


def test_report_of_missing_run_and_bad_database(tmp_path: Path) -> None:
    r = sg("report", "42", "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert r.returncode == 2 and "run 42 does not exist" in r.stderr
    r = sg("report", "--db", "postgresql://nobody@127.0.0.1:1/none")
    assert r.returncode == 3 and "cannot prepare ShopGuard's database" in r.stderr


def test_database_file_is_private(tmp_path: Path) -> None:
    cfg = tmp_path / "shopguard.toml"
    cfg.write_text('[[stores]]\nname = "x"\nstorefront_url = "http://127.0.0.1:9/"\n')
    dbfile = tmp_path / "private" / "sg.db"
    r = sg(
        "audit",
        "--config",
        str(cfg),
        "--only",
        "insurance",
        "--format",
        "json",
        "--db",
        f"sqlite:///{dbfile}",
    )
    assert r.returncode in (0, 1), r.stderr
    assert dbfile.stat().st_mode & 0o077 == 0
    doc = json.loads(r.stdout)
    assert doc["run"]["selector"] == "insurance"
