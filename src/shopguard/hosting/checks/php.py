"""PHP: effective settings of the CLI (``php -i``) and of PHP-FPM (``php-fpm -i``
plus each pool's ``php_admin_value``/``php_value`` overrides), and pool identity."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from shopguard.checks import CheckContext, register_check
from shopguard.findings import Finding, Severity
from shopguard.hosting.base import CouldNotCheck, HostCheck
from shopguard.hosting.facts import Facts
from shopguard.hosting.transport.interface import CommandMissing

DANGEROUS_FUNCTIONS = ("exec", "shell_exec", "system", "passthru", "proc_open", "popen")


def parse_phpinfo(text: str) -> dict[str, str]:
    """``php -i`` text -> {directive: local value}."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        parts = [p.strip() for p in line.split(" => ")]
        if parts[0] == "Loaded Configuration File" and len(parts) == 2:
            out[parts[0]] = parts[1]
        elif len(parts) >= 2 and parts[0] and " " not in parts[0]:
            out.setdefault(parts[0], parts[1])
    return out


def on(value: str | None) -> bool:
    return (value or "").strip().lower() in ("on", "1", "yes", "true", "stdout", "stderr")


def size_bytes(value: str | None) -> int:
    m = re.fullmatch(r"\s*(\d+)\s*([kKmMgG]?)\s*", value or "")
    if not m:
        return 0
    return int(m.group(1)) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[m.group(2).lower()]


@dataclass(frozen=True)
class Rule:
    name: str
    directive: str
    bad: Callable[[str | None], bool]
    severity: Severity
    title: str
    fix: str
    pci: tuple[str, ...]
    cwe: tuple[str, ...] = ()
    web_only: bool = True
    """Only meaningful where PHP serves web requests (FPM), not for the CLI."""


def _missing_functions(value: str | None) -> bool:
    disabled = {f.strip() for f in (value or "").replace("no value", "").split(",")}
    return not all(f in disabled for f in DANGEROUS_FUNCTIONS)


RULES: tuple[Rule, ...] = (
    Rule(
        "allow-url-include",
        "allow_url_include",
        on,
        Severity.HIGH,
        "PHP may include code from URLs (allow_url_include)",
        "allow_url_include = Off",
        ("6.2.4",),
        ("CWE-98",),
        web_only=False,
    ),
    Rule(
        "allow-url-fopen",
        "allow_url_fopen",
        on,
        Severity.LOW,
        "PHP may open remote URLs as files (allow_url_fopen)",
        "allow_url_fopen = Off (if the shop and its plugins do not need it)",
        ("6.2.4",),
        ("CWE-918",),
        web_only=False,
    ),
    Rule(
        "expose-php",
        "expose_php",
        on,
        Severity.LOW,
        "PHP announces its version in every response (expose_php)",
        "expose_php = Off",
        ("2.2.6",),
        ("CWE-200",),
    ),
    Rule(
        "display-errors",
        "display_errors",
        on,
        Severity.MEDIUM,
        "PHP shows error messages to visitors (display_errors)",
        "display_errors = Off and log_errors = On",
        ("6.2.4",),
        ("CWE-209",),
    ),
    Rule(
        "disable-functions",
        "disable_functions",
        _missing_functions,
        Severity.MEDIUM,
        "PHP lets web code run shell commands (exec, system, ... not disabled)",
        "disable_functions = " + ",".join(DANGEROUS_FUNCTIONS) + " (check your shop does not need them)",
        ("6.2.4", "2.2.6"),
        ("CWE-78",),
    ),
    Rule(
        "open-basedir",
        "open_basedir",
        lambda v: (v or "no value") == "no value",
        Severity.LOW,
        "PHP code may read any file on the server (no open_basedir)",
        "open_basedir = /var/www/shop:/tmp (the shop's folders)",
        ("2.2.6",),
        ("CWE-22",),
    ),
    Rule(
        "cookie-httponly",
        "session.cookie_httponly",
        lambda v: not on(v),
        Severity.MEDIUM,
        "PHP session cookies are readable by JavaScript (session.cookie_httponly off)",
        "session.cookie_httponly = On",
        ("6.2.4",),
        ("CWE-1004",),
    ),
    Rule(
        "cookie-secure",
        "session.cookie_secure",
        lambda v: not on(v),
        Severity.MEDIUM,
        "PHP session cookies may travel over plain HTTP (session.cookie_secure off)",
        "session.cookie_secure = On",
        ("4.2.1", "6.2.4"),
        ("CWE-614",),
    ),
    Rule(
        "strict-mode",
        "session.use_strict_mode",
        lambda v: not on(v),
        Severity.LOW,
        "PHP accepts session ids it never issued (session.use_strict_mode off)",
        "session.use_strict_mode = 1",
        ("6.2.4",),
        ("CWE-384",),
    ),
    Rule(
        "upload-limit",
        "upload_max_filesize",
        lambda v: size_bytes(v) > 256 * 1024**2,
        Severity.LOW,
        "PHP accepts very large uploads (upload_max_filesize over 256M)",
        "upload_max_filesize = 32M (and post_max_size a little above)",
        ("6.2.4",),
        ("CWE-400",),
    ),
)


