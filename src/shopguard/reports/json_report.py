"""The JSON report. Its shape is versioned and described by
``schemas/report-1.json``; later commands reuse the same finding keys."""

from __future__ import annotations

import json
from typing import Any

from shopguard.db.repository import StoredFinding, StoredRun
from shopguard.readiness import litmus
from shopguard.reports.common import DISCLAIMER, ordered, tool

SCHEMA_VERSION = "1.0"


def finding_dict(sf: StoredFinding) -> dict[str, Any]:
    d = sf.finding.to_dict()
    d["store"] = sf.store
    d["status"] = sf.status.value
    d["triage"] = {
        "state": sf.triage.value,
        "reason": sf.triage_reason,
        "expires_at": sf.triage_expires_at.isoformat() if sf.triage_expires_at else None,
        "lapsed": sf.triage_lapsed,
    }
    d["first_seen"] = sf.first_seen.isoformat()
    d["last_seen"] = sf.last_seen.isoformat()
    return d


def report_dict(run: StoredRun) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": tool(),
        "disclaimer": DISCLAIMER,
        "run": {
            "id": run.id,
            "kind": run.kind,
            "status": run.status,
            "stores": list(run.stores),
            "selector": run.selector,
            "started_at": run.started_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "checks_run": run.checks_run,
            "check_errors": run.check_errors,
            "errors": [
                {"store": s, "check_id": c, "outcome": o, "message": m}
                for s, c, o, m in run.executions
                if o != "ok"
            ],
        },
        "findings": [finding_dict(sf) for sf in ordered(run.findings)],
        "litmus": [row.to_dict() for row in litmus(run)],
    }


def render_json(run: StoredRun) -> str:
    return json.dumps(report_dict(run), indent=2, ensure_ascii=False) + "\n"
