"""The PCI section, part two: one requirement's answer with notes and an evidence upload,
evidence files, and the report and evidence-pack downloads.

Uploads are checked by the PCI protocol's own evidence store (size, type, content) and
kept where ``shopguard pci evidence add`` keeps them, with their SHA-256.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.background import BackgroundTask

from shopguard.pci import files as pci_files
from shopguard.pci.assessment import (
    Answer,
    AnswerInput,
    PciError,
    answers_of,
    get_assessment,
    save_answers,
    tasks_of,
    validate_answer,
)
from shopguard.pci.catalogue import Requirement, Saq, load_catalogue
from shopguard.pci.evidence import attach_evidence, evidence_of
from shopguard.pci.files import EvidenceError, open_stored
from shopguard.pci.models import PciAssessment, PciEvidence, PciSuggestion
from shopguard.web import auditlog
from shopguard.web.auth import client_ip, ctx_of
from shopguard.web.pages import _render, need
from shopguard.web.params import RowId
from shopguard.web.permissions import Perm, Principal
from shopguard.web.uploads import spooled
from shopguard.web.views.pci import Year, _config, _q, _store, _suggestion_label, _year, shown

router = APIRouter(include_in_schema=False)

# --- one requirement: answer, notes, evidence ----------------------------------------------------


def _requirement(
    request: Request, me: Principal, store: str, rid: str, year: int
) -> tuple[PciAssessment, Requirement]:
    cat = load_catalogue()
    with ctx_of(request).db() as s:
        a = get_assessment(s, store, year)
    if a is None:
        raise HTTPException(404, f"no PCI assessment for {store} in {year}: choose the SAQ first")
    if not cat.has(rid) or Saq(a.saq) not in cat.get(rid).saqs:
        raise HTTPException(404, f"requirement {rid} is not part of {Saq(a.saq).long_name}")
    return a, cat.get(rid)


def _requirement_page(
    request: Request,
    me: Principal,
    store: str,
    year: int,
    a: PciAssessment,
    req: Requirement,
    form: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    with ctx_of(request).db() as s:
        ans = answers_of(s, a).get(req.id)
        files = evidence_of(s, a.id, req.id)
        sug = s.scalar(
            select(PciSuggestion).where(
                PciSuggestion.assessment_id == a.id, PciSuggestion.requirement_id == req.id
            )
        )
        task = next((t for t in tasks_of(s, a) if t.requirement_id == req.id), None)
    if not form and ans is not None:
        form = {"answer": ans.answer, "notes": ans.justification if ans.source != "suggestion" else ""}
    return _render(
        request,
        "pci/requirement.html",
        {
            "store": store,
            "year": year,
            "q": _q(year),
            "a": a,
            "req": req,
            "ans": ans,
            "shown": shown(ans, len(files)),
            "files": files,
            "sug": sug,
            "sug_label": _suggestion_label(sug.suggestion) if sug else "",
            "task": task,
            "answers": list(Answer),
            "form": form,
            "errors": errors,
            "max_mb": pci_files.MAX_EVIDENCE_BYTES // (1024 * 1024),
            "accept": ",".join(sorted(pci_files.ALLOWED_TYPES)),
        },
        status_code,
    )


@router.get("/pci/{store}/req/{requirement_id}")
def requirement_page(
    request: Request,
    store: str,
    requirement_id: str,
    me: Annotated[Principal, need(Perm.PCI_READ)],
    year: Year = None,
) -> Response:
    store = _store(request, me, store)
    y = _year(year)
    a, req = _requirement(request, me, store, requirement_id, y)
    return _requirement_page(request, me, store, y, a, req, {}, {})


def _clean_name(name: str) -> str:
    base = Path((name or "").replace("\\", "/")).name
    base = re.sub(r"[\x00-\x1f\x7f]", "", base).strip()
    return base[-200:] or "upload"


@router.post("/pci/{store}/req/{requirement_id}")
def requirement_submit(
    request: Request,
    store: str,
    requirement_id: str,
    me: Annotated[Principal, need(Perm.PCI_EDIT)],
    answer: Annotated[str, Form(max_length=32)] = "",
    notes: Annotated[str, Form(max_length=5000)] = "",
    evidence_note: Annotated[str, Form(max_length=2000)] = "",
    evidence: Annotated[UploadFile | None, File()] = None,
    year: Annotated[int | None, Form(ge=2000, le=2100)] = None,
) -> Response:
    """Answer the requirement and/or attach an evidence file. Nothing is saved unless all of
    it is valid; an In Place answer needs evidence (a file now or one attached before)."""
    ctx = ctx_of(request)
    store = _store(request, me, store)
    y = _year(year)
    a, req = _requirement(request, me, store, requirement_id, y)
    form = {"answer": answer, "notes": notes, "evidence_note": evidence_note}
    errors: dict[str, str] = {}
    upload = evidence if evidence is not None and evidence.filename else None
    chosen: Answer | None = None
    if answer:
        try:
            chosen = Answer.parse(answer)
        except ValueError:
            errors["answer"] = "choose one of the answers listed"
    elif upload is None:
        errors["answer"] = "choose an answer, or attach an evidence file"
    item: AnswerInput | None = None
    if chosen is not None:
        item = AnswerInput(req.id, chosen, me.email, notes)
        try:
            validate_answer(load_catalogue(), Saq(a.saq), item)
        except PciError as exc:
            field = "notes" if "'justification'" in str(exc) else "answer"
            errors[field] = str(exc)
        if chosen.counts_in_place and upload is None:
            with ctx.db() as s:
                has_files = bool(evidence_of(s, a.id, req.id))
            if not has_files:
                errors["evidence"] = (
                    f"'{chosen.label}' needs evidence: attach the file that shows it "
                    f"({req.evidence} evidence), so no requirement is shown in place without proof"
                )
    if errors:
        return _requirement_page(request, me, store, y, a, req, form, errors, 400)
    stored: PciEvidence | None = None
    if upload is not None:
        limit = pci_files.MAX_EVIDENCE_BYTES
        with spooled(upload, _clean_name(upload.filename or ""), limit) as copy:
            if copy.too_big:
                message = (
                    f"{copy.path.name}: larger than the evidence limit of {limit // (1024 * 1024)} MB "
                    f"({limit:,} bytes); attach a smaller extract or a summary report"
                )
                return _requirement_page(request, me, store, y, a, req, form, {"evidence": message}, 400)
            path = copy.path
            try:
                with ctx.lock:
                    stored = attach_evidence(ctx.db, store, y, req.id, path, me.email, evidence_note.strip())
            except (EvidenceError, PciError) as exc:
                message = str(exc).replace(str(path), path.name)
                return _requirement_page(request, me, store, y, a, req, form, {"evidence": message}, 400)
    if item is not None:
        with ctx.lock:
            save_answers(ctx.db, store, y, [item])
    ctx.invalidate()
    with ctx.write() as s:
        if stored is not None:
            auditlog.record(
                s,
                me.email,
                "pci.evidence.add",
                f"{store} {y} {req.id}",
                client_ip(request),
                {"file": stored.filename, "sha256": stored.sha256, "size": stored.size},
            )
        if item is not None:
            auditlog.record(
                s,
                me.email,
                "pci.answer",
                f"{store} {y} {req.id}",
                client_ip(request),
                {"answer": item.answer.value, "notes": item.justification.strip()},
            )
    return RedirectResponse(f"/pci/{quote(store, safe='')}/req/{req.id}{_q(y)}", status_code=303)


@router.get("/pci/{store}/evidence/{evidence_id}")
def evidence_download(
    request: Request, store: str, evidence_id: RowId, me: Annotated[Principal, need(Perm.EXPORTS_READ)]
) -> Response:
    store = _store(request, me, store)
    ctx = ctx_of(request)
    with ctx.db() as s:
        rec = s.get(PciEvidence, evidence_id)
        owner = s.get(PciAssessment, rec.assessment_id) if rec is not None else None
        if rec is None or owner is None or owner.store != store:
            raise HTTPException(404, "no such evidence file")
        filename, stored_path, sha = rec.filename, rec.stored_path, rec.sha256
    return stored_download(
        request, me, stored_path, filename, sha, "pci.evidence.download", f"{store} evidence {evidence_id}"
    )


def stored_download(
    request: Request, me: Principal, stored_path: str, filename: str, sha: str, action: str, target: str
) -> Response:
    """A file from the evidence folder as a download, audit-logged as ``action``."""
    path = open_stored(stored_path)
    if not path.is_file():
        raise HTTPException(404, f"{filename} is missing from the evidence folder")
    with ctx_of(request).write() as s:
        auditlog.record(s, me.email, action, target, client_ip(request), {"sha256": sha})
    # Always a download, never rendered: an uploaded HTML file must not run as a dashboard page.
    return FileResponse(path, media_type="application/octet-stream", filename=filename)


# --- downloads -----------------------------------------------------------------------------------

REPORT_TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}


@router.get("/pci/{store}/report.{fmt}")
def report_download(
    request: Request,
    store: str,
    fmt: str,
    me: Annotated[Principal, need(Perm.EXPORTS_READ)],
    year: Year = None,
) -> Response:
    from shopguard.pci.report import build_context, render_html, render_pdf

    if fmt not in REPORT_TYPES:
        raise HTTPException(404, "formats: html, pdf")
    ctx = ctx_of(request)
    store = _store(request, me, store)
    y = _year(year)
    try:
        html = render_html(build_context(ctx.db, _config(request), store, y))
    except PciError as exc:
        raise HTTPException(404, str(exc)) from None
    body = render_pdf(html) if fmt == "pdf" else html.encode("utf-8")
    with ctx.write() as s:
        auditlog.record(s, me.email, "pci.report.export", f"{store} {y}", client_ip(request), {"format": fmt})
    return Response(
        body,
        media_type=REPORT_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="pci-{_safe(store)}-{y}.{fmt}"'},
    )


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)[:100]


@router.get("/pci/{store}/evidence-pack.zip")
def pack_download(
    request: Request, store: str, me: Annotated[Principal, need(Perm.EXPORTS_READ)], year: Year = None
) -> Response:
    from shopguard.pci.report import export_pack

    ctx = ctx_of(request)
    store = _store(request, me, store)
    y = _year(year)
    folder = Path(tempfile.mkdtemp(prefix="sg-pack-"))
    out = folder / f"pci-evidence-{_safe(store)}-{y}.zip"
    try:
        index = export_pack(ctx.db, _config(request), store, y, out)
    except (PciError, EvidenceError) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise HTTPException(404, str(exc)) from None
    with ctx.write() as s:
        auditlog.record(
            s,
            me.email,
            "pci.pack.export",
            f"{store} {y}",
            client_ip(request),
            {"files": len(index["files"]), "answers": index["answers"]},
        )
    return FileResponse(
        out,
        media_type="application/zip",
        filename=out.name,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


__all__ = ["router"]
