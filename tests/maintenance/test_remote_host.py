"""The host inventory over SSH (the hosting protocol's transport to a real sshd on loopback):
the same machine seen over SSH must give the same inventory and the same audit findings."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from sg_sshd import Sshd, stop
from typer.testing import CliRunner

from shopguard.audit import run_audit
from shopguard.cli.app import app
from shopguard.config import Config, Store
from shopguard.db import open_database
from shopguard.maintenance.inventory.host import LocalHost, scan_host
from shopguard.maintenance.model import Component
from shopguard.maintenance.service import collect

RUNTIMES_ON_THIS_MACHINE = {"python", "openssl", "nginx"}


def _config(tmp_path: Path, sshd: Sshd, web_root: Path | None = None) -> Path:
    roots = f'web_roots = ["{web_root}"]\n' if web_root else ""
    cfg = tmp_path / "shopguard.toml"
    cfg.write_text(
        f'[[stores]]\nname = "remote"\nstorefront_url = "https://shop.example/"\nhost = "{sshd.url}"\n'
        f'ssh_key = "{sshd.user_key}"\nknown_hosts = "{sshd.known_hosts}"\n{roots}'
    )
    return cfg


def _key(c: Component | dict[str, str]) -> tuple[str, str, str, str]:
    get = c.get if isinstance(c, dict) else lambda k: getattr(c, k)
    return (str(get("kind")), str(get("name")), str(get("version")), str(get("purl")))


def test_inventory_over_ssh_equals_the_local_one(tmp_path: Path, sshd: Sshd) -> None:
    local = scan_host(LocalHost())
    assert local.warnings == []
    res = CliRunner().invoke(
        app, ["inventory", "--host", "--store", "remote", "-c", str(_config(tmp_path, sshd)), "-f", "json"]
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["warnings"] == []
    remote = doc["components"]
    assert all(c["location"].startswith(f"{sshd.url}:") for c in remote)

    by_kind = lambda comps, kind: {_key(c) for c in comps if _key(c)[0] == kind}  # noqa: E731
    # OS release: debian 12.x on both sides
    assert by_kind(remote, "os") == by_kind(local.unique(), "os")
    assert next(iter(by_kind(remote, "os")))[1] == "debian"
    # every dpkg package, with its version and Package URL
    local_pkgs = by_kind(local.unique(), "os-package")
    remote_pkgs = by_kind(remote, "os-package")
    assert len(remote_pkgs) == len(local_pkgs) > 100
    assert remote_pkgs == local_pkgs
    names = {k[1] for k in remote_pkgs}
    assert {"nginx", "openssh-server", "openssh-client", "libc6"} <= names
    # server runtimes, read from the same binaries
    remote_rt = by_kind(remote, "runtime")
    assert remote_rt == by_kind(local.unique(), "runtime")
    assert {k[1] for k in remote_rt} >= RUNTIMES_ON_THIS_MACHINE


def test_remote_web_roots_are_read_over_ssh(
    tmp_path: Path, sshd: Sshd, demo_shop: Path, synced_home: Path
) -> None:
    """The web root seen over SSH (find + head on the allow-list) gives the local inventory."""
    from .test_wordfence import wordpress_tree

    wordpress_tree(demo_shop)
    (demo_shop / "node_modules" / "x").mkdir(parents=True)
    (demo_shop / "node_modules" / "x" / "jquery-1.12.4.min.js").write_text("not walked")
    (demo_shop / "composer.lock").write_text("{ cut off")
    local = collect([demo_shop])
    res = CliRunner().invoke(
        app, ["inventory", "--store", "remote", "-c", str(_config(tmp_path, sshd, demo_shop)), "-f", "json"]
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    prefix = f"{sshd.url}:"
    assert all(c["location"].startswith(prefix + str(demo_shop)) for c in doc["components"])
    remote = {(*_key(c), c["location"].removeprefix(prefix)) for c in doc["components"]}
    assert remote == {(*_key(c), c.location) for c in local.unique()}
    names = {k[1] for k in remote}
    assert {"jquery", "Django", "Jinja2", "contact-form-7", "acme-gallery", "wordpress"} <= names
    # the damaged lockfile is a warning naming the remote file, as it is locally
    assert [(w["location"], w["message"]) for w in doc["warnings"]] == [
        (prefix + w.location, w.message) for w in local.warnings
    ]
    assert any(w["location"] == f"{prefix}{demo_shop}/composer.lock" for w in doc["warnings"])


def test_inventory_of_an_unreachable_host_fails_clearly(tmp_path: Path, own_sshd: Sshd) -> None:
    own_sshd.trust()
    cfg = _config(tmp_path, own_sshd)
    stop(own_sshd.proc)
    res = CliRunner().invoke(app, ["inventory", "--host", "--store", "remote", "-c", str(cfg)])
    assert res.exit_code == 3, res.output
    assert "could not read the host" in res.stderr and "127.0.0.1" in res.stderr


def _host_findings(run_findings: Iterable[Any], prefix: str) -> set[tuple[str, str, str, str]]:
    """(check, component, title, severity) of the findings about one host's components."""
    out = set()
    for sf in run_findings:
        f = sf.finding
        if f.location.startswith(prefix):
            out.add((f.check_id, str(f.evidence.get("component")), f.title, f.severity.name))
    return out


