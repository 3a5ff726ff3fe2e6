"""When was a domain registered? Asked over RDAP, the registries' JSON successor to WHOIS.

* The server for a TLD comes from IANA's bootstrap file (RFC 9224): ``services`` is a list of
  ``[[labels...], [base URLs...]]``; the longest matching label suffix wins, an https URL is
  preferred, and the query is ``<base>domain/<name>``. ``base_url`` in the settings replaces all this.
* The answer is an RFC 9083 domain object; the registration date is the ``eventDate`` of the
  ``events`` entry whose ``eventAction`` is ``registration``. A 404 means the registry does not
  know the name.
* Only the registrable domain is asked about (``cdn.example.co.uk`` -> ``example.co.uk``), computed
  with the ICANN section of the Public Suffix List shipped in the ``publicsuffixlist`` package
  (no download at run time).
* Registration dates do not change, so they are cached for good in a JSON file; "not found" and
  "no date given" are cached for a week; failures are not cached.

These look-ups are the only requests ShopGuard sends to hosts other than the store's, which is why
:class:`~shopguard.scanning.pages.settings.DomainAge` is off by default.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import quote

import httpx

from shopguard import __version__
from shopguard.paths import user_data_dir
from shopguard.scanning.pages.settings import DomainAge

log = logging.getLogger(__name__)

MAX_BODY = 1_000_000
BOOTSTRAP_TTL = timedelta(days=7)
NEGATIVE_TTL = timedelta(days=7)
PARALLEL = 4
USER_AGENT = f"ShopGuard/{__version__} (RDAP domain-age check)"


class RdapError(Exception):
    """The bootstrap file or an RDAP answer could not be used; the message names the URL."""


@dataclass(frozen=True)
class Registration:
    domain: str
    registered: datetime | None
    """None: the registry does not know the name, gave no date, or could not be asked (``error``)."""
    source: str = ""
    """The URL asked, or ``cache``."""
    error: str = ""
    """Why the registry could not be asked or its answer was unusable (not cached)."""
    note: str = ""
    """``not found`` or ``no registration date given``."""

    def age_days(self, now: datetime) -> float | None:
        if self.registered is None:
            return None
        return (now - self.registered).total_seconds() / 86400


@lru_cache(maxsize=1)
def _psl() -> Any:
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList(only_icann=True)


def registrable_domain(host: str) -> str | None:
    """The name a registrant bought (``a.b.example.co.uk`` -> ``example.co.uk``); None for IP
    addresses, bare suffixes and single labels such as ``localhost``."""
    host = host.strip().strip("[]").lower().rstrip(".")
    if not host or "." not in host:
        return None
    with contextlib.suppress(ValueError):
        ipaddress.ip_address(host)
        return None
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    found = _psl().privatesuffix(host)
    return str(found) if found else None


def parse_registration(doc: Any, url: str) -> datetime | None:
    """The registration date in an RFC 9083 domain object (None when it gives none)."""
    if not isinstance(doc, dict):
        raise RdapError(f"{url}: the RDAP answer is not a JSON object")
    if doc.get("objectClassName", "domain") != "domain":
        raise RdapError(f"{url}: expected objectClassName 'domain', got {doc.get('objectClassName')!r}")
    events = doc.get("events", [])
    if not isinstance(events, list):
        raise RdapError(f"{url}: 'events' is not a list")
    for ev in events:
        if isinstance(ev, dict) and ev.get("eventAction") == "registration":
            raw = ev.get("eventDate")
            try:
                when = datetime.fromisoformat(str(raw))
            except ValueError:
                raise RdapError(f"{url}: registration eventDate {raw!r} is not an RFC 3339 date") from None
            return when if when.tzinfo else when.replace(tzinfo=UTC)
    return None


def servers_for(bootstrap: Any, domain: str, url: str) -> list[str]:
    """Base URLs the bootstrap file gives for ``domain`` (longest label match; https first)."""
    services = bootstrap.get("services") if isinstance(bootstrap, dict) else None
    if not isinstance(services, list):
        raise RdapError(f"{url}: not an RDAP bootstrap file (no 'services' list)")
    labels = domain.lower().split(".")
    best: tuple[int, list[str]] = (0, [])
    for n, entry in enumerate(services):
        if not (isinstance(entry, list) and len(entry) >= 2 and all(isinstance(x, list) for x in entry[:2])):
            raise RdapError(f"{url}: services[{n}] is not [[labels], [URLs]]")
        for suffix in entry[0]:
            parts = str(suffix).lower().strip(".").split(".")
            if len(parts) > best[0] and labels[-len(parts) :] == parts:
                best = (len(parts), [str(u) for u in entry[1]])
    return sorted(best[1], key=lambda u: not u.startswith("https://"))


class RdapClient:
    """Looks up registration dates with a cache; use as ``async with RdapClient(settings) as c``."""

    def __init__(self, settings: DomainAge, now: datetime | None = None) -> None:
        self.settings = settings
        self.now = now or datetime.now(UTC)
        self.cache_path = settings.cache or user_data_dir() / "rdap-cache.json"
        self.requests = 0
        """Requests actually sent (cache hits send none)."""
        self._cache = self._load_cache()
        self._bootstrap: Any = None
        self._lock = asyncio.Lock()
        self._http = httpx.AsyncClient(
            timeout=settings.timeout_s,
            follow_redirects=False,
            headers={"Accept": "application/rdap+json, application/json", "User-Agent": USER_AGENT},
            trust_env=False,
        )

    async def __aenter__(self) -> RdapClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.aclose()
        try:
            self._save_cache()
        except OSError as exc:  # a read-only data folder costs repeat look-ups, not the run
            log.warning("cannot write the RDAP cache %s: %s", self.cache_path, exc.strerror)

    # -- cache -------------------------------------------------------------------------------

    def _load_cache(self) -> dict[str, Any]:
        try:
            data = json.loads(self.cache_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"domains": {}}
        except (OSError, ValueError) as exc:
            raise RdapError(
                f"{self.cache_path}: unreadable RDAP cache ({exc}); delete it to start over"
            ) from None
        if not isinstance(data, dict) or not isinstance(data.get("domains"), dict):
            raise RdapError(f"{self.cache_path}: not a ShopGuard RDAP cache; delete it to start over")
        return data

    def _save_cache(self) -> None:
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".rdap-", dir=self.cache_path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self._cache, fh, indent=1, sort_keys=True)
        os.replace(tmp, self.cache_path)

    def _cached(self, domain: str) -> Registration | None:
        row = self._cache["domains"].get(domain)
        if not isinstance(row, dict):
            return None
        if row.get("registered"):
            return Registration(domain, datetime.fromisoformat(row["registered"]), "cache")
        checked = datetime.fromisoformat(row.get("checked", "1970-01-01T00:00:00+00:00"))
        if self.now - checked < NEGATIVE_TTL:
            return Registration(domain, None, "cache", note=row.get("note", ""))
        return None

    # -- network -----------------------------------------------------------------------------

    async def _get_json(self, url: str) -> tuple[int, Any]:
        self.requests += 1
        try:
            async with asyncio.timeout(self.settings.timeout_s):
                async with self._http.stream("GET", url) as resp:
                    body = b""
                    async for chunk in resp.aiter_bytes():
                        body += chunk
                        if len(body) > MAX_BODY:
                            raise RdapError(f"{url}: answer larger than {MAX_BODY} bytes")
                    status = resp.status_code
        except TimeoutError:
            raise RdapError(f"{url}: no answer within {self.settings.timeout_s:g} s") from None
        except httpx.HTTPError as exc:
            raise RdapError(f"{url}: {type(exc).__name__}: {exc}") from None
        if status == 404:
            return status, None
        if status != 200:
            raise RdapError(f"{url}: HTTP {status}")
        try:
            return status, json.loads(body)
        except ValueError:
            raise RdapError(f"{url}: the answer is not JSON") from None

    async def _servers(self, domain: str) -> list[str]:
        if self.settings.base_url:
            return [self.settings.base_url]
        async with self._lock:
            if self._bootstrap is None:
                url = self.settings.bootstrap_url
                row = self._cache.get("bootstrap")
                fresh = (
                    isinstance(row, dict)
                    and row.get("url") == url
                    and self.now - datetime.fromisoformat(row["fetched"]) < BOOTSTRAP_TTL
                )
                if fresh:
                    self._bootstrap = row["data"]  # type: ignore[index]
                else:
                    status, doc = await self._get_json(url)
                    if doc is None:
                        raise RdapError(f"{url}: HTTP {status}")
                    servers_for(doc, "check.example", url)  # validates the shape once
                    self._bootstrap = doc
                    self._cache["bootstrap"] = {"url": url, "fetched": self.now.isoformat(), "data": doc}
        return servers_for(self._bootstrap, domain, self.settings.bootstrap_url)

    async def lookup(self, domain: str) -> Registration:
        """One registrable domain's registration date (cache first)."""
        hit = self._cached(domain)
        if hit is not None:
            return hit
        try:
            servers = await self._servers(domain)
        except RdapError as exc:
            return Registration(domain, None, self.settings.bootstrap_url, str(exc))
        if not servers:
            return Registration(domain, None, "", f"no RDAP server for .{domain.rsplit('.', 1)[-1]}")
        base = servers[0] if servers[0].endswith("/") else servers[0] + "/"
        url = f"{base}domain/{quote(domain)}"
        try:
            _, doc = await self._get_json(url)
            when = None if doc is None else parse_registration(doc, url)
        except RdapError as exc:
            return Registration(domain, None, url, str(exc))
        note = "not found" if doc is None else "" if when else "no registration date given"
        row: dict[str, Any] = {"checked": self.now.isoformat(), "source": url}
        if when is not None:
            row["registered"] = when.isoformat()
        else:
            row["note"] = note
        self._cache["domains"][domain] = row
        return Registration(domain, when, url, note=note)

    async def lookup_all(
        self, domains: Iterable[str], time_left: float | None = None
    ) -> dict[str, Registration]:
        """Look up each domain once; uncached ones beyond ``max_lookups``, or not answered
        within ``time_left`` seconds (the rest of the check's time), are left unchecked."""
        wanted = sorted(set(domains))
        out: dict[str, Registration] = {}
        todo: list[str] = []
        for d in wanted:
            hit = self._cached(d)
            if hit is not None:
                out[d] = hit
            elif len(todo) < self.settings.max_lookups:
                todo.append(d)
            else:
                out[d] = Registration(d, None, "", "look-up limit for one run reached")
        gate = asyncio.Semaphore(PARALLEL)

        async def one(d: str) -> None:
            async with gate:
                out[d] = await self.lookup(d)

        try:
            async with asyncio.timeout(time_left):
                await asyncio.gather(*(one(d) for d in todo))
        except TimeoutError:
            for d in todo:
                out.setdefault(d, Registration(d, None, "", "the check ran out of time"))
        return out
