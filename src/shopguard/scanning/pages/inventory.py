"""The approved inventory: reading it, comparing a fresh browser inventory with it, and
recording approvals (``shopguard pages approve``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shopguard.db.base import utcnow
from shopguard.scanning.pages.browser import PageInventory
from shopguard.scanning.pages.models import PageApproval
from shopguard.scanning.pages.rdap import registrable_domain

HEADERS_ID = "security-headers"


@dataclass
class Approved:
    """One page's approved items, keyed by kind then identifier."""

    items: dict[str, dict[str, PageApproval]] = field(default_factory=dict)

    def has(self, kind: str, identifier: str) -> bool:
        return identifier in self.items.get(kind, {})

    def get(self, kind: str, identifier: str) -> PageApproval | None:
        return self.items.get(kind, {}).get(identifier)

    @property
    def empty(self) -> bool:
        return not any(k != "headers" and v for k, v in self.items.items())


def load_approved(db: sessionmaker[Session] | None, store: str) -> dict[str, Approved]:
    """Approvals per page label (``checkout``, ``basket``)."""
    out: dict[str, Approved] = {}
    if db is None:
        return out
    with db() as s:
        for a in s.scalars(select(PageApproval).where(PageApproval.store == store)):
            s.expunge(a)
            out.setdefault(a.page, Approved()).items.setdefault(a.kind, {})[a.identifier] = a
    return out


@dataclass(frozen=True)
class Item:
    kind: str
    identifier: str
    sha256: str = ""


def items_of(inv: PageInventory) -> list[Item]:
    """Everything on the page that must be authorised."""
    found: list[Item] = [Item(s.kind, s.identifier, s.sha256) for s in inv.scripts]
    found += [Item("iframe", u) for u in inv.iframes]
    found += [Item("destination", o) for o in inv.destinations]
    return found


def approve(
    db: sessionmaker[Session],
    store: str,
    inventories: Iterable[PageInventory],
    justification: str,
    approved_by: str,
    only: Sequence[str] = (),
) -> list[tuple[str, Item, str]]:
    """Record approvals for the inventories' items (all, or those whose identifier is in
    ``only``); re-approving an item updates its hash. Returns (page, item, action) rows."""
    done: list[tuple[str, Item, str]] = []
    with db.begin() as s:
        for inv in inventories:
            if inv.error:
                continue
            existing = {
                (a.kind, a.identifier): a
                for a in s.scalars(
                    select(PageApproval).where(PageApproval.store == store, PageApproval.page == inv.label)
                )
            }
            for item in items_of(inv):
                if only and item.identifier not in only:
                    continue
                row = existing.get((item.kind, item.identifier))
                if row is None:
                    row = PageApproval(
                        store=store,
                        page=inv.label,
                        kind=item.kind,
                        identifier=item.identifier,
                        sha256=item.sha256,
                        justification=justification,
                        approved_by=approved_by,
                        approved_at=utcnow(),
                        data={},
                    )
                    s.add(row)
                    existing[(item.kind, item.identifier)] = row
                    done.append((inv.label, item, "approved"))
                elif row.sha256 != item.sha256:
                    row.sha256 = item.sha256
                    row.justification = justification
                    row.approved_by = approved_by
                    row.approved_at = utcnow()
                    done.append((inv.label, item, "re-approved (content changed)"))
            if not only:
                row = existing.get(("headers", HEADERS_ID))
                if row is None:
                    s.add(
                        PageApproval(
                            store=store,
                            page=inv.label,
                            kind="headers",
                            identifier=HEADERS_ID,
                            sha256="",
                            justification=justification,
                            approved_by=approved_by,
                            approved_at=utcnow(),
                            data=dict(inv.headers),
                        )
                    )
                else:
                    row.data = dict(inv.headers)
                    row.approved_at = utcnow()
    return done


def revoke(db: sessionmaker[Session], store: str, identifier: str) -> int:
    with db.begin() as s:
        rows = list(
            s.scalars(
                select(PageApproval).where(PageApproval.store == store, PageApproval.identifier == identifier)
            )
        )
        for r in rows:
            s.delete(r)
        return len(rows)


# Look-alike detection ------------------------------------------------------

KNOWN_SERVICES = (
    "stripe.com",
    "paypal.com",
    "paypalobjects.com",
    "braintreegateway.com",
    "adyen.com",
    "checkout.com",
    "klarna.com",
    "mollie.com",
    "squareup.com",
    "authorize.net",
    "worldpay.com",
    "sagepay.com",
    "opayo.co.uk",
    "google-analytics.com",
    "googletagmanager.com",
    "googleapis.com",
    "gstatic.com",
    "google.com",
    "cloudflare.com",
    "jsdelivr.net",
    "unpkg.com",
    "jquery.com",
    "facebook.net",
    "doubleclick.net",
    "hotjar.com",
    "shopify.com",
    "magento.com",
    "wordpress.org",
    "woocommerce.com",
    "bootstrapcdn.com",
    "amazonaws.com",
    "cloudfront.net",
    "recaptcha.net",
    "paymentz.com",
)
_LABEL = re.compile(r"[^a-z0-9]")


def _distance(a: str, b: str) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def lookalike(url: str) -> str | None:
    """The known service a URL's domain imitates (one or two edits away), if any."""
    dom = registrable_domain(urlsplit(url).hostname or "")
    if dom is None or dom in KNOWN_SERVICES:
        return None
    name = _LABEL.sub("", dom.split(".")[0])
    for known in KNOWN_SERVICES:
        kname = _LABEL.sub("", known.split(".")[0])
        if len(kname) >= 5 and name != kname and _distance(name, kname) <= 2:
            return known
    return None
