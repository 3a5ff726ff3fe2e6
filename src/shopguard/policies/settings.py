"""The ``[policies]`` section of shopguard.toml: facts the policy templates need.

Imports only pydantic and the standard library (config.py imports this module).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Roles(_Model):
    """Who holds the jobs the policies name. A small shop often has one person in several."""

    owner: str = ""
    """The person accountable for the security program (signs off policies)."""
    security_lead: str = ""
    """Runs ShopGuard, reads findings, leads an incident."""
    developer: str = ""
    """Person or agency that changes the store's code."""
    customer_service: str = ""
    hosting_provider: str = ""
    """Company that runs the server, when it is not us."""


class PoliciesSettings(_Model):
    """Inputs for the policy library, the acknowledgement rules and training."""

    roles: Roles = Roles()
    payment_processor: str = ""
    """E.g. "Stripe". Falls back to contacts.payment_processor.organisation."""
    hosting: str = ""
    """E.g. "a dedicated VPS at Hetzner". Falls back to contacts.hosting_provider."""
    review_months: Annotated[int, Field(ge=1, le=24)] = 12
    """How often every policy is reviewed (PCI DSS 12.1.2: at least once every 12 months)."""
    ack_months: Annotated[int, Field(ge=1, le=24)] = 12
    """How long an acknowledgement of a published version stays valid."""
    training_months: Annotated[int, Field(ge=1, le=24)] = 12
    """Default validity of a training record (PCI DSS 12.6.3: at least once every 12 months)."""
    patch_days_critical: Annotated[int, Field(ge=1, le=90)] = 30
    """Days within which critical/high security patches are installed (PCI DSS 6.3.3: one month)."""
    log_retention_months: Annotated[int, Field(ge=1, le=120)] = 12
    data_retention_months: Annotated[int, Field(ge=1, le=240)] = 24
    """How long customer order data is kept before it is deleted or anonymised."""
    staff_roles: tuple[str, ...] = ("owner", "admin", "developer", "support", "staff")
    """Role names people on the roster may carry."""