def test_audit_over_ssh_matches_local_and_an_unreachable_host_resolves_nothing(
    own_sshd: Sshd, synced_home: Path, sqlite_url: str
) -> None:
    own_sshd.trust()
    sessions = open_database(sqlite_url)
    local = Store(name="local", storefront_url="https://shop.example/")  # type: ignore[arg-type]
    remote = own_sshd.store(name="remote")
    cfg = Config(stores=(local, remote))

    run = run_audit(cfg, [local, remote], sessions, selectors=["maintenance"])
    outcomes = {(store, check): outcome for store, check, outcome, _ in run.executions}
    assert outcomes == {
        (s, c): "ok"
        for s in ("local", "remote")
        for c in ("maintenance.eol", "maintenance.inventory", "maintenance.vulnerabilities")
    }
    local_found = _host_findings(run.findings, "local:")
    remote_found = _host_findings(run.findings, f"{own_sshd.url}:")
    assert remote_found == local_found
    # the EOL snapshot knows these runtimes' cycles, so each has a finding (EOL or a newer patch)
    assert {"nginx", "python", "openssl"} <= {
        c for check, c, _, _ in remote_found if check == "maintenance.eol"
    }
    open_remote = {
        sf.finding.fingerprint for sf in run.findings if sf.finding.location.startswith(own_sshd.url)
    }

    # the host goes away: the checks fail instead of reporting an empty, "fixed" host
    stop(own_sshd.proc)
    run2 = run_audit(Config(stores=(remote,)), [remote], sessions, selectors=["maintenance"])
    assert {outcome for _, _, outcome, _ in run2.executions} == {"error"}
    assert all("could not read the host" in message for *_, message in run2.executions)
    assert not any(sf.status.value == "resolved" for sf in run2.findings)
    assert open_remote


def test_every_inventory_command_is_on_the_read_only_allow_list() -> None:
    from shopguard.hosting.transport.interface import CommandNotAllowed, check_allowed
    from shopguard.maintenance.inventory.host import _PROBE, RUNTIMES

    asked = [list(argv) for rt in RUNTIMES for argv in rt.commands]
    asked += [
        ["/usr/lib/postgresql/15/bin/postgres", "--version"],
        ["find", "/usr/lib/postgresql", "-maxdepth", "3", "-name", "postgres", "-path", "*/bin/*"],
        ["rpm", "-qa", "--qf", "%{NAME}\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\t%{ARCH}\n"],
        ["head", "-c", "67108864", "--", "/var/lib/dpkg/status"],
        list(_PROBE),
    ]
    for argv in asked:
        check_allowed(argv)
    writing = [
        ["rpm", "-e", "nginx"],
        ["rpm", "-qa", "--qf", "x", "-i"],
        ["php", "-r", "unlink('/etc/passwd');"],
        ["openssl", "req", "-new", "-out", "/tmp/x"],
        ["python3", "-c", "print(1)"],
        ["mariadbd", "--bootstrap"],
        ["find", "/", "-delete"],
    ]
    for argv in writing:
        with pytest.raises(CommandNotAllowed):
            check_allowed(argv)
