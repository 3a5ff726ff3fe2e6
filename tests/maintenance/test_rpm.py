"""RPM hosts for real: packages built with rpmbuild, installed into a private RPM database, read
back by the host inventory, and matched with RPM's version rules against OSV-format records.

The OSV records are written here in the OSV schema's shape for the ``Rocky Linux:9`` and
``AlmaLinux:9`` ecosystems (as OSV publishes Rocky Linux and AlmaLinux advisories); the package
names and advisory numbers are invented.
"""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopguard.cli.app import app
from shopguard.maintenance.assess import vulnerability_findings
from shopguard.maintenance.inventory.host import DirectoryHost, LocalHost, rpm_ecosystem, scan_host
from shopguard.maintenance.matching import smallest_fix
from shopguard.maintenance.model import Inventory
from shopguard.maintenance.sources.local import LocalSource
from shopguard.maintenance.versions import compare

# (name, epoch, version, release)
PACKAGES = [
    ("sg-httpd", 0, "2.4.57", "5.el9"),
    ("sg-openssl", 1, "3.0.7", "24.el9"),
    ("sg-tool", 0, "1.0~rc1", "1.el9"),
    ("sg-bash", 0, "5.1.8", "9.el9"),
    ("sg-release", 0, "2.0", "10.el9"),
]


def osv(vid: str, eco: str, name: str, fixed: str) -> dict[str, object]:
    return {
        "schema_version": "1.6.0",
        "id": vid,
        "modified": "2024-05-01T00:00:00Z",
        "published": "2024-04-01T00:00:00Z",
        "aliases": [f"CVE-2099-{vid[-4:]}"],
        "summary": f"{name}: security update",
        "affected": [
            {
                "package": {"ecosystem": eco, "name": name},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
            }
        ],
    }


RECORDS = [
    osv("RLSA-2099:0001", "Rocky Linux:9", "sg-httpd", "2.4.57-8.el9"),
    osv("RLSA-2099:0002", "Rocky Linux:9", "sg-openssl", "1:3.0.7-25.el9"),
    osv("RLSA-2099:0003", "Rocky Linux:9", "sg-openssl", "3.0.9-1.el9"),  # epoch 0: below epoch 1
    osv("RLSA-2099:0004", "Rocky Linux:9", "sg-tool", "1.0-1.el9"),  # ~rc1 sorts before the release
    osv("RLSA-2099:0005", "Rocky Linux:9", "sg-bash", "5.1.8-9.el9"),  # installed = fixed
    osv("RLSA-2099:0006", "Rocky Linux:9", "sg-release", "2.0-9.el9"),  # release 10 > 9 (not "10" < "9")
    osv("ALSA-2099:0007", "AlmaLinux:9", "sg-httpd", "2.4.57-9.el9"),  # another distribution
]


def rpm_vercmp(a: str, b: str) -> int:
    """rpm's own comparison (rpm.vercmp in rpm's Lua), to check ours against."""
    out = subprocess.run(
        ["rpm", "--eval", f'%{{lua: print(rpm.vercmp("{a}", "{b}"))}}'],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.strip())


def build_rpm(top: Path, name: str, epoch: int, version: str, release: str) -> Path:
    spec = top / f"{name}.spec"
    spec.write_text(
        f"Name: {name}\nVersion: {version}\nRelease: {release}\n"
        + (f"Epoch: {epoch}\n" if epoch else "")
        + "Summary: ShopGuard test package\nLicense: MIT\nBuildArch: noarch\n"
        "%description\nA package with no files, for the RPM inventory tests.\n%files\n"
    )
    subprocess.run(
        ["rpmbuild", "-bb", "--define", f"_topdir {top}", str(spec)],
        check=True,
        capture_output=True,
    )
    return next((top / "RPMS" / "noarch").glob(f"{name}-{version}-{release}.noarch.rpm"))