def evaluate(check: HostCheck, settings: dict[str, str], where: str, web: bool, label: str) -> list[Finding]:
    out = []
    for r in RULES:
        if r.web_only and not web:
            continue
        value = settings.get(r.directive)
        if value is None and r.directive not in settings and r.name != "open-basedir":
            continue  # directive unknown to this PHP build
        if r.bad(value):
            out.append(
                check.finding(
                    r.name,
                    r.severity,
                    f"{r.title} [{label}]",
                    where,
                    remediation=f"Set `{r.fix}` in {where} (or php_admin_value in the FPM pool), then "
                    "reload PHP.",
                    evidence={"directive": r.directive, "value": value, "sapi": label},
                    pci=r.pci,
                    cwe=r.cwe,
                    key=label,
                )
            )
    return out


@register_check
class PhpCli(HostCheck):
    id = "hosting.php.cli"
    title = "PHP (command line) settings are safe"
    subject = "PHP command-line settings (php -i)"
    optional = True

    async def inspect(self, ctx: CheckContext, facts: Facts) -> AsyncIterator[Finding]:
        s = facts.settings
        res = await facts.run([s.php_bin] + (["-c", s.php_ini] if s.php_ini else []) + ["-i"])
        if not res.ok:
            raise CouldNotCheck(
                f"could not check {self.subject} because php failed: {res.stderr.strip()[:300]}"
            )
        info = parse_phpinfo(res.stdout)
        where = info.get("Loaded Configuration File", "php.ini")
        for f in evaluate(self, info, where, web=False, label="cli"):
            yield f


@dataclass
class Pool:
    name: str
    file: str
    values: dict[str, str] = field(default_factory=dict)
    php: dict[str, str] = field(default_factory=dict)
    """php_admin_value / php_value / *_flag overrides, by directive."""


_OVERRIDE = re.compile(r"^php_(admin_)?(value|flag)\[([^\]]+)\]$")


def parse_fpm_conf(text: str, file: str, pools: dict[str, Pool], includes: list[str]) -> None:
    section = "global"
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip() if not raw.lstrip().startswith(";") else ""
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            if section != "global":
                pools.setdefault(section, Pool(section, file))
            continue
        if "=" not in line:
            continue
        k, v = (x.strip() for x in line.split("=", 1))
        v = v.strip('"').strip("'")
        if section == "global":
            if k == "include":
                includes.append(v)
            continue
        pool = pools[section]
        m = _OVERRIDE.match(k)
        if m:
            # php_admin_* cannot be overridden by ini_set(); both set the value the pool runs with
            if m.group(1) or m.group(3) not in pool.php:
                pool.php[m.group(3)] = v
        else:
            pool.values[k] = v


async def fpm_binary(facts: Facts) -> str:
    if facts.settings.php_fpm_bin:
        return facts.settings.php_fpm_bin
    found = sorted(
        (n for n in await facts.transport.listdir("/usr/sbin") if re.fullmatch(r"php-fpm[0-9.]*", n)),
        key=lambda n: [int(x) for x in re.findall(r"\d+", n)],
    )
    if not found:
        raise CommandMissing("php-fpm is not installed")
    return f"/usr/sbin/{found[-1]}"


async def fpm_pools(facts: Facts) -> tuple[str, list[Pool], dict[str, str]]:
    """(main conf path, pools, FPM php.ini settings)."""

    async def read() -> tuple[str, list[Pool], dict[str, str]]:
        binary = await fpm_binary(facts)
        if binary.startswith("/") and not await facts.transport.exists(binary):
            raise CommandMissing(f"{binary} is not installed")
        ver = re.search(r"(\d+\.\d+)$", binary)
        conf = facts.settings.php_fpm_conf or (f"/etc/php/{ver.group(1)}/fpm/php-fpm.conf" if ver else "")
        if not conf:
            raise CouldNotCheck(
                "could not check PHP-FPM because its config path is unknown; set php_fpm_conf"
            )
        test = await facts.run([binary, "-t", "-y", conf])
        if not test.ok:
            msg = [x for x in (test.stderr + test.stdout).splitlines() if "ERROR" in x][:2]
            raise CouldNotCheck(
                f"could not check PHP-FPM because `{binary} -t -y {conf}` fails: {' '.join(msg)[:300]}"
            )
        pools: dict[str, Pool] = {}
        includes: list[str] = []
        parse_fpm_conf(await facts.transport.read_text(conf), conf, pools, includes)
        for pattern in includes:
            folder, _, glob = pattern.rpartition("/")
            names = [n for n in await facts.transport.listdir(folder or ".") if fnmatch.fnmatch(n, glob)]
            for path, data in (await facts.transport.read_files([f"{folder}/{n}" for n in names])).items():
                if isinstance(data, Exception):
                    raise data
                parse_fpm_conf(data.decode("utf-8", "replace"), path, pools, [])
        ini_arg = ["-c", facts.settings.php_fpm_ini] if facts.settings.php_fpm_ini else []
        res = await facts.run([binary, *ini_arg, "-i"])
        if not res.ok:
            raise CouldNotCheck(
                f"could not check PHP-FPM because `{binary} -i` failed: {res.stderr.strip()[:200]}"
            )
        return conf, list(pools.values()), parse_phpinfo(res.stdout)

    return await facts.memo("fpm", read)


