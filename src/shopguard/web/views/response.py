"""The response section: the plan, incidents, and one incident's phase, tasks, timeline,
evidence and notification deadlines. Every change goes through the response protocol's own
functions (shopguard.response.*) and is recorded in the dashboard's audit log in the same
transaction."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shopguard.config import Config
from shopguard.db.base import utcnow
from shopguard.findings import Severity
from shopguard.response import evidence, incidents, notify, plan, timeline
from shopguard.response.aar import describe
from shopguard.response.appraisal import DataKind
from shopguard.response.deadlines import TimeZoneError
from shopguard.response.evidence import EvidenceError
from shopguard.response.models import EvidenceItem, Incident, TimelineEvent
from shopguard.response.runbooks import INCIDENT_PHASES, ROLE_TITLES, ROLES, phasebook, runbooks
from shopguard.web import auditlog, nav
from shopguard.web.auth import client_ip, ctx_of
from shopguard.web.pages import _render, need
from shopguard.web.params import RowId
from shopguard.web.permissions import Perm, Principal
from shopguard.web.uploads import spooled

router = APIRouter(include_in_schema=False)
nav.add("Response", "/response", Perm.RESPONSE_READ, 60)

MAX_EVIDENCE_BYTES = 20 * 1024 * 1024
"""Uploads above this are refused: big disk images belong with the forensic investigator,
collected with `shopguard incident evidence` on the server."""
_TEXT = {
    ".txt",
    ".log",
    ".csv",
    ".json",
    ".html",
    ".htm",
    ".js",
    ".css",
    ".php",
    ".xml",
    ".sql",
    ".eml",
    ".md",
}
_MAGIC = {
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".pdf": (b"%PDF-",),
    ".zip": (b"PK\x03\x04", b"PK\x05\x06"),
    ".gz": (b"\x1f\x8b",),
}
ALLOWED_EXTENSIONS = tuple(sorted(_TEXT | set(_MAGIC)))
PHASE_TITLES = {p.id: p.title for p in phasebook().phases}


def config_of(request: Request) -> Config:
    cfg = request.app.state.config
    return cfg if isinstance(cfg, Config) else Config()


def _stores(request: Request, me: Principal) -> list[str]:
    return [st.name for st in config_of(request).stores if me.sees_store(st.name)]


def _field(message: str, known: tuple[str, ...], default: str) -> str:
    """The form field an error message from the response code names ("title: ...")."""
    head = message.split(":", 1)[0].strip().lower()
    return head if head in known else default


def _countdown(due: datetime | None, now: datetime) -> str:
    if due is None:
        return ""
    secs = int((due - now).total_seconds())
    left = abs(secs)
    days, rest = divmod(left, 86400)
    hours, rest = divmod(rest, 3600)
    mins = rest // 60
    text = (f"{days} d " if days else "") + f"{hours} h {mins:02d} min"
    return f"{text} left" if secs >= 0 else f"overdue by {text}"


# --- the plan ----------------------------------------------------------------------------------


@router.get("/response")
def plan_page(request: Request, me: Annotated[Principal, need(Perm.RESPONSE_READ)]) -> Response:
    cfg = config_of(request)
    contacts = []
    for role in ROLES:
        c = getattr(cfg.contacts, role, None)
        contacts.append(
            {
                "role": role,
                "title": ROLE_TITLES[role],
                "missing": plan.contact_missing(c),
                "name": (c.name or c.organisation) if c else "",
                "email": c.email if c else "",
                "phone": c.phone if c else "",
            }
        )
    by_role = {c["role"]: c for c in contacts}
    with ctx_of(request).db() as s:
        versions = plan.versions(s)
    return _render(
        request,
        "response_plan.html",
        {
            "phases": phasebook().phases,
            "role_titles": ROLE_TITLES,
            "by_role": by_role,
            "contacts": contacts,
            "versions": versions,
            "runbooks": runbooks(),
            "pci_elements": phasebook().pci_elements,
        },
    )


# --- incidents ---------------------------------------------------------------------------------


def _list_page(
    request: Request, me: Principal, errors: dict[str, str], form: dict[str, str], status: int = 200
) -> Response:
    cfg = config_of(request)
    stores = _stores(request, me)
    rows: list[dict[str, Any]] = []
    with ctx_of(request).db() as s:
        found = sorted(incidents.list_incidents(s), key=lambda i: (i.status != "open", -i.id))
        for inc in found:
            if not me.sees_store(inc.store):
                continue
            overdue, nxt = 0, None
            if inc.status == "open":
                try:
                    v = notify.view(s, inc, cfg)
                except (TimeZoneError, plan.PlanError):
                    v = None
                if v is not None:
                    overdue = len(v.overdue)
                    pending = [o.due for o in v.items if o.sent is None and o.due is not None]
                    nxt = min(pending) if pending else None
            rows.append({"inc": inc, "overdue": overdue, "next_due": nxt})
    return _render(
        request,
        "incidents.html",
        {
            "rows": rows,
            "stores": stores,
            "scenarios": runbooks(),
            "severities": [s.value for s in Severity],
            "errors": errors,
            "form": form,
            "phase_titles": PHASE_TITLES,
            "now": utcnow(),
            "countdown": _countdown,
        },
        status,
    )


@router.get("/response/incidents")
def incidents_page(request: Request, me: Annotated[Principal, need(Perm.RESPONSE_READ)]) -> Response:
    return _list_page(request, me, {}, {"severity": "high", "scenario": "skimmer"})


@router.post("/response/incidents")
def incident_open(
    request: Request,
    me: Annotated[Principal, need(Perm.RESPONSE_MANAGE)],
    store: Annotated[str, Form(max_length=200)] = "",
    title: Annotated[str, Form(max_length=500)] = "",
    scenario: Annotated[str, Form(max_length=64)] = "",
    severity: Annotated[str, Form(max_length=16)] = "",
    discovered: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    cfg = config_of(request)
    form = {
        "store": store,
        "title": title,
        "scenario": scenario,
        "severity": severity,
        "discovered": discovered,
    }
    errors: dict[str, str] = {}
    if store not in _stores(request, me):
        errors["store"] = "choose one of your stores"
    if scenario not in runbooks():
        errors["scenario"] = "choose the runbook that fits best"
    try:
        sev = Severity.parse(severity)
    except ValueError:
        errors["severity"] = "choose a severity"
    if not title.strip():
        errors["title"] = "describe what happened in one line"
    when: datetime | None = None
    if discovered.strip() and "store" not in errors:
        try:
            tz = notify.store_zone(cfg, notify.store_of(cfg, store))
            when = datetime.fromisoformat(discovered.strip())
            when = when if when.tzinfo else when.replace(tzinfo=tz)
        except ValueError:
            errors["discovered"] = "a date and time such as 2026-03-28T10:00 (store time)"
    if errors:
        return _list_page(request, me, errors, form, 400)
    ctx = ctx_of(request)
    try:
        with ctx.write() as s:
            inc = incidents.open_incident(
                s,
                store=store,
                title=title,
                scenario=scenario,
                severity=sev,
                actor=me.email,
                config=cfg,
                discovered_at=when,
            )
            auditlog.record(
                s,
                me.email,
                "incident.open",
                f"incident {inc.id}",
                client_ip(request),
                {"store": store, "scenario": scenario, "severity": sev.value, "title": inc.title},
            )
            new_id = inc.id
    except incidents.IncidentError as exc:
        field = _field(str(exc), ("title", "scenario", "discovered", "severity"), "title")
        return _list_page(request, me, {field: str(exc).split(":", 1)[-1].strip()}, form, 400)
    return RedirectResponse(f"/response/incidents/{new_id}", status_code=303)


def _incident(s: Session, me: Principal, incident_id: int, lock: bool = False) -> Incident:
    try:
        inc = incidents.get(s, incident_id, lock=lock)
    except incidents.IncidentError:
        raise HTTPException(404, "no such incident") from None
    if not me.sees_store(inc.store):
        raise HTTPException(404, "no such incident")
    return inc


def _next_phase(phase: str) -> str | None:
    i = INCIDENT_PHASES.index(phase) if phase in INCIDENT_PHASES else -1
    # The last phase (lessons learned) is reached by closing the incident with its root cause.
    return INCIDENT_PHASES[i + 1] if 0 <= i < len(INCIDENT_PHASES) - 2 else None


def _incident_page(
    request: Request,
    me: Principal,
    incident_id: int,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    cfg = config_of(request)
    with ctx_of(request).db() as s:
        inc = _incident(s, me, incident_id)
        problem = ""
        try:
            v: notify.NotificationView | None = notify.view(s, inc, cfg)
        except (TimeZoneError, plan.PlanError) as exc:
            v, problem = None, str(exc)
        task_rows = incidents.tasks(s, inc)
        events = list(
            s.scalars(
                select(TimelineEvent).where(TimelineEvent.incident_id == inc.id).order_by(TimelineEvent.seq)
            )
        )
        chain = timeline.verify(s, inc)
        items = list(s.scalars(select(EvidenceItem).where(EvidenceItem.incident_id == inc.id)))
        s.expunge_all()
    now = v.now if v is not None else utcnow()
    local: Callable[[datetime | None], str] = v.local if v is not None else notify.fmt_utc
    return _render(
        request,
        "incident.html",
        {
            "inc": inc,
            "view": v,
            "view_problem": problem,
            "tasks": task_rows,
            "events": [(e, describe(e)) for e in events],
            "chain": chain,
            "evidence": items,
            "phases": INCIDENT_PHASES,
            "phase_titles": PHASE_TITLES,
            "next_phase": _next_phase(inc.phase),
            "note_kinds": incidents.NOTE_KINDS,
            "data_kinds": [k.value for k in DataKind],
            "appraisal": incidents.appraisal_of(inc),
            "now": now,
            "local": local,
            "countdown": _countdown,
            "errors": errors or {},
            "form": form or {},
            "max_mb": MAX_EVIDENCE_BYTES // (1024 * 1024),
            "allowed_ext": ", ".join(ALLOWED_EXTENSIONS),
            "saved": request.query_params.get("saved", ""),
        },
        status,
    )


@router.get("/response/incidents/{incident_id}")
def incident_page(
    request: Request, incident_id: RowId, me: Annotated[Principal, need(Perm.RESPONSE_READ)]
) -> Response:
    return _incident_page(request, me, incident_id)


def _change(
    request: Request,
    me: Principal,
    incident_id: int,
    action: str,
    apply: Callable[[Session, Incident], dict[str, Any]],
    error_field: str,
    form: dict[str, str],
    saved: str,
) -> Response:
    """Run one change to an incident with its audit entry in one transaction; a refused change
    re-renders the incident page with the field marked and nothing saved."""
    ctx = ctx_of(request)
    try:
        with ctx.write() as s:
            inc = _incident(s, me, incident_id, lock=True)
            data = apply(s, inc)
            auditlog.record(s, me.email, action, f"incident {inc.id}", client_ip(request), data)
    except (incidents.IncidentError, EvidenceError, ValueError) as exc:
        return _incident_page(request, me, incident_id, {error_field: str(exc)}, form, 400)
    except IntegrityError:
        msg = "someone changed this incident at the same moment; nothing was saved, try again"
        return _incident_page(request, me, incident_id, {error_field: msg}, form, 409)
    return RedirectResponse(f"/response/incidents/{incident_id}?saved={saved}#{saved}", status_code=303)


@router.post("/response/incidents/{incident_id}/phase")
def incident_phase(
    request: Request,
    incident_id: RowId,
    me: Annotated[Principal, need(Perm.RESPONSE_MANAGE)],
    phase: Annotated[str, Form(max_length=32)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    def apply(s: Session, inc: Incident) -> dict[str, Any]:
        if phase not in INCIDENT_PHASES or phase == "lessons_learned":
            raise incidents.IncidentError(
                "choose the next phase (close the incident to reach lessons learned)"
            )
        old = inc.phase
        incidents.set_phase(s, inc, phase, me.email, note.strip())
        return {"from": old, "to": phase}

    return _change(request, me, incident_id, "incident.phase", apply, "phase", {"note": note}, "phase")


@router.post("/response/incidents/{incident_id}/tasks/{number}/done")
def incident_task_done(
    request: Request,
    incident_id: RowId,
    number: RowId,
    me: Annotated[Principal, need(Perm.RESPONSE_MANAGE)],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    def apply(s: Session, inc: Incident) -> dict[str, Any]:
        task = incidents.complete_task(s, inc, number, me.email, note.strip())
        return {"task": task.number, "title": task.title}

    return _change(request, me, incident_id, "incident.task_done", apply, "tasks", {}, "tasks")


@router.post("/response/incidents/{incident_id}/timeline")
def incident_note(
    request: Request,
    incident_id: RowId,
    me: Annotated[Principal, need(Perm.RESPONSE_MANAGE)],
    kind: Annotated[str, Form(max_length=32)] = "note",
    text: Annotated[str, Form(max_length=10000)] = "",
) -> Response:
    form = {"kind": kind, "text": text}
    if not text.strip():
        return _incident_page(
            request, me, incident_id, {"text": "write what happened or was decided"}, form, 400
        )
    if kind not in incidents.NOTE_KINDS:
        return _incident_page(request, me, incident_id, {"kind": "choose the kind of entry"}, form, 400)

    def apply(s: Session, inc: Incident) -> dict[str, Any]:
        incidents.add_note(s, inc, text, me.email, kind)
        return {"kind": kind}

    return _change(request, me, incident_id, "incident.timeline", apply, "text", form, "timeline")


@router.post("/response/incidents/{incident_id}/notifications")
def incident_notified(
    request: Request,
    incident_id: RowId,
    me: Annotated[Principal, need(Perm.RESPONSE_MANAGE)],
    party: Annotated[str, Form(max_length=64)] = "",
    method: Annotated[str, Form(max_length=64)] = "",
    reference: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    form = {"party": party, "method": method, "reference": reference}
    if not method.strip():
        errors = {"method": "say how it was sent (e-mail, portal, phone)"}
        return _incident_page(request, me, incident_id, errors, form, 400)

    def apply(s: Session, inc: Incident) -> dict[str, Any]:
        incidents.mark_sent(s, inc, party, method=method, actor=me.email, reference=reference.strip())
        return {"party": party, "method": method.strip()}

    return _change(request, me, incident_id, "incident.notified", apply, "party", form, "notifications")


@router.post("/response/incidents/{incident_id}/appraisal")
def incident_appraisal(
    request: Request,
    incident_id: RowId,
    me: Annotated[Principal, need(Perm.RESPONSE_MANAGE)],
    data_kinds: Annotated[list[str] | None, Form()] = None,
    records: Annotated[str, Form(max_length=12)] = "",
    affected: Annotated[str, Form(max_length=2000)] = "",
    high_risk: Annotated[str, Form(max_length=8)] = "",
    encrypted: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Record the damage appraisal; the notification deadlines follow from it."""
    kinds = [k for k in (data_kinds or []) if k]
    form = {"records": records, "affected": affected, "high_risk": high_risk, "encrypted": encrypted}
    errors: dict[str, str] = {}
    raw: dict[str, Any] = {"data_kinds": kinds}
    if not kinds:
        errors["data_kinds"] = "tick the kinds of data involved"
    if not records.strip().isdigit():
        errors["records"] = "a whole number of records (0 or more)"
    else:
        raw["records"] = int(records)
    counts: dict[str, int] = {}
    for part in (x.strip() for x in affected.replace(";", ",").split(",")):
        if not part:
            continue
        code, sep, n = part.partition("=")
        if not sep or not n.strip().isdigit() or not code.strip():
            errors["affected"] = f"{part!r}: write JURISDICTION=COUNT, e.g. EU=800, US-CA=120"
            break
        counts[code.strip()] = counts.get(code.strip(), 0) + int(n)
    raw["affected"] = counts
    if high_risk in ("yes", "no"):
        raw["high_risk"] = high_risk == "yes"
    raw["encrypted"] = encrypted == "yes"
    if errors:
        return _incident_page(request, me, incident_id, errors, {**form, "kinds": ",".join(kinds)}, 400)

    def apply(s: Session, inc: Incident) -> dict[str, Any]:
        a = incidents.appraise(s, inc, raw, me.email)
        return {"data_kinds": [k.value for k in a.data_kinds], "records": a.records, "affected": a.affected}

    # A refused appraisal (AppraisalError, a ValueError naming the field) re-renders via _change.
    return _change(request, me, incident_id, "incident.appraisal", apply, "appraisal", form, "notifications")