@pytest.fixture(scope="module")
def rocky_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Rocky Linux 9 root filesystem: os-release and an RPM database with the packages installed."""
    top = tmp_path_factory.mktemp("rpmbuild")
    rpms = [build_rpm(top, *p) for p in PACKAGES]
    root = tmp_path_factory.mktemp("rocky")
    (root / "etc").mkdir()
    (root / "etc" / "os-release").write_text('NAME="Rocky Linux"\nID="rocky"\nVERSION_ID="9.3"\n')
    db = root / "var" / "lib" / "rpm"
    db.mkdir(parents=True)
    subprocess.run(
        ["rpm", "--dbpath", str(db), "-i", "--justdb", "--nodeps", *map(str, rpms)],
        check=True,
        capture_output=True,
    )
    return root


def test_rpm_version_order_agrees_with_rpm() -> None:
    pairs = [
        ("1.0~rc1-1.el9", "1.0-1.el9"),
        ("1:3.0.7-24.el9", "3.0.9-1.el9"),
        ("2.0-10.el9", "2.0-9.el9"),
        ("2.4.57-5.el9", "2.4.57-8.el9"),
        ("3.0.7-24.el9", "1:3.0.7-25.el9"),
        ("5.1.8-9.el9", "5.1.8-9.el9"),
        ("1.0^git1-1", "1.0-1"),
    ]
    for a, b in pairs:
        want = rpm_vercmp(a, b)
        assert compare("Rocky Linux", a, b) == want, (a, b, want)
        assert compare("AlmaLinux", b, a) == -want, (b, a)


def test_image_rpm_database_is_listed(rocky_root: Path) -> None:
    host = DirectoryHost(rocky_root, name="rocky-image")
    assert host.rpm_dbpath == str(rocky_root / "var" / "lib" / "rpm")
    inv = scan_host(host)
    assert inv.warnings == []
    os_comp = next(c for c in inv.components if c.kind == "os")
    assert (os_comp.name, os_comp.version, os_comp.eol_product) == ("rocky", "9.3", "rocky-linux")
    pkgs = {c.name: c for c in inv.components if c.kind == "os-package"}
    assert {n: c.version for n, c in pkgs.items()} == {
        "sg-httpd": "2.4.57-5.el9",
        "sg-openssl": "1:3.0.7-24.el9",
        "sg-tool": "1.0~rc1-1.el9",
        "sg-bash": "5.1.8-9.el9",
        "sg-release": "2.0-10.el9",
    }
    assert {c.ecosystem for c in pkgs.values()} == {"Rocky Linux:9"}
    assert (
        pkgs["sg-openssl"].purl
        == "pkg:rpm/rocky/sg-openssl@3.0.7-24.el9?arch=noarch&distro=rocky-9.3&epoch=1"
    )
    assert pkgs["sg-httpd"].location == f"rocky-image:rpm -qa --dbpath {rocky_root}/var/lib/rpm"


def test_rpm_packages_match_osv_records(rocky_root: Path) -> None:
    export = rocky_root.parent / "rocky-osv.zip"
    with zipfile.ZipFile(export, "w") as zf:
        for rec in RECORDS:
            zf.writestr(f"{rec['id']}.json", json.dumps(rec))
    result = CliRunner().invoke(app, ["vulndb", "sync", "--from", str(export), "--no-eol"])
    assert result.exit_code == 0, result.output
    assert "7 advisories" in result.output

    pkgs = [c for c in scan_host(DirectoryHost(rocky_root)).components if c.kind == "os-package"]
    found = LocalSource().query(pkgs)
    got = {c.name: sorted(m.advisory.id for m in ms) for c, ms in found.items()}
    assert got == {
        "sg-httpd": ["RLSA-2099:0001"],
        "sg-openssl": ["RLSA-2099:0002"],
        "sg-tool": ["RLSA-2099:0004"],
    }
    # rpm itself agrees: matched packages sort below the fix, the others do not
    installed = {c.name: c.version for c in pkgs}
    assert rpm_vercmp(installed["sg-openssl"], "1:3.0.7-25.el9") == -1
    assert rpm_vercmp(installed["sg-openssl"], "3.0.9-1.el9") == 1
    assert rpm_vercmp(installed["sg-tool"], "1.0-1.el9") == -1
    assert rpm_vercmp(installed["sg-bash"], "5.1.8-9.el9") == 0
    assert rpm_vercmp(installed["sg-release"], "2.0-9.el9") == 1
    openssl = next(c for c in found if c.name == "sg-openssl")
    assert smallest_fix(openssl, found[openssl]) == "1:3.0.7-25.el9"
    finding = next(
        f
        for f in vulnerability_findings(found, __import__("datetime").date(2026, 11, 25), "local")
        if f.evidence["component"] == "sg-openssl"
    )
    assert finding.evidence["command"] == "dnf upgrade sg-openssl"
    assert finding.evidence["owner"] == "os"


def test_local_host_reads_a_configured_rpm_database(rocky_root: Path, tmp_path: Path) -> None:
    """This (Debian) machine: dpkg's packages, plus the RPM database the reader is pointed at."""
    db = str(rocky_root / "var" / "lib" / "rpm")
    inv = scan_host(LocalHost(rpm_dbpath=db))
    locs = {c.location for c in inv.components if c.kind == "os-package"}
    assert "local:/var/lib/dpkg/status" in locs and f"local:rpm -qa --dbpath {db}" in locs
    rpm_pkgs = [c for c in inv.components if c.location.endswith(db)]
    assert sorted(c.name for c in rpm_pkgs) == sorted(p[0] for p in PACKAGES)
    assert {c.ecosystem for c in rpm_pkgs} == {rpm_ecosystem("debian", "12")} == {"Red Hat"}
    # a database that cannot be read is a warning naming it, not a silent empty list
    bad = tmp_path / "not-an-rpmdb"
    bad.mkdir()
    (bad / "rpmdb.sqlite").write_text("this is not SQLite")
    broken = Inventory()
    from shopguard.maintenance.inventory.host import os_packages

    os_packages(LocalHost(rpm_dbpath=str(bad)), {"ID": "rocky", "VERSION_ID": "9.3"}, broken)
    assert [w.location for w in broken.warnings] == [f"local:{bad}"]
    assert "could not read the RPM database" in broken.warnings[0].message


def test_config_names_the_rpm_database(rocky_root: Path, tmp_path: Path) -> None:
    db = rocky_root / "var" / "lib" / "rpm"
    cfg = tmp_path / "shopguard.toml"
    cfg.write_text(
        '[[stores]]\nname = "shop"\nstorefront_url = "https://shop.example/"\nhost = "local"\n'
        f'[stores.maintenance]\nrpm_dbpath = "{db}"\n'
    )
    res = CliRunner().invoke(app, ["inventory", "--host", "--store", "shop", "-c", str(cfg), "-f", "json"])
    assert res.exit_code == 0, res.output
    comps = json.loads(res.stdout)["components"]
    rpm_pkgs = {c["name"]: c["version"] for c in comps if c["location"] == f"local:rpm -qa --dbpath {db}"}
    assert rpm_pkgs["sg-openssl"] == "1:3.0.7-24.el9" and len(rpm_pkgs) == len(PACKAGES)
    assert any(c["location"] == "local:/var/lib/dpkg/status" for c in comps)
