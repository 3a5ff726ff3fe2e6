"""Fixtures for the insurance tests: a sample store's config, a fresh database, a policy."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from shopguard.config import Config, parse_config
from shopguard.db import open_database
from shopguard.db.base import utcnow
from shopguard.insurance.coverages import KINDS


def make_config(**insurance: Any) -> Config:
    return parse_config(
        {
            "company": {"name": "Acme Socks Ltd"},
            "stores": [
                {
                    "name": "socks",
                    "storefront_url": "https://socks.example",
                    "platform": "woocommerce",
                    "payment_integration": "iframe",
                }
            ],
            "insurance": insurance,
        }
    )


def policy(
    number: str = "CY-1",
    start: date | None = None,
    end: date | None = None,
    limit: Any = "1M",
    kinds: Any = None,
    **extra: Any,
) -> dict[str, Any]:
    today = utcnow().date()
    start = start or today - timedelta(days=100)
    end = end or today + timedelta(days=200)
    return {
        "insurer": "Example Mutual",
        "policy_number": number,
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "currency": "USD",
        "aggregate_limit": limit,
        "retention": "2,500",
        "broker": {"name": "Bea Broker", "email": "bea@broker.example", "phone": "+44 20 0000 0000"},
        "notification": {"window_hours": 48, "hotline": "+44 800 000 000", "email": "claims@example.com"},
        "exclusions": ["unencrypted portable devices"],
        "coverages": {k: {"limit": limit} for k in (kinds if kinds is not None else [k.id for k in KINDS])},
        **extra,
    }


@pytest.fixture
def config() -> Config:
    return make_config()


@pytest.fixture
def sdb(sqlite_url: str) -> Iterator[sessionmaker[Session]]:
    sessions = open_database(sqlite_url)
    yield sessions
    sessions.kw["bind"].dispose()
