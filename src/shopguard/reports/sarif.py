"""SARIF 2.1.0 for code-scanning dashboards and CI."""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from shopguard.db.repository import StoredFinding, StoredRun
from shopguard.findings import Severity
from shopguard.reports.common import TOOL_NAME, TOOL_URI, ordered, tool

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub reads a 0.0-10.0 "security-severity" to rank security results.
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}


def _location(loc: str) -> dict[str, Any]:
    if "://" in loc:
        return {"physicalLocation": {"artifactLocation": {"uri": loc}}}
    if loc.startswith("/"):
        return {"physicalLocation": {"artifactLocation": {"uri": "file://" + quote(loc)}}}
    if "/" in loc and ":" not in loc:
        return {"physicalLocation": {"artifactLocation": {"uri": quote(str(PurePosixPath(loc)))}}}
    return {"logicalLocations": [{"fullyQualifiedName": loc, "kind": "resource"}]}


def _rule(sf: StoredFinding) -> dict[str, Any]:
    f = sf.finding
    tags = ["security", f.protocol, *(f"PCI-DSS-{r}" for r in f.refs.pci), *f.refs.cwe]
    return {
        "id": f.check_id,
        "name": f.check_id.replace(".", "/"),
        "shortDescription": {"text": f.title},
        "help": {"text": f.remediation or f.detail or f.title},
        "properties": {"tags": tags, "security-severity": _SECURITY_SEVERITY[f.severity]},
    }


def render_sarif(run: StoredRun) -> str:
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for sf in ordered(run.findings):
        f = sf.finding
        rules.setdefault(f.check_id, _rule(sf))
        text = (
            f.title
            + (f"\n{f.detail}" if f.detail else "")
            + (f"\nFix: {f.remediation}" if f.remediation else "")
        )
        result: dict[str, Any] = {
            "ruleId": f.check_id,
            "level": _LEVEL[f.severity],
            "message": {"text": text},
            "locations": [_location(f.location)],
            "partialFingerprints": {"shopguard/v1": f.fingerprint},
            "baselineState": {"new": "new", "open": "unchanged", "resolved": "absent"}[sf.status.value],
            "properties": {
                "severity": f.severity.value,
                "protocol": f.protocol,
                "store": sf.store,
                "pci": list(f.refs.pci),
                "cwe": list(f.refs.cwe),
                "advisories": list(f.refs.cve),
                "evidence": dict(f.evidence),
            },
        }
        if sf.triage.value != "none":
            result["suppressions"] = [
                {
                    "kind": "external",
                    "status": "accepted",
                    "justification": f"{sf.triage.value}: {sf.triage_reason}",
                }
            ]
        results.append(result)
    rule_list = list(rules.values())
    index = {r["id"]: i for i, r in enumerate(rule_list)}
    for r in results:
        r["ruleIndex"] = index[r["ruleId"]]
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": tool()["version"],
                        "informationUri": TOOL_URI,
                        "rules": rule_list,
                    }
                },
                "automationDetails": {"id": f"shopguard/{run.kind}/{run.id}"},
                "invocations": [
                    {
                        "executionSuccessful": run.status == "finished",
                        "startTimeUtc": run.started_at.isoformat().replace("+00:00", "Z"),
                        **(
                            {"endTimeUtc": run.finished_at.isoformat().replace("+00:00", "Z")}
                            if run.finished_at
                            else {}
                        ),
                        "toolExecutionNotifications": [
                            {
                                "level": "error",
                                "message": {"text": f"{c} ({s}): {o}: {m}"},
                                "descriptor": {"id": c},
                            }
                            for s, c, o, m in run.executions
                            if o != "ok"
                        ],
                    }
                ],
                "results": results,
            }
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
