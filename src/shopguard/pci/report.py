"""The AoC-shaped working copy (HTML, PDF) and the zip evidence pack.

The report follows the Attestation of Compliance's structure so the merchant can copy
answers across, and says on every page that it is a working copy, not the PCI SSC form.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

import jinja2
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shopguard import __version__
from shopguard.config import Config
from shopguard.db.base import utcnow
from shopguard.db.models import FindingRecord
from shopguard.pci.assessment import Answer, answers_of, require_assessment, status, tasks_of
from shopguard.pci.asv import NOT_AN_ASV, cadence
from shopguard.pci.catalogue import DATA_DIR, Saq, load_catalogue
from shopguard.pci.files import evidence_root, open_stored
from shopguard.pci.models import PciAsvScan, PciEvidence, PciSuggestion
from shopguard.reports.documents import html_to_pdf


def _evidence_by_req(s: Session, assessment_id: int) -> dict[str, list[PciEvidence]]:
    out: dict[str, list[PciEvidence]] = {}
    for e in s.scalars(
        select(PciEvidence).where(PciEvidence.assessment_id == assessment_id).order_by(PciEvidence.id)
    ):
        out.setdefault(e.requirement_id, []).append(e)
    return out


def build_context(db: sessionmaker[Session], config: Config, store: str, year: int) -> dict[str, Any]:
    cat = load_catalogue()
    a, groups = status(db, store, year)
    with db() as s:
        a = require_assessment(s, store, year)
        answers = answers_of(s, a)
        evidence = _evidence_by_req(s, a.id)
        suggestions = {
            p.requirement_id: p
            for p in s.scalars(select(PciSuggestion).where(PciSuggestion.assessment_id == a.id))
        }
        tasks = tasks_of(s, a, only_open=True)
        quarters = cadence(s, store)
        rows = []
        ccw, na = [], []
        for req in cat.for_saq(Saq(a.saq)):
            ans = answers.get(req.id)
            ev = [
                f"file: {e.filename} (sha256 {e.sha256[:12]}..., {e.size} bytes, by {e.uploader})"
                for e in evidence.get(req.id, [])
            ]
            sug = suggestions.get(req.id)
            if ans is not None:
                ev += [f"finding {fp[:12]}" for fp in ans.findings or []]
                answer = Answer(ans.answer)
                if answer in (Answer.IN_PLACE_CCW, Answer.IN_PLACE_CUSTOMIZED):
                    ccw.append({"id": req.id, "answer": answer.label, "justification": ans.justification})
                if answer in (Answer.NOT_APPLICABLE, Answer.NOT_TESTED):
                    na.append({"id": req.id, "answer": answer.label, "justification": ans.justification})
            rows.append(
                {
                    "id": req.id,
                    "summary": req.summary,
                    "answer_label": Answer(ans.answer).label if ans else "(no answer)",
                    "css": "none"
                    if ans is None
                    else ("not-in-place" if ans.answer == Answer.NOT_IN_PLACE else "in-place"),
                    "justification": ans.justification if ans and ans.source != "suggestion" else "",
                    "person": ans.person if ans else "",
                    "date": ans.answered_on.isoformat() if ans else "",
                    "source": ans.source if ans else "",
                    "evidence": ev,
                    "suggestion": ""
                    if sug is None or sug.suggestion == "manual"
                    else f"{sug.suggestion} - {sug.reason}",
                }
            )
        task_rows = [
            {
                "requirement_id": t.requirement_id,
                "title": t.title,
                "owner": t.owner,
                "due": t.due,
                "findings": [f[:12] for f in t.findings or []],
            }
            for t in tasks
        ]
        sec = config.contacts.security_lead
        st = next((x for x in config.stores if x.name == store), None)
        unanswered = sum(g.applicable - g.answered for g in groups)
        nip = sum(g.not_in_place for g in groups)
        overall = (
            "COMPLIANT (all applicable requirements answered, none Not in Place)"
            if not unanswered and not nip
            else f"NOT COMPLIANT YET: {nip} Not in Place, {unanswered} unanswered"
        )
        return {
            "version": __version__,
            "generated": utcnow().strftime("%Y-%m-%d %H:%M UTC"),
            "company": config.company,
            "store": store,
            "storefront": str(st.storefront_url) if st else "",
            "contact": f"{sec.name} {sec.email}".strip() if sec else "(no security lead in shopguard.toml)",
            "year": year,
            "saq": a.saq,
            "saq_title": Saq(a.saq).long_name,
            "integration": a.integration,
            "reasons": list(a.saq_reasons or []),
            "conditions": list(a.conditions or []),
            "groups": groups,
            "overall": overall,
            "rows": rows,
            "ccw": ccw,
            "na": na,
            "tasks": task_rows,
            "quarters": quarters,
            "not_an_asv": NOT_AN_ASV,
            "attested_by": a.attested_by,
            "attested_title": a.attested_title,
            "attested_at": a.attested_at.strftime("%Y-%m-%d") if a.attested_at else None,
        }


def render_html(ctx: dict[str, Any]) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(DATA_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("report.html.j2").render(**ctx)


def render_pdf(html: str) -> bytes:
    return html_to_pdf(html)


def _csv(rows: list[dict[str, Any]], fields: list[str]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow(r)
    return buf.getvalue()


def export_pack(
    db: sessionmaker[Session], config: Config, store: str, year: int, out: Path, *, root: Path | None = None
) -> dict[str, Any]:
    """Write a zip for a QSA or acquirer: index, answers (CSV, JSON), evidence files, findings."""
    root = root or evidence_root()
    ctx = build_context(db, config, store, year)
    with db() as s:
        a = require_assessment(s, store, year)
        answers = answers_of(s, a)
        evidence = list(s.scalars(select(PciEvidence).where(PciEvidence.assessment_id == a.id)))
        scans = list(s.scalars(select(PciAsvScan).where(PciAsvScan.store == store)))
        fps = sorted({fp for r in answers.values() for fp in (r.findings or [])})
        findings = [
            {
                "fingerprint": f.fingerprint,
                "check_id": f.check_id,
                "severity": f.severity,
                "title": f.title,
                "location": f.location,
                "detail": f.detail,
                "remediation": f.remediation,
                "status": f.status,
                "first_seen": f.first_seen.isoformat(),
                "last_seen": f.last_seen.isoformat(),
                "evidence": f.evidence,
                "refs": f.refs,
            }
            for f in s.scalars(
                select(FindingRecord).where(FindingRecord.store == store, FindingRecord.fingerprint.in_(fps))
            )
        ]
    answer_rows = [
        {
            "requirement": rid,
            "answer": r.answer,
            "answer_label": Answer(r.answer).label,
            "justification": r.justification,
            "person": r.person,
            "date": r.answered_on.isoformat(),
            "source": r.source,
            "findings": " ".join(r.findings or []),
        }
        for rid, r in sorted(answers.items(), key=lambda kv: load_catalogue().get(kv[0]).sort_key)
    ]
    files: list[dict[str, Any]] = []
    tmp = out.with_name(out.name + ".partial")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for e in evidence:
            arc = f"evidence/{e.requirement_id}/{e.id}-{Path(e.filename).name}"
            z.write(open_stored(e.stored_path, root), arc)
            files.append(
                {
                    "requirement": e.requirement_id,
                    "file": arc,
                    "sha256": e.sha256,
                    "size": e.size,
                    "uploader": e.uploader,
                    "uploaded_at": e.uploaded_at.isoformat(),
                }
            )
        for sc in scans:
            arc = f"asv/{sc.quarter}/{sc.id}-{Path(sc.filename).name}"
            z.write(open_stored(sc.stored_path, root), arc)
            files.append(
                {
                    "requirement": "11.3.2",
                    "file": arc,
                    "sha256": sc.sha256,
                    "size": sc.size,
                    "uploader": sc.uploader,
                    "uploaded_at": sc.uploaded_at.isoformat(),
                    "quarter": sc.quarter,
                    "vendor": sc.vendor,
                    "passed": sc.passed,
                }
            )
        z.writestr("answers.csv", _csv(answer_rows, list(answer_rows[0]) if answer_rows else ["requirement"]))
        z.writestr("answers.json", json.dumps(answer_rows, indent=2))
        z.writestr("findings.json", json.dumps(findings, indent=2, default=str))
        z.writestr("report.html", render_html(ctx))
        index = {
            "generated_by": f"ShopGuard {__version__}",
            "generated_at": utcnow().isoformat(),
            "notice": "Working copy prepared by the merchant with ShopGuard; not an official PCI SSC form. "
            + NOT_AN_ASV,
            "store": store,
            "year": year,
            "saq": ctx["saq_title"],
            "overall": ctx["overall"],
            "groups": [asdict(g) for g in ctx["groups"]],
            "files": files,
            "answers": len(answer_rows),
            "findings": len(findings),
            "asv_quarters": [asdict(q) for q in ctx["quarters"]],
        }
        z.writestr("index.json", json.dumps(index, indent=2, default=str))
    tmp.replace(out)
    return index


def today() -> date:
    return utcnow().date()
