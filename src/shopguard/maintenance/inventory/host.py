"""The host part of the inventory: OS release, OS packages, server runtimes.

Everything goes through :class:`HostReader` (read a file, run a command), so the
same code reads the local machine or, through the hosting protocol's transport
(:func:`scan_transport`), a remote one over SSH.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from shopguard.maintenance.model import Component, Inventory, Owner, make_purl


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    output: str
    """stdout and stderr together (several tools print their version on stderr)."""


class HostReader(Protocol):
    """The two things the host inventory needs from a machine."""

    name: str
    """``local`` or the host name, used in component locations."""

    def read_file(self, path: str, max_bytes: int = 64 * 1024 * 1024) -> bytes | None:
        """File content, or None if it does not exist or cannot be read."""
        ...

    def run(self, argv: Sequence[str], timeout: float = 10.0) -> CommandResult | None:
        """Run a program (no shell); None if it is not installed."""
        ...


RPM_DB_DIRS = ("/var/lib/rpm", "/usr/lib/sysimage/rpm")
"""Where RPM distributions keep the package database (RHEL 8/9, AlmaLinux, Rocky; Fedora, SUSE)."""


class LocalHost:
    name = "local"

    def __init__(self, rpm_dbpath: str | None = None) -> None:
        self.rpm_dbpath = rpm_dbpath
        """Read RPM packages from this database folder (``rpm --dbpath``) as well as dpkg's; None
        means rpm's own default, asked only where there is no dpkg status file."""

    def read_file(self, path: str, max_bytes: int = 64 * 1024 * 1024) -> bytes | None:
        try:
            with open(path, "rb") as fh:
                return fh.read(max_bytes)
        except OSError:
            return None

    def run(self, argv: Sequence[str], timeout: float = 10.0) -> CommandResult | None:
        exe = argv[0] if "/" in argv[0] else shutil.which(argv[0], path=_PATH)
        if exe is None or not Path(exe).exists():
            return None
        try:
            p = subprocess.run([exe, *argv[1:]], capture_output=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return CommandResult(p.returncode, (p.stdout + p.stderr).decode("utf-8", errors="replace"))


class DirectoryHost:
    """A machine's files seen from outside: a mounted disk image, a backup or a container's root
    filesystem. Files are read below ``root``; no commands can run there."""

    def __init__(self, root: Path, name: str | None = None) -> None:
        self.root = root
        self.name = name or str(root)
        self.rpm_dbpath = next(
            (str(d) for d in (root / p.lstrip("/") for p in RPM_DB_DIRS) if _has_rpmdb(d)), None
        )
        """The image's own RPM database, read with this machine's ``rpm --dbpath`` when installed."""

    def read_file(self, path: str, max_bytes: int = 64 * 1024 * 1024) -> bytes | None:
        target = (self.root / path.lstrip("/")).resolve()
        if not target.is_relative_to(self.root.resolve()):
            return None
        try:
            with target.open("rb") as fh:
                return fh.read(max_bytes)
        except OSError:
            return None

    def run(self, argv: Sequence[str], timeout: float = 10.0) -> CommandResult | None:
        """Nothing runs inside the image, except this machine's rpm reading the image's database."""
        if argv[:1] == ["rpm"] and self.rpm_dbpath and list(argv[1:3]) == ["--dbpath", self.rpm_dbpath]:
            return LocalHost().run(argv, timeout)
        return None


def _has_rpmdb(folder: Path) -> bool:
    """rpm 4.16+ keeps ``rpmdb.sqlite``; older releases Berkeley DB ``Packages`` (or ndb ``Packages.db``)."""
    return any((folder / f).is_file() for f in ("rpmdb.sqlite", "Packages", "Packages.db"))


class _TransportResult(Protocol):
    @property
    def returncode(self) -> int: ...

    @property
    def stdout(self) -> str: ...

    @property
    def stderr(self) -> str: ...


class AsyncTransport(Protocol):
    """What :class:`AsyncTransportReader` needs: the hosting protocol's ``HostTransport`` fits."""

    name: str

    async def run(self, argv: Sequence[str], *, timeout: float = ...) -> _TransportResult: ...

    async def read_file(self, path: str, *, max_bytes: int = ...) -> bytes: ...


T = TypeVar("T")


class AsyncTransportReader:
    """A :class:`HostReader` over an async transport (local or SSH), for the inventory, which runs
    in a worker thread while the transport lives on the event loop.

    Any transport error (program missing or not on the transport's allow-list, file missing,
    permission denied, host unreachable) reads as "not there"; the reasons are kept in
    :attr:`errors` so the inventory can say what it could not see.
    """

    def __init__(
        self, transport: AsyncTransport, loop: asyncio.AbstractEventLoop, timeout: float = 60.0
    ) -> None:
        self.transport = transport
        self.loop = loop
        self.timeout = timeout
        self.name = str(getattr(transport, "name", "remote"))
        self.errors: list[str] = []

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(self.timeout)

    def read_file(self, path: str, max_bytes: int = 64 * 1024 * 1024) -> bytes | None:
        try:
            return self._call(self.transport.read_file(path, max_bytes=max_bytes))
        except Exception as exc:  # the transport's own error types; see class docstring
            self.errors.append(f"{path}: {exc}")
            return None

    async def _run(self, argv: Sequence[str], timeout: float) -> CommandResult | None:
        try:
            res = await self.transport.run(list(argv), timeout=timeout)
        except Exception as exc:  # the transport's own error types; see class docstring
            self.errors.append(f"{' '.join(argv)}: {exc}")
            return None
        return CommandResult(res.returncode, res.stdout + res.stderr)

    def run(self, argv: Sequence[str], timeout: float = 10.0) -> CommandResult | None:
        return self._call(self._run(argv, timeout))

    def run_many(
        self, argvs: Sequence[Sequence[str]], timeout: float = 10.0
    ) -> dict[tuple[str, ...], CommandResult | None]:
        """Several commands at once: over SSH each one costs a round trip and a remote process
        start, so the runtime version queries go out together (the transport bounds the channels)."""

        async def all_of() -> list[CommandResult | None]:
            return await asyncio.gather(*(self._run(a, timeout) for a in argvs))

        return dict(zip((tuple(a) for a in argvs), self._call(all_of()), strict=True))


_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

_OS_EOL = {
    "debian": "debian",
    "ubuntu": "ubuntu",
    "rhel": "rhel",
    "almalinux": "almalinux",
    "rocky": "rocky-linux",
    "centos": "centos",
    "alpine": "alpine-linux",
}


def parse_os_release(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip().strip('"').strip("'")
    return out


def os_release(host: HostReader, inv: Inventory) -> dict[str, str]:
    raw = host.read_file("/etc/os-release") or host.read_file("/usr/lib/os-release")
    loc = f"{host.name}:/etc/os-release"
    if raw is None:
        errors = getattr(host, "errors", None)
        why = f" ({errors[-1]})" if errors else ""
        inv.warn(loc, f"no os-release file; operating system unknown{why}")
        return {}
    info = parse_os_release(raw.decode("utf-8", errors="replace"))
    os_id = info.get("ID", "")
    version = info.get("VERSION_ID", "")
    if os_id == "debian":
        dv = host.read_file("/etc/debian_version")
        if dv and re.match(rb"^\d+(\.\d+)*\s*$", dv):
            version = dv.decode().strip()
    if not os_id:
        inv.warn(loc, "no ID in os-release; operating system unknown")
        return info
    inv.add(
        [
            Component(
                name=os_id,
                version=version,
                ecosystem="generic",
                purl=make_purl("generic", os_id, version),
                owner=Owner.OS,
                location=loc,
                kind="os",
                eol_product=_OS_EOL.get(os_id, ""),
            )
        ]
    )
    return info


def osv_ecosystem(distro: str, release: str) -> str:
    """OSV's ecosystem name for a distribution release: ``Debian:12``, ``Ubuntu:22.04:LTS``."""
    if distro == "ubuntu":
        if not release:
            return "Ubuntu"
        major, _, minor = release.partition(".")
        lts = minor == "04" and major.isdigit() and int(major) % 2 == 0
        return f"Ubuntu:{release}:LTS" if lts else f"Ubuntu:{release}"
    major = release.split(".", 1)[0]
    return f"Debian:{major}" if major else "Debian"


def parse_dpkg_status(text: str, distro: str, release: str, loc: str) -> list[Component]:
    """Installed packages from ``/var/lib/dpkg/status``; advisories are filed under the source package."""
    eco = "Ubuntu" if distro == "ubuntu" else "Debian"
    osv_eco = osv_ecosystem(distro, release)
    out = []
    for para in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in para.splitlines():
            if line and not line[0].isspace() and ":" in line:
                k, v = line.split(":", 1)
                fields[k] = v.strip()
        if not fields.get("Package") or "installed" not in fields.get("Status", "").split()[-1:]:
            continue
        name, version = fields["Package"], fields.get("Version", "")
        # "Source: util-linux (2.38.1-5+deb12u1)": the source version differs from the binary's
        src_field = re.match(r"^(\S+)(?:\s*\((\S+)\))?", fields.get("Source", name))
        source = src_field.group(1) if src_field else name
        source_version = (src_field.group(2) if src_field else None) or version
        purl = make_purl(
            eco,
            name,
            version,
            namespace=distro or "debian",
            qualifiers={
                k: v
                for k, v in (("arch", fields.get("Architecture", "")), ("distro", f"{distro}-{release}"))
                if v
            },
        )
        out.append(
            Component(
                name,
                version,
                osv_eco,
                purl,
                Owner.OS,
                loc,
                "os-package",
                "",
                match_keys=((osv_eco, source),) if source != name else (),
                match_version="" if source_version == version else source_version,
            )
        )
    return out


RPM_QUERY_FORMAT = "%{NAME}\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\t%{ARCH}\n"


def rpm_ecosystem(distro: str, release: str) -> str:
    """OSV's ecosystem for an RPM distribution release: ``AlmaLinux:9``, ``Rocky Linux:8``;
    other RPM distributions (RHEL, CentOS, Fedora) are filed as ``Red Hat``."""
    major = release.split(".", 1)[0]
    names = {"almalinux": "AlmaLinux", "rocky": "Rocky Linux"}
    if distro in names:
        return f"{names[distro]}:{major}" if major else names[distro]
    return "Red Hat"


def parse_rpm_qa(text: str, distro: str, loc: str, release: str = "") -> list[Component]:
    """Lines of ``rpm -qa --qf RPM_QUERY_FORMAT``. The version is ``[epoch:]version-release``, the
    form advisories use (the epoch only when it is not 0), compared with RPM's rules."""
    eco = rpm_ecosystem(distro, release)
    out = []
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) != 3:
            continue  # rpm's own notices on stderr
        name, evr, arch = parts
        epoch, _, vr = evr.partition(":")
        if not name or not vr:
            continue
        version = vr if epoch in ("0", "") else evr
        purl = make_purl(
            "Red Hat",
            name,
            vr,
            namespace=distro or "redhat",
            qualifiers={
                k: v
                for k, v in (
                    ("arch", arch),
                    ("epoch", "" if epoch in ("0", "") else epoch),
                    ("distro", f"{distro}-{release}" if distro and release else ""),
                )
                if v
            },
        )
        out.append(Component(name, version, eco, purl, Owner.OS, loc, "os-package", ""))
    return out


def os_packages(host: HostReader, info: dict[str, str], inv: Inventory) -> None:
    """dpkg's status file, then the RPM database: rpm is asked when there is no dpkg status file,
    or always when the reader names an RPM database (``rpm_dbpath``)."""
    distro, release = info.get("ID", ""), info.get("VERSION_ID", "")
    dbpath: str | None = getattr(host, "rpm_dbpath", None)
    status = host.read_file("/var/lib/dpkg/status")
    if status is not None:
        inv.add(
            parse_dpkg_status(
                status.decode("utf-8", errors="replace"), distro, release, f"{host.name}:/var/lib/dpkg/status"
            )
        )
        if not dbpath:
            return
    where = ["--dbpath", dbpath] if dbpath else []
    res = host.run(["rpm", *where, "-qa", "--qf", RPM_QUERY_FORMAT], timeout=60)
    if res is not None and res.returncode == 0:
        loc = f"{host.name}:rpm -qa" + (f" --dbpath {dbpath}" if dbpath else "")
        inv.add(parse_rpm_qa(res.output, distro, loc, release))
        return
    if dbpath:
        why = (
            res.output.strip().splitlines()[-1] if res is not None and res.output.strip() else "rpm not found"
        )
        inv.warn(f"{host.name}:{dbpath}", f"could not read the RPM database: {why}")
    elif status is None:
        inv.warn(f"{host.name}", "no dpkg status file and no rpm database; OS packages not listed")


@dataclass(frozen=True)
class Runtime:
    name: str
    eol_product: str
    commands: tuple[tuple[str, ...], ...]
    pattern: str


RUNTIMES = (
    Runtime("php", "php", (("php", "-v"), ("php-fpm", "-v")), r"PHP (\d+\.\d+\.\d+)"),
    Runtime("nginx", "nginx", (("nginx", "-v"),), r"nginx/(\d+\.\d+\.\d+)"),
    Runtime(
        "apache-http-server",
        "apache-http-server",
        (("apache2", "-v"), ("httpd", "-v")),
        r"Apache/(\d+\.\d+\.\d+)",
    ),
    Runtime(
        "mariadb",
        "mariadb",
        (("mariadbd", "--version"), ("mariadb", "--version")),
        r"(\d+\.\d+\.\d+)-MariaDB",
    ),
    Runtime("mysql", "mysql", (("mysqld", "--version"),), r"Ver (\d+\.\d+\.\d+)(?!.*MariaDB)"),
    Runtime(
        "postgresql",
        "postgresql",
        (("postgres", "--version"), ("psql", "--version")),
        r"\(PostgreSQL\) (\d+(?:\.\d+)+)",
    ),
    Runtime("redis", "redis", (("redis-server", "--version"),), r"v=(\d+\.\d+\.\d+)"),
    Runtime("nodejs", "nodejs", (("node", "--version"),), r"v(\d+\.\d+\.\d+)"),
    Runtime("python", "python", (("python3", "--version"),), r"Python (\d+\.\d+\.\d+)"),
    Runtime("openssl", "openssl", (("openssl", "version"),), r"OpenSSL (\d+\.\d+\.\d+[a-z]?)"),
)


def _postgres_binaries(host: HostReader) -> list[tuple[str, ...]]:
    res = host.run(["find", "/usr/lib/postgresql", "-maxdepth", "3", "-name", "postgres", "-path", "*/bin/*"])
    if res is None or res.returncode != 0:
        return []
    return [(p.strip(), "--version") for p in sorted(res.output.split()) if p.strip()]


def runtimes(host: HostReader, inv: Inventory) -> None:
    postgres = _postgres_binaries(host)
    plan = [
        (rt, postgres + list(rt.commands) if rt.name == "postgresql" else list(rt.commands))
        for rt in RUNTIMES
    ]
    # a reader that can run commands together (the SSH one) gets every candidate at once; the
    # fallbacks that end up unused are version queries too, so asking them costs nothing but time
    run_many = getattr(host, "run_many", None)
    ready: dict[tuple[str, ...], CommandResult | None] = (
        run_many([argv for _, cmds in plan for argv in cmds]) if run_many is not None else {}
    )
    for rt, cmds in plan:
        for argv in cmds:
            res = ready[tuple(argv)] if tuple(argv) in ready else host.run(argv)
            if res is None:
                continue
            m = re.search(rt.pattern, res.output)
            if not m:
                continue
            version = m.group(1)
            inv.add(
                [
                    Component(
                        name=rt.name,
                        version=version,
                        ecosystem="generic",
                        purl=make_purl("generic", rt.name, version),
                        owner=Owner.RUNTIME,
                        location=f"{host.name}:{' '.join(argv)}",
                        kind="runtime",
                        eol_product=rt.eol_product,
                    )
                ]
            )
            break


def scan_host(host: HostReader | None = None) -> Inventory:
    host = host or LocalHost()
    inv = Inventory()
    info = os_release(host, inv)
    os_packages(host, info, inv)
    runtimes(host, inv)
    return inv


class HostUnavailable(Exception):
    """The host could not be reached (or stopped answering), so its inventory would be incomplete."""


_PROBE = ("uname", "-s")
"""A harmless command on the transport's allow-list, to tell "host unreachable" from "not installed"."""


async def _probe(transport: AsyncTransport, when: str) -> None:
    try:
        await transport.run(list(_PROBE), timeout=30.0)
    except Exception as exc:  # the transport's own error types
        raise HostUnavailable(f"could not read the host {transport.name} ({when}): {exc}") from exc


async def scan_transport(transport: AsyncTransport) -> Inventory:
    """The host inventory through an async transport (the hosting protocol's local or SSH one).

    The host is probed before and after: an unreachable host, or one lost half-way, raises
    :class:`HostUnavailable` instead of returning a partial inventory, because a partial one
    would make earlier findings for its packages look fixed.
    """
    await _probe(transport, "at the start of the inventory")
    reader = AsyncTransportReader(transport, asyncio.get_running_loop())
    inv = await asyncio.to_thread(scan_host, reader)
    await _probe(transport, "lost during the inventory")
    return inv
