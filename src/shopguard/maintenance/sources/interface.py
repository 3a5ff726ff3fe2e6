"""What a vulnerability source is (after pip-audit's ``VulnerabilityService``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from shopguard.maintenance.matching import Match
from shopguard.maintenance.model import Component


class SourceError(Exception):
    """A source could not answer (database missing, API unreachable ...)."""


class VulnerabilitySource(Protocol):
    """Answers "which advisories affect these components" for a batch."""

    name: str
    """Short name shown in evidence (``local``, ``osv-api``)."""

    def query(self, components: Sequence[Component]) -> dict[Component, list[Match]]:
        """Every component with at least one match; withdrawn advisories never match."""
        ...