@router.post("/response/incidents/{incident_id}/close")
def incident_close(
    request: Request,
    incident_id: RowId,
    me: Annotated[Principal, need(Perm.RESPONSE_MANAGE)],
    root_cause: Annotated[str, Form(max_length=10000)] = "",
    changes: Annotated[str, Form(max_length=10000)] = "",
) -> Response:
    form = {"root_cause": root_cause, "changes": changes}

    def apply(s: Session, inc: Incident) -> dict[str, Any]:
        incidents.close(s, inc, me.email, root_cause=root_cause, changes=changes)
        return {"root_cause": inc.root_cause}

    return _change(request, me, incident_id, "incident.close", apply, "root_cause", form, "phase")


# --- evidence ----------------------------------------------------------------------------------


def _safe_name(filename: str) -> str:
    base = Path(filename.replace("\\", "/")).name
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._") or "upload"
    return base[:120]


def check_upload(name: str, head: bytes, size: int) -> str:
    """Why an upload is refused ("" when it is fine): size, then type by extension and content."""
    if size == 0:
        return "the file is empty"
    if size > MAX_EVIDENCE_BYTES:
        mb = MAX_EVIDENCE_BYTES // (1024 * 1024)
        return f"the file is larger than {mb} MB; collect it on the server with `shopguard incident evidence`"
    ext = Path(name).suffix.lower()
    if ext in _MAGIC:
        if not any(head.startswith(m) for m in _MAGIC[ext]):
            return f"the file is named {ext} but its content is not a {ext.lstrip('.')} file"
        return ""
    if ext in _TEXT:
        if b"\x00" in head:
            return f"the file is named {ext} but holds binary data"
        return ""
    return (
        f"files of type {ext or '(no extension)'} are not accepted; allowed: {', '.join(ALLOWED_EXTENSIONS)}"
    )


