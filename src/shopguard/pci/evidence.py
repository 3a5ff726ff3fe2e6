"""Attaching evidence files to requirements (shared by the CLI and the dashboard).

The file is checked and stored first (content-addressed, never overwritten, see
:mod:`shopguard.pci.files`), then recorded; a refused file records nothing.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shopguard.pci.assessment import PciError, require_assessment
from shopguard.pci.catalogue import Saq, load_catalogue
from shopguard.pci.files import MAX_EVIDENCE_BYTES, store_file
from shopguard.pci.models import PciEvidence


def attach_evidence(
    db: sessionmaker[Session],
    store: str,
    year: int,
    requirement_id: str,
    src: Path,
    by: str,
    note: str = "",
    *,
    root: Path | None = None,
    max_bytes: int = MAX_EVIDENCE_BYTES,
) -> PciEvidence:
    """Store ``src`` as evidence for one requirement of the store's assessment.

    Raises :class:`PciError` (no assessment, requirement not in the SAQ, no uploader) or
    :class:`shopguard.pci.files.EvidenceError` (size, type, content).
    """
    if not by.strip():
        raise PciError("field 'by': who uploads the evidence is required")
    cat = load_catalogue()
    with db() as s:
        a = require_assessment(s, store, year)
        if not cat.has(requirement_id) or Saq(a.saq) not in cat.get(requirement_id).saqs:
            raise PciError(f"requirement {requirement_id}: not part of {Saq(a.saq).long_name}")
        aid = a.id
    stored = store_file(src, f"{store}/{year}", root=root, max_bytes=max_bytes)
    with db.begin() as s:
        rec = PciEvidence(
            assessment_id=aid,
            requirement_id=requirement_id,
            filename=stored.filename,
            stored_path=stored.stored_path,
            sha256=stored.sha256,
            size=stored.size,
            uploader=by.strip(),
            note=note,
        )
        s.add(rec)
        s.flush()
        s.expunge(rec)
    return rec


def evidence_of(s: Session, assessment_id: int, requirement_id: str | None = None) -> list[PciEvidence]:
    q = select(PciEvidence).where(PciEvidence.assessment_id == assessment_id)
    if requirement_id is not None:
        q = q.where(PciEvidence.requirement_id == requirement_id)
    return list(s.scalars(q.order_by(PciEvidence.id)))
