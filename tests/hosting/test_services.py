"""Databases (the machine's MariaDB and PostgreSQL, with a throwaway weak user),
Redis (the machine's and real redis-server instances started here), listening
sockets, firewall rules, isolation and the score."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pymysql
import pytest

from shopguard.findings import Finding, Severity
from shopguard.hosting import SCORE_FORMULA, hardening_score
from shopguard.hosting.checks.network import (
    iptables_default_deny,
    nft_default_deny,
    parse_ss,
    ufw_default_deny,
)

from .conftest import free_port, ids, run_hosting, stop, store_for, wait_port

MYSQL = "mysql://root@127.0.0.1:3306/test"
PG = "postgresql://postgres@127.0.0.1:5432/test"


def _mysql(sql: str) -> None:
    conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="", autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


@pytest.fixture
def weak_mysql_users() -> Iterator[list[str]]:
    name = f"sg_weak_{secrets.token_hex(4)}"
    made = [f"'{name}'@'%'", "'root'@'192.0.2.%'"]
    _mysql(f"CREATE USER {made[0]} IDENTIFIED BY ''")
    _mysql(f"CREATE USER IF NOT EXISTS {made[1]} IDENTIFIED BY '{secrets.token_hex(8)}'")
    yield made
    for user in made:
        _mysql(f"DROP USER IF EXISTS {user}")


def _db_findings(dsn: str) -> list[Finding]:
    r = run_hosting(store_for(databases=[{"name": "main", "dsn": dsn}]), ["hosting.db"])["hosting.db"]
    assert r.outcome.value == "ok", r.message
    return r.findings


def test_mariadb_weak_user_found_then_gone(weak_mysql_users: list[str]) -> None:
    anon, remote_root = weak_mysql_users
    found = {(f.check_id, f.key) for f in _db_findings(MYSQL)}
    assert ("hosting.db.no-password", anon) in found
    assert ("hosting.db.remote-root", remote_root) in found
    assert ("hosting.db.no-password", remote_root) not in found  # it has a password
    assert ("hosting.db.local-infile", "") in found  # the machine's MariaDB has local_infile=ON
    for user in weak_mysql_users:
        _mysql(f"DROP USER {user}")
    after = {(f.check_id, f.key) for f in _db_findings(MYSQL)}
    assert ("hosting.db.no-password", anon) not in after and (
        "hosting.db.remote-root",
        remote_root,
    ) not in after


@pytest.fixture
def weak_pg_role() -> Iterator[str]:
    name = f"sg_weak_{secrets.token_hex(4)}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as c:
        c.execute(f'CREATE ROLE "{name}" LOGIN SUPERUSER')
    yield name
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as c:
        c.execute(f'DROP ROLE IF EXISTS "{name}"')


def test_postgres_weak_role_and_trust_found(weak_pg_role: str) -> None:
    found = {(f.check_id, f.key): f for f in _db_findings(PG)}
    assert ("hosting.db.superuser", weak_pg_role) in found
    assert ("hosting.db.no-password", weak_pg_role) in found
    trust = [f for (cid, _), f in found.items() if cid == "hosting.db.trust"]
    assert trust and all(f.evidence["method"] == "trust" for f in trust)  # the machine's pg_hba uses trust
    assert all(
        "password" not in str(f.evidence).lower() or "no-password" in f.check_id for f in found.values()
    )
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as c:
        c.execute(f'DROP ROLE "{weak_pg_role}"')
    after = {(f.check_id, f.key) for f in _db_findings(PG)}
    assert ("hosting.db.superuser", weak_pg_role) not in after


def test_unreachable_database_is_a_clear_error() -> None:
    port = free_port()
    r = run_hosting(
        store_for(databases=[{"name": "gone", "dsn": f"mysql://root@127.0.0.1:{port}/x"}]), ["hosting.db"]
    )
    res = r["hosting.db"]
    assert (
        res.outcome.value == "error"
        and f"could not check database gone at mysql://root@127.0.0.1:{port}/x" in res.message
    )


@pytest.fixture
def redis_servers(tmp_path: Path) -> Iterator[dict[str, str]]:
    procs = {}
    for name, extra in (
        ("locked", ["--requirepass", secrets.token_hex(12)]),
        ("open", ["--protected-mode", "no"]),
    ):
        port = free_port()
        procs[name] = (
            port,
            subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(tmp_path),
                    *extra,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            ),
        )
        wait_port(port, procs[name][1])
    yield {name: f"127.0.0.1:{port}" for name, (port, _) in procs.items()}
    for _, p in procs.values():
        stop(p)


def test_redis(redis_servers: dict[str, str]) -> None:
    absent = f"127.0.0.1:{free_port()}"
    r = run_hosting(
        store_for(redis=(redis_servers["locked"], redis_servers["open"], absent)), ["hosting.redis"]
    )
    found = {(f.check_id, f.location, f.severity) for f in r["hosting.redis"].findings}
    assert found == {
        ("hosting.redis.no-password", redis_servers["open"], Severity.MEDIUM),
        ("hosting.redis.protected-mode", redis_servers["open"], Severity.MEDIUM),
        ("hosting.redis.not-checked", absent, Severity.INFO),
    }
    assert not any("requirepass" in str(f.evidence) for f in r["hosting.redis"].findings)


SS_RECORDED = """\
tcp   LISTEN 0      80         0.0.0.0:3306       0.0.0.0:*    users:(("mariadbd",pid=3777,fd=21))
tcp   LISTEN 0      511        127.0.0.1:6379     0.0.0.0:*    users:(("redis-server",pid=2210,fd=6))
tcp   LISTEN 0      511            [::]:6379          [::]:*    users:(("redis-server",pid=2210,fd=7))
tcp   LISTEN 0      511          [::1]:11211         [::]:*    users:(("memcached",pid=9,fd=7))
tcp   LISTEN 0      511         0.0.0.0:443        0.0.0.0:*    users:(("nginx",pid=1,fd=7))
udp   UNCONN 0      0      127.0.0.53%lo:53         0.0.0.0:*    users:(("systemd-resolve",pid=5,fd=13))
"""


def test_ss_classification_recorded() -> None:
    ls = parse_ss(SS_RECORDED)
    public = [(x.address, x.port, x.process) for x in ls if not x.loopback]
    assert public == [
        ("0.0.0.0", 3306, "mariadbd"),
        ("[::]", 6379, "redis-server"),
        ("0.0.0.0", 443, "nginx"),
    ]


def test_listening_on_this_machine() -> None:
    port = free_port()
    import socket

    with socket.socket() as s:  # a loopback listener is never a finding
        s.bind(("127.0.0.1", port))
        s.listen()
        r = run_hosting(store_for(), ["hosting.network"])["hosting.network.listening"]
        assert r.outcome.value == "ok", r.message
        assert not any(str(port) in f.location for f in r.findings)
        real = subprocess.run(["ss", "-Htln"], capture_output=True, text=True).stdout
        assert f"127.0.0.1:{port}" in real


def test_firewall_parsers_on_real_formats() -> None:
    nft = (
        "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n"
        "\t\tct state established,related accept\n\t}\n}\n"
    )
    assert nft_default_deny(nft) is True
    assert nft_default_deny(nft.replace("policy drop", "policy accept")) is False
    assert nft_default_deny("table inet x {\n}\n") is None
    assert iptables_default_deny("-P INPUT DROP\n-P FORWARD DROP\n-P OUTPUT ACCEPT\n") is True
    assert iptables_default_deny("-P INPUT ACCEPT\n") is False
    assert (
        ufw_default_deny("Status: active\nLogging: on (low)\nDefault: deny (incoming), allow (outgoing)\n")
        is True
    )
    assert ufw_default_deny("Status: inactive\n") is False


def test_firewall_on_this_machine_is_not_a_silent_pass() -> None:
    r = run_hosting(store_for(), ["hosting.firewall"])["hosting.firewall"]
    if r.outcome.value == "ok" and r.findings:
        assert r.findings[0].check_id == "hosting.firewall.no-default-deny"
        assert set(r.findings[0].evidence["tools"]) == {"ufw", "nft", "iptables", "firewall-cmd"}
    else:  # a firewall tool exists but cannot be read (no CAP_NET_ADMIN): a check error, never a pass
        assert r.outcome.value == "error" and "could not check the firewall" in r.message


def test_isolation_shared_vs_dedicated(scratch: Path) -> None:
    def conf(names: list[str]) -> Path:
        servers = "".join(
            f"server {{ listen 127.0.0.1:1; server_name {n}; root {scratch}; }}\n" for n in names
        )
        p = scratch / f"n{len(names)}.conf"
        p.write_text(f"pid {scratch}/x.pid; error_log {scratch}/e.log;\nevents {{}}\nhttp {{\n{servers}}}\n")
        return p

    shared = conf(["shop.example", "www.shop.example", "a-bakery.test", "plumber.test", "blog.other.test"])
    dedicated = conf(["shop.example", "www.shop.example", "_"])
    s = run_hosting(store_for(nginx_conf=str(shared), php_fpm_bin="/nonexistent"), ["hosting.isolation"])
    d = run_hosting(store_for(nginx_conf=str(dedicated), php_fpm_bin="/nonexistent"), ["hosting.isolation"])
    f = s["hosting.isolation"].findings
    assert [x.check_id for x in f] == ["hosting.isolation.shared"]
    assert f[0].evidence["other_domains"] == ["a-bakery.test", "other.test", "plumber.test"]
    assert "dedicated" in f[0].detail
    assert ids(d["hosting.isolation"]) == set()


def test_score_formula() -> None:
    def f(sev: Severity, n: int) -> list[Finding]:
        return [Finding(f"hosting.x{i}", sev, "t", "l") for i in range(n)]

    s = hardening_score(
        f(Severity.HIGH, 2) + f(Severity.MEDIUM, 3) + f(Severity.LOW, 4) + f(Severity.INFO, 9), 1
    )
    assert s.score == 100 - 20 - 12 - 4 - 2 == 62
    assert s.counts == {"critical": 0, "high": 2, "medium": 3, "low": 4, "info": 9}
    assert SCORE_FORMULA in s.describe() and "62/100" in s.describe()
    assert hardening_score(f(Severity.CRITICAL, 5)).score == 0
    assert (
        hardening_score([Finding("scanning.web.x", Severity.CRITICAL, "t", "l")]).score == 100
    )  # other protocols
