"""The ``[stores.pages]`` section: how the payment-page monitor reaches the checkout."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


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


class DomainAge(_Model):
    """RDAP look-ups of when third-party script and request domains were registered.

    These are the only requests ShopGuard sends to hosts that are not the store's:
    the RDAP bootstrap file and the registries' RDAP servers it lists (or ``base_url``).
    So they are off unless turned on here.
    """

    enabled: bool = False
    bootstrap_url: str = "https://data.iana.org/rdap/dns.json"
    """IANA's RDAP bootstrap file for domains (RFC 9224): which server answers for which TLD."""
    base_url: str | None = None
    """Send every look-up to this RDAP server instead (e.g. a company RDAP proxy or mirror)."""
    min_age_days: Annotated[int, Field(ge=1, le=36_500)] = 90
    """A domain registered fewer days ago than this is reported as recently registered."""
    timeout_s: Annotated[float, Field(gt=0, le=60)] = 5.0
    """Per request; a registry that does not answer in time leaves the domain unchecked."""
    max_lookups: Annotated[int, Field(ge=1, le=500)] = 40
    """Uncached look-ups per run, so a page with many origins cannot flood the registries."""
    cache: Path | None = None
    """JSON cache of registration dates (they do not change); default: rdap-cache.json in the
    data folder."""

    @field_validator("bootstrap_url", "base_url")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        if v is not None and urlsplit(v).scheme not in ("http", "https"):
            raise ValueError("expected an http:// or https:// URL")
        return v


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
    chromium_args: tuple[str, ...] = ()
    """Extra Chromium flags, e.g. ``--proxy-server=...`` or ``--host-resolver-rules=...`` to reach a
    staging copy of the shop under its real host names."""
    domain_age: DomainAge = DomainAge()
