"""The insurance section: policies with coverages and limits, renewal countdown, the gaps
the insurance protocol computes, and the underwriting answers (owners and admins edit them).

The figures come from ``shopguard.insurance`` (the same functions as ``shopguard insurance``).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from shopguard.config import Config
from shopguard.db.base import utcnow
from shopguard.insurance.coverages import BY_ID, KINDS
from shopguard.insurance.gaps import analyse
from shopguard.insurance.models import InsurancePolicy
from shopguard.insurance.money import fmt_money
from shopguard.insurance.readiness import QUESTIONS, answers
from shopguard.insurance.register import (
    ANSWERS,
    InsuranceInputError,
    save_policy,
    store_answer,
    validate_answer,
    validate_policy,
)
from shopguard.insurance.renewals import days_left, renewal_due
from shopguard.web import auditlog, nav
from shopguard.web.auth import client_ip, ctx_of
from shopguard.web.pages import _render, _stores, need
from shopguard.web.params import RowId
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


# --- recording and changing a policy --------------------------------------------------------------
#
# The form is turned into the mapping `shopguard insurance import` reads, checked by the same
# validate_policy and stored by save_policy; each problem it names ("policy.coverages.extortion
# .limit: ...") marks the form field it came from.

POLICY_FIELDS = (
    "insurer",
    "policy_number",
    "period_start",
    "period_end",
    "currency",
    "aggregate_limit",
    "retention",
    "broker_name",
    "broker_email",
    "broker_phone",
    "window_hours",
    "hotline",
    "notification_email",
    "exclusions",
    "notes",
)
COVERAGE_FIELDS = ("limit", "sublimits", "retention", "notes")
_SUBLIMIT = re.compile(r"^\s*([A-Za-z][\w -]{0,63}?)\s*[:=]\s*(.+?)\s*$")


def _cov(kind: str, part: str) -> str:
    return f"cov_{kind}_{part}"


def _form_of(p: InsurancePolicy) -> dict[str, str]:
    form = {
        "insurer": p.insurer,
        "policy_number": p.policy_number,
        "period_start": p.period_start.isoformat(),
        "period_end": p.period_end.isoformat(),
        "currency": p.currency,
        "aggregate_limit": "" if p.aggregate_limit is None else str(p.aggregate_limit),
        "retention": "" if p.retention is None else str(p.retention),
        "broker_name": str(p.broker.get("name", "")),
        "broker_email": str(p.broker.get("email", "")),
        "broker_phone": str(p.broker.get("phone", "")),
        "window_hours": "" if p.notification_window_hours is None else str(p.notification_window_hours),
        "hotline": p.notification_hotline,
        "notification_email": p.notification_email,
        "exclusions": "\n".join(p.exclusions),
        "notes": p.notes,
    }
    for c in p.coverages:
        form[_cov(c.kind, "limit")] = str(c.limit)
        form[_cov(c.kind, "sublimits")] = ", ".join(f"{k}: {v}" for k, v in c.sublimits.items())
        form[_cov(c.kind, "retention")] = "" if c.retention is None else str(c.retention)
        form[_cov(c.kind, "notes")] = c.notes
    return form


def _row_of(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The import mapping for the form, and the problems only the form can have."""
    errors: dict[str, str] = {}
    window: Any = form["window_hours"].strip() or None
    if isinstance(window, str) and window.isdigit():
        window = int(window)
    coverages: dict[str, Any] = {}
    for k in KINDS:
        values = {part: form[_cov(k.id, part)].strip() for part in COVERAGE_FIELDS}
        if not any(values.values()):
            continue
        subs: dict[str, str] = {}
        for item in re.split(r"[,\n]", values["sublimits"]):
            if not item.strip():
                continue
            m = _SUBLIMIT.match(item)
            if m is None:
                errors[_cov(k.id, "sublimits")] = (
                    f"{item.strip()!r}: write each sub-limit as name: amount, e.g. forensics: 50k"
                )
                continue
            subs[m.group(1).strip()] = m.group(2)
        coverages[k.id] = {
            "limit": values["limit"] or None,
            "sublimits": subs,
            "retention": values["retention"] or None,
            "notes": values["notes"],
        }
    row = {
        "insurer": form["insurer"],
        "policy_number": form["policy_number"],
        "period_start": form["period_start"],
        "period_end": form["period_end"],
        "currency": form["currency"] or "USD",
        "aggregate_limit": form["aggregate_limit"] or None,
        "retention": form["retention"] or None,
        "broker": {
            k: form[f"broker_{k}"].strip() for k in ("name", "email", "phone") if form[f"broker_{k}"].strip()
        },
        "notification": {
            "window_hours": window,
            "hotline": form["hotline"].strip(),
            "email": form["notification_email"].strip(),
        },
        "exclusions": [x.strip() for x in form["exclusions"].splitlines() if x.strip()],
        "notes": form["notes"].strip(),
        "coverages": coverages,
    }
    return row, errors


