"""CycloneDX 1.6 output validated against the CycloneDX JSON schema shipped with cyclonedx-python-lib."""

from __future__ import annotations

import json
from pathlib import Path

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from typer.testing import CliRunner

from shopguard.cli.app import app
from shopguard.maintenance.inventory.host import LocalHost, scan_host
from shopguard.maintenance.sbom import render_cyclonedx


def test_sbom_of_host_and_shop_validates(demo_shop: Path, synced_home: Path) -> None:
    result = CliRunner().invoke(app, ["inventory", str(demo_shop), "--format", "cyclonedx"])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    assert bom["specVersion"] == "1.6"
    purls = {c["purl"] for c in bom["components"]}
    assert {"pkg:npm/jquery@1.12.4", "pkg:pypi/django@3.0.0", "pkg:pypi/jinja2@2.10"} <= purls
    # the whole host as well: hundreds of OS packages, each with its purl
    host = scan_host(LocalHost()).unique()
    host_text = render_cyclonedx(host, "web1")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(host_text) is None
    assert len(json.loads(host_text)["components"]) == len(host)


def test_sbom_validation_catches_a_broken_document() -> None:
    broken = json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": "x"}]})
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(broken) is not None
