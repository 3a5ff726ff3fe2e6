"""Append-only hash chains, shared by every tamper-evident log ShopGuard keeps
(the incident timeline, the dashboard's audit log).

Each entry's hash is sha256(previous hash + canonical JSON of the entry). The owner
row keeps the newest hash and the count, so changing, removing, re-ordering or
cutting entries off the end is detected by :func:`verify_chain`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


def chain_time(at: datetime) -> str:
    """Microsecond UTC text: survives both SQLite and PostgreSQL unchanged."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(body: Mapping[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev: str, text: str) -> str:
    return hashlib.sha256((prev + text).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainLink:
    """One stored entry, as the verifier sees it."""

    seq: int
    prev_hash: str
    hash: str
    text: str
    """The entry's canonical JSON, recomputed from the stored columns."""
    label: str
    """How a person recognises the entry in a report."""


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    problems: tuple[str, ...]


def verify_chain(
    links: Iterable[ChainLink],
    recorded_count: int,
    recorded_head: str,
    noun: str = "entry",
    owner: str = "log",
    plural: str = "entries",
) -> ChainReport:
    """Check every link and the owner's recorded count and newest hash."""
    problems: list[str] = []
    prev = GENESIS
    n = 0
    for link in links:
        n += 1
        if link.seq != n:
            problems.append(f"{noun} {n} is missing (found {link.seq} in its place)")
        if link.prev_hash != prev:
            problems.append(f"{link.label}: does not link to the {noun} before it")
        if chain_hash(link.prev_hash, link.text) != link.hash:
            problems.append(f"{link.label}: content changed after it was written (hash mismatch)")
        prev = link.hash
    if n != recorded_count:
        problems.append(f"the {owner} records {recorded_count} {plural} but {n} are stored")
    if n and recorded_head != prev:
        problems.append(f"the newest {noun} is not the one the {owner} recorded (removed or replaced)")
    return ChainReport(not problems, n, tuple(problems))
