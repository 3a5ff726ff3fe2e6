"""Shipped data: the plan's phases and the scenario runbooks."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

ROLES = (
    "security_lead",
    "hosting_provider",
    "payment_processor",
    "insurer",
    "lawyer",
    "forensic_investigator",
)
ROLE_TITLES = {
    "security_lead": "Security lead",
    "hosting_provider": "Hosting provider",
    "payment_processor": "Payment processor / acquirer",
    "insurer": "Cyber insurer",
    "lawyer": "Lawyer",
    "forensic_investigator": "Forensic investigator",
}
PHASE_IDS = (
    "preparation",
    "identification",
    "containment",
    "appraisal",
    "notification",
    "investigation",
    "recovery",
    "lessons_learned",
)
INCIDENT_PHASES = PHASE_IDS[1:]

Role = Literal[
    "security_lead", "hosting_provider", "payment_processor", "insurer", "lawyer", "forensic_investigator"
]
PhaseId = Literal[
    "preparation",
    "identification",
    "containment",
    "appraisal",
    "notification",
    "investigation",
    "recovery",
    "lessons_learned",
]


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Phase(_M):
    id: PhaseId
    title: str
    purpose: str
    lead: Role
    pci: tuple[str, ...]
    csf: tuple[str, ...]
    actions: tuple[str, ...]


class PhaseBook(_M):
    pci_elements: dict[str, str]
    csf_functions: dict[str, str]
    phases: tuple[Phase, ...]


class Task(_M):
    phase: PhaseId
    owner: Role
    due_hours: Annotated[float, Field(gt=0)]
    task: str


class Runbook(_M):
    title: str
    card_data: bool
    signs: tuple[str, ...]
    tasks: tuple[Task, ...]


def _load(name: str) -> object:
    text = resources.files("shopguard.data").joinpath(f"response/{name}").read_text(encoding="utf-8")
    return yaml.safe_load(text)


@cache
def phasebook() -> PhaseBook:
    book = PhaseBook.model_validate(_load("phases.yaml"))
    if tuple(p.id for p in book.phases) != PHASE_IDS:
        raise ValueError("phases.yaml: phases must be listed in plan order")
    return book


@cache
def runbooks() -> dict[str, Runbook]:
    raw = _load("runbooks.yaml")
    assert isinstance(raw, dict)
    return {k: Runbook.model_validate(v) for k, v in raw["runbooks"].items()}


def runbook(scenario: str) -> Runbook:
    books = runbooks()
    if scenario not in books:
        raise KeyError(f"unknown scenario {scenario!r}; expected one of: {', '.join(books)}")
    return books[scenario]
