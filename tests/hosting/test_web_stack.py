"""nginx, PHP-FPM, PHP and code ownership against a real stack started on loopback,
in a good and a bad variant: every finding appears for the bad one, not for the good
one, and what the finding claims is what the running server really does."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shopguard.checks import CheckRun

from .conftest import Sshd, run_hosting, store_for
from .stack import FPM_BIN, Stack, remove, start_stack

NGINX_BAD = {
    "hosting.nginx.server-tokens",
    "hosting.nginx.autoindex",
    "hosting.nginx.tls-protocols",
    "hosting.nginx.tls-ciphers",
    "hosting.nginx.headers",
    "hosting.nginx.body-limit",
    "hosting.nginx.dotfiles",
    "hosting.nginx.backup-files",
    "hosting.nginx.php-in-uploads",
    "hosting.nginx.default-vhost",
}
PHP_WEB = {
    "expose-php",
    "display-errors",
    "allow-url-include",
    "allow-url-fopen",
    "disable-functions",
    "open-basedir",
    "cookie-httponly",
    "cookie-secure",
    "strict-mode",
    "upload-limit",
}
PHP_CLI = {"allow-url-include", "allow-url-fopen"}


@pytest.fixture(scope="module")
def stacks() -> Iterator[dict[str, Stack]]:
    base = Path(tempfile.mkdtemp(prefix="sg-stack-"))
    base.chmod(0o755)
    built: dict[str, Stack] = {}
    try:
        for name in ("good", "bad"):
            built[name] = start_stack(base, good=name == "good")
        yield built
    finally:
        for s in built.values():
            remove(s)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def results(stacks: dict[str, Stack]) -> dict[str, dict[str, CheckRun]]:
    return {
        name: run_hosting(
            store_for(web_roots=[s.web], **s.settings), ["hosting.nginx", "hosting.php", "hosting.code"]
        )
        for name, s in stacks.items()
    }


def found(run: CheckRun) -> set[str]:
    assert run.outcome.value == "ok", run.message
    return {f.check_id for f in run.findings}


def test_nginx_bad_has_every_finding_good_has_none(results: dict[str, dict[str, CheckRun]]) -> None:
    assert found(results["bad"]["hosting.nginx"]) == NGINX_BAD
    assert found(results["good"]["hosting.nginx"]) == set()


def test_nginx_findings_match_what_the_server_does(stacks: dict[str, Stack]) -> None:
    bad, good = stacks["bad"], stacks["good"]
    shop = {"Host": "shop.example"}
    with httpx.Client(timeout=5) as c:
        b = f"http://127.0.0.1:{bad.port}"
        g = f"http://127.0.0.1:{good.port}"
        assert c.get(b + "/.git/config", headers=shop).status_code == 200
        assert c.get(g + "/.git/config", headers=shop).status_code == 403
        assert c.get(b + "/backup.sql", headers=shop).status_code == 200
        assert c.get(g + "/backup.sql", headers=shop).status_code == 403
        assert "PHP-RAN" in c.get(b + "/uploads/x.php", headers=shop).text
        assert c.get(g + "/uploads/x.php", headers=shop).status_code == 403
        assert "Index of /files/" in c.get(b + "/files/", headers=shop).text
        assert c.get(b + "/", headers=shop).headers["server"].startswith("nginx/")
        assert c.get(g + "/", headers=shop).headers["server"] == "nginx"
        assert c.get(g + "/", headers=shop).headers["x-content-type-options"] == "nosniff"
        assert c.get(b + "/", headers={"Host": "unknown.example"}).text == "SHOP"
        with pytest.raises(httpx.RemoteProtocolError):
            c.get(g + "/", headers={"Host": "unknown.example"})  # return 444 closes the connection


def test_nginx_finding_content(results: dict[str, dict[str, CheckRun]], stacks: dict[str, Stack]) -> None:
    by_id = {f.check_id: f for f in results["bad"]["hosting.nginx"].findings}
    tls = by_id["hosting.nginx.tls-protocols"]
    assert tls.severity.value == "high" and set(tls.evidence["ssl_protocols"]) >= {"TLSv1", "TLSv1.1"}
    assert "4.2.1" in tls.refs.pci and "ssl_protocols TLSv1.2 TLSv1.3" in tls.remediation
    php = by_id["hosting.nginx.php-in-uploads"]
    assert php.severity.value == "high"
    assert {p["path"] for p in php.evidence["probes"]} >= {"/uploads/x.php", "/wp-content/uploads/x.php"}
    assert by_id["hosting.nginx.autoindex"].location.startswith(str(stacks["bad"].dir / "nginx.conf") + ":")
    assert set(by_id["hosting.nginx.tls-ciphers"].evidence["weak"]) == {"3DES", "RC4"}
    assert by_id["hosting.nginx.default-vhost"].severity.value == "medium"  # the shop answers unknown hosts


def test_php_cli_and_fpm(results: dict[str, dict[str, CheckRun]]) -> None:
    cli_bad = {i.removeprefix("hosting.php.cli.") for i in found(results["bad"]["hosting.php.cli"])}
    assert cli_bad == PHP_CLI
    assert found(results["good"]["hosting.php.cli"]) == set()
    fpm_bad = {i.removeprefix("hosting.php.fpm.") for i in found(results["bad"]["hosting.php.fpm"])}
    assert fpm_bad == PHP_WEB | {"owns-code", "limit-extensions"}
    assert found(results["good"]["hosting.php.fpm"]) == set()
    disp = next(
        f for f in results["bad"]["hosting.php.fpm"].findings if f.check_id.endswith("display-errors")
    )
    assert disp.evidence["sapi"] == "pool shop" and disp.location.endswith("fpm.conf")  # pool override wins


def test_code_ownership(results: dict[str, dict[str, CheckRun]], stacks: dict[str, Stack]) -> None:
    bad = {f.check_id: f for f in results["bad"]["hosting.code"].findings}
    assert set(bad) == {
        "hosting.code.web-writable",
        "hosting.code.world-writable",
        "hosting.code.credentials-readable",
    }
    w = bad["hosting.code.web-writable"]
    assert w.evidence["user"] == "www-data" and str(stacks["bad"].web / "index.php") in w.evidence["examples"]
    assert (
        str(stacks["bad"].web / "uploads" / "x.php") not in w.evidence["examples"]
    )  # uploads may be writable
    assert bad["hosting.code.credentials-readable"].location == str(stacks["bad"].web / "wp-config.php")
    assert found(results["good"]["hosting.code"]) == set()


def test_nginx_syntax_error_is_a_clear_check_error(scratch: Path) -> None:
    conf = scratch / "broken.conf"
    conf.write_text("events {}\nhttp { server { listen 127.0.0.1:1; location / { root /x } } }\n")
    r = run_hosting(store_for(nginx_conf=str(conf)), ["hosting.nginx"])["hosting.nginx"]
    assert r.outcome.value == "error" and r.findings == []
    assert "could not check the nginx configuration because `nginx -T` reports an error" in r.message
    assert "broken.conf" in r.message


def test_missing_programs_are_reported_not_passed() -> None:
    runs = run_hosting(
        store_for(
            nginx_bin="/nonexistent/nginx",
            php_bin="/nonexistent/php",
            php_fpm_bin="/nonexistent/php-fpm",
            sshd_bin="/nonexistent/sshd",
        ),
        ["hosting.nginx", "hosting.php", "hosting.ssh"],
    )
    for check_id in ("hosting.nginx", "hosting.php.cli", "hosting.php.fpm", "hosting.ssh"):
        r = runs[check_id]
        assert r.outcome.value == "ok", r.message
        assert [(f.check_id, f.severity.value) for f in r.findings] == [(check_id + ".not-checked", "info")]
        assert "is not installed" in r.findings[0].title


def test_fpm_pool_as_root_and_public_listen(scratch: Path) -> None:
    conf = scratch / "fpm.conf"
    conf.write_text(
        f"[global]\npid = {scratch}/p.pid\nerror_log = {scratch}/e.log\n"
        "[rootpool]\nuser = root\ngroup = root\nlisten = 9000\npm = static\npm.max_children = 1\n"
    )
    r = run_hosting(store_for(php_fpm_bin=FPM_BIN, php_fpm_conf=str(conf)), ["hosting.php.fpm"])[
        "hosting.php.fpm"
    ]
    ids = {f.check_id for f in r.findings}
    assert {"hosting.php.fpm.root-pool", "hosting.php.fpm.listen-public"} <= ids, r.message
    broken = scratch / "broken.conf"
    broken.write_text("[global]\npid = /x\n[p]\nuser = www-data\nlisten = 127.0.0.1:1\npm = nonsense\n")
    r = run_hosting(store_for(php_fpm_bin=FPM_BIN, php_fpm_conf=str(broken)), ["hosting.php.fpm"])[
        "hosting.php.fpm"
    ]
    assert r.outcome.value == "error" and "could not check PHP-FPM because" in r.message and "pm" in r.message


def _summary(runs: dict[str, CheckRun]) -> dict[str, tuple[str, list[tuple[str, ...]]]]:
    return {
        cid: (
            r.outcome.value,
            sorted(
                (f.check_id, f.severity.value, f.location, f.key, f.title, repr(sorted(f.evidence.items())))
                for f in r.findings
            ),
        )
        for cid, r in runs.items()
    }


def test_same_results_over_ssh_and_locally(stacks: dict[str, Stack], sshd: Sshd) -> None:
    """Every hosting check, once through the local transport and once over SSH to
    the loopback sshd (the same machine): the results must be identical."""
    bad = stacks["bad"]
    kw = {
        "web_roots": [bad.web],
        "databases": [{"name": "main", "dsn": "mysql://root@127.0.0.1:3306/test"}],
        **bad.settings,
    }
    local = _summary(run_hosting(store_for(**kw)))
    remote = _summary(run_hosting(sshd.store(**kw)))
    assert len(local) >= 20
    assert remote == local
    assert sum(len(v[1]) for v in local.values()) > 30  # the bad stack really produced findings
