"""How hosting checks reach a host: one interface, two implementations (local, SSH).

Every command goes through :func:`check_allowed` before it runs, on both
transports: a fixed allow-list of read-only programs and arguments. A check
cannot run anything that writes, even by mistake. Commands run without a shell
(argv), with ``LC_ALL=C`` (stable messages to parse) and a fixed ``PATH`` so
``/usr/sbin`` tools are found for non-root SSH users too.
"""

from __future__ import annotations

import asyncio
import re
import shlex
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass

DEFAULT_COMMAND_TIMEOUT_S = 15.0
DEFAULT_MAX_FILE_BYTES = 1024 * 1024
SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
ENV_PREFIX: tuple[str, ...] = ("env", "-i", f"PATH={SAFE_PATH}", "LC_ALL=C", "LANG=C")


class TransportError(Exception):
    """Base class: the transport could not do what was asked. ``str()`` is a
    plain-words reason usable after "could not check X because ..."."""


class CommandNotAllowed(TransportError):
    """The command is not on the read-only allow-list (a bug in a check)."""


class CommandMissing(TransportError):
    """The program is not installed on the host."""


class PermissionDenied(TransportError):
    """The transport's user may not read this (run as root or grant read access)."""


class FileMissing(TransportError):
    """The file or folder does not exist on the host."""


class CommandTimeout(TransportError):
    """The command did not finish within its timeout (host busy or hung)."""


class HostUnreachable(TransportError):
    """The connection failed or dropped (DNS, refused, reset, keepalive lost)."""


class HostKeyUnknown(TransportError):
    """First contact with a host whose key was never confirmed."""


@dataclass(frozen=True)
class CommandResult:
    """What one command produced."""

    argv: tuple[str, ...]
    """The command as asked (without the ``env`` prefix)."""
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def command(self) -> str:
        return shlex.join(self.argv)


@dataclass(frozen=True)
class FileStat:
    """A file's metadata, as ``find -printf`` or ``os.stat`` report it."""

    path: str
    kind: str
    """``f`` file, ``d`` folder, ``l`` symlink, ``o`` other."""
    mode: int
    """Permission bits only (``0o644``)."""
    uid: int
    gid: int
    size: int
    mtime: int
    """Modification time, whole seconds since the epoch."""


# ---------------------------------------------------------------- allow-list

_SAFE_ARG = re.compile(r"^[A-Za-z0-9_@%+=:,./*~\[\]\\ ?^()-]*$")
Validator = Callable[[Sequence[str]], bool]


def _plain(args: Sequence[str]) -> bool:
    """Arguments are plain words or paths (no shell meta, no newlines)."""
    return all(_SAFE_ARG.match(a) and not a.startswith("--output") for a in args)


def _only(*allowed: str) -> Validator:
    return lambda args: all(a in allowed for a in args)


def _flags_then_paths(flags_with_value: set[str], flags: set[str]) -> Validator:
    def ok(args: Sequence[str]) -> bool:
        i = 0
        while i < len(args):
            a = args[i]
            if a in flags_with_value:
                if i + 1 >= len(args) or not _plain([args[i + 1]]):
                    return False
                i += 2
                continue
            if a not in flags:
                return False
            i += 1
        return True

    return ok


_FIND_FORBIDDEN = {"-delete", "-exec", "-execdir", "-ok", "-okdir", "-fprint", "-fprint0", "-fprintf", "-fls"}


def _operand(arg: str) -> bool:
    """A file operand after ``--``: an absolute path, any bytes but NUL. Web roots hold names
    with spaces, newlines and non-UTF-8 bytes; they are passed as argv (locally) or quoted with
    ``shlex`` (over SSH), never through a shell unquoted, and ``--`` ends the options."""
    return arg.startswith("/") and "\0" not in arg


def _head_bytes(args: Sequence[str]) -> bool:
    # only: head [--verbose] --bytes=N -- /ABS/FILE...   (reading web-root files with any name)
    i = 1 if args[:1] == ["--verbose"] else 0
    return (
        len(args) >= i + 3
        and re.fullmatch(r"--bytes=[0-9]+", args[i]) is not None
        and args[i + 1] == "--"
        and all(_operand(a) for a in args[i + 2 :])
    )


def _sha256sum(args: Sequence[str]) -> bool:
    # only: sha256sum -z -- FILE...   (hash files; never -c/--check, never reading a list)
    return len(args) >= 3 and args[0] == "-z" and args[1] == "--" and all(_operand(a) for a in args[2:])


