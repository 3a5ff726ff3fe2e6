"""The ``[response]`` section of shopguard.toml (pydantic and stdlib only)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class ResponseSettings(BaseModel):
    """How ShopGuard runs the emergency response protocol."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    insurer_notification_window_hours: Annotated[int, Field(ge=1, le=24 * 365)] | None = None
    """Hours your cyber policy gives you to notify the insurer. Read from the insurance
    register when it has one; this setting is the fallback."""
    acquirer_notification_hours: Annotated[int, Field(ge=1, le=24 * 30)] = 24
    """Hours your acquirer contract gives you to report a suspected card-data compromise."""
    auto_open: bool = True
    """Open incidents automatically from findings that call for one (skimmer, checkout file change,
    new payment-page script, long outage)."""
    downtime_threshold_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 15
    """An outage longer than this opens an incident."""
    plan_max_age_days: Annotated[int, Field(ge=1, le=3650)] = 365
    drill_max_age_days: Annotated[int, Field(ge=1, le=3650)] = 365
