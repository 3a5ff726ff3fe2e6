"""Underwriting readiness: answer the insurer's control questions from evidence.

Each answer says where it came from. ShopGuard evidence (its own stored check runs and
findings, and the policies protocol's training records) wins over the owner's word;
when both exist and disagree, the sheet says so, because a wrong answer on an
application can void cover when it matters most.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopguard.db.base import utcnow
from shopguard.db.models import CheckExecution, FindingRecord
from shopguard.db.triage import untriaged
from shopguard.findings import Severity
from shopguard.insurance.models import UnderwritingAnswer
from shopguard.policies import policy_published, training_summary

DATA = Path(__file__).resolve().parent.parent / "data" / "insurance" / "underwriting.yaml"
EVIDENCE_MAX_AGE = timedelta(days=90)


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    evidence: tuple[str, ...]
    policy: str


def _load() -> dict[str, Question]:
    raw = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    return {
        q["id"]: Question(q["id"], q["question"], tuple(q.get("evidence") or ()), q.get("policy") or "")
        for q in raw["questions"]
    }


QUESTIONS = _load()


@dataclass(frozen=True)
class Answer:
    question: Question
    answer: str
    """yes, no, partial, unanswered."""
    source: str
    """evidence, owner, none."""
    detail: str
    owner_answer: str | None = None
    conflict: bool = False
    policy_published: bool | None = None


def _matches(check_id: str, prefix: str) -> bool:
    return check_id == prefix or check_id.startswith(prefix + ".")


def check_evidence(
    s: Session, store: str, prefixes: tuple[str, ...], now: datetime
) -> tuple[str, str] | None:
    """(yes|no, detail) from stored runs of checks under the prefixes; None without recent clean runs."""
    execs = [
        e
        for e in s.scalars(
            select(CheckExecution).where(CheckExecution.store == store, CheckExecution.outcome == "ok")
        )
        if any(_matches(e.check_id, p) for p in prefixes)
    ]
    if not execs:
        return None
    last = max(e.finished_at for e in execs)
    if now - last > EVIDENCE_MAX_AGE:
        return None
    rank = {sv.value: sv.rank for sv in Severity}
    open_ = [
        f
        for f in s.scalars(
            select(FindingRecord).where(
                FindingRecord.store == store,
                FindingRecord.status != "resolved",
                untriaged(),
            )
        )
        if any(_matches(f.check_id, p) for p in prefixes) and rank.get(f.severity, 0) >= Severity.MEDIUM.rank
    ]
    checks = sorted({e.check_id for e in execs})
    when = f"{last:%Y-%m-%d}"
    if open_:
        titles = "; ".join(sorted({f.title for f in open_})[:3])
        return (
            "no",
            f"ShopGuard ({len(checks)} check(s), last run {when}) has {len(open_)} open finding(s): {titles}",
        )
    return (
        "yes",
        f"ShopGuard ({len(checks)} check(s) under {', '.join(prefixes)}, last run {when}) found no problems",
    )


def training_evidence(s: Session, now: datetime) -> tuple[str, str] | None:
    current, total = training_summary(s, now.date())
    if not total:
        return None
    answer = "yes" if current == total else ("partial" if current else "no")
    return answer, f"ShopGuard training records: {current} of {total} people current"


def answers(s: Session, store: str, now: datetime | None = None) -> list[Answer]:
    """Every question answered from evidence, else the owner's answer, else unanswered."""
    now = now or utcnow()
    owner = {a.question_id: a for a in s.scalars(select(UnderwritingAnswer))}
    out = []
    for q in QUESTIONS.values():
        ev: tuple[str, str] | None = None
        if "source:training" in q.evidence:
            ev = training_evidence(s, now)
        prefixes = tuple(p for p in q.evidence if not p.startswith("source:"))
        if ev is None and prefixes:
            ev = check_evidence(s, store, prefixes, now)
        mine = owner.get(q.id)
        pub = policy_published(s, q.policy) if q.policy else None
        if ev is not None:
            conflict = mine is not None and mine.answer != ev[0]
            detail = ev[1] + (f" (owner answered {mine.answer!r})" if conflict and mine else "")
            out.append(Answer(q, ev[0], "evidence", detail, mine.answer if mine else None, conflict, pub))
        elif mine is not None:
            detail = f"answered by {mine.answered_by or 'the owner'} on {mine.answered_at:%Y-%m-%d}"
            if mine.note:
                detail += f": {mine.note}"
            out.append(Answer(q, mine.answer, "owner", detail, mine.answer, False, pub))
        else:
            out.append(
                Answer(
                    q, "unanswered", "none", "no ShopGuard evidence yet and no owner answer", None, False, pub
                )
            )
    return out


def answer_sheet(rows: list[Answer], fmt: str, company: str, store: str, now: datetime) -> str:
    """The sheet to hand to a broker: Markdown, CSV or YAML."""
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["id", "question", "answer", "source", "detail", "conflict", "policy", "policy_published"])
        for a in rows:
            w.writerow(
                [
                    a.question.id,
                    a.question.question,
                    a.answer,
                    a.source,
                    a.detail,
                    a.conflict,
                    a.question.policy,
                    a.policy_published,
                ]
            )
        return buf.getvalue()
    if fmt == "yaml":
        data: list[dict[str, Any]] = [
            {
                "id": a.question.id,
                "question": a.question.question,
                "answer": a.answer,
                "source": a.source,
                "detail": a.detail,
                "conflict": a.conflict,
                "policy": a.question.policy,
                "policy_published": a.policy_published,
            }
            for a in rows
        ]
        return yaml.safe_dump(
            {"company": company, "store": store, "generated": now.isoformat(), "answers": data},
            sort_keys=False,
            allow_unicode=True,
        )
    lines = [
        f"# Underwriting answers: {company} ({store})",
        "",
        f"Generated by ShopGuard on {now:%Y-%m-%d %H:%M} UTC. Answers marked *evidence* come from "
        "ShopGuard's own checks and records; *owner* answers are what the owner told ShopGuard. "
        "Check every answer before you sign an application. "
        "ShopGuard is not an insurer or broker and this is not insurance advice.",
        "",
        "| Question | Answer | Source | Detail |",
        "| --- | --- | --- | --- |",
    ]
    for a in rows:
        flag = " **(conflict)**" if a.conflict else ""
        lines.append(
            f"| {a.question.question} | {a.answer}{flag} | {a.source} | {a.detail.replace('|', '/')} |"
        )
    return "\n".join(lines) + "\n"
