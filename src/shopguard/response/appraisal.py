"""Damage appraisal: what data, how many people, where, and over which time window."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shopguard.response.jurisdictions import UnknownJurisdiction, normalise


class DataKind(StrEnum):
    CARD_NUMBER = "card_number"
    CVV = "cvv"
    CARD_EXPIRY = "card_expiry"
    NAME = "name"
    EMAIL = "email"
    PASSWORD = "password"  # noqa: S105 - a data kind, not a secret
    ADDRESS = "address"
    PHONE = "phone"
    GOVERNMENT_ID = "government_id"
    BANK_ACCOUNT = "bank_account"


HIGH_RISK_KINDS = frozenset(
    {DataKind.CARD_NUMBER, DataKind.CVV, DataKind.PASSWORD, DataKind.GOVERNMENT_ID, DataKind.BANK_ACCOUNT}
)


class AppraisalError(ValueError):
    """A malformed appraisal; the message names the field."""


class Appraisal(BaseModel):
    """What the breach touched. ``affected`` counts people per jurisdiction code."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data_kinds: Annotated[tuple[DataKind, ...], Field(min_length=1)]
    records: Annotated[int, Field(ge=0)]
    affected: dict[str, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    window_start: datetime | None = None
    window_end: datetime | None = None
    high_risk: bool | None = None
    """Likely high risk to people; when not given, assumed for card data, passwords, ids."""
    encrypted: bool = False
    """The data was strongly encrypted and the key was not taken (many laws then need no notice)."""
    assessed_at: datetime | None = None
    summary: str = ""

    @field_validator("affected")
    @classmethod
    def _codes(cls, v: dict[str, int]) -> dict[str, int]:
        out: dict[str, int] = {}
        for code, n in v.items():
            try:
                key = normalise(code)
            except UnknownJurisdiction as exc:
                raise ValueError(str(exc)) from None
            out[key] = out.get(key, 0) + n
        return out

    @field_validator("window_start", "window_end", "assessed_at")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("give a time zone, e.g. 2026-03-28T10:00:00+01:00 or ...Z")
        return v.astimezone(UTC) if v is not None else None

    @model_validator(mode="after")
    def _window(self) -> Appraisal:
        if self.window_start and self.window_end and self.window_end < self.window_start:
            raise ValueError("window_end is before window_start")
        if self.affected and sum(self.affected.values()) > self.records:
            raise ValueError("the people counted per jurisdiction in 'affected' exceed 'records'")
        return self

    @property
    def is_high_risk(self) -> bool:
        if self.high_risk is not None:
            return self.high_risk
        return not self.encrypted and bool(HIGH_RISK_KINDS & set(self.data_kinds))

    def has(self, *kinds: DataKind) -> bool:
        return all(k in self.data_kinds for k in kinds)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def parse_appraisal(data: dict[str, Any], source: str = "appraisal") -> Appraisal:
    """Validate an appraisal; errors name the field, what was found and what was expected."""
    try:
        return Appraisal.model_validate(data)
    except ValidationError as exc:
        parts = []
        for e in exc.errors():
            where = ".".join(str(p) for p in e["loc"]) or "(top level)"
            msg = str(e["msg"]).removeprefix("Value error, ")
            if e["type"] == "extra_forbidden":
                msg = "unknown field"
            elif e["type"] == "enum":
                msg = f"found {e.get('input')!r}; expected one of {', '.join(k.value for k in DataKind)}"
            parts.append(f"{where}: {msg}")
        raise AppraisalError(f"{source}: invalid appraisal: " + "; ".join(parts)) from None
