"""Render the whole policy library into a folder, in any of the output formats."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shopguard.config import Config
from shopguard.policies.catalog import LIBRARY
from shopguard.policies.documents import DocumentMeta, Format, write
from shopguard.policies.library import latest, published, review_due, vendors_for_template
from shopguard.policies.models import PolicyDocument
from shopguard.policies.render import build_context, render_markdown


@dataclass(frozen=True)
class Rendered:
    slug: str
    status: str
    paths: tuple[Path, ...]


def render_library(
    config: Config,
    out_dir: Path,
    formats: Sequence[Format],
    db: sessionmaker[Session] | None = None,
) -> list[Rendered]:
    """The published version of each policy; else its newest draft (marked so); else the template."""
    company = config.company.name
    results: list[Rendered] = []
    docs: dict[str, tuple[str, DocumentMeta]] = {}
    vendors: list[dict[str, str]] = []
    if db is not None:
        with db() as s:
            vendors = vendors_for_template(s)
            for doc in s.scalars(select(PolicyDocument)):
                v = published(doc) or latest(doc)
                if v is None:
                    continue
                approved = f"{v.approved_by}, {v.approved_at:%Y-%m-%d}" if v.approved_at else ""
                meta = DocumentMeta(
                    title=doc.title,
                    company=company,
                    version=str(v.number),
                    status=v.status if v.status == "published" else f"{v.status.upper()} - not in force",
                    approved=approved,
                    effective=f"{v.published_at:%Y-%m-%d}" if v.published_at else "",
                    review_due=review_due(v, config.policies.review_months).isoformat()
                    if v.published_at
                    else "",
                )
                docs[doc.slug] = (v.text, meta)
    context = None
    for t in LIBRARY:
        if t.slug in docs:
            text, meta = docs[t.slug]
        else:
            context = context or build_context(config, vendors)
            text = render_markdown(t.slug, context)
            meta = DocumentMeta(t.title, company, status="TEMPLATE - not approved")
        paths = tuple(write(text, meta, fmt, out_dir / f"{t.slug}.{fmt.value}") for fmt in formats)
        results.append(Rendered(t.slug, meta.status, paths))
    return results