def _field_for(problem: str) -> str:
    """``policy.coverages.extortion.sublimits.forensics: ...`` -> ``cov_extortion_sublimits``."""
    path = problem.split(": ", 1)[0].removeprefix("policy").lstrip(".")
    parts = path.split(".")
    if parts[0] == "coverages" and len(parts) >= 3:
        return _cov(parts[1], parts[2])
    if parts[0] == "coverages" and len(parts) == 2:
        return _cov(parts[1], "limit")
    if parts[0] == "notification" and len(parts) > 1:
        return {"window_hours": "window_hours", "hotline": "hotline", "email": "notification_email"}.get(
            parts[1], "window_hours"
        )
    if parts[0] == "broker":
        return "broker_name"
    return parts[0] if parts[0] in POLICY_FIELDS else "policy"


def _policy_form(
    request: Request,
    policy_id: int | None,
    form: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    return _render(
        request,
        "insurance_policy.html",
        {
            "policy_id": policy_id,
            "form": form,
            "errors": errors,
            "kinds": KINDS,
            "not_advice": NOT_ADVICE,
        },
        status_code,
    )


def _empty_form() -> dict[str, str]:
    form = dict.fromkeys(POLICY_FIELDS, "")
    form["currency"] = "USD"
    return form


@router.get("/insurance/policies/new")
def policy_new(request: Request, me: Annotated[Principal, need(Perm.INSURANCE_EDIT)]) -> Response:
    return _policy_form(request, None, _empty_form(), {})


@router.get("/insurance/policies/{policy_id}/edit")
def policy_edit(
    request: Request, policy_id: RowId, me: Annotated[Principal, need(Perm.INSURANCE_EDIT)]
) -> Response:
    with ctx_of(request).db() as s:
        p = s.get(InsurancePolicy, policy_id)
        if p is None:
            raise HTTPException(404, "no such insurance policy")
        form = _form_of(p)
    return _policy_form(request, policy_id, form, {})


async def _posted(request: Request) -> dict[str, str]:
    data = await request.form()
    form = _empty_form()
    names = list(POLICY_FIELDS) + [_cov(k.id, part) for k in KINDS for part in COVERAGE_FIELDS]
    for name in names:
        value = data.get(name)
        if isinstance(value, str):
            form[name] = value[:5000]
        elif name.startswith("cov_"):
            form[name] = ""
    return form


def _save(request: Request, me: Principal, policy_id: int | None, form: dict[str, str]) -> Response:
    ctx = ctx_of(request)
    row, errors = _row_of(form)
    policy, problems = validate_policy(row, "policy")
    for problem in problems:
        errors.setdefault(_field_for(problem), problem.split(": ", 1)[-1])
    if errors or policy is None:
        return _policy_form(request, policy_id, form, errors, 400)
    try:
        with ctx.write() as s:
            rec = save_policy(s, policy, policy_id)
            s.flush()
            auditlog.record(
                s,
                me.email,
                "insurance.policy.update" if policy_id else "insurance.policy.create",
                policy.policy_number,
                client_ip(request),
                {
                    "id": rec.id,
                    "insurer": policy.insurer,
                    "period": [policy.period_start, policy.period_end],
                    "currency": policy.currency,
                    "aggregate_limit": policy.aggregate_limit,
                    "retention": policy.retention,
                    "notification_window_hours": policy.notification_window_hours,
                    "coverages": {c.kind: c.limit for c in policy.coverages},
                },
            )
    except InsuranceInputError as exc:
        for problem in exc.problems:
            errors.setdefault(_field_for(problem), problem.split(": ", 1)[-1])
        return _policy_form(request, policy_id, form, errors, 400)
    except LookupError:
        raise HTTPException(404, "no such insurance policy") from None
    ctx.invalidate()
    return RedirectResponse(f"/insurance#policy-{quote(policy.policy_number, safe='')}", status_code=303)


@router.post("/insurance/policies")
async def policy_create(request: Request, me: Annotated[Principal, need(Perm.INSURANCE_EDIT)]) -> Response:
    """Record a new policy; a number already on record is refused (edit that one)."""
    form = await _posted(request)
    return await run_in_threadpool(_save, request, me, None, form)


@router.post("/insurance/policies/{policy_id}")
async def policy_update(
    request: Request, policy_id: RowId, me: Annotated[Principal, need(Perm.INSURANCE_EDIT)]
) -> Response:
    """Change a policy and replace its coverages with those on the form."""
    form = await _posted(request)
    return await run_in_threadpool(_save, request, me, policy_id, form)


__all__ = ["router"]
