"""``shopguard response`` (plan, drills) and ``shopguard incident`` (incident handling)."""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer
import yaml
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from shopguard.cli.common import CONFIG_OPTION, DB_OPTION, ExitCode, fail, load, open_db
from shopguard.config import Config
from shopguard.db.models import FindingRecord
from shopguard.findings import Severity
from shopguard.response import aar, evidence, incidents, notify, plan, timeline
from shopguard.response.appraisal import AppraisalError
from shopguard.response.autoopen import open_incidents_from_findings
from shopguard.response.deadlines import TimeZoneError
from shopguard.response.documents import FormatError, check_format, render
from shopguard.response.drill import (
    Answers,
    DrillError,
    PhaseAnswer,
    PhaseStep,
    drills,
    parse_answers,
    run_drill,
)
from shopguard.response.evidence import EvidenceError
from shopguard.response.laws import NOT_LEGAL_ADVICE
from shopguard.response.models import CustodyEntry, EvidenceItem, Incident, IncidentFinding, TimelineEvent
from shopguard.response.runbooks import INCIDENT_PHASES, runbooks

response_app = typer.Typer(help="The emergency response plan and tabletop drills.", no_args_is_help=True)
incident_app = typer.Typer(
    help="Handle a security incident: timeline, evidence, appraisal, notices.", no_args_is_help=True
)
console = Console(highlight=False, soft_wrap=True)

BY_OPTION = typer.Option(None, "--by", help="Who does this (default: $SHOPGUARD_ACTOR or your login name).")
USER_ERRORS = (
    incidents.IncidentError,
    plan.PlanError,
    AppraisalError,
    EvidenceError,
    DrillError,
    FormatError,
    TimeZoneError,
    KeyError,
)


def actor(by: str | None) -> str:
    return (by or os.environ.get("SHOPGUARD_ACTOR") or getpass.getuser()).strip()


@contextmanager
def session(config_path: Path | None, db: str | None) -> Iterator[tuple[Config, Session]]:
    _, cfg = load(config_path)
    sessions: sessionmaker[Session] = open_db(db, cfg)
    try:
        with sessions.begin() as s:
            yield cfg, s
    except USER_ERRORS as exc:
        fail(str(exc).strip('"'))
    except IntegrityError:
        fail(
            "another ShopGuard command changed this incident at the same moment; nothing was saved, "
            "run it again"
        )


def write_out(data: bytes, output: Path | None, fmt: str) -> None:
    if output is None:
        if fmt in ("pdf", "docx"):
            fail(f"--format {fmt} is binary: give --output FILE")
        sys.stdout.write(data.decode("utf-8"))
        return
    try:
        output.write_bytes(data)
    except OSError as exc:
        fail(f"{output}: cannot write: {exc.strerror}")
    console.print(f"wrote {escape(str(output))}")


def parse_time(text: str | None, tz: ZoneInfo, field: str) -> datetime | None:
    if text is None:
        return None
    try:
        t = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        fail(
            f"{field}: {text!r} is not a time; expected ISO 8601 such as 2026-03-28T10:00 "
            "(store time) or ...Z"
        )
    return t if t.tzinfo else t.replace(tzinfo=tz)


# ---- response plan ---------------------------------------------------------------------------


