"""The online source against a loopback server that answers like api.osv.dev from the real PyPI records.

The server decides "affected" from each record's own ``versions`` enumeration
(what OSV computes server-side), not from our range code, so agreement with the
local source is a real cross-check. It pages its answers like OSV does.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from packaging.version import InvalidVersion, Version

from shopguard.maintenance.matching import smallest_fix
from shopguard.maintenance.model import Component, Owner, make_purl
from shopguard.maintenance.sources.interface import SourceError
from shopguard.maintenance.sources.local import LocalSource
from shopguard.maintenance.sources.osv_api import OsvApiSource

from .conftest import OSV_PYPI, send

PAGE = 3


def load_records() -> dict[str, dict]:
    with zipfile.ZipFile(OSV_PYPI) as zf:
        return {n.removesuffix(".json"): json.loads(zf.read(n)) for n in zf.namelist()}


def listed(version: str, versions: list[str]) -> bool:
    """PEP 440 equality, as OSV compares PyPI versions (``3.0.0`` is ``3.0``)."""
    try:
        v = Version(version)
    except InvalidVersion:
        return version in versions
    for other in versions:
        try:
            if Version(other) == v:
                return True
        except InvalidVersion:
            continue
    return False


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def osv_server(http_server: Callable[..., str], calls: list[str]) -> str:
    records = load_records()
    by_name: dict[str, list[dict]] = {}
    for r in records.values():
        for a in r["affected"]:
            by_name.setdefault(norm(a["package"]["name"]), []).append(r)

    def querybatch(req: BaseHTTPRequestHandler) -> None:
        body = json.loads(req.rfile.read(int(req.headers["Content-Length"])))
        calls.append("querybatch")
        results = []
        for q in body["queries"]:
            name, version = norm(q["package"]["name"]), q["version"]
            ids = sorted(
                r["id"]
                for r in by_name.get(name, [])
                if not r.get("withdrawn")
                and any(
                    norm(a["package"]["name"]) == name and listed(version, a.get("versions", []))
                    for a in r["affected"]
                )
            )
            start = int(q.get("page_token") or 0)
            page = ids[start : start + PAGE]
            res: dict[str, object] = {"vulns": [{"id": i, "modified": records[i]["modified"]} for i in page]}
            if start + PAGE < len(ids):
                res["next_page_token"] = str(start + PAGE)
            results.append(res if page else {})
        send(req, 200, json.dumps({"results": results}).encode())

    def vuln(req: BaseHTTPRequestHandler) -> None:
        vid = req.path.rsplit("/", 1)[-1]
        calls.append(vid)
        if vid in records:
            send(req, 200, json.dumps(records[vid]).encode())
        else:
            send(req, 404, b'{"code":5,"message":"Bug not found."}')

    return http_server({"/v1/querybatch": querybatch, "/v1/vulns/": vuln})


def comp(name: str, version: str) -> Component:
    return Component(
        name, version, "PyPI", make_purl("PyPI", name, version), Owner.LIBRARY, "requirements.txt"
    )


def test_online_source_agrees_with_local(http_server: Callable[..., str], synced_db: Path) -> None:
    calls: list[str] = []
    src = OsvApiSource(osv_server(http_server, calls))
    batch = [comp("Django", "3.0.0"), comp("Jinja2", "2.10"), comp("jinja2", "3.1.4"), comp("PyYAML", "5.3")]
    online = src.query(batch)
    local = LocalSource(synced_db).query(batch)
    assert set(online) == set(local) and batch[2] not in online
    for c in online:
        assert {m.advisory.id for m in online[c]} == {m.advisory.id for m in local[c]}, c.name
        assert smallest_fix(c, online[c]) == smallest_fix(c, local[c])
    assert smallest_fix(batch[0], online[batch[0]]) == "3.1.12"
    assert calls.count("querybatch") >= 4  # Django's 10 advisories came back in pages of 3
    assert len([c for c in calls if c != "querybatch"]) == len(
        set(calls) - {"querybatch"}
    )  # each record fetched once
    assert all(m.advisory.source == "osv-api" for ms in online.values() for m in ms)


def test_online_source_errors_are_clear(http_server: Callable[..., str]) -> None:
    def broken(req: BaseHTTPRequestHandler) -> None:
        send(req, 503, b"unavailable")

    base = http_server({"/v1/": broken})
    with pytest.raises(SourceError, match=r"/v1/querybatch: HTTP 503"):
        OsvApiSource(base).query([comp("django", "3.0.0")])
