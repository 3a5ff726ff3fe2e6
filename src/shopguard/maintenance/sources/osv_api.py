"""The online source: OSV's API (``/v1/querybatch`` then ``/v1/vulns/{id}``).

querybatch answers only ids; each distinct advisory is then fetched once and
read with the same parser as the offline import, so fixed versions and the
smallest upgrade come out the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from shopguard.maintenance.matching import Match, merge_duplicates
from shopguard.maintenance.model import Component, normalise_name
from shopguard.maintenance.sources.interface import SourceError
from shopguard.maintenance.vulndb.db import AffectedRecord
from shopguard.maintenance.vulndb.osv import BadRecord, parse_record

OSV_API_URL = "https://api.osv.dev"
OSV_ECOSYSTEMS = {"PyPI", "npm", "Packagist", "Debian", "Ubuntu", "Red Hat", "AlmaLinux", "Rocky Linux"}
BATCH = 1000


class OsvApiSource:
    name = "osv-api"

    def __init__(
        self, base_url: str = OSV_API_URL, client: httpx.Client | None = None, timeout: float = 30.0
    ) -> None:
        self.base = base_url.rstrip("/")
        self.client = client or httpx.Client(timeout=timeout)

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        url = f"{self.base}{path}"
        try:
            resp = self.client.post(url, json=body)
        except httpx.HTTPError as exc:
            raise SourceError(f"{url}: {exc}") from exc
        if resp.status_code != 200:
            raise SourceError(f"{url}: HTTP {resp.status_code}")
        try:
            return resp.json()
        except ValueError as exc:
            raise SourceError(f"{url}: answer is not JSON") from exc

    def _vuln(self, vid: str) -> dict[str, Any]:
        url = f"{self.base}/v1/vulns/{vid}"
        try:
            resp = self.client.get(url)
        except httpx.HTTPError as exc:
            raise SourceError(f"{url}: {exc}") from exc
        if resp.status_code != 200:
            raise SourceError(f"{url}: HTTP {resp.status_code}")
        data = resp.json()
        if not isinstance(data, dict):
            raise SourceError(f"{url}: expected an OSV record")
        return data

    def query(self, components: Sequence[Component]) -> dict[Component, list[Match]]:
        asked = [c for c in components if c.version and c.ecosystem.split(":", 1)[0] in OSV_ECOSYSTEMS]
        hits: dict[Component, list[str]] = {}
        for i in range(0, len(asked), BATCH):
            chunk = asked[i : i + BATCH]
            queries: list[dict[str, Any]] = [
                {"package": {"name": _osv_name(c), "ecosystem": c.ecosystem}, "version": c.advisory_version}
                for c in chunk
            ]
            pending = list(range(len(chunk)))
            while pending:
                data = self._post("/v1/querybatch", {"queries": [queries[j] for j in pending]})
                results = data.get("results") if isinstance(data, dict) else None
                if not isinstance(results, list) or len(results) != len(pending):
                    raise SourceError(f"{self.base}/v1/querybatch: expected one result per query")
                nxt = []
                for j, res in zip(pending, results, strict=True):
                    ids = [
                        v["id"] for v in (res or {}).get("vulns") or () if isinstance(v, dict) and "id" in v
                    ]
                    if ids:
                        hits.setdefault(chunk[j], []).extend(ids)
                    if (res or {}).get("next_page_token"):
                        queries[j] = {**queries[j], "page_token": res["next_page_token"]}
                        nxt.append(j)
                pending = nxt
        records: dict[str, dict[str, Any]] = {}
        out: dict[Component, list[Match]] = {}
        for comp, ids in hits.items():
            matches = []
            for vid in dict.fromkeys(ids):
                if vid not in records:
                    records[vid] = self._vuln(vid)
                try:
                    adv, affected = parse_record(records[vid], source="osv-api")
                except BadRecord:
                    continue
                if adv.withdrawn:
                    continue
                base = comp.ecosystem.split(":", 1)[0]
                name = normalise_name(base, _osv_name(comp))
                aff = next(
                    (a for a in affected if a.name == name and a.ecosystem.split(":", 1)[0] == base),
                    AffectedRecord(vid, comp.ecosystem, name),
                )
                matches.append(Match(adv, aff))
            if matches:
                out[comp] = merge_duplicates(matches)
        return out


def _osv_name(c: Component) -> str:
    """OSV files Debian/Ubuntu advisories under the source package (``libssl3`` -> ``openssl``)."""
    if c.kind == "os-package" and c.match_keys:
        return c.match_keys[0][1]
    return c.name
