"""The PCI section: stores, one store's assessment (progress and questionnaire), the SAQ
wizard, auto-evidence suggestions and remediation tasks. Answers with evidence uploads and
the downloads are in :mod:`shopguard.web.views.pci_evidence`.

Everything goes through the PCI protocol's own service functions (``shopguard.pci``),
the same ones the CLI uses; this module only turns forms into their inputs and their
errors into marked fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import delete, select

from shopguard.config import Config
from shopguard.pci.assessment import (
    TASK_STATUSES,
    Answer,
    PciError,
    answers_of,
    current_year,
    get_assessment,
    save_decision,
    set_task,
    status,
    tasks_of,
)
from shopguard.pci.asv import cadence, next_due
from shopguard.pci.autoevidence import Suggested, compute_suggestions, confirm
from shopguard.pci.catalogue import Saq, load_catalogue
from shopguard.pci.evidence import evidence_of
from shopguard.pci.models import PciAnswer, PciSuggestion
from shopguard.pci.saq import (
    CONFIG_VALUES,
    Contradiction,
    Integration,
    SaqAnswers,
    check_consistency,
    config_conflict,
    decide,
    with_confirmations,
)
from shopguard.web import auditlog, nav
from shopguard.web.auth import client_ip, ctx_of
from shopguard.web.pages import _render, _stores, need
from shopguard.web.permissions import Perm, Principal

router = APIRouter(include_in_schema=False)
nav.add("PCI", "/pci", Perm.PCI_READ, 50)

Year = Annotated[int | None, Query(ge=2000, le=2100)]
QUESTIONS: tuple[tuple[str, str], ...] = (
    ("servers_receive_card_data", "Do your servers ever receive, process or pass on full card numbers?"),
    (
        "stores_card_data_electronically",
        "Do you keep card numbers in any electronic form (database, e-mail, spreadsheets)?",
    ),
    (
        "processor_compliant",
        "Have you seen your payment processor's current PCI DSS Attestation of Compliance?",
    ),
    (
        "all_payment_elements_from_processor",
        "Iframe only: does every element of the payment form come only and directly from the processor?",
    ),
    (
        "script_protection",
        "Iframe only: is your site protected from script attacks that could affect the payment page?",
    ),
)
_TRI = {"yes": True, "no": False, "unsure": None, "": None}


def _config(request: Request) -> Config:
    config = request.app.state.config
    return config if config is not None else Config()


def _store(request: Request, me: Principal, store: str) -> str:
    if store not in _stores(ctx_of(request), request, me):
        raise HTTPException(404, "no such store")
    return store


def _year(year: int | None) -> int:
    return year or current_year()


def _q(year: int) -> str:
    return "" if year == current_year() else f"?year={year}"


# --- what a row of the questionnaire shows -------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """How one requirement's answer is shown: never In Place without evidence."""

    label: str
    css: str
    evidenced: bool


def shown(ans: PciAnswer | None, files: int) -> Shown:
    if ans is None:
        return Shown("(no answer)", "", False)
    answer = Answer(ans.answer)
    evidenced = files > 0 or bool(ans.findings) or ans.source == "suggestion"
    if answer.counts_in_place:
        if not evidenced:
            return Shown(f"{answer.label}: no evidence attached", "st-not_assessed", False)
        return Shown(answer.label, "st-ready", True)
    if answer is Answer.NOT_IN_PLACE:
        return Shown(answer.label, "st-gaps", evidenced)
    return Shown(answer.label, "", evidenced)


def _suggestion_label(value: str) -> str:
    return {
        Suggested.IN_PLACE.value: "In Place (suggested)",
        Suggested.NOT_IN_PLACE.value: "Not in Place (suggested)",
        Suggested.NO_RECENT_RUN.value: "no recent run",
        Suggested.NO_MODULE.value: "no module",
        Suggested.MANUAL.value: "answer yourself",
    }.get(value, value)


# --- list of stores ------------------------------------------------------------------------------


@router.get("/pci")
def pci_home(request: Request, me: Annotated[Principal, need(Perm.PCI_READ)], year: Year = None) -> Response:
    ctx = ctx_of(request)
    y = _year(year)
    rows: list[dict[str, Any]] = []
    for name in _stores(ctx, request, me):
        with ctx.db() as s:
            a = get_assessment(s, name, y)
        if a is None:
            rows.append({"store": name, "saq": None})
            continue
        _, groups = status(ctx.db, name, y)
        applicable = sum(g.applicable for g in groups)
        answered = sum(g.answered for g in groups)
        rows.append(
            {
                "store": name,
                "saq": Saq(a.saq).long_name,
                "answered": answered,
                "applicable": applicable,
                "not_in_place": sum(g.not_in_place for g in groups),
                "open_tasks": sum(g.open_tasks for g in groups),
                "signed": a.attested_at,
            }
        )
    return _render(request, "pci/index.html", {"rows": rows, "year": y, "q": _q(y)})


