"""Fixtures for the policies tests: a sample company's config and a fresh database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from shopguard.config import Config, parse_config
from shopguard.db import open_database


def make_config(**overrides: Any) -> Config:
    data: dict[str, Any] = {
        "company": {"name": "Acme Socks Ltd", "legal_name": "Acme Socks Limited", "country": "GB"},
        "contacts": {"payment_processor": {"organisation": "Stripe"}},
        "stores": [
            {
                "name": "socks",
                "storefront_url": "https://socks.example",
                "platform": "woocommerce",
                "payment_integration": "iframe",
            }
        ],
        "policies": {
            "hosting": "a dedicated VPS at Hetzner",
            "roles": {"owner": "Ann Owner", "security_lead": "Sam Lead", "developer": "Dev Agency Ltd"},
        },
    }
    data.update(overrides)
    return parse_config(data)


@pytest.fixture
def config() -> Config:
    return make_config()


@pytest.fixture
def sdb(sqlite_url: str) -> Iterator[sessionmaker[Session]]:
    sessions = open_database(sqlite_url)
    yield sessions
    sessions.kw["bind"].dispose()
