from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from demo.run import DemoHandle, start
from tests.web.monitoring_support import Site


@pytest.fixture(scope="module")
def demo_shop() -> Iterator[DemoHandle]:
    """The bundled demo shop on free loopback ports, for whole-command runs."""
    handle = start(shop_port=0, provider_port=0)
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def demo_config(demo_shop: DemoHandle, tmp_path: Path) -> Path:
    return demo_shop.write_config(tmp_path / "shopguard.toml")


@pytest.fixture
def site() -> Iterator[Site]:
    """A loopback web site that counts its hits (a monitor's target)."""
    s = Site()
    yield s
    s.close()