@router.post("/response/incidents/{incident_id}/evidence")
def incident_evidence(
    request: Request,
    incident_id: RowId,
    me: Annotated[Principal, need(Perm.RESPONSE_MANAGE)],
    file: Annotated[UploadFile | None, File()] = None,
    description: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    form = {"description": description}
    if file is None or not file.filename:
        return _incident_page(request, me, incident_id, {"file": "choose a file to upload"}, form, 400)
    with spooled(file, _safe_name(file.filename), MAX_EVIDENCE_BYTES) as copy:
        problem = check_upload(copy.path.name, copy.head, copy.size)
        if problem:
            return _incident_page(
                request, me, incident_id, {"file": f"{file.filename}: {problem}"}, form, 400
            )

        def apply(s: Session, inc: Incident) -> dict[str, Any]:
            item = evidence.collect(
                s, inc, copy.path, me.email, description.strip(), source_label=f"upload: {file.filename}"
            )
            return {"evidence": item.id, "sha256": item.sha256, "size": item.size, "file": file.filename}

        return _change(request, me, incident_id, "incident.evidence", apply, "file", form, "evidence")


@router.get("/response/incidents/{incident_id}/evidence/{evidence_id}")
def evidence_download(
    request: Request,
    incident_id: RowId,
    evidence_id: RowId,
    me: Annotated[Principal, need(Perm.EXPORTS_READ)],
) -> Response:
    """The stored copy, after checking it still has its recorded sha256."""
    ctx = ctx_of(request)
    with ctx.db() as s:
        inc = _incident(s, me, incident_id)
        item = s.get(EvidenceItem, evidence_id)
        if item is None or item.incident_id != inc.id or item.kind != "file":
            raise HTTPException(404, "no such evidence file")
        try:
            intact = evidence.rehash(item) == item.sha256
        except OSError:
            intact = False
        if not intact:
            raise HTTPException(
                409, f"evidence {item.id}: the stored copy is missing or no longer matches its sha256"
            )
        path = Path(item.stored_path)
    with ctx.write() as s:
        auditlog.record(
            s,
            me.email,
            "evidence.download",
            f"incident {incident_id} evidence {evidence_id}",
            client_ip(request),
        )
    return FileResponse(path, media_type="application/octet-stream", filename=path.name)


__all__ = ["router"]
