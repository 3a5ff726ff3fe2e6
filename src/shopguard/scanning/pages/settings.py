"""The ``[stores.pages]`` section: how the payment-page monitor reaches the checkout."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Step(_Model):
    """One step towards a filled basket: open a page, click, or type into a field."""

    goto: str | None = None
    """A URL or a path on the storefront, e.g. ``/products/house-espresso``."""
    click: str | None = None
    """A CSS selector, e.g. ``form[action='/basket/add'] button``."""
    fill: str | None = None
    """A CSS selector of a field to type ``value`` into."""
    value: str = ""

    @model_validator(mode="after")
    def _one_action(self) -> Step:
        if sum(x is not None for x in (self.goto, self.click, self.fill)) != 1:
            raise ValueError("give exactly one of goto, click or fill")
        return self


class PageMonitor(_Model):
    """Payment-page script monitor (PCI DSS 6.4.3 and 11.6.1)."""

    enabled: bool = True
    steps: tuple[Step, ...] = ()
    """Add-to-cart steps run before the basket and checkout are inventoried."""
    interval_hours: Annotated[int, Field(ge=1, le=168)] = 24
    """How often the monitor should run: daily by default, weekly at the least (PCI DSS 11.6.1)."""
    settle_ms: Annotated[int, Field(ge=0, le=30_000)] = 1500
    """How long to wait after a page loads for scripts that arrive late."""
    step_timeout_ms: Annotated[int, Field(ge=100, le=60_000)] = 5000
    """How long a step waits for its element to appear."""
    chromium: str = "/usr/bin/chromium"