def _find(args: Sequence[str]) -> bool:
    return _plain(args) and not any(a in _FIND_FORBIDDEN for a in args)


def _redis_cli(args: Sequence[str]) -> bool:
    # only: redis-cli [-h H] [-p P] (CONFIG GET name | INFO section | PING)
    rest = list(args)
    while rest[:1] and rest[0] in {"-h", "-p"}:
        if len(rest) < 2 or not _plain(rest[1:2]):
            return False
        rest = rest[2:]
    if [r.upper() for r in rest[:2]] == ["CONFIG", "GET"] and len(rest) == 3:
        return _plain(rest[2:])
    return (len(rest) == 2 and rest[0].upper() == "INFO" and _plain(rest[1:])) or rest == ["PING"]


def _systemctl(args: Sequence[str]) -> bool:
    return bool(args) and args[0] in {"is-active", "is-enabled", "show"} and _plain(args[1:])


def _apt_get(args: Sequence[str]) -> bool:
    # simulation only: apt-get -s (or --simulate) ... upgrade/dist-upgrade
    return ("-s" in args or "--simulate" in args) and _plain(args) and args[-1] in {"upgrade", "dist-upgrade"}


def _dnf(args: Sequence[str]) -> bool:
    return _only("-q", "--quiet", "updateinfo", "list", "--security", "--available", "-C", "--cacheonly")(
        args
    )


def _php(args: Sequence[str]) -> bool:
    # php [-n] [-c INI] -i   (phpinfo only; never -r / -f / a script)
    return args[-1:] == ["-i"] and _flags_then_paths({"-c"}, {"-n", "-i"})(args)


_APACHE = _flags_then_paths({"-f", "-D"}, {"-t", "-S", "-M", "-v"})

ALLOWED_COMMANDS: dict[str, Validator] = {
    "sshd": _flags_then_paths({"-f"}, {"-T"}),
    "nginx": _flags_then_paths({"-c", "-p"}, {"-T", "-V", "-v"}),
    "apache2ctl": _APACHE,
    "apachectl": _APACHE,
    "apache2": _APACHE,
    "httpd": _APACHE,
    "php": lambda a: a == ["-v"] or _php(a),
    "php-fpm": _flags_then_paths({"-c", "-y"}, {"-n", "-i", "-t", "-tt", "-v"}),
    # Version queries for the software inventory (maintenance protocol): read-only.
    **{
        prog: _only("--version")
        for prog in (
            "mariadbd",
            "mariadb",
            "mysqld",
            "mysql",
            "postgres",
            "psql",
            "redis-server",
            "node",
            "python3",
        )
    },
    "openssl": _only("version"),
    "rpm": lambda a: a[:1] == ["-qa"] and (len(a) == 1 or (len(a) == 3 and a[1] == "--qf")),
    "ss": _only(
        "-H", "-t", "-u", "-l", "-n", "-p", "-tlnp", "-ulnp", "-Htlnp", "-Hulnp", "-Htulnp", "-Htuln"
    ),
    "apt-get": _apt_get,
    "dnf": _dnf,
    "needs-restarting": _only("-r"),
    "timedatectl": _only("show", "status", "-p", "NTPSynchronized", "--value"),
    "systemctl": _systemctl,
    "nft": _only("list", "ruleset"),
    "iptables": _only("-S", "-L", "-n"),
    "ip6tables": _only("-S", "-L", "-n"),
    "ufw": _only("status", "verbose"),
    "firewall-cmd": _only("--state", "--list-all", "--get-default-zone"),
    "ps": _only("-e", "-o", "comm=", "-eo", "user=,comm=", "user=,comm=,args="),
    "find": _find,
    "head": lambda a: (
        (len(a) >= 4 and a[0] in ("-c", "-vc") and a[1].isdigit() and a[2] == "--" and _plain(a[3:]))
        or _head_bytes(a)
    ),
    "sha256sum": _sha256sum,
    "stat": lambda a: len(a) >= 4 and a[0] == "-c" and a[2] == "--" and _plain(a[3:]),
    "uname": _only("-r", "-s", "-m", "-a"),
    "redis-cli": _redis_cli,
    "id": _plain,
    "test": lambda a: len(a) == 2 and a[0] in {"-e", "-f", "-d"} and _plain(a[1:]),
}
"""Program name -> validator of its arguments. ``php-fpm8.2`` matches ``php-fpm``
(versioned names of the same program)."""

