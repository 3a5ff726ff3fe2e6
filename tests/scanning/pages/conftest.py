"""Fixtures for the payment-page monitor: a real loopback shop and ShopGuard's database."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "web"))
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def sessions(tmp_path: Path):
    from shopguard.db import open_database

    return open_database(f"sqlite:///{tmp_path / 'sg.db'}")
