"""The PCI section, part four: ASV scan reports (requirement 11.3.2).

Uploads go through :func:`shopguard.pci.asv.add_scan`, the same function as
``shopguard pci asv add`` (same fields, same checks, same evidence folder); the quarter
list is :func:`shopguard.pci.asv.cadence` and :func:`~shopguard.pci.asv.next_due`, as in
``shopguard pci asv status``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from shopguard.db.base import utcnow
from shopguard.pci import files as pci_files
from shopguard.pci.assessment import PciError
from shopguard.pci.asv import NOT_AN_ASV, add_scan, cadence, next_due, parse_quarter
from shopguard.pci.files import EvidenceError
from shopguard.pci.models import PciAsvScan
from shopguard.web import auditlog
from shopguard.web.auth import client_ip, ctx_of
from shopguard.web.pages import _render, need
from shopguard.web.params import RowId
from shopguard.web.permissions import Perm, Principal
from shopguard.web.uploads import spooled
from shopguard.web.views.pci import _store
from shopguard.web.views.pci_evidence import _clean_name, stored_download

router = APIRouter(include_in_schema=False)
RESULTS = {"passed": True, "failed": False}


def _asv_page(
    request: Request,
    me: Principal,
    store: str,
    form: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    with ctx_of(request).db() as s:
        quarters = cadence(s, store)
        scans = list(
            s.scalars(
                select(PciAsvScan)
                .where(PciAsvScan.store == store)
                .order_by(PciAsvScan.scan_date.desc(), PciAsvScan.id.desc())
            )
        )
        for x in scans:
            s.expunge(x)
    return _render(
        request,
        "pci/asv.html",
        {
            "store": store,
            "quarters": quarters,
            "next": next_due(quarters),
            "scans": scans,
            "form": form,
            "errors": errors,
            "not_an_asv": NOT_AN_ASV,
            "max_mb": pci_files.MAX_EVIDENCE_BYTES // (1024 * 1024),
            "accept": ",".join(sorted(pci_files.ALLOWED_TYPES)),
            "today": utcnow().date().isoformat(),
        },
        status_code,
    )


@router.get("/pci/{store}/asv")
def asv_page(request: Request, store: str, me: Annotated[Principal, need(Perm.PCI_READ)]) -> Response:
    return _asv_page(request, me, _store(request, me, store), {}, {})


def _field_of(message: str) -> str:
    for key, field in (("'vendor'", "vendor"), ("'scan-date'", "scan_date"), ("quarter ", "quarter")):
        if key in message:
            return field
    return "report"


@router.post("/pci/{store}/asv")
def asv_upload(
    request: Request,
    store: str,
    me: Annotated[Principal, need(Perm.PCI_EDIT)],
    vendor: Annotated[str, Form(max_length=200)] = "",
    scan_date: Annotated[str, Form(max_length=32)] = "",
    result: Annotated[str, Form(max_length=16)] = "",
    quarter: Annotated[str, Form(max_length=16)] = "",
    report: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Record an ASV scan report, as ``shopguard pci asv add``. Nothing is stored unless the
    file and every field are valid."""
    ctx = ctx_of(request)
    store = _store(request, me, store)
    form = {"vendor": vendor, "scan_date": scan_date, "result": result, "quarter": quarter}
    errors: dict[str, str] = {}
    if not vendor.strip():
        errors["vendor"] = "the ASV company that ran the scan is required"
    day: date | None = None
    try:
        day = date.fromisoformat(scan_date.strip())
    except ValueError:
        errors["scan_date"] = f"{scan_date!r} is not a date; use YYYY-MM-DD"
    if result not in RESULTS:
        errors["result"] = "choose the report's overall result: passed or failed"
    if quarter.strip():
        try:
            parse_quarter(quarter)
        except PciError as exc:
            errors["quarter"] = str(exc)
    upload = report if report is not None and report.filename else None
    if upload is None:
        errors["report"] = "attach the ASV's scan report"
    if errors or day is None or upload is None:
        return _asv_page(request, me, store, form, errors, 400)
    limit = pci_files.MAX_EVIDENCE_BYTES
    with spooled(upload, _clean_name(upload.filename or ""), limit) as copy:
        if copy.too_big:
            message = (
                f"{copy.path.name}: larger than the evidence limit of {limit // (1024 * 1024)} MB "
                f"({limit:,} bytes)"
            )
            return _asv_page(request, me, store, form, {"report": message}, 400)
        try:
            with ctx.lock:
                rec = add_scan(
                    ctx.db,
                    store,
                    copy.path,
                    quarter=quarter.strip() or None,
                    scan_date=day,
                    vendor=vendor,
                    passed=RESULTS[result],
                    uploader=me.email,
                )
        except (PciError, EvidenceError) as exc:
            message = str(exc).replace(str(copy.path), copy.path.name)
            return _asv_page(request, me, store, form, {_field_of(message): message}, 400)
    ctx.invalidate()
    with ctx.write() as s:
        auditlog.record(
            s,
            me.email,
            "pci.asv.add",
            f"{store} {rec.quarter}",
            client_ip(request),
            {
                "vendor": rec.vendor,
                "scan_date": rec.scan_date,
                "passed": rec.passed,
                "file": rec.filename,
                "sha256": rec.sha256,
                "size": rec.size,
            },
        )
    return RedirectResponse(f"/pci/{quote(store, safe='')}/asv#scans", status_code=303)


@router.get("/pci/{store}/asv/{scan_id}")
def asv_download(
    request: Request, store: str, scan_id: RowId, me: Annotated[Principal, need(Perm.EXPORTS_READ)]
) -> Response:
    store = _store(request, me, store)
    ctx = ctx_of(request)
    with ctx.db() as s:
        rec = s.get(PciAsvScan, scan_id)
        if rec is None or rec.store != store:
            raise HTTPException(404, "no such ASV scan report")
        filename, stored_path, sha = rec.filename, rec.stored_path, rec.sha256
    return stored_download(
        request, me, stored_path, filename, sha, "pci.asv.download", f"{store} asv {scan_id}"
    )


__all__ = ["router"]