_VERSIONED = re.compile(r"^(php-fpm|php|httpd)[0-9.]*$")


def program_key(program: str) -> str:
    """Allow-list key for a program name or path: ``/usr/sbin/php-fpm8.2`` -> ``php-fpm``."""
    base = program.rsplit("/", 1)[-1]
    m = _VERSIONED.match(base)
    return m.group(1) if m else base


def check_allowed(argv: Sequence[str]) -> None:
    """Raise :class:`CommandNotAllowed` unless ``argv`` is read-only and allowed."""
    if not argv:
        raise CommandNotAllowed("empty command")
    program = argv[0]
    if not _SAFE_ARG.match(program):
        raise CommandNotAllowed(f"program name {program!r} is not allowed")
    validator = ALLOWED_COMMANDS.get(program_key(program))
    if validator is None or not validator(list(argv[1:])):
        raise CommandNotAllowed(f"{shlex.join(argv)!r} is not on ShopGuard's read-only command allow-list")


def missing_program(argv: Sequence[str], result: CommandResult) -> bool:
    """``env`` reports a program it cannot find with exit code 127."""
    return result.returncode == 127 and ("No such file or directory" in result.stderr or not result.stdout)


class HostTransport(ABC):
    """Run allowed commands and read files on one host."""

    name: str
    """``local`` or ``ssh://user@host:port`` (never holds a secret)."""

    async def run(self, argv: Sequence[str], *, timeout: float = DEFAULT_COMMAND_TIMEOUT_S) -> CommandResult:
        """Run an allowed command. Raises CommandMissing when the program is not
        installed, CommandTimeout, HostUnreachable; a non-zero exit is returned."""
        out, err, rc = await self._run_bytes(argv, timeout)
        result = CommandResult(
            tuple(argv), rc, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
        )
        if missing_program(argv, result):
            raise CommandMissing(f"{argv[0]} is not installed (command not found)")
        return result

    async def run_bytes(
        self, argv: Sequence[str], *, timeout: float = DEFAULT_COMMAND_TIMEOUT_S
    ) -> tuple[bytes, bytes, int]:
        """Like :meth:`run`, with stdout and stderr as bytes (file names that are not
        UTF-8, ``\\0``-separated listings): ``(stdout, stderr, returncode)``."""
        out, err, rc = await self._run_bytes(argv, timeout)
        if rc == 127 and ("No such file or directory" in err.decode("utf-8", "replace") or not out):
            raise CommandMissing(f"{argv[0]} is not installed (command not found)")
        return out, err, rc

    @abstractmethod
    async def _run_bytes(self, argv: Sequence[str], timeout: float) -> tuple[bytes, bytes, int]:
        """Check ``argv`` against the allow-list and run it: ``(stdout, stderr, returncode)``."""

    @abstractmethod
    async def read_file(self, path: str, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> bytes:
        """Up to ``max_bytes`` of a file. Raises FileMissing, PermissionDenied."""

    @abstractmethod
    async def stat(self, path: str) -> FileStat | None:
        """Metadata (symlinks not followed), or None when the path does not exist."""

    @abstractmethod
    async def listdir(self, path: str) -> list[str]:
        """Names in a folder, sorted. Raises FileMissing, PermissionDenied."""

    async def read_files(
        self, paths: Sequence[str], *, max_bytes: int = DEFAULT_MAX_FILE_BYTES
    ) -> dict[str, bytes | TransportError]:
        """Several files at once (one round trip over SSH); each path maps to its
        content or to the error reading it."""

        async def one(p: str) -> bytes | TransportError:
            try:
                return await self.read_file(p, max_bytes=max_bytes)
            except TransportError as exc:
                return exc

        results = await asyncio.gather(*(one(p) for p in paths))
        return dict(zip(paths, results, strict=True))

    async def stat_many(self, paths: Sequence[str]) -> dict[str, FileStat | None]:
        """Metadata of several paths at once (None where missing)."""
        results = await asyncio.gather(*(self.stat(p) for p in paths))
        return dict(zip(paths, results, strict=True))

    async def read_text(self, path: str, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> str:
        return (await self.read_file(path, max_bytes=max_bytes)).decode("utf-8", "replace")

    async def exists(self, path: str) -> bool:
        return await self.stat(path) is not None

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release the connection (no-op for the local transport)."""
