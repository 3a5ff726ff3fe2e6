"""Tabletop drills: walk a scenario through the plan without a real incident.

Each incident phase is presented with the plan's actions and the runbook's tasks for it; the
facilitator records notes, gaps and how long the phase took. Non-interactive drills read an
answers file (YAML or JSON) so they can be scripted and tested.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopguard.config import Config
from shopguard.db.base import utcnow
from shopguard.response.models import Drill
from shopguard.response.plan import latest, missing_contacts
from shopguard.response.runbooks import INCIDENT_PHASES, ROLE_TITLES, Phase, phasebook, runbook


class DrillError(ValueError):
    pass


class PhaseAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    minutes: Annotated[float, Field(ge=0, le=24 * 60)] | None = None
    """Tabletop time the phase took; when absent the measured time is used."""
    notes: str = ""
    gaps: tuple[str, ...] = ()


class Answers(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    facilitator: str = ""
    participants: tuple[str, ...] = ()
    phases: dict[str, PhaseAnswer] = Field(default_factory=dict)


def parse_answers(data: Any, source: str) -> Answers:
    try:
        ans = Answers.model_validate(data)
    except ValidationError as exc:
        e = exc.errors()[0]
        where = ".".join(str(p) for p in e["loc"])
        raise DrillError(f"{source}: {where}: {str(e['msg']).removeprefix('Value error, ')}") from None
    unknown = [p for p in ans.phases if p not in INCIDENT_PHASES]
    if unknown:
        raise DrillError(
            f"{source}: phases.{unknown[0]}: unknown phase; expected {', '.join(INCIDENT_PHASES)}"
        )
    return ans


@dataclass
class PhaseStep:
    phase: str
    title: str
    actions: list[str]
    tasks: list[str]


@dataclass
class DrillResult:
    drill_id: int
    scenario: str
    phases: list[dict[str, Any]]
    gaps: list[str] = field(default_factory=list)

    @property
    def total_seconds(self) -> float:
        return sum(float(p["seconds"]) for p in self.phases)


def steps(scenario: str) -> list[PhaseStep]:
    book = runbook(scenario)
    by_id: dict[str, Phase] = {p.id: p for p in phasebook().phases}
    out = []
    for ph in INCIDENT_PHASES:
        p = by_id[ph]
        out.append(
            PhaseStep(
                ph,
                p.title,
                list(p.actions),
                [
                    f"{t.task} ({ROLE_TITLES[t.owner]}, within {t.due_hours:g} h)"
                    for t in book.tasks
                    if t.phase == ph
                ],
            )
        )
    return out


Ask = Callable[[PhaseStep], PhaseAnswer]


def run_drill(
    s: Session,
    config: Config,
    scenario: str,
    *,
    store: str = "",
    answers: Answers | None = None,
    ask: Ask | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> DrillResult:
    """Walk every incident phase; ``ask`` is called per phase in interactive mode."""
    book = runbook(scenario)
    answers = answers or Answers()
    started = utcnow()
    at = started
    phases: list[dict[str, Any]] = []
    gaps: list[str] = []
    missing = set(missing_contacts(config))
    for role in sorted({t.owner for t in book.tasks} & missing):
        gaps.append(f"no contact for {ROLE_TITLES[role]}, who owns tasks in this scenario")
    for step in steps(scenario):
        t0 = clock()
        ans = ask(step) if ask is not None else answers.phases.get(step.phase, PhaseAnswer())
        measured = clock() - t0
        seconds = ans.minutes * 60 if ans.minutes is not None else measured
        end = at + timedelta(seconds=seconds)
        phases.append(
            {
                "phase": step.phase,
                "started_at": at.isoformat(),
                "finished_at": end.isoformat(),
                "seconds": round(seconds, 3),
                "notes": ans.notes,
                "gaps": list(ans.gaps),
            }
        )
        gaps.extend(f"{step.phase}: {g}" for g in ans.gaps)
        at = end
    plan = latest(s, "published")
    d = Drill(
        scenario=scenario,
        store=store,
        facilitator=answers.facilitator,
        participants=", ".join(answers.participants),
        started_at=started,
        finished_at=utcnow(),
        phases=phases,
        gaps=gaps,
        plan_version=plan.version if plan else None,
    )
    s.add(d)
    s.flush()
    return DrillResult(d.id, scenario, phases, gaps)


def last_drill(s: Session) -> Drill | None:
    return s.scalar(select(Drill).order_by(Drill.finished_at.desc()).limit(1))


def drills(s: Session) -> list[Drill]:
    return list(s.scalars(select(Drill).order_by(Drill.id)))


def age_days(d: Drill, now: datetime | None = None) -> float:
    now = now or datetime.now(UTC)
    return (now - d.finished_at).total_seconds() / 86400
