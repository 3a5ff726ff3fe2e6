"""Debian/Ubuntu OS packages (dpkg status, source packages) matched against Debian-ecosystem OSV records.

The OSV export is built here in the real OSV schema shape and imported through `shopguard vulndb
sync --from`; the host is a root filesystem read by DirectoryHost. Every version ordering the
expectations rely on is checked by the real `dpkg --compare-versions` first.
"""

from __future__ import annotations

import json
import subprocess
import zipfile
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from shopguard.cli.app import app
from shopguard.maintenance.inventory.host import DirectoryHost, scan_host
from shopguard.maintenance.matching import smallest_fix
from shopguard.maintenance.sources.local import LocalSource
from shopguard.maintenance.sources.osv_api import OsvApiSource
from shopguard.maintenance.versions import compare

from .conftest import send


def osv(vid: str, eco: str, source: str, events: list[dict[str, str]]) -> dict[str, object]:
    return {
        "schema_version": "1.6.0",
        "id": vid,
        "modified": "2024-05-01T00:00:00Z",
        "published": "2024-04-01T00:00:00Z",
        "aliases": [f"CVE-2024-{abs(hash(vid)) % 90000 + 10000}"],
        "summary": f"{source} vulnerability",
        "affected": [
            {
                "package": {"ecosystem": eco, "name": source, "purl": f"pkg:deb/debian/{source}"},
                "ranges": [{"type": "ECOSYSTEM", "events": events}],
            }
        ],
    }


RECORDS = [
    osv("DSA-9001-1", "Debian:12", "apache2", [{"introduced": "0"}, {"fixed": "1:2.4.57-2"}]),
    osv("DSA-9002-1", "Debian:12", "nginx", [{"introduced": "0"}, {"fixed": "1.22.1-9+deb12u1"}]),
    osv("DSA-9003-1", "Debian:12", "foo", [{"introduced": "0"}, {"fixed": "1.0-1"}]),
    osv("DSA-9004-1", "Debian:12", "bar", [{"introduced": "0"}, {"last_affected": "2.0-3"}]),
    osv("DSA-9005-1", "Debian:12", "util-linux", [{"introduced": "0"}, {"fixed": "2.38.1-5+deb12u2"}]),
    osv("DSA-9006-1", "Debian:12", "baz", [{"introduced": "0"}, {"fixed": "2.0-1"}]),
    osv("DSA-9007-1", "Debian:12", "openssl", [{"introduced": "0"}, {"fixed": "3.0.15-1~deb12u1"}]),
    osv("USN-9100-1", "Ubuntu:22.04:LTS", "openssl", [{"introduced": "0"}, {"fixed": "3.0.2-0ubuntu1.12"}]),
]


def stanza(pkg: str, version: str, source: str = "") -> str:
    src = f"Source: {source}\n" if source else ""
    return (
        f"Package: {pkg}\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\n"
        f"{src}Version: {version}\nDescription: {pkg}\n"
    )


DEBIAN_STATUS = "\n".join(
    [
        stanza("apache2-bin", "2.4.99-1", "apache2"),  # no epoch < fixed 1:2.4.57-2: affected
        stanza("nginx-common", "1.22.1-9", "nginx"),  # plain revision < +deb12u1: affected
        stanza("libnginx-mod-stream", "1.22.1-9+deb12u1", "nginx"),  # the fixed version: not affected
        stanza("libfoo1", "1.0~rc1-1+b1", "foo (1.0~rc1-1)"),  # ~rc1 sorts before 1.0-1: affected
        stanza("foo-utils", "1.0-1", "foo"),  # fixed: not affected
        stanza("bar", "2.0-3"),  # == last_affected: affected
        stanza("bar-data", "2.0-3+deb12u1", "bar"),  # after last_affected: not affected
        # real Debian 12 shape: the binary carries an epoch its source package does not have;
        # advisories are about the source version 2.38.1-5+deb12u1 < 2.38.1-5+deb12u2: affected
        stanza("bsdutils", "1:2.38.1-5+deb12u1", "util-linux (2.38.1-5+deb12u1)"),
        stanza("baz", "1:0.9-1"),  # epoch 1 beats the fixed 2.0-1: not affected
        stanza("openssl", "3.0.15-1~deb12u1"),  # the fixed version: not affected
    ]
)

