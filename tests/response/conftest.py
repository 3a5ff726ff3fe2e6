"""Fixtures for the response protocol: a config like the demo's, with or without every contact."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest

from shopguard.config import Config, parse_config

REPO = Path(__file__).resolve().parents[2]
DEMO_TOML = REPO / "demo" / "shopguard.toml"


def demo_data() -> dict[str, Any]:
    data = tomllib.loads(DEMO_TOML.read_text(encoding="utf-8"))
    data["stores"][0]["web_roots"] = [str(REPO / "demo" / "shop" / "static")]
    return data


FORENSICS = {
    "name": "Incident desk",
    "email": "dfir@example.com",
    "phone": "+353 1 555 0199",
    "organisation": "Corvid Forensics (fictional)",
}


def make_config(*, complete: bool = True, **response: Any) -> Config:
    data = copy.deepcopy(demo_data())
    if complete:
        data["contacts"]["forensic_investigator"] = dict(FORENSICS)
    if response:
        data["response"] = response
    return parse_config(data, "test")


@pytest.fixture
def demo_config() -> Config:
    """The demo shop's config as shipped: the forensic investigator is missing."""
    return make_config(complete=False)


@pytest.fixture
def full_config() -> Config:
    return make_config(complete=True)


def write_config(path: Path, *, complete: bool = True, extra: str = "") -> Path:
    text = DEMO_TOML.read_text(encoding="utf-8").replace(
        'web_roots = ["shop/static"]', f'web_roots = ["{REPO / "demo" / "shop" / "static"}"]'
    )
    if complete:
        text = text.replace(
            "[[stores]]",
            '[contacts.forensic_investigator]\nname = "Incident desk"\nemail = "dfir@example.com"\n'
            'organisation = "Corvid Forensics (fictional)"\n\n' + extra + "\n[[stores]]",
        )
    path.write_text(text, encoding="utf-8")
    return path
