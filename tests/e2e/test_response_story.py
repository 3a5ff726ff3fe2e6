"""A store owner's year with the response protocol, as real subprocess commands.

A plan saved, approved and published and a drill turn the litmus row ready; an incident whose GDPR
notice is overdue turns it back to gaps until the notice is marked sent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.response.conftest import write_config


def test_response_litmus_story(tmp_path: Path) -> None:
    cfg = write_config(
        tmp_path / "shopguard.toml", extra="[response]\ninsurer_notification_window_hours = 96\n"
    )
    env = {
        **os.environ,
        "SHOPGUARD_DB": f"sqlite:///{tmp_path / 'sg.db'}",
        "SHOPGUARD_ACTOR": "Aoife Brennan",
    }

    def sg(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "shopguard", *args, "--config", str(cfg)],
                              capture_output=True, text=True, env=env, timeout=120)  # fmt: skip

    def response_row() -> dict:  # type: ignore[type-arg]
        r = sg("audit", "--only", "response", "-f", "json", "--fail-on", "never")
        assert r.returncode == 0, r.stderr
        return next(x for x in json.loads(r.stdout)["litmus"] if x["protocol"] == "response")

    for step in (("response", "plan", "--save", "-o", str(tmp_path / "plan.md")),
                 ("response", "approve"), ("response", "publish")):  # fmt: skip
        r = sg(*step)
        assert r.returncode == 0, r.stderr
    answers = tmp_path / "drill.yaml"
    answers.write_text("phases:\n  identification: {minutes: 5}\n  containment: {minutes: 20}\n")
    assert sg("response", "drill", "lost-laptop", "--answers", str(answers)).returncode == 0
    assert response_row()["status"] == "ready"

    # A laptop with an order export went missing 80 hours ago: the GDPR 72 hours have passed, the
    # insurer's 96 hours have not, and no card data is involved (no acquirer notice).
    lost = (datetime.now(UTC) - timedelta(hours=80)).strftime("%Y-%m-%dT%H:%MZ")
    r = sg(
        "incident",
        "open",
        "Laptop with order export stolen",
        "--scenario",
        "lost-laptop",
        "--discovered",
        lost,
    )
    assert r.returncode == 0, r.stderr
    row = response_row()
    assert row["status"] == "gaps"
    assert any("Incident #1: notice to The lead data protection supervisory authority is overdue" in a
               for a in row["actions"])  # fmt: skip
    r = sg("incident", "notify", "1", "--sent", "gdpr-authority", "--method", "portal")
    assert r.returncode == 0, r.stdout + r.stderr  # nothing else overdue: exit 0
    assert response_row()["status"] == "ready"
