"""The policies section for owners, admins, analysts and auditors: the library, each policy's
versions, approval and publication, who acknowledged which version, and training records.

The versioning rules live in shopguard.policies (library.approve/publish refuse what breaks
them); this module only shows, asks and records who did it in the audit log. Employees see
their own policies at /my/policies."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shopguard.config import Config
from shopguard.db.base import utcnow
from shopguard.policies.library import PolicyError, approve, get_document, library_state, publish, published
from shopguard.policies.models import Acknowledgement, Person, PolicyVersion, TrainingRecord
from shopguard.policies.people import (
    TRAINING_RESULTS,
    PolicyInputError,
    add_training,
    applies,
    pending,
    training_status,
)
from shopguard.web import auditlog, nav
from shopguard.web.auth import client_ip, ctx_of
from shopguard.web.pages import _render, need
from shopguard.web.params import RowId
from shopguard.web.permissions import Perm, Principal

router = APIRouter(include_in_schema=False)
nav.add("Policies", "/policies", Perm.POLICIES_READ, 70)


def _config(request: Request) -> Config:
    cfg = request.app.state.config
    return cfg if isinstance(cfg, Config) else Config()


@router.get("/policies")
def library_page(request: Request, me: Annotated[Principal, need(Perm.POLICIES_READ)]) -> Response:
    cfg = _config(request)
    ctx = ctx_of(request)
    states = library_state(ctx.db, cfg.policies.review_months)
    owed: dict[str, int] = {}
    for p in pending(ctx.db, cfg.policies):
        owed[p.slug] = owed.get(p.slug, 0) + 1
    today = utcnow().date()
    return _render(
        request,
        "policies.html",
        {"states": states, "owed": owed, "today": today, "training": training_status(ctx.db, today)},
    )


# --- training (before /policies/{slug}, which would otherwise take "training" as a slug) --------


def _training_page(
    request: Request, errors: dict[str, str], form: dict[str, str], status: int = 200
) -> Response:
    ctx = ctx_of(request)
    today = utcnow().date()
    with ctx.db() as s:
        records = list(
            s.scalars(
                select(TrainingRecord)
                .options(selectinload(TrainingRecord.person))
                .order_by(TrainingRecord.completed_on.desc(), TrainingRecord.id.desc())
                .limit(500)
            )
        )
        people = [p for p in s.scalars(select(Person).order_by(Person.name)) if p.active]
        s.expunge_all()
    return _render(
        request,
        "training.html",
        {
            "records": records,
            "people": people,
            "status": training_status(ctx.db, today),
            "results": TRAINING_RESULTS,
            "errors": errors,
            "form": form,
            "today": today,
            "saved": request.query_params.get("saved", ""),
        },
        status,
    )


@router.get("/policies/training")
def training_page(request: Request, me: Annotated[Principal, need(Perm.POLICIES_READ)]) -> Response:
    return _training_page(request, {}, {"completed_on": utcnow().date().isoformat(), "result": "passed"})


_TRAINING_FIELDS = ("email", "course", "completed_on", "result", "expires_on")


@router.post("/policies/training")
def training_record(
    request: Request,
    me: Annotated[Principal, need(Perm.POLICIES_MANAGE)],
    email: Annotated[str, Form(max_length=320)] = "",
    course: Annotated[str, Form(max_length=300)] = "",
    completed_on: Annotated[str, Form(max_length=20)] = "",
    result: Annotated[str, Form(max_length=16)] = "passed",
    expires_on: Annotated[str, Form(max_length=20)] = "",
    provider: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    form = {
        "email": email,
        "course": course,
        "completed_on": completed_on,
        "result": result,
        "expires_on": expires_on,
        "provider": provider,
    }
    errors: dict[str, str] = {}
    try:
        done = date.fromisoformat(completed_on.strip())
        if done > utcnow().date():
            errors["completed_on"] = "the training cannot be completed in the future"
    except ValueError:
        pass  # the policies code names the field below
    ctx = ctx_of(request)
    if not errors:
        try:
            with ctx.lock:
                rec = add_training(
                    ctx.db,
                    email,
                    course,
                    completed_on.strip(),
                    _config(request).policies,
                    result=result,
                    expires_on=expires_on.strip() or None,
                    provider=provider.strip(),
                )
        except PolicyInputError as exc:
            for problem in exc.problems:
                # "training, field completed_on: ..." -> completed_on
                head, _, msg = problem.partition(": ")
                name = head.rsplit("field ", 1)[-1]
                errors[name if name in _TRAINING_FIELDS else "email"] = msg or problem
        except PolicyError as exc:
            errors["email"] = str(exc)
    if errors:
        return _training_page(request, errors, form, 400)
    with ctx.write() as s:
        auditlog.record(
            s,
            me.email,
            "training.record",
            email.strip().lower(),
            client_ip(request),
            {"course": rec.course, "completed_on": rec.completed_on, "result": rec.result},
        )
    return RedirectResponse("/policies/training?saved=1", status_code=303)


# --- one policy --------------------------------------------------------------------------------


def _policy_page(request: Request, slug: str, error: str = "", status: int = 200) -> Response:
    cfg = _config(request)
    ctx = ctx_of(request)
    with ctx.db() as s:
        try:
            doc = get_document(s, slug)
        except PolicyError:
            raise HTTPException(404, "no such policy") from None
        versions = list(doc.versions)
        current = published(doc)
        acks = list(
            s.scalars(
                select(Acknowledgement)
                .join(PolicyVersion)
                .where(PolicyVersion.document_id == doc.id)
                .options(selectinload(Acknowledgement.person), selectinload(Acknowledgement.version))
                .order_by(Acknowledgement.acknowledged_at.desc())
            )
        )
        people = [p for p in s.scalars(select(Person).order_by(Person.name)) if p.active and applies(doc, p)]
        s.expunge_all()
    owed = {p.email: p for p in pending(ctx.db, cfg.policies) if p.slug == slug}
    latest_ack: dict[int, Acknowledgement] = {}
    for a in acks:
        latest_ack.setdefault(a.person_id, a)
    roster = [{"person": p, "ack": latest_ack.get(p.id), "owed": owed.get(p.email)} for p in people]
    return _render(
        request,
        "policy.html",
        {
            "doc": doc,
            "versions": versions,
            "current": current,
            "acks": acks,
            "roster": roster,
            "error": error,
            "show": request.query_params.get("show", ""),
        },
        status,
    )


@router.get("/policies/{slug}")
def policy_page(request: Request, slug: str, me: Annotated[Principal, need(Perm.POLICIES_READ)]) -> Response:
    return _policy_page(request, slug)


def _version_change(request: Request, me: Principal, slug: str, number: int, action: str) -> Response:
    ctx = ctx_of(request)
    try:
        with ctx.lock:
            if action == "approve":
                v = approve(ctx.db, slug, me.email, number)
            else:
                v = publish(ctx.db, slug, number)
    except PolicyError as exc:
        with ctx.db() as s:
            try:
                get_document(s, slug)
            except PolicyError:
                raise HTTPException(404, "no such policy") from None
        return _policy_page(request, slug, str(exc), 400)
    data: dict[str, Any] = {"version": v.number, "text_hash": v.text_hash}
    with ctx.write() as s:
        auditlog.record(s, me.email, f"policy.{action}", slug, client_ip(request), data)
    return RedirectResponse(f"/policies/{slug}", status_code=303)


@router.post("/policies/{slug}/versions/{number}/approve")
def version_approve(
    request: Request, slug: str, number: RowId, me: Annotated[Principal, need(Perm.POLICIES_MANAGE)]
) -> Response:
    return _version_change(request, me, slug, number, "approve")


@router.post("/policies/{slug}/versions/{number}/publish")
def version_publish(
    request: Request, slug: str, number: RowId, me: Annotated[Principal, need(Perm.POLICIES_MANAGE)]
) -> Response:
    return _version_change(request, me, slug, number, "publish")


__all__ = ["router"]
