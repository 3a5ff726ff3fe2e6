"""The PCI DSS v4.0.1 requirement catalogue shipped in ``shopguard/data/pci``.

Summaries are ShopGuard's own words; the SAQ tags and their sources are documented in
the data file's header. Loaded once and validated: a broken data file is a bug, so
it fails loudly naming the entry.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "pci"
DATA_FILE = "pci/requirements.yaml"
EVIDENCE_KINDS = frozenset({"scan", "config", "document", "record", "third-party", "interview"})


class Saq(StrEnum):
    """Merchant Self-Assessment Questionnaires ShopGuard handles."""

    A = "A"
    A_EP = "A-EP"
    D = "D"

    @property
    def long_name(self) -> str:
        return {
            Saq.A: "SAQ A (v4.0.1 r1, January 2025)",
            Saq.A_EP: "SAQ A-EP (v4.0.1)",
            Saq.D: "SAQ D for Merchants (v4.0.1)",
        }[self]

    @classmethod
    def parse(cls, text: str) -> Saq:
        norm = text.strip().upper().removeprefix("SAQ").strip().replace("_", "-")
        if norm in {"AEP", "A-EP"}:
            return cls.A_EP
        if norm in {"D", "D-MERCHANT", "D-MERCHANTS"}:
            return cls.D
        if norm == "A":
            return cls.A
        raise ValueError(f"unknown SAQ {text!r}: expected A, A-EP or D")


class CatalogueError(ValueError):
    """The shipped catalogue is malformed (a packaging bug)."""


@dataclass(frozen=True)
class Requirement:
    id: str
    summary: str
    saqs: frozenset[Saq]
    evidence: str
    """Kind of evidence: scan, config, document, record, third-party, interview."""
    checks: tuple[str, ...] = ()
    """ShopGuard check-id prefixes that can supply auto-evidence."""
    frequency_days: int | None = None
    """The mapped checks must have run within this many days to count."""
    sp_only: bool = False
    issuer_only: bool = False
    saq_a_2024: bool = False
    """In SAQ A v4.0.1 of October 2024, removed by r1 of January 2025."""

    @property
    def group(self) -> str:
        """Principal requirement ("6") or appendix ("A2")."""
        return self.id.split(".", 1)[0]

    @property
    def sort_key(self) -> tuple[int, ...]:
        head, *rest = self.id.split(".")
        first = 100 + int(head[1:]) if head.startswith("A") else int(head)
        return (first, *(int(p) for p in rest))


@dataclass(frozen=True)
class Catalogue:
    standard: str
    groups: dict[str, str]
    requirements: tuple[Requirement, ...]
    expected_counts: dict[str, dict[str, int]]
    saq_a_r1_removed: tuple[str, ...]

    def get(self, req_id: str) -> Requirement:
        for r in self.requirements:
            if r.id == req_id:
                return r
        raise KeyError(req_id)

    def has(self, req_id: str) -> bool:
        return any(r.id == req_id for r in self.requirements)

    def for_saq(self, saq: Saq) -> list[Requirement]:
        return [r for r in self.requirements if saq in r.saqs]

    def counts(self, saq: Saq) -> dict[str, int]:
        """Requirements per group for an SAQ, plus ``total`` (computed from the data)."""
        c = Counter(r.group for r in self.for_saq(saq))
        out = {"total": sum(c.values())}
        out.update(dict(c))
        return out


def _requirement(raw: dict[str, Any], groups: dict[str, str]) -> Requirement:
    rid = str(raw.get("id", ""))
    where = f"{DATA_FILE}: requirement {rid or '(no id)'}"
    known = {"id", "s", "saq", "ev", "checks", "freq", "sp_only", "issuer_only", "saq_a_2024"}
    if extra := set(raw) - known:
        raise CatalogueError(f"{where}: unknown field(s) {sorted(extra)}")
    if not rid or rid.split(".")[0] not in groups:
        raise CatalogueError(f"{where}: id must start with a known group")
    summary = str(raw.get("s", "")).strip()
    if not summary:
        raise CatalogueError(f"{where}: summary 's' is empty")
    try:
        saqs = frozenset(Saq.parse(x) for x in raw.get("saq", []))
    except ValueError as exc:
        raise CatalogueError(f"{where}: {exc}") from None
    ev = raw.get("ev")
    if ev not in EVIDENCE_KINDS:
        raise CatalogueError(f"{where}: evidence kind {ev!r} not in {sorted(EVIDENCE_KINDS)}")
    checks = tuple(str(c) for c in raw.get("checks", []))
    freq = raw.get("freq")
    if checks and not isinstance(freq, int):
        raise CatalogueError(f"{where}: 'checks' given without an integer 'freq' (days)")
    return Requirement(
        id=rid,
        summary=summary,
        saqs=saqs,
        evidence=ev,
        checks=checks,
        frequency_days=freq,
        sp_only=bool(raw.get("sp_only", False)),
        issuer_only=bool(raw.get("issuer_only", False)),
        saq_a_2024=bool(raw.get("saq_a_2024", False)),
    )


def parse_catalogue(text: str) -> Catalogue:
    data = yaml.safe_load(text)
    groups = {str(k): str(v) for k, v in data["groups"].items()}
    reqs = tuple(_requirement(r, groups) for r in data["requirements"])
    ids = [r.id for r in reqs]
    if len(ids) != len(set(ids)):
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        raise CatalogueError(f"{DATA_FILE}: duplicate requirement ids {dupes}")
    structure = data["structure"]
    counts = {str(k): {str(g): int(n) for g, n in v.items()} for k, v in structure["counts"].items()}
    return Catalogue(
        standard=str(structure["standard"]),
        groups=groups,
        requirements=tuple(sorted(reqs, key=lambda r: r.sort_key)),
        expected_counts=counts,
        saq_a_r1_removed=tuple(structure["saq_a_r1_removed"]),
    )


@cache
def load_catalogue() -> Catalogue:
    text = (DATA_DIR / "requirements.yaml").read_text(encoding="utf-8")
    return parse_catalogue(text)