UBUNTU_STATUS = stanza("libssl3", "3.0.2-0ubuntu1.10", "openssl")


def dpkg_says(a: str, op: str, b: str) -> bool:
    return subprocess.run(["dpkg", "--compare-versions", a, op, b], check=False).returncode == 0


ORDERINGS = [
    ("2.4.99-1", "lt", "1:2.4.57-2"),
    ("1.22.1-9", "lt", "1.22.1-9+deb12u1"),
    ("1.0~rc1-1", "lt", "1.0-1"),
    ("1.0~rc1-1+b1", "lt", "1.0-1"),
    ("2.0-3+deb12u1", "gt", "2.0-3"),
    ("2.38.1-5+deb12u1", "lt", "2.38.1-5+deb12u2"),
    ("1:2.38.1-5+deb12u1", "gt", "2.38.1-5+deb12u2"),
    ("1:0.9-1", "gt", "2.0-1"),
    ("3.0.15-1~deb12u1", "lt", "3.0.15-1"),
    ("3.0.2-0ubuntu1.10", "lt", "3.0.2-0ubuntu1.12"),
]


def test_debian_version_order_agrees_with_dpkg() -> None:
    for a, op, b in ORDERINGS:
        assert dpkg_says(a, op, b), (a, op, b)
        want = -1 if op == "lt" else 1
        assert compare("Debian", a, b) == want, (a, op, b)
        assert compare("Debian", b, a) == -want, (b, a)


def root(tmp_path: Path, name: str, os_release: str, status: str) -> DirectoryHost:
    base = tmp_path / name
    (base / "etc").mkdir(parents=True)
    (base / "etc" / "os-release").write_text(os_release)
    (base / "var" / "lib" / "dpkg").mkdir(parents=True)
    (base / "var" / "lib" / "dpkg" / "status").write_text(status)
    return DirectoryHost(base, name=name)


def test_dpkg_packages_match_source_package_advisories(tmp_path: Path) -> None:
    export = tmp_path / "all.zip"
    with zipfile.ZipFile(export, "w") as zf:
        for rec in RECORDS:
            zf.writestr(f"{rec['id']}.json", json.dumps(rec))
    result = CliRunner().invoke(app, ["vulndb", "sync", "--from", str(export), "--no-eol"])
    assert result.exit_code == 0, result.output
    assert "8 advisories" in result.output

    debian = scan_host(
        root(tmp_path, "deb", 'ID=debian\nVERSION_ID="12"\n', DEBIAN_STATUS + "\n"),
    )
    pkgs = [c for c in debian.components if c.kind == "os-package"]
    assert {c.ecosystem for c in pkgs} == {"Debian:12"}
    found = LocalSource().query(pkgs)
    got = {c.name: sorted(m.advisory.id for m in ms) for c, ms in found.items()}
    assert got == {
        "apache2-bin": ["DSA-9001-1"],
        "nginx-common": ["DSA-9002-1"],
        "libfoo1": ["DSA-9003-1"],
        "bar": ["DSA-9004-1"],
        "bsdutils": ["DSA-9005-1"],
    }
    # the expectations above, checked by dpkg itself: matched packages sort below the fix ...
    by_name = {c.name: c for c in pkgs}
    assert dpkg_says("2.4.99-1", "lt", "1:2.4.57-2")
    assert dpkg_says(by_name["nginx-common"].version, "lt", "1.22.1-9+deb12u1")
    assert dpkg_says("1.0~rc1-1", "lt", "1.0-1")
    assert dpkg_says("2.0-3", "le", "2.0-3")
    assert dpkg_says("2.38.1-5+deb12u1", "lt", "2.38.1-5+deb12u2")
    # ... and the unmatched ones do not
    assert dpkg_says(by_name["libnginx-mod-stream"].version, "ge", "1.22.1-9+deb12u1")
    assert dpkg_says(by_name["foo-utils"].version, "ge", "1.0-1")
    assert dpkg_says(by_name["bar-data"].version, "gt", "2.0-3")
    assert dpkg_says(by_name["baz"].version, "ge", "2.0-1")
    assert dpkg_says(by_name["openssl"].version, "ge", "3.0.15-1~deb12u1")
    # the upgrade named is the advisory's fixed source version
    bsd = by_name["bsdutils"]
    assert smallest_fix(bsd, found[bsd]) == "2.38.1-5+deb12u2"

    ubuntu = scan_host(
        root(tmp_path, "ubu", 'ID=ubuntu\nVERSION_ID="22.04"\n', UBUNTU_STATUS + "\n"),
    )
    upkgs = [c for c in ubuntu.components if c.kind == "os-package"]
    assert [c.ecosystem for c in upkgs] == ["Ubuntu:22.04:LTS"]
    ufound = LocalSource().query(upkgs)
    # only the Ubuntu notice: Debian's openssl advisory is for another distribution
    assert {c.name: [m.advisory.id for m in ms] for c, ms in ufound.items()} == {"libssl3": ["USN-9100-1"]}
    assert dpkg_says("3.0.2-0ubuntu1.10", "lt", "3.0.2-0ubuntu1.12")