@register_check
class PhpFpm(HostCheck):
    id = "hosting.php.fpm"
    title = "PHP-FPM pools run with safe settings and their own user"
    subject = "PHP-FPM pools"
    optional = True

    async def inspect(self, ctx: CheckContext, facts: Facts) -> AsyncIterator[Finding]:
        conf, pools, ini = await fpm_pools(facts)
        ini_file = ini.get("Loaded Configuration File", "php.ini")
        owners: dict[int, str] = {}
        for root in ctx.store.web_roots:
            st = await facts.transport.stat(str(root))
            if st is not None:
                owners[st.uid] = str(root)
        for pool in pools:
            effective = dict(ini) | pool.php
            where = pool.file if pool.php else ini_file
            for f in evaluate(self, effective, where, web=True, label=f"pool {pool.name}"):
                yield f
            user = pool.values.get("user", "")
            acc = await facts.account(user) if user else None
            if user in ("root", "0") or (acc is not None and acc.uid == 0):
                yield self.finding(
                    "root-pool",
                    Severity.CRITICAL,
                    f"PHP-FPM pool {pool.name!r} runs PHP as root",
                    pool.file,
                    remediation="Set `user = shop-php` and `group = shop-php` (a dedicated user) in the "
                    "pool.",
                    evidence={"pool": pool.name, "user": user},
                    pci=("2.2.6", "7.2.1"),
                    key=pool.name,
                )
            elif acc is not None and acc.uid in owners:
                yield self.finding(
                    "owns-code",
                    Severity.HIGH,
                    f"PHP-FPM pool {pool.name!r} runs as {user!r}, the owner of the shop's code",
                    pool.file,
                    detail="PHP running as the code owner can rewrite the shop's own files: one "
                    "vulnerable plugin "
                    "and an attacker plants a skimmer in checkout code.",
                    remediation=f"Give the code to a deploy user (`chown -R deploy: {owners[acc.uid]}`) "
                    "and keep "
                    f"the pool user {user!r} for PHP only, with write access to upload/cache folders only.",
                    evidence={"pool": pool.name, "user": user, "web_root": owners[acc.uid]},
                    pci=("7.2.1", "6.4.3"),
                    cwe=("CWE-732",),
                    key=pool.name,
                )
            listen = pool.values.get("listen", "")
            if re.fullmatch(r"(0\.0\.0\.0:|\[::\]:|\*:|)\d+", listen) and "allowed_clients" not in " ".join(
                pool.values
            ):
                yield self.finding(
                    "listen-public",
                    Severity.HIGH,
                    f"PHP-FPM pool {pool.name!r} listens on all network addresses ({listen})",
                    pool.file,
                    detail="Anyone who reaches the FastCGI port can run any PHP file, or code of their own.",
                    remediation="Use a socket (`listen = /run/php/shop.sock`) or `listen = "
                    "127.0.0.1:9000` with "
                    "`listen.allowed_clients = 127.0.0.1`.",
                    evidence={"pool": pool.name, "listen": listen},
                    pci=("1.3.1",),
                    key=pool.name,
                )
            exts = pool.values.get("security.limit_extensions", ".php .phar").split()
            odd = [e for e in exts if e not in (".php", ".phar", ".php7", ".php8")]
            if odd:
                yield self.finding(
                    "limit-extensions",
                    Severity.MEDIUM,
                    f"PHP-FPM pool {pool.name!r} executes files ending in {', '.join(odd)}",
                    pool.file,
                    detail="An uploaded 'image' with PHP inside would run as code.",
                    remediation="Set `security.limit_extensions = .php`.",
                    evidence={"pool": pool.name, "limit_extensions": exts},
                    pci=("6.4.1",),
                    cwe=("CWE-434",),
                    key=pool.name,
                )
        if not pools:
            yield self.finding(
                "no-pools",
                Severity.INFO,
                "PHP-FPM has no pools configured",
                conf,
                evidence={"config": conf},
                key="none",
            )
