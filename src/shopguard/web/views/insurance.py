"""The insurance section: policies with coverages and limits, renewal countdown, the gaps
the insurance protocol computes, and the underwriting answers (owners and admins edit them).

The figures come from ``shopguard.insurance`` (the same functions as ``shopguard insurance``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from shopguard.config import Config
from shopguard.db.base import utcnow
from shopguard.insurance.coverages import BY_ID
from shopguard.insurance.gaps import analyse
from shopguard.insurance.models import InsurancePolicy
from shopguard.insurance.money import fmt_money
from shopguard.insurance.readiness import QUESTIONS, answers
from shopguard.insurance.register import ANSWERS, store_answer, validate_answer
from shopguard.insurance.renewals import days_left, renewal_due
from shopguard.web import auditlog, nav
from shopguard.web.auth import client_ip, ctx_of
from shopguard.web.pages import _render, _stores, need
from shopguard.web.permissions import Perm, Principal

router = APIRouter(include_in_schema=False)
nav.add("Insurance", "/insurance", Perm.INSURANCE_READ, 75)

NOT_ADVICE = "ShopGuard is not an insurer or broker; this is not insurance advice."


def _config(request: Request) -> Config:
    config = request.app.state.config
    return config if config is not None else Config()


def _state(p: InsurancePolicy, today: date) -> str:
    if p.period_start > today:
        return "future"
    return "expired" if p.period_end < today else "in force"


def _page(
    request: Request,
    me: Principal,
    store: str,
    form: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    ctx = ctx_of(request)
    config = _config(request)
    today = utcnow().date()
    stores = _stores(ctx, request, me)
    if store not in stores:
        store = stores[0] if stores else "-"
    with ctx.db() as s:
        everything = list(s.scalars(select(InsurancePolicy).order_by(InsurancePolicy.period_start)))
        in_force, gaps, est = analyse(s, config.insurance, today)
        sheet = answers(s, store)
        policies = [
            {
                "p": p,
                "state": _state(p, today),
                "days_left": days_left(p, today),
                "aggregate": fmt_money(p.aggregate_limit, p.currency),
                "retention": fmt_money(p.retention, p.currency),
                "coverages": [
                    {
                        "title": BY_ID[c.kind].title if c.kind in BY_ID else c.kind,
                        "limit": fmt_money(c.limit, p.currency),
                        "retention": fmt_money(c.retention, p.currency) if c.retention is not None else "",
                        "sublimits": ", ".join(
                            f"{k} {fmt_money(v, p.currency)}" for k, v in c.sublimits.items()
                        ),
                    }
                    for c in p.coverages
                ],
            }
            for p in everything
        ]
    due = renewal_due(everything, today, config.insurance.renewal_warn_days)
    return _render(
        request,
        "insurance.html",
        {
            "policies": policies,
            "in_force": in_force,
            "gaps": gaps,
            "est": est,
            "due": due,
            "sheet": sheet,
            "store": store,
            "stores": stores,
            "questions": QUESTIONS,
            "choices": ANSWERS,
            "form": form,
            "errors": errors,
            "not_advice": NOT_ADVICE,
        },
        status_code,
    )


@router.get("/insurance")
def insurance_page(
    request: Request,
    me: Annotated[Principal, need(Perm.INSURANCE_READ)],
    store: Annotated[str, Query(max_length=200)] = "",
    edit: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    form: dict[str, str] = {}
    if edit in QUESTIONS:
        form["question"] = edit
        with ctx_of(request).db() as s:
            mine = next((a for a in answers(s, store or "-") if a.question.id == edit), None)
        if mine is not None and mine.owner_answer:
            form["answer"] = mine.owner_answer
    return _page(request, me, store, form, {})


def _field_of(problem: str) -> str:
    return "question" if problem.startswith("answer.question") else "answer"


@router.post("/insurance/underwriting")
def underwriting_answer(
    request: Request,
    me: Annotated[Principal, need(Perm.INSURANCE_EDIT)],
    question: Annotated[str, Form(max_length=64)] = "",
    answer: Annotated[str, Form(max_length=16)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
    store: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """The owner's answer to an underwriting question (ShopGuard evidence still wins where
    it exists; the sheet shows a conflict when the two disagree)."""
    ctx = ctx_of(request)
    form = {"question": question, "answer": answer, "note": note}
    row, problems = validate_answer(
        {"question": question, "answer": answer, "note": note, "answered_by": me.email}, "answer"
    )
    if row is None:
        errors: dict[str, str] = {}
        for p in problems:
            errors[_field_of(p)] = p.split(": ", 1)[-1]
        return _page(request, me, store, form, errors, 400)
    with ctx.write() as s:
        store_answer(s, row)
        auditlog.record(
            s,
            me.email,
            "insurance.underwriting",
            question,
            client_ip(request),
            {"answer": row["answer"], "note": row["note"]},
        )
    target = "/insurance" + (f"?store={quote(store, safe='')}" if store else "")
    return RedirectResponse(f"{target}#underwriting", status_code=303)


__all__ = ["router"]
