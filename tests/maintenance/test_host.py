"""The host inventory on this machine (real binaries) and on a root filesystem seen from outside."""

from __future__ import annotations

import subprocess
from pathlib import Path

from shopguard.maintenance.inventory.host import (
    DirectoryHost,
    LocalHost,
    parse_os_release,
    parse_rpm_qa,
    scan_host,
)


def test_local_host_os_packages_and_runtimes() -> None:
    inv = scan_host(LocalHost())
    by_kind: dict[str, list] = {}
    for c in inv.components:
        by_kind.setdefault(c.kind, []).append(c)
    (os_comp,) = by_kind["os"]
    info = parse_os_release(Path("/etc/os-release").read_text())
    assert os_comp.name == info["ID"] and os_comp.version.startswith(info["VERSION_ID"])
    assert os_comp.eol_product == "debian"
    pkgs = {c.name: c for c in by_kind["os-package"]}
    dpkg = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Version}", "nginx"], capture_output=True, text=True, check=True
    )
    assert pkgs["nginx"].version == dpkg.stdout
    assert pkgs["nginx"].purl.startswith(f"pkg:deb/debian/nginx@{dpkg.stdout.replace('+', '%2B')}")
    runtimes = {c.name: c for c in by_kind["runtime"]}
    # nginx -v and php -v agree with the Debian package versions (1.22.1-9+deb12u1 -> 1.22.1)
    assert dpkg.stdout.startswith(runtimes["nginx"].version)
    php_pkg = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Version}", "php-cli"], capture_output=True, text=True, check=True
    )
    assert runtimes["php"].eol_product == "php"
    assert runtimes["php"].version.rsplit(".", 1)[0] in php_pkg.stdout  # php-cli 2:8.2+93 -> 8.2.x
    assert runtimes["python"].version.startswith("3.")
    assert inv.warnings == []


UBUNTU_OS_RELEASE = """PRETTY_NAME="Ubuntu 20.04.6 LTS"
NAME="Ubuntu"
VERSION_ID="20.04"
VERSION="20.04.6 LTS (Focal Fossa)"
ID=ubuntu
ID_LIKE=debian
"""

DPKG_STATUS = """Package: openssl
Status: install ok installed
Priority: optional
Architecture: amd64
Version: 1.1.1f-1ubuntu2.20
Description: Secure Sockets Layer toolkit

Package: libssl1.1
Status: install ok installed
Architecture: amd64
Source: openssl
Version: 1.1.1f-1ubuntu2.20

Package: removed-one
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0
"""


def test_directory_host_reads_an_ubuntu_root(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "os-release").write_text(UBUNTU_OS_RELEASE)
    (tmp_path / "var" / "lib" / "dpkg").mkdir(parents=True)
    (tmp_path / "var" / "lib" / "dpkg" / "status").write_text(DPKG_STATUS)
    inv = scan_host(DirectoryHost(tmp_path, name="backup"))
    comps = {c.name: c for c in inv.components}
    assert comps["ubuntu"].version == "20.04" and comps["ubuntu"].eol_product == "ubuntu"
    assert set(comps) == {"ubuntu", "openssl", "libssl1.1"}
    # advisories are filed by source package and release, as OSV names them
    assert comps["libssl1.1"].keys[-1] == ("Ubuntu:20.04:LTS", "openssl")
    assert comps["openssl"].location == "backup:/var/lib/dpkg/status"
    assert DirectoryHost(tmp_path).read_file("/../../etc/passwd") is None  # stays inside the root


def test_rpm_query_output() -> None:
    text = "openssl-libs\t1:3.0.7-25.el9_3\tx86_64\nbash\t0:5.1.8-6.el9\tx86_64\nbroken line\n"
    comps = parse_rpm_qa(text, "rocky", "web1:rpm -qa")
    assert [(c.name, c.version) for c in comps] == [
        ("openssl-libs", "1:3.0.7-25.el9_3"),
        ("bash", "5.1.8-6.el9"),
    ]
    assert comps[0].purl == "pkg:rpm/rocky/openssl-libs@3.0.7-25.el9_3?arch=x86_64&epoch=1"


def test_missing_os_release_warns(tmp_path: Path) -> None:
    inv = scan_host(DirectoryHost(tmp_path, name="empty"))
    assert [w.message for w in inv.warnings] == [
        "no os-release file; operating system unknown",
        "no dpkg status file and no rpm database; OS packages not listed",
    ]


class LoopbackAsyncTransport:
    """An async transport over this machine (asyncio subprocesses, file reads), shaped like the
    hosting protocol's HostTransport, with a read-only allow-list like it has."""

    name = "async-local"
    allowed = frozenset({"nginx", "python3", "find"})

    class Missing(Exception):
        pass

    async def run(self, argv: list[str], *, timeout: float = 15.0) -> object:
        import asyncio
        import shutil
        from dataclasses import dataclass

        if argv[0] not in self.allowed:
            raise self.Missing(f"{argv[0]!r} is not on the allow-list")
        exe = shutil.which(argv[0], path="/usr/sbin:/usr/bin:/sbin:/bin")
        if exe is None:
            raise self.Missing(f"{argv[0]} is not installed")
        proc = await asyncio.create_subprocess_exec(exe, *argv[1:], stdout=-1, stderr=-1)
        out, err = await asyncio.wait_for(proc.communicate(), timeout)

        @dataclass
        class Result:
            returncode: int
            stdout: str
            stderr: str

        return Result(proc.returncode or 0, out.decode(), err.decode())

    async def read_file(self, path: str, *, max_bytes: int = 1024 * 1024) -> bytes:
        try:
            with open(path, "rb") as fh:
                return fh.read(max_bytes)
        except FileNotFoundError:
            raise self.Missing(f"{path} does not exist") from None


async def test_async_transport_reader_from_a_worker_thread() -> None:
    import asyncio

    from shopguard.maintenance.inventory.host import AsyncTransportReader

    reader = AsyncTransportReader(LoopbackAsyncTransport(), asyncio.get_running_loop())  # type: ignore[arg-type]
    inv = await asyncio.to_thread(scan_host, reader)
    comps = {c.name: c for c in inv.components}
    local_inv = scan_host(LocalHost())
    local = {c.name: c for c in local_inv.components}
    assert comps["debian"].version == local["debian"].version
    assert (
        comps["nginx"].version == local["nginx"].version and comps["nginx"].location == "async-local:nginx -v"
    )
    assert "php" not in comps  # `php -v` is not on this transport's allow-list: not there, no crash
    assert any("allow-list" in e for e in reader.errors)
    assert [c.purl for c in inv.components if c.kind == "os-package"] == [
        c.purl for c in local_inv.components if c.kind == "os-package"
    ]