# --- one store's assessment ----------------------------------------------------------------------


def _assessment_page(
    request: Request,
    me: Principal,
    store: str,
    year: int,
    errors: dict[str, str] | None = None,
    task_errors: dict[str, dict[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    ctx = ctx_of(request)
    cat = load_catalogue()
    with ctx.db() as s:
        a = get_assessment(s, store, year)
        asv_next = next_due(cadence(s, store))
        if a is None:
            return _render(
                request,
                "pci/store.html",
                {
                    "store": store,
                    "year": year,
                    "q": _q(year),
                    "a": None,
                    "asv_next": asv_next,
                    "errors": errors or {},
                },
                status_code,
            )
        answers = answers_of(s, a)
        counts: dict[str, int] = {}
        for e in evidence_of(s, a.id):
            counts[e.requirement_id] = counts.get(e.requirement_id, 0) + 1
        suggestions = {
            p.requirement_id: p
            for p in s.scalars(select(PciSuggestion).where(PciSuggestion.assessment_id == a.id))
        }
        tasks = tasks_of(s, a)
    _, groups = status(ctx.db, store, year)
    rows = []
    pending = []
    for req in cat.for_saq(Saq(a.saq)):
        ans = answers.get(req.id)
        sug = suggestions.get(req.id)
        rows.append(
            {
                "req": req,
                "shown": shown(ans, counts.get(req.id, 0)),
                "files": counts.get(req.id, 0),
                "suggestion": _suggestion_label(sug.suggestion) if sug else "",
            }
        )
        if sug is None or not Suggested(sug.suggestion).confirmable:
            continue
        already = ans is not None and ans.source == "suggestion" and ans.answer == sug.suggestion
        if not already:
            pending.append({"req": req, "sug": sug, "label": _suggestion_label(sug.suggestion), "ans": ans})
    return _render(
        request,
        "pci/store.html",
        {
            "store": store,
            "year": year,
            "q": _q(year),
            "a": a,
            "saq_title": Saq(a.saq).long_name,
            "groups": groups,
            "rows": rows,
            "pending": pending,
            "tasks": tasks,
            "summaries": {r.id: r.summary for r in cat.for_saq(Saq(a.saq))},
            "errors": errors or {},
            "task_errors": task_errors or {},
            "statuses": TASK_STATUSES,
            "asv_next": asv_next,
        },
        status_code,
    )


@router.get("/pci/{store}")
def pci_store(
    request: Request, store: str, me: Annotated[Principal, need(Perm.PCI_READ)], year: Year = None
) -> Response:
    return _assessment_page(request, me, _store(request, me, store), _year(year))


# --- the SAQ wizard ------------------------------------------------------------------------------


def _wizard(
    request: Request,
    store: str,
    year: int,
    form: dict[str, Any],
    errors: dict[str, str],
    decision: Any = None,
    status_code: int = 200,
) -> Response:
    return _render(
        request,
        "pci/saq.html",
        {
            "store": store,
            "year": year,
            "q": _q(year),
            "form": form,
            "errors": errors,
            "decision": decision,
            "integrations": list(Integration),
            "questions": QUESTIONS,
        },
        status_code,
    )


@router.get("/pci/{store}/saq")
def saq_form(
    request: Request, store: str, me: Annotated[Principal, need(Perm.PCI_EDIT)], year: Year = None
) -> Response:
    store = _store(request, me, store)
    y = _year(year)
    form: dict[str, Any] = {"confirm": []}
    with ctx_of(request).db() as s:
        a = get_assessment(s, store, y)
        if a is not None:
            form["integration"] = a.integration
            form["confirm"] = [c["id"] for c in a.conditions or [] if c.get("confirmed") is True]
    if "integration" not in form:
        st = next((x for x in _config(request).stores if x.name == store), None)
        if st is not None and st.payment_integration is not None:
            form["integration"] = st.payment_integration.value
    return _wizard(request, store, y, form, {})


def _blame(answers: SaqAnswers) -> list[str]:
    """The answers whose removal makes the contradiction go away (the fields to mark)."""
    from dataclasses import asdict

    out = []
    for name, _ in QUESTIONS:
        without: dict[str, Any] = {**asdict(answers), name: None}
        try:
            check_consistency(SaqAnswers(**without))
        except Contradiction:
            continue
        out.append(name)
    return out or ["integration"]


@router.post("/pci/{store}/saq")
def saq_submit(
    request: Request,
    store: str,
    me: Annotated[Principal, need(Perm.PCI_EDIT)],
    integration: Annotated[str, Form(max_length=32)] = "",
    servers_receive_card_data: Annotated[str, Form(max_length=8)] = "",
    stores_card_data_electronically: Annotated[str, Form(max_length=8)] = "",
    processor_compliant: Annotated[str, Form(max_length=8)] = "",
    all_payment_elements_from_processor: Annotated[str, Form(max_length=8)] = "",
    script_protection: Annotated[str, Form(max_length=8)] = "",
    confirm_ids: Annotated[list[str] | None, Form(alias="confirm")] = None,
    step: Annotated[str, Form(max_length=16)] = "preview",
    year: Annotated[int | None, Form(ge=2000, le=2100)] = None,
) -> Response:
    ctx = ctx_of(request)
    store = _store(request, me, store)
    y = _year(year)
    raw = {
        "servers_receive_card_data": servers_receive_card_data,
        "stores_card_data_electronically": stores_card_data_electronically,
        "processor_compliant": processor_compliant,
        "all_payment_elements_from_processor": all_payment_elements_from_processor,
        "script_protection": script_protection,
    }
    form: dict[str, Any] = {"integration": integration, **raw, "confirm": list(confirm_ids or [])}
    errors: dict[str, str] = {}
    if integration not in {i.value for i in Integration}:
        errors["integration"] = "choose how card data reaches your payment processor"
    for name, value in raw.items():
        if value not in _TRI:
            errors[name] = "answer yes, no or not sure"
    if step not in ("preview", "save"):
        errors["step"] = "unknown step"
    if errors:
        return _wizard(request, store, y, form, errors, status_code=400)
    st = next((x for x in _config(request).stores if x.name == store), None)
    configured = CONFIG_VALUES.get(st.payment_integration.value) if st and st.payment_integration else None
    conflict = config_conflict(store, configured, Integration(integration))
    if conflict is not None:
        errors = {
            "integration": "contradicts shopguard.toml",
            "contradiction": f"Contradictory answers: {conflict}",
        }
        return _wizard(request, store, y, form, errors, status_code=400)
    answers = SaqAnswers(Integration(integration), **{k: _TRI[v] for k, v in raw.items()})
    try:
        decision = decide(answers)
    except Contradiction as exc:
        errors = dict.fromkeys(_blame(answers), "contradicts another answer")
        errors["contradiction"] = f"Contradictory answers: {exc} Nothing was stored."
        return _wizard(request, store, y, form, errors, status_code=400)
    known = {c.id for c in decision.conditions}
    try:
        decision = with_confirmations(decision, [c for c in form["confirm"] if c in known])
    except Contradiction as exc:
        return _wizard(request, store, y, form, {"confirm": str(exc)}, decision, 400)
    if step == "preview":
        return _wizard(request, store, y, form, {}, decision)
    with ctx.lock:
        save_decision(ctx.db, store, y, decision, me.email)
    with ctx.write() as s:
        auditlog.record(
            s,
            me.email,
            "pci.saq",
            f"{store} {y}",
            client_ip(request),
            {
                "saq": decision.saq.value,
                "integration": decision.integration.value,
                "confirmed": [c.id for c in decision.conditions if c.confirmed],
            },
        )
    return RedirectResponse(f"/pci/{quote(store, safe='')}{_q(y)}", status_code=303)


# --- suggestions ---------------------------------------------------------------------------------


@router.post("/pci/{store}/suggestions")
def suggestions_refresh(
    request: Request,
    store: str,
    me: Annotated[Principal, need(Perm.PCI_EDIT)],
    year: Annotated[int | None, Form(ge=2000, le=2100)] = None,
) -> Response:
    ctx = ctx_of(request)
    store = _store(request, me, store)
    y = _year(year)
    try:
        with ctx.lock:
            sugs = compute_suggestions(ctx.db, store, y)
    except PciError as exc:
        return _assessment_page(request, me, store, y, {"suggestions": str(exc)}, status_code=400)
    with ctx.write() as s:
        auditlog.record(
            s,
            me.email,
            "pci.suggest",
            f"{store} {y}",
            client_ip(request),
            {"confirmable": sum(1 for x in sugs if x.suggested.confirmable)},
        )
    return RedirectResponse(f"/pci/{quote(store, safe='')}{_q(y)}#suggestions", status_code=303)


@router.post("/pci/{store}/suggestions/decide")
def suggestion_decide(
    request: Request,
    store: str,
    me: Annotated[Principal, need(Perm.PCI_EDIT)],
    requirement_id: Annotated[str, Form(max_length=16)] = "",
    decision: Annotated[str, Form(max_length=16)] = "",
    year: Annotated[int | None, Form(ge=2000, le=2100)] = None,
) -> Response:
    """Confirm a suggestion (it becomes an answer in your name) or reject it (it is dropped
    until the suggestions are next refreshed; answer the requirement yourself)."""
    ctx = ctx_of(request)
    store = _store(request, me, store)
    y = _year(year)
    if decision not in ("confirm", "reject"):
        return _assessment_page(
            request, me, store, y, {"suggestions": "choose confirm or reject"}, status_code=400
        )
    with ctx.db() as s:
        a = get_assessment(s, store, y)
        sug = (
            s.scalar(
                select(PciSuggestion).where(
                    PciSuggestion.assessment_id == a.id, PciSuggestion.requirement_id == requirement_id
                )
            )
            if a is not None
            else None
        )
        stale = sug.suggestion if sug is not None else None
    if a is None or stale is None:
        return _assessment_page(
            request,
            me,
            store,
            y,
            {"suggestions": f"requirement {requirement_id or '?'}: no suggestion to decide"},
            status_code=400,
        )
    if decision == "confirm":
        try:
            with ctx.lock:
                done = confirm(ctx.db, store, y, [requirement_id], me.email)
        except PciError as exc:
            return _assessment_page(request, me, store, y, {"suggestions": str(exc)}, status_code=400)
        data = {"decision": "confirm", "answer": done[0].suggested.value}
    else:
        with ctx.write() as s:
            s.execute(
                delete(PciSuggestion).where(
                    PciSuggestion.assessment_id == a.id, PciSuggestion.requirement_id == requirement_id
                )
            )
        data = {"decision": "reject", "suggestion": stale}
    ctx.invalidate()
    with ctx.write() as s:
        auditlog.record(
            s, me.email, "pci.suggestion", f"{store} {y} {requirement_id}", client_ip(request), data
        )
    return RedirectResponse(f"/pci/{quote(store, safe='')}{_q(y)}#suggestions", status_code=303)


# --- remediation tasks ---------------------------------------------------------------------------


@router.post("/pci/{store}/tasks")
def task_update(
    request: Request,
    store: str,
    me: Annotated[Principal, need(Perm.PCI_EDIT)],
    requirement_id: Annotated[str, Form(max_length=16)] = "",
    owner: Annotated[str, Form(max_length=200)] = "",
    due: Annotated[str, Form(max_length=32)] = "",
    task_status: Annotated[str, Form(alias="status", max_length=16)] = "",
    year: Annotated[int | None, Form(ge=2000, le=2100)] = None,
) -> Response:
    ctx = ctx_of(request)
    store = _store(request, me, store)
    y = _year(year)
    errors: dict[str, str] = {}
    due_day: date | None = None
    if due.strip():
        try:
            due_day = date.fromisoformat(due.strip())
        except ValueError:
            errors["due"] = f"{due!r} is not a date; use YYYY-MM-DD"
    if task_status not in TASK_STATUSES:
        errors["status"] = "choose open or done"
    if not errors:
        try:
            with ctx.lock:
                set_task(ctx.db, store, y, requirement_id, owner.strip(), due_day, task_status)
        except PciError as exc:
            return _assessment_page(request, me, store, y, {"tasks": str(exc)}, status_code=400)
    if errors:
        return _assessment_page(request, me, store, y, task_errors={requirement_id: errors}, status_code=400)
    ctx.invalidate()
    with ctx.write() as s:
        auditlog.record(
            s,
            me.email,
            "pci.task",
            f"{store} {y} {requirement_id}",
            client_ip(request),
            {"owner": owner.strip(), "due": due_day, "status": task_status},
        )
    return RedirectResponse(f"/pci/{quote(store, safe='')}{_q(y)}#tasks", status_code=303)


__all__ = ["router", "shown"]