@response_app.command("plan")
def plan_cmd(
    fmt: str = typer.Option("md", "--format", "-f", help="md, html, pdf or docx."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file."),
    save: bool = typer.Option(False, "--save", help="Record the text as a new draft version if it changed."),
    by: str | None = BY_OPTION,
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Generate the incident response plan from shopguard.toml."""
    try:
        f = check_format(fmt)
    except FormatError as exc:
        fail(str(exc))
    with session(config, db) as (cfg, s):
        text = plan.plan_markdown(cfg)
        meta = "Not yet recorded: run with --save, then approve and publish."
        if save:
            v, new = plan.save_draft(s, cfg, actor(by))
            if not new:
                console.print(
                    f"plan unchanged: version {v.version} ({v.status}) has the same text", style="dim"
                )
        newest = plan.latest(s)
        if newest is not None and newest.text_hash == plan.text_hash(text):
            meta = f"Version {newest.version}, {newest.status}; sha256 {newest.text_hash[:16]}"
        missing = plan.missing_contacts(cfg)
    write_out(render(text, f, "Incident response plan", meta), output, f)
    if missing:
        console.print(
            f"[yellow]missing contacts:[/] {escape(', '.join(missing))} (see the plan's Contacts section)"
        )


@response_app.command("card")
def card_cmd(
    fmt: str = typer.Option("md", "--format", "-f", help="md, html, pdf or docx."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file."),
    config: Path | None = CONFIG_OPTION,
) -> None:
    """A one-page card for the first hour of an incident: print it and pin it up."""
    try:
        f = check_format(fmt)
    except FormatError as exc:
        fail(str(exc))
    _, cfg = load(config)
    try:
        text = plan.card_markdown(cfg)
    except plan.PlanError as exc:
        fail(str(exc))
    write_out(render(text, f, "Incident quick reference"), output, f)


@response_app.command("approve")
def approve_cmd(
    version: int | None = typer.Option(None, "--version", help="Version (default: the newest)."),
    by: str | None = BY_OPTION,
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Approve the newest draft of the plan."""
    with session(config, db) as (_, s):
        v = plan.approve(s, actor(by), version)
        console.print(f"plan version {v.version} approved by {escape(v.approved_by)}")


@response_app.command("publish")
def publish_cmd(
    version: int | None = typer.Option(None, "--version", help="Version (default: the newest)."),
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Publish the approved plan (the previous published version is superseded)."""
    with session(config, db) as (_, s):
        v = plan.publish(s, version)
        console.print(f"plan version {v.version} published (sha256 {v.text_hash[:16]})")


@response_app.command("versions")
def versions_cmd(config: Path | None = CONFIG_OPTION, db: str | None = DB_OPTION) -> None:
    """List the plan's versions."""
    with session(config, db) as (_, s):
        t = Table("version", "status", "sha256", "created", "approved by", "published")
        for v in plan.versions(s):
            t.add_row(
                str(v.version),
                v.status,
                v.text_hash[:16],
                f"{v.created_at:%Y-%m-%d}",
                escape(v.approved_by),
                f"{v.published_at:%Y-%m-%d}" if v.published_at else "-",
            )
        console.print(t)


@response_app.command("drill")
def drill_cmd(
    scenario: str = typer.Argument(..., help=f"One of: {', '.join(runbooks())}."),
    answers: Path | None = typer.Option(None, "--answers", help="YAML/JSON answers file (non-interactive)."),
    interactive: bool | None = typer.Option(
        None, "--interactive/--non-interactive", help="Prompt per phase (default: when on a terminal)."
    ),
    store: str | None = typer.Option(None, "--store", help="Store the drill is about."),
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Walk a scenario through the plan without a real incident; records each phase's time."""
    if scenario not in runbooks():
        fail(f"scenario: unknown {scenario!r}; expected one of {', '.join(runbooks())}")
    parsed: Answers | None = None
    if answers is not None:
        try:
            raw = yaml.safe_load(answers.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            fail(f"{answers}: cannot read answers: {exc}")
        try:
            parsed = parse_answers(raw or {}, str(answers))
        except DrillError as exc:
            fail(str(exc))
    if interactive is None:
        interactive = answers is None and sys.stdin.isatty()

    def ask(step: PhaseStep) -> PhaseAnswer:
        console.rule(f"{step.title}")
        for a in step.actions:
            console.print(f"  plan: {escape(a)}")
        for t in step.tasks:
            console.print(f"  task: {escape(t)}")
        notes = typer.prompt(
            "What would you do, who, and what is missing? (Enter to go on)", default="", show_default=False
        )
        gap = typer.prompt("Gap found (Enter for none)", default="", show_default=False)
        return PhaseAnswer(notes=notes, gaps=(gap,) if gap else ())

    with session(config, db) as (cfg, s):
        result = run_drill(
            s, cfg, scenario, store=store or "", answers=parsed, ask=ask if interactive else None
        )
    t = Table("phase", "minutes", "notes", "gaps", title=f"Drill #{result.drill_id}: {scenario}")
    for p in result.phases:
        t.add_row(p["phase"], f"{p['seconds'] / 60:.1f}", escape(p["notes"]), escape("; ".join(p["gaps"])))
    console.print(t)
    console.print(f"total {result.total_seconds / 60:.1f} min; {len(result.gaps)} gap(s)")
    for g in result.gaps:
        console.print(f"  [yellow]gap:[/] {escape(g)}")


@response_app.command("drills")
def drills_cmd(config: Path | None = CONFIG_OPTION, db: str | None = DB_OPTION) -> None:
    """List past drills."""
    with session(config, db) as (_, s):
        t = Table("id", "scenario", "finished", "minutes", "gaps", "plan version")
        for d in drills(s):
            total = sum(float(p["seconds"]) for p in d.phases) / 60
            t.add_row(
                str(d.id),
                d.scenario,
                f"{d.finished_at:%Y-%m-%d %H:%M}",
                f"{total:.1f}",
                str(len(d.gaps)),
                str(d.plan_version or "-"),
            )
        console.print(t)


# ---- incidents -------------------------------------------------------------------------------


def _store_name(cfg: Config, store: str | None) -> str:
    if store:
        if not any(s.name == store for s in cfg.stores):
            fail(f"--store: no store named {store!r} in the config")
        return store
    if len(cfg.stores) == 1:
        return cfg.stores[0].name
    fail("--store: the config has several stores (or none); name one")


@incident_app.command("open")
def open_cmd(
    title: str | None = typer.Argument(None, help="One line: what happened."),
    scenario: str = typer.Option("skimmer", "--scenario", help=f"Runbook: {', '.join(runbooks())}."),
    severity: str = typer.Option("high", "--severity"),
    discovered: str | None = typer.Option(None, "--discovered", help="When you noticed (default: now)."),
    from_findings: bool = typer.Option(False, "--from-findings", help="Open incidents from stored findings."),
    store: str | None = typer.Option(None, "--store"),
    by: str | None = BY_OPTION,
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Open an incident by hand, or from stored findings that call for one."""
    with session(config, db) as (cfg, s):
        name = _store_name(cfg, store)
        if from_findings:
            opened = open_incidents_from_findings(s, name, config=cfg)
            for inc in opened:
                console.print(f"opened incident #{inc.id}: {escape(inc.title)}")
            if not opened:
                console.print("no finding calls for a new incident")
            return
        if not title:
            fail("title: describe what happened, e.g. shopguard incident open 'Skimmer found in checkout.js'")
        try:
            sev = Severity.parse(severity)
        except ValueError as exc:
            fail(f"--severity: {exc}")
        tz = notify.store_zone(cfg, notify.store_of(cfg, name))
        inc = incidents.open_incident(
            s,
            store=name,
            title=title,
            scenario=scenario,
            severity=sev,
            actor=actor(by),
            config=cfg,
            discovered_at=parse_time(discovered, tz, "--discovered"),
        )
        console.print(
            f"opened incident #{inc.id} ({inc.scenario}, {inc.severity}); "
            f"next: `shopguard incident show {inc.id}`"
        )


@incident_app.command("list")
def list_cmd(
    status: str | None = typer.Option(None, "--status", help="open or closed"),
    store: str | None = typer.Option(None, "--store"),
    as_json: bool = typer.Option(False, "--json"),
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """List incidents."""
    with session(config, db) as (cfg, s):
        rows = incidents.list_incidents(s, store, status)
        overdue = {i.id: len(notify.view(s, i, cfg).overdue) if i.status == "open" else 0 for i in rows}
        if as_json:
            out = [{**_incident_json(i), "overdue_notices": overdue[i.id]} for i in rows]
            sys.stdout.write(json.dumps(out, indent=2) + "\n")
            return
        t = Table("id", "store", "status", "phase", "severity", "scenario", "opened", "overdue", "title")
        for i in rows:
            t.add_row(
                str(i.id),
                i.store,
                i.status,
                i.phase,
                i.severity,
                i.scenario,
                f"{i.opened_at:%Y-%m-%d %H:%M}",
                f"[bold red]{overdue[i.id]}[/]" if overdue[i.id] else "0",
                escape(i.title),
            )
        console.print(t)


def _incident_json(i: Incident) -> dict[str, Any]:
    return {
        "id": i.id,
        "store": i.store,
        "title": i.title,
        "scenario": i.scenario,
        "severity": i.severity,
        "phase": i.phase,
        "status": i.status,
        "source": i.source,
        "opened_at": i.opened_at.isoformat(),
        "discovered_at": i.discovered_at.isoformat(),
        "closed_at": i.closed_at.isoformat() if i.closed_at else None,
    }


@incident_app.command("show")
def show_cmd(
    incident_id: int = typer.Argument(...),
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Everything about an incident: tasks, deadlines, evidence, timeline."""
    with session(config, db) as (cfg, s):
        inc = incidents.get(s, incident_id)
        v = notify.view(s, inc, cfg)
        console.print(
            f"[bold]#{inc.id} {escape(inc.title)}[/]\n{inc.store} · {inc.scenario} · {inc.severity} · "
            f"{inc.status} · phase {inc.phase} · discovered {notify.fmt_local(inc.discovered_at, v.tz)}"
        )
        t = Table("#", "phase", "task", "owner", "due", "done", title="Tasks")
        for task in incidents.tasks(s, inc):
            late = task.done_at is None and task.due_at is not None and task.due_at < v.now
            t.add_row(
                str(task.number),
                task.phase,
                escape(task.title),
                escape(task.owner or task.owner_role),
                ("[red]" if late else "") + v.local(task.due_at) + ("[/]" if late else ""),
                v.local(task.done_at) if task.done_at else "",
            )
        console.print(t)
        _print_deadlines(v)
        a = incidents.appraisal_of(inc)
        if a is not None:
            where = ", ".join(f"{k} {n}" for k, n in a.affected.items()) or "not broken down"
            console.print(
                f"appraisal: {', '.join(k.value for k in a.data_kinds)}; {a.records} records ({where}); "
                f"window {v.local(a.window_start)} to {v.local(a.window_end)}"
            )
        else:
            console.print(f"[yellow]no appraisal yet[/]: `shopguard incident appraise {inc.id} ...`")
        linked = s.execute(
            select(FindingRecord)
            .join(IncidentFinding, IncidentFinding.finding_id == FindingRecord.id)
            .where(IncidentFinding.incident_id == inc.id)
        ).scalars()
        for rec in linked:
            console.print(
                f"finding: {escape(rec.title)} {escape(f'[{rec.severity}]')} at {escape(rec.location)} "
                f"({rec.check_id}, {rec.fingerprint[:12]}, {rec.status})"
            )
        ev = Table("id", "kind", "source", "sha256", "size", "collector", title="Evidence")
        for e in s.scalars(select(EvidenceItem).where(EvidenceItem.incident_id == inc.id)):
            ev.add_row(
                str(e.id), e.kind, escape(e.source_path), e.sha256[:16], str(e.size), escape(e.collector)
            )
        console.print(ev)
        tl = Table("#", "time", "who", "what", title="Timeline")
        for te in s.scalars(
            select(TimelineEvent).where(TimelineEvent.incident_id == inc.id).order_by(TimelineEvent.seq)
        ):
            tl.add_row(str(te.seq), v.local(te.at), escape(te.actor), escape(aar.describe(te)))
        console.print(tl)


def _print_deadlines(v: notify.NotificationView) -> None:
    t = Table(title=f"Who must be told (time zone {v.tz})")
    t.add_column("party", no_wrap=True)
    t.add_column("recipient", max_width=34)
    t.add_column("deadline (local)", max_width=22)
    t.add_column("deadline (UTC)", max_width=22)
    t.add_column("status", max_width=34)
    t.add_column("source", max_width=28, overflow="ellipsis")
    for o in v.items:
        if o.sent:
            status = f"sent {v.local(o.sent.at)} by {o.sent.by} ({o.sent.method})"
            status = (
                ("[yellow]late[/] " if o.overdue(v.now) else "[green]")
                + escape(status)
                + ("" if o.overdue(v.now) else "[/]")
            )
        elif o.overdue(v.now):
            status = "[bold red]OVERDUE[/]"
        elif o.due is None:
            status = escape(o.note or o.law.deadline_text)
        else:
            status = "open"
        due_local = v.local(o.due) if o.due else escape(o.law.deadline_text)
        t.add_row(
            o.id, escape(o.law.recipient), due_local, notify.fmt_utc(o.due), status, escape(o.law.citation)
        )
    console.print(t)
    if v.items and v.items[0].provisional:
        console.print(
            "[yellow]No appraisal yet:[/] worst case assumed for the store's jurisdictions "
            f"(`shopguard incident appraise {v.incident.id} ...`)."
        )
    console.print(f"[dim]{escape(NOT_LEGAL_ADVICE)}[/]")


@incident_app.command("phase")
def phase_cmd(
    incident_id: int = typer.Argument(...),
    phase: str = typer.Argument(..., help=", ".join(INCIDENT_PHASES)),
    note: str = typer.Option("", "--note"),
    by: str | None = BY_OPTION,
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Move an incident to another phase."""
    with session(config, db) as (_, s):
        inc = incidents.get(s, incident_id, lock=True)
        incidents.set_phase(s, inc, phase, actor(by), note)
        console.print(f"incident #{inc.id} is now in phase {phase}")


@incident_app.command("note")
def note_cmd(
    incident_id: int = typer.Argument(...),
    text: str = typer.Argument(...),
    kind: str = typer.Option("note", "--kind", help=", ".join(incidents.NOTE_KINDS)),
    by: str | None = BY_OPTION,
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Add a note, decision or planned change to the timeline."""
    with session(config, db) as (_, s):
        inc = incidents.get(s, incident_id, lock=True)
        incidents.add_note(s, inc, text, actor(by), kind)
        console.print(f"{kind} added to incident #{inc.id}")


@incident_app.command("task")
def task_cmd(
    incident_id: int = typer.Argument(...),
    number: int = typer.Argument(..., help="Task number (see `incident show`)."),
    note: str = typer.Option("", "--note"),
    by: str | None = BY_OPTION,
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Mark a task done."""
    with session(config, db) as (_, s):
        inc = incidents.get(s, incident_id, lock=True)
        task = incidents.complete_task(s, inc, number, actor(by), note)
        console.print(f"task {task.number} done: {escape(task.title)}")


@incident_app.command("evidence")
def evidence_cmd(
    incident_id: int = typer.Argument(...),
    path: Path | None = typer.Argument(None, help="File or folder to preserve."),
    description: str = typer.Option("", "--description"),
    export: int | None = typer.Option(None, "--export", help="Evidence id to hand over (with --to)."),
    to: Path | None = typer.Option(None, "--to", help="Folder to export into."),
    by: str | None = BY_OPTION,
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Preserve a file or folder (sha256, size, source, collector, time); or export with custody."""
    with session(config, db) as (_, s):
        inc = incidents.get(s, incident_id, lock=True)
        if export is not None:
            if to is None:
                fail("--to: give the folder to export the evidence into")
            item = s.get(EvidenceItem, export)
            if item is None or item.incident_id != inc.id:
                fail(f"--export: incident #{inc.id} has no evidence {export}")
            dest = evidence.export(s, inc, item, to, actor(by))
            console.print(f"exported evidence {item.id} to {escape(str(dest))} (sha256 verified)")
            return
        if path is None:
            t = Table("id", "kind", "source", "sha256", "custody")
            for e in s.scalars(select(EvidenceItem).where(EvidenceItem.incident_id == inc.id)):
                chain = s.scalars(
                    select(CustodyEntry).where(CustodyEntry.evidence_id == e.id).order_by(CustodyEntry.id)
                )
                t.add_row(
                    str(e.id),
                    e.kind,
                    escape(e.source_path),
                    e.sha256,
                    escape("; ".join(f"{c.action} by {c.actor} {c.at:%Y-%m-%d %H:%M}" for c in chain)),
                )
            console.print(t)
            return
        item = evidence.collect(s, inc, path, actor(by), description)
        console.print(
            f"evidence {item.id}: {item.kind} {escape(item.source_path)} -> {escape(item.stored_path)}\n"
            f"sha256 {item.sha256}, {item.size} bytes"
        )


@incident_app.command("appraise")
def appraise_cmd(
    incident_id: int = typer.Argument(...),
    file: Path | None = typer.Option(None, "--file", help="YAML/JSON appraisal (fields as below)."),
    data: str | None = typer.Option(
        None, "--data", help="Kinds, comma-separated: card_number,cvv,name,email..."
    ),
    records: int | None = typer.Option(None, "--records"),
    affected: list[str] = typer.Option([], "--affected", help="JURISDICTION=COUNT, repeatable (EU=800)."),
    window_start: str | None = typer.Option(None, "--from", help="Start of the exposure window."),
    window_end: str | None = typer.Option(None, "--to", help="End of the exposure window."),
    high_risk: bool | None = typer.Option(None, "--high-risk/--low-risk"),
    encrypted: bool = typer.Option(False, "--encrypted", help="Data was strongly encrypted, key not taken."),
    by: str | None = BY_OPTION,
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Record the damage appraisal; the notification deadlines follow from it."""
    raw: dict[str, Any] = {}
    if file is not None:
        try:
            loaded = yaml.safe_load(file.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            fail(f"{file}: cannot read the appraisal: {exc}")
        if not isinstance(loaded, dict):
            fail(f"{file}: expected a mapping of appraisal fields")
        raw.update(loaded)
    with session(config, db) as (cfg, s):
        inc = incidents.get(s, incident_id, lock=True)
        tz = notify.store_zone(cfg, notify.store_of(cfg, inc.store))
        if data is not None:
            raw["data_kinds"] = [k.strip() for k in data.split(",") if k.strip()]
        if records is not None:
            raw["records"] = records
        for item in affected:
            code, sep, n = item.partition("=")
            if not sep or not n.strip().isdigit():
                fail(f"--affected: {item!r}; expected JURISDICTION=COUNT such as US-CA=120")
            raw.setdefault("affected", {})[code.strip()] = int(n)
        for key, val in (("window_start", window_start), ("window_end", window_end)):
            if val is not None:
                t = parse_time(val, tz, f"--{'from' if key == 'window_start' else 'to'}")
                raw[key] = t.isoformat() if t else None
        if high_risk is not None:
            raw["high_risk"] = high_risk
        if encrypted:
            raw["encrypted"] = True
        incidents.appraise(s, inc, raw, actor(by))
        v = notify.view(s, inc, cfg)
        _print_deadlines(v)


@incident_app.command("notify")
def notify_cmd(
    incident_id: int = typer.Argument(...),
    sent: str | None = typer.Option(None, "--sent", help="Party id to mark as notified."),
    method: str = typer.Option("", "--method", help="How it was sent (e-mail, portal, phone, letter)."),
    at: str | None = typer.Option(None, "--at", help="When it was sent (default: now)."),
    reference: str = typer.Option("", "--reference", help="Case number or receipt."),
    draft: str | None = typer.Option(None, "--draft", help="Print a draft notice for this party."),
    as_json: bool = typer.Option(False, "--json"),
    by: str | None = BY_OPTION,
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Who must be told by when (store time zone and UTC), what is sent, what is overdue."""
    with session(config, db) as (cfg, s):
        inc = incidents.get(s, incident_id, lock=True)
        tz = notify.store_zone(cfg, notify.store_of(cfg, inc.store))
        if draft is not None:
            sys.stdout.write(notify.draft(s, inc, cfg, draft))
            return
        if sent is not None:
            incidents.mark_sent(
                s,
                inc,
                sent,
                method=method,
                actor=actor(by),
                at=parse_time(at, tz, "--at"),
                reference=reference,
            )
            console.print(f"marked {sent} as notified")
        v = notify.view(s, inc, cfg)
        if as_json:
            sys.stdout.write(
                json.dumps(
                    {
                        "incident": inc.id,
                        "timezone": str(v.tz),
                        "not_legal_advice": NOT_LEGAL_ADVICE,
                        "parties": [_ob_json(o, v) for o in v.items],
                    },
                    indent=2,
                )
                + "\n"
            )
            return
        _print_deadlines(v)
        overdue = bool(v.overdue)
    if overdue:  # outside the transaction: exiting inside it would roll back a --sent mark
        raise typer.Exit(int(ExitCode.FINDINGS))


def _ob_json(o: Any, v: notify.NotificationView) -> dict[str, Any]:
    return {
        "party": o.id,
        "kind": o.law.kind,
        "recipient": o.law.recipient,
        "jurisdiction": o.jurisdiction,
        "deadline": o.law.deadline_text,
        "due_utc": o.due.isoformat() if o.due else None,
        "due_local": v.local(o.due) if o.due else None,
        "overdue": o.overdue(v.now) and o.sent is None,
        "sent_at": o.sent.at.isoformat() if o.sent else None,
        "citation": o.law.citation,
        "source": o.law.source,
        "note": o.note,
        "provisional": o.provisional,
    }


@incident_app.command("verify")
def verify_cmd(
    incident_id: int | None = typer.Argument(None, help="Incident (default: all)."),
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Check that no incident's timeline was edited (hash chain)."""
    bad = 0
    with session(config, db) as (_, s):
        targets = [incidents.get(s, incident_id)] if incident_id else incidents.list_incidents(s)
        for inc in targets:
            r = timeline.verify(s, inc)
            if r.ok:
                console.print(f"incident #{inc.id}: timeline intact ({r.entries} events)")
            else:
                bad += 1
                console.print(f"[bold red]incident #{inc.id}: timeline TAMPERED[/]")
                for p in r.problems:
                    console.print(f"  {escape(p)}")
    if bad:
        raise typer.Exit(int(ExitCode.FINDINGS))


@incident_app.command("close")
def close_cmd(
    incident_id: int = typer.Argument(...),
    root_cause: str = typer.Option(..., "--root-cause"),
    changes: str = typer.Option("", "--changes", help="What changes because of this incident."),
    by: str | None = BY_OPTION,
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Close an incident with its root cause and the changes decided."""
    with session(config, db) as (_, s):
        inc = incidents.get(s, incident_id, lock=True)
        incidents.close(s, inc, actor(by), root_cause=root_cause, changes=changes)
        console.print(
            f"incident #{inc.id} closed; report: `shopguard incident report {inc.id} -f pdf -o aar.pdf`"
        )


@incident_app.command("report")
def report_cmd(
    incident_id: int = typer.Argument(...),
    fmt: str = typer.Option("html", "--format", "-f", help="md, html, pdf or docx."),
    output: Path | None = typer.Option(None, "--output", "-o"),
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """The after-action report: timeline, decisions, root cause, what changes."""
    try:
        f = check_format(fmt)
    except FormatError as exc:
        fail(str(exc))
    with session(config, db) as (cfg, s):
        inc = incidents.get(s, incident_id)
        text = aar.report_markdown(s, inc, cfg)
    write_out(render(text, f, f"After-action report, incident #{incident_id}"), output, f)


def register(app: typer.Typer) -> None:
    app.add_typer(response_app, name="response")
    app.add_typer(incident_app, name="incident")
