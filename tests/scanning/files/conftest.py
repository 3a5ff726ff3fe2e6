"""Fixtures for the file-scan tests: one compiled engine per session, sample paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopguard.scanning.files.engine import Engine, EngineSpec, make_spec

DATA = Path(__file__).resolve().parents[2] / "data" / "files"
MALICIOUS = DATA / "malicious"
CLEAN = DATA / "clean"
SHOP_HOSTS = ("shop.example",)


@pytest.fixture(scope="session")
def spec() -> EngineSpec:
    return make_spec(shop_hosts=SHOP_HOSTS)


@pytest.fixture(scope="session")
def pure_spec() -> EngineSpec:
    return make_spec(shop_hosts=SHOP_HOSTS, use_hyperscan=False)


@pytest.fixture(scope="session")
def engine(spec: EngineSpec) -> Engine:
    return Engine(spec)
