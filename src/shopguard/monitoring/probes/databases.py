"""MariaDB/MySQL and PostgreSQL: connect, run a query, replica lag where asked."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import unquote, urlsplit

from shopguard.monitoring.interface import ConfigProblem, ProbeContext, ProbeResult, Status
from shopguard.monitoring.secrets import resolve
from shopguard.monitoring.settings import DatabaseMonitor


def _mysql(spec: DatabaseMonitor, password: str | None) -> tuple[str, dict[str, Any]]:
    import pymysql

    parts = urlsplit(spec.dsn)
    if parts.scheme not in {"mysql", "mariadb", "mysql+pymysql"}:
        raise ConfigProblem(f"dsn scheme {parts.scheme!r}: expected mysql://user@host:port/db")
    conn = pymysql.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=unquote(parts.username or "root"),
        password=password or "",
        database=parts.path.lstrip("/") or None,
        connect_timeout=max(1, int(spec.timeout_s)),
        read_timeout=max(1, int(spec.timeout_s)),
        write_timeout=max(1, int(spec.timeout_s)),
    )
    try:
        with conn.cursor() as cur:
            cur.execute(spec.query)
            row = cur.fetchone()
            data: dict[str, Any] = {"result": str(row[0])[:100] if row else None}
            if spec.max_replication_lag_s is not None:
                cur.execute("SHOW SLAVE STATUS")
                status = cur.fetchone()
                if not status:
                    raise ConfigProblem("max_replication_lag_s is set but this server is not a replica")
                names = [d[0] for d in cur.description or ()]
                lag = dict(zip(names, status, strict=False)).get("Seconds_Behind_Master")
                data["replication_lag_s"] = None if lag is None else float(lag)
        return f"query answered ({data['result']})", data
    finally:
        conn.close()


def _postgres(spec: DatabaseMonitor, password: str | None) -> tuple[str, dict[str, Any]]:
    import psycopg

    parts = urlsplit(spec.dsn)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ConfigProblem(f"dsn scheme {parts.scheme!r}: expected postgresql://user@host:port/db")
    kwargs: dict[str, Any] = {"connect_timeout": max(1, int(spec.timeout_s))}
    if password is not None:
        kwargs["password"] = password
    with psycopg.connect(spec.dsn, autocommit=True, **kwargs) as conn:
        conn.execute(f"SET statement_timeout = {int(spec.timeout_s * 1000)}")
        row = conn.execute(spec.query).fetchone()
        data: dict[str, Any] = {"result": str(row[0])[:100] if row else None}
        if spec.max_replication_lag_s is not None:
            rec = conn.execute(
                "SELECT pg_is_in_recovery(), EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())"
            ).fetchone()
            if not rec or not rec[0]:
                raise ConfigProblem("max_replication_lag_s is set but this server is not a replica")
            data["replication_lag_s"] = None if rec[1] is None else float(rec[1])
    return f"query answered ({data['result']})", data


async def probe(spec: DatabaseMonitor, key: str, ctx: ProbeContext) -> ProbeResult:
    password = resolve(spec.password, ctx.allow_inline_secrets, "password")
    fn = _mysql if spec.kind == "mysql" else _postgres
    start = time.perf_counter()
    loop = asyncio.get_running_loop()
    try:
        message, data = await loop.run_in_executor(ctx.blocking, fn, spec, password)
    except ConfigProblem:
        raise
    except Exception as exc:  # driver errors differ per library; keep the words, drop the DSN
        text = str(exc).replace(password or "\0", "***") if password else str(exc)
        return ProbeResult(Status.DOWN, f"{spec.kind}: {type(exc).__name__}: {text}"[:300])
    latency = (time.perf_counter() - start) * 1000.0
    lag = data.get("replication_lag_s")
    if spec.max_replication_lag_s is not None:
        if lag is None:
            return ProbeResult(Status.DOWN, "replica is not replicating (no lag figure)", latency, data)
        if lag > spec.max_replication_lag_s:
            return ProbeResult(
                Status.DOWN,
                f"replica lags {lag:.0f} s (limit {spec.max_replication_lag_s:g} s)",
                latency,
                data,
            )
    return ProbeResult(Status.UP, message, latency, data)
