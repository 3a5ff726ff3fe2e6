"""Soft-404 baseline: how the shop answers paths that cannot exist.

Many shops answer 200 with a "page not found" page (or the home page) for every
unknown path. A probe's answer that looks like one of these is not a finding.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass

from shopguard.scanning.web.client import FetchError, Response, ScopedClient

_NUMBERS = re.compile(rb"\d+")


@dataclass(frozen=True)
class Baseline:
    answers: tuple[Response, ...]

    @property
    def catch_all(self) -> bool:
        """The shop answers 2xx to paths that do not exist."""
        return any(200 <= r.status < 300 for r in self.answers)

    def looks_like(self, resp: Response) -> bool:
        """True when ``resp`` is (nearly) the shop's not-found answer."""
        body = _normalise(resp.body)
        for base in self.answers:
            if not 200 <= base.status < 300:
                continue
            other = _normalise(base.body)
            if body == other:
                return True
            if other and body and abs(len(body) - len(other)) <= max(64, len(other) // 20):
                return _similar(body, other)
        return False

    def matches(self, pattern: re.Pattern[bytes]) -> bool:
        """The not-found answer itself matches a signature (so the signature proves nothing)."""
        return any(200 <= b.status < 300 and pattern.search(b.body) for b in self.answers)


def _normalise(body: bytes) -> bytes:
    return _NUMBERS.sub(b"0", body[:65536])


def _similar(a: bytes, b: bytes) -> bool:
    """Cheap similarity: share of common 16-byte shingles."""
    sa = {a[i : i + 16] for i in range(0, max(1, len(a) - 15), 8)}
    sb = {b[i : i + 16] for i in range(0, max(1, len(b) - 15), 8)}
    if not sa or not sb:
        return False
    return len(sa & sb) / max(len(sa), len(sb)) > 0.8


async def baseline(client: ScopedClient, origin: str) -> Baseline:
    """Ask for three random paths shaped like the probes (a file, a dotfile, a folder)."""
    tag = secrets.token_hex(6)
    paths = [f"/shopguard-{tag}.php", f"/.shopguard-{tag}", f"/shopguard-{tag}/", f"/shopguard-{tag}.sql"]
    results = await asyncio.gather(
        *(client.get(origin + p, follow_redirects=True, cache=False, max_bytes=65536) for p in paths),
        return_exceptions=True,
    )
    answers = tuple(r for r in results if isinstance(r, Response))
    for r in results:
        if isinstance(r, BaseException) and not isinstance(r, FetchError):
            raise r
    return Baseline(answers)
