"""The ``[insurance]`` section of shopguard.toml: figures for the breach-cost estimate.

Imports only pydantic and the standard library (config.py imports this module).
The defaults and their source are shown wherever the estimate is shown; change them
here when you have a better figure (your broker's, or a newer report).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


DEFAULT_COST_PER_RECORD = 173
DEFAULT_COST_SOURCE = (
    "IBM Security / Ponemon Institute, Cost of a Data Breach Report 2024 (July 2024): "
    "average cost per record of customer PII, USD 173"
)
DEFAULT_DWELL_DAYS = 258
DEFAULT_DWELL_SOURCE = (
    "IBM Security / Ponemon Institute, Cost of a Data Breach Report 2024: "
    "mean time to identify and contain a breach, 258 days"
)


class InsuranceSettings(_Model):
    """Inputs for the coverage gap analysis."""

    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "USD"
    customer_records: Annotated[int, Field(ge=0)] = 0
    """Customer records the store holds (accounts, past orders with personal data)."""
    card_transactions_per_year: Annotated[int, Field(ge=0)] = 0
    """Card payments per year through the store's checkout (a skimmer sees each one)."""
    cost_per_record: Annotated[float, Field(gt=0)] = DEFAULT_COST_PER_RECORD
    cost_per_record_source: str = DEFAULT_COST_SOURCE
    exposure_days: Annotated[int, Field(ge=1, le=3650)] = DEFAULT_DWELL_DAYS
    """How long a skimmer is assumed to run before it is found and removed."""
    exposure_days_source: str = DEFAULT_DWELL_SOURCE
    required_coverages: tuple[str, ...] | None = None
    """Coverage kinds the store needs; None means every kind ShopGuard knows."""
    renewal_warn_days: tuple[int, ...] = (60, 30, 7)
