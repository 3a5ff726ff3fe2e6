"""Databases named in the store's config (``[[stores.databases]]``): accounts,
network exposure, TLS and version support. Optional: no DSN, no check.

ShopGuard connects from where it runs, with the configured credentials, and only
reads (SELECT / SHOW). Credentials come from SecretRef and never reach evidence.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from shopguard.checks import CheckContext, register_check
from shopguard.config import ConfigError, Database
from shopguard.findings import Finding, Severity
from shopguard.hosting.base import CouldNotCheck, HostCheck
from shopguard.hosting.eol import lookup, support_status
from shopguard.hosting.facts import Facts

CONNECT_TIMEOUT_S = 5
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def _redacted(dsn: str) -> str:
    p = urlsplit(dsn)
    host = p.hostname or ""
    port = f":{p.port}" if p.port else ""
    user = f"{p.username}@" if p.username else ""
    return f"{p.scheme}://{user}{host}{port}{p.path}"


def _password(db: Database) -> str | None:
    if db.password is not None:
        return db.password.resolve()
    p = urlsplit(db.dsn).password
    return unquote(p) if p else None


def _mysql_facts(db: Database) -> dict[str, Any]:
    import pymysql

    p = urlsplit(db.dsn)
    conn = pymysql.connect(
        host=p.hostname or "127.0.0.1",
        port=p.port or 3306,
        user=unquote(p.username or "root"),
        password=_password(db) or "",
        database=(p.path.lstrip("/") or None),
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=CONNECT_TIMEOUT_S * 2,
    )
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('local_infile','bind_address','have_ssl',"
                "'require_secure_transport','skip_networking','version')"
            )
            variables = {str(k): str(v) for k, v in cur.fetchall()}
            cur.execute("SELECT User, Host, plugin, authentication_string FROM mysql.user")
            users = [tuple(str(x or "") for x in row) for row in cur.fetchall()]
            locked: set[tuple[str, str]] = set()
            for query in (
                "SELECT User, Host FROM mysql.global_priv WHERE JSON_VALUE(Priv, '$.account_locked') "
                "IN ('1', 'true')",  # MariaDB 10.4+
                "SELECT User, Host FROM mysql.user WHERE account_locked = 'Y'",  # MySQL 5.7+
            ):
                try:
                    cur.execute(query)
                    locked = {(str(u), str(h)) for u, h in cur.fetchall()}
                    break
                except pymysql.MySQLError:
                    continue
            users = [u for u in users if (u[0], u[1]) not in locked]
    finally:
        conn.close()
    return {"variables": variables, "users": users}


def _postgres_facts(db: Database) -> dict[str, Any]:
    import psycopg

    p = urlsplit(db.dsn)
    kwargs: dict[str, Any] = {
        "host": p.hostname or "127.0.0.1",
        "port": p.port or 5432,
        "user": unquote(p.username or "postgres"),
        "dbname": p.path.lstrip("/") or "postgres",
        "connect_timeout": CONNECT_TIMEOUT_S,
    }
    pw = _password(db)
    if pw:
        kwargs["password"] = pw
    with psycopg.connect(**kwargs, autocommit=True) as conn:
        version = conn.execute("SHOW server_version").fetchone()
        ssl = conn.execute("SHOW ssl").fetchone()
        listen = conn.execute("SHOW listen_addresses").fetchone()
        is_super = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
        roles: list[tuple[Any, ...]] = []
        hba: list[tuple[Any, ...]] = []
        if is_super and is_super[0]:
            roles = conn.execute(
                "SELECT rolname, rolsuper, rolpassword IS NULL FROM pg_authid WHERE rolcanlogin"
            ).fetchall()
            hba = conn.execute(
                "SELECT line_number, type, database, user_name, address, auth_method FROM pg_hba_file_rules "
                "WHERE error IS NULL"
            ).fetchall()
    return {
        "version": version[0] if version else "",
        "ssl": ssl[0] if ssl else "",
        "listen": listen[0] if listen else "",
        "superuser": bool(is_super and is_super[0]),
        "roles": roles,
        "hba": hba,
    }


@register_check
class Databases(HostCheck):
    id = "hosting.db"
    title = "Databases: accounts, exposure, TLS, supported version"
    subject = "the store's databases"

    def applies(self, store: Any) -> bool:
        return bool(store.databases)

    async def inspect(self, ctx: CheckContext, facts: Facts) -> AsyncIterator[Finding]:
        for db in ctx.store.databases:
            scheme = urlsplit(db.dsn).scheme.split("+", 1)[0].lower()
            loc = _redacted(db.dsn)
            try:
                if scheme in ("mysql", "mariadb"):
                    data = await asyncio.to_thread(_mysql_facts, db)
                    found = self._mysql(data, loc)
                elif scheme in ("postgresql", "postgres"):
                    data = await asyncio.to_thread(_postgres_facts, db)
                    found = self._postgres(data, loc)
                else:
                    raise CouldNotCheck(
                        f"could not check database {db.name} because {scheme}:// is not supported "
                        "(mysql://, mariadb://, postgresql://)"
                    )
            except CouldNotCheck:
                raise
            except ConfigError as exc:
                raise CouldNotCheck(f"could not check database {db.name} because {exc}") from None
            except Exception as exc:  # driver errors: refused, auth failed, timeout
                msg = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
                raise CouldNotCheck(f"could not check database {db.name} at {loc} because {msg}") from None
            for f in found:
                yield f

    def _eol(self, product: str, version: str, loc: str) -> list[Finding]:
        m = re.match(r"(\d+)\.(\d+)", version)
        if not m:
            return []
        major = m.group(1) if product == "postgresql" else f"{m.group(1)}.{m.group(2)}"
        today = datetime.now(UTC).date()
        info = lookup(product, major, today)
        if info is None or support_status(info, today) == "supported":
            return []
        return [
            self.finding(
                "end-of-life",
                Severity.HIGH,
                f"{info.product} {info.version} no longer receives security fixes (since "
                f"{info.regular_until})",
                loc,
                remediation=f"Upgrade to {info.successor or 'a supported version'}.",
                evidence={"version": version, "support_ended": info.regular_until.isoformat()},
                pci=("6.3.3", "12.3.4"),
                key=f"{product}-{major}",
            )
        ]

    def _mysql(self, data: dict[str, Any], loc: str) -> list[Finding]:
        v: dict[str, str] = data["variables"]
        out: list[Finding] = []
        product = "mariadb" if "mariadb" in v.get("version", "").lower() else "mysql"
        for user, host, plugin, auth in data["users"]:
            ident = f"'{user}'@'{host}'"
            if user == "":
                out.append(
                    self.finding(
                        "anonymous",
                        Severity.HIGH,
                        f"Anonymous database account {ident} exists",
                        loc,
                        detail="Anyone can log in without a user name.",
                        remediation=f"DROP USER {ident};  (or run mysql_secure_installation)",
                        evidence={"account": ident},
                        pci=("8.2.1",),
                        key=ident,
                    )
                )
            no_pw = auth == "" and plugin in (
                "",
                "mysql_native_password",
                "caching_sha2_password",
                "sha256_password",
                "ed25519",
            )
            if no_pw:
                out.append(
                    self.finding(
                        "no-password",
                        Severity.HIGH,
                        f"Database account {ident} has no password",
                        loc,
                        detail="Any program or user on the machine (or the network, for remote hosts) can "
                        "log in.",
                        remediation=f"ALTER USER {ident} IDENTIFIED BY '<strong password>';  or use "
                        "unix_socket "
                        "authentication for root.",
                        evidence={"account": ident, "plugin": plugin},
                        pci=("8.3.1", "8.6.2"),
                        key=ident,
                    )
                )
            if user == "root" and host not in LOOPBACK:
                out.append(
                    self.finding(
                        "remote-root",
                        Severity.HIGH,
                        f"Database root may log in from {host!r}",
                        loc,
                        remediation=f"DROP USER {ident};  (administer from the server itself)",
                        evidence={"account": ident},
                        pci=("7.2.1", "2.2.6"),
                        key=ident,
                    )
                )
        if v.get("local_infile", "").upper() == "ON":
            out.append(
                self.finding(
                    "local-infile",
                    Severity.MEDIUM,
                    "LOAD DATA LOCAL INFILE is enabled (local_infile=ON)",
                    loc,
                    detail="An SQL injection can read files from the web server through the client.",
                    remediation="Add `local_infile = 0` under [mysqld] and restart the database.",
                    evidence={"local_infile": v.get("local_infile")},
                    pci=("2.2.6",),
                    cwe=("CWE-73",),
                )
            )
        bind = v.get("bind_address", "")
        networked = v.get("skip_networking", "OFF").upper() != "ON"
        public = networked and bind not in LOOPBACK
        if public:
            out.append(
                self.finding(
                    "bind-address",
                    Severity.HIGH,
                    f"The database listens on all addresses (bind-address={bind or '*'})",
                    loc,
                    remediation="Set `bind-address = 127.0.0.1` under [mysqld] (unless a separate app server "
                    "connects over a private network) and restart.",
                    evidence={"bind_address": bind},
                    pci=("1.3.1", "1.4.1"),
                )
            )
            if (
                v.get("have_ssl", "").upper() != "YES"
                or v.get("require_secure_transport", "OFF").upper() != "ON"
            ):
                out.append(
                    self.finding(
                        "tls",
                        Severity.MEDIUM,
                        "Remote database connections are not forced to use TLS",
                        loc,
                        remediation="Configure ssl_cert/ssl_key and set `require_secure_transport = ON`.",
                        evidence={
                            "have_ssl": v.get("have_ssl"),
                            "require_secure_transport": v.get("require_secure_transport"),
                        },
                        pci=("4.2.1", "2.2.7"),
                        cwe=("CWE-319",),
                    )
                )
        out += self._eol(product, v.get("version", ""), loc)
        return out

    def _postgres(self, data: dict[str, Any], loc: str) -> list[Finding]:
        out: list[Finding] = []
        if not data["superuser"]:
            out.append(
                self.finding(
                    "partial",
                    Severity.INFO,
                    "Database accounts and pg_hba.conf not checked (not a superuser)",
                    loc,
                    detail="Connect with a superuser DSN to let ShopGuard read pg_authid and "
                    "pg_hba_file_rules.",
                    key="partial",
                )
            )
        for line, typ, _dbs, users, address, method in data["hba"]:
            if method == "trust":
                who = (
                    "anyone on this machine"
                    if typ == "local"
                    else f"anyone connecting from {address or 'anywhere'}"
                )
                sev = (
                    Severity.MEDIUM
                    if typ == "local" or (address or "") in ("127.0.0.1", "::1")
                    else Severity.CRITICAL
                )
                out.append(
                    self.finding(
                        "trust",
                        sev,
                        f"pg_hba.conf line {line}: {who} can log in as any user without a password",
                        loc,
                        remediation="Change the method from `trust` to `scram-sha-256` (or `peer` for local "
                        "sockets) and `SELECT pg_reload_conf();`",
                        evidence={
                            "line": line,
                            "type": typ,
                            "users": list(users or []),
                            "address": address,
                            "method": method,
                        },
                        pci=("8.3.1", "7.2.1"),
                        key=f"hba:{line}",
                    )
                )
        for name, is_super, no_password in data["roles"]:
            if is_super and name != "postgres":
                out.append(
                    self.finding(
                        "superuser",
                        Severity.MEDIUM,
                        f"Login role {name!r} is a database superuser",
                        loc,
                        detail="Superusers can read every table and run programs as the database server.",
                        remediation=f'ALTER ROLE "{name}" NOSUPERUSER;  '
                        "(grant only what the application needs)",
                        evidence={"role": name},
                        pci=("7.2.1", "7.2.2"),
                        key=name,
                    )
                )
            if no_password:
                out.append(
                    self.finding(
                        "no-password",
                        Severity.LOW,
                        f"Login role {name!r} has no password",
                        loc,
                        detail="Safe only while every pg_hba.conf rule for it uses peer or cert "
                        "authentication.",
                        remediation=f"ALTER ROLE \"{name}\" PASSWORD '<strong password>';",
                        evidence={"role": name},
                        pci=("8.3.1",),
                        key=name,
                    )
                )
        listen = str(data["listen"])
        if any(a.strip() not in LOOPBACK for a in listen.split(",") if a.strip()):
            out.append(
                self.finding(
                    "listen-addresses",
                    Severity.MEDIUM,
                    f"PostgreSQL listens on {listen!r}",
                    loc,
                    remediation="Set `listen_addresses = 'localhost'` unless an app server connects over "
                    "a private "
                    "network.",
                    evidence={"listen_addresses": listen},
                    pci=("1.3.1",),
                )
            )
            if str(data["ssl"]).lower() != "on":
                out.append(
                    self.finding(
                        "tls",
                        Severity.MEDIUM,
                        "PostgreSQL accepts network connections without TLS (ssl=off)",
                        loc,
                        remediation="Set `ssl = on` with a certificate, and `hostssl` rules in pg_hba.conf.",
                        evidence={"ssl": data["ssl"]},
                        pci=("4.2.1",),
                        cwe=("CWE-319",),
                    )
                )
        out += self._eol("postgresql", str(data["version"]), loc)
        return out