def test_online_source_asks_osv_for_the_source_package(
    tmp_path: Path, http_server: Callable[..., str]
) -> None:
    """A loopback server answering like api.osv.dev, deciding "affected" with dpkg itself."""
    records = {str(r["id"]): r for r in RECORDS}
    asked: list[tuple[str, str, str]] = []

    def affected(rec: dict[str, Any], eco: str, name: str, version: str) -> bool:
        for a in rec["affected"]:
            if a["package"] != {**a["package"], "ecosystem": eco, "name": name}:
                continue
            ev = {k: v for e in a["ranges"][0]["events"] for k, v in e.items()}
            if "fixed" in ev:
                return dpkg_says(version, "lt", ev["fixed"])
            return dpkg_says(version, "le", ev["last_affected"])
        return False

    def querybatch(req: BaseHTTPRequestHandler) -> None:
        body = json.loads(req.rfile.read(int(req.headers["Content-Length"])))
        results = []
        for q in body["queries"]:
            eco, name, version = q["package"]["ecosystem"], q["package"]["name"], q["version"]
            asked.append((eco, name, version))
            ids = [i for i, r in records.items() if affected(r, eco, name, version)]
            results.append({"vulns": [{"id": i} for i in ids]} if ids else {})
        send(req, 200, json.dumps({"results": results}).encode())

    def vuln(req: BaseHTTPRequestHandler) -> None:
        send(req, 200, json.dumps(records[req.path.rsplit("/", 1)[-1]]).encode())

    base = http_server({"/v1/querybatch": querybatch, "/v1/vulns/": vuln})
    debian = scan_host(root(tmp_path, "deb", 'ID=debian\nVERSION_ID="12"\n', DEBIAN_STATUS + "\n"))
    pkgs = [c for c in debian.components if c.kind == "os-package"]
    found = OsvApiSource(base).query(pkgs)
    assert ("Debian:12", "util-linux", "2.38.1-5+deb12u1") in asked
    assert ("Debian:12", "foo", "1.0~rc1-1") in asked
    got = {c.name: sorted(m.advisory.id for m in ms) for c, ms in found.items()}
    # the same answer as the offline database gives (test above)
    assert got == {
        "apache2-bin": ["DSA-9001-1"],
        "nginx-common": ["DSA-9002-1"],
        "libfoo1": ["DSA-9003-1"],
        "bar": ["DSA-9004-1"],
        "bsdutils": ["DSA-9005-1"],
    }
    bsd = next(c for c in found if c.name == "bsdutils")
    assert found[bsd][0].fixed == ("2.38.1-5+deb12u2",)
