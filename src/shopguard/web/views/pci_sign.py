"""The PCI section, part three: signing (attesting) a store's self-assessment for the year.

The signature is recorded by :func:`shopguard.pci.assessment.attest`, the same function as
``shopguard pci sign``, so the dashboard refuses exactly what the command refuses (a
requirement of the SAQ without an answer). The page says what is missing before anyone
tries, warns about In Place answers without evidence, and shows what ShopGuard is not.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from shopguard.db.base import utcnow
from shopguard.pci.assessment import (
    ATTESTATION_STATEMENT,
    NOT_A_QSA,
    Answer,
    PciError,
    answers_of,
    attest,
    get_assessment,
    unanswered,
)
from shopguard.pci.asv import NOT_AN_ASV
from shopguard.pci.catalogue import Saq
from shopguard.pci.evidence import evidence_of
from shopguard.web import auditlog
from shopguard.web.auth import client_ip, ctx_of
from shopguard.web.models import WebUser
from shopguard.web.pages import _render, need
from shopguard.web.permissions import Perm, Principal
from shopguard.web.views.pci import Year, _q, _store, _year, shown

router = APIRouter(include_in_schema=False)


def _sign_page(
    request: Request,
    me: Principal,
    store: str,
    year: int,
    form: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    ctx = ctx_of(request)
    with ctx.db() as s:
        a = get_assessment(s, store, year)
        if a is None:
            raise HTTPException(404, f"no PCI assessment for {store} in {year}: choose the SAQ first")
        missing = unanswered(s, a)
        counts: dict[str, int] = {}
        for e in evidence_of(s, a.id):
            counts[e.requirement_id] = counts.get(e.requirement_id, 0) + 1
        no_evidence = sorted(
            rid
            for rid, ans in answers_of(s, a).items()
            if Answer(ans.answer).counts_in_place and not shown(ans, counts.get(rid, 0)).evidenced
        )
        if not form:
            name = s.scalar(select(WebUser.name).where(WebUser.id == me.user_id)) or ""
            form = {"name": name, "title": "", "date": utcnow().date().isoformat()}
        s.expunge(a)
    return _render(
        request,
        "pci/sign.html",
        {
            "store": store,
            "year": year,
            "q": _q(year),
            "a": a,
            "saq_title": Saq(a.saq).long_name,
            "missing": missing,
            "no_evidence": no_evidence,
            "statement": ATTESTATION_STATEMENT,
            "not_a_qsa": NOT_A_QSA,
            "not_an_asv": NOT_AN_ASV,
            "today": utcnow().date().isoformat(),
            "form": form,
            "errors": errors,
        },
        status_code,
    )


@router.get("/pci/{store}/sign")
def sign_form(
    request: Request, store: str, me: Annotated[Principal, need(Perm.PCI_SIGN)], year: Year = None
) -> Response:
    return _sign_page(request, me, _store(request, me, store), _year(year), {}, {})


@router.post("/pci/{store}/sign")
def sign_submit(
    request: Request,
    store: str,
    me: Annotated[Principal, need(Perm.PCI_SIGN)],
    name: Annotated[str, Form(max_length=200)] = "",
    title: Annotated[str, Form(max_length=200)] = "",
    on: Annotated[str, Form(alias="date", max_length=32)] = "",
    statement: Annotated[str, Form(max_length=8)] = "",
    year: Annotated[int | None, Form(ge=2000, le=2100)] = None,
) -> Response:
    """Sign the year's assessment in the name typed, as ``shopguard pci sign --by --title``.

    The date is the day of signing (UTC): a form left open overnight is refused rather than
    signed with yesterday's date. The statement must be confirmed."""
    ctx = ctx_of(request)
    store = _store(request, me, store)
    y = _year(year)
    form = {"name": name, "title": title, "date": on, "statement": statement}
    errors: dict[str, str] = {}
    today = utcnow().date()
    if not name.strip():
        errors["name"] = "the name of the person signing is required"
    if not title.strip():
        errors["title"] = "your role, e.g. Owner or Director, is required"
    try:
        day = date.fromisoformat(on.strip())
    except ValueError:
        errors["date"] = f"{on!r} is not a date; use YYYY-MM-DD"
    else:
        if day != today:
            errors["date"] = f"a signature is dated the day it is given: today is {today.isoformat()} (UTC)"
    if statement != "yes":
        errors["statement"] = "tick the box to confirm the statement you are signing"
    if errors:
        return _sign_page(request, me, store, y, form, errors, 400)
    try:
        with ctx.lock:
            a = attest(ctx.db, store, y, name, title)
    except PciError as exc:
        return _sign_page(request, me, store, y, form, {"assessment": str(exc)}, 400)
    ctx.invalidate()
    with ctx.write() as s:
        auditlog.record(
            s,
            me.email,
            "pci.sign",
            f"{store} {y}",
            client_ip(request),
            {
                "name": a.attested_by,
                "title": a.attested_title,
                "date": today,
                "saq": a.saq,
                "statement": ATTESTATION_STATEMENT,
            },
        )
    return RedirectResponse(f"/pci/{quote(store, safe='')}{_q(y)}#signature", status_code=303)


__all__ = ["router"]
