"""``shopguard pci``: SAQ choice, answers, auto-evidence, ASV scans, report and evidence pack."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shopguard.cli.common import CONFIG_OPTION, DB_OPTION, ExitCode, fail, load, open_db
from shopguard.config import Config, Store
from shopguard.pci.answers_io import export_answers, import_answers
from shopguard.pci.assessment import (
    ATTESTATION_STATEMENT,
    NOT_A_QSA,
    Answer,
    AnswerInput,
    PciError,
    attest,
    current_year,
    get_assessment,
    require_assessment,
    save_answers,
    save_decision,
    set_task,
    status,
    tasks_of,
)
from shopguard.pci.asv import NOT_AN_ASV, add_scan, cadence, next_due, prescan
from shopguard.pci.autoevidence import Suggested, compute_suggestions, confirm
from shopguard.pci.catalogue import Saq, load_catalogue
from shopguard.pci.evidence import attach_evidence
from shopguard.pci.files import EvidenceError
from shopguard.pci.models import PciEvidence
from shopguard.pci.saq import (
    CONFIG_VALUES,
    Contradiction,
    Integration,
    SaqAnswers,
    config_conflict,
    decide,
    with_confirmations,
)

out = Console(highlight=False, soft_wrap=True)

pci_app = typer.Typer(
    name="pci",
    help="PCI DSS self-assessment: choose the SAQ, answer it with ShopGuard's evidence, report.",
    no_args_is_help=True,
)
evidence_app = typer.Typer(help="Attach and list evidence files.", no_args_is_help=True)
asv_app = typer.Typer(
    help="Quarterly external scans by an Approved Scanning Vendor (11.3.2).", no_args_is_help=True
)
pci_app.add_typer(evidence_app, name="evidence")
pci_app.add_typer(asv_app, name="asv")

STORE_OPTION = typer.Option(None, "--store", "-s", help="Store name (needed when the config has several).")
YEAR_OPTION = typer.Option(None, "--year", help="Assessment year (default: this year).")
BY_OPTION = typer.Option("", "--by", help="Your name: recorded with what you do.")
REQS_ARG = typer.Argument(None, help="Requirement ids to confirm, e.g. 4.2.1 6.3.3.")
EVIDENCE_FILE_ARG = typer.Argument(..., help="PDF, image, text, CSV/JSON or office document.")
ASV_REPORT_ARG = typer.Argument(..., help="The ASV's scan report (PDF).")
REPORT_OUT_OPTION = typer.Option(..., "--output", "-o", help="File to write (.html or .pdf).")
EXPORT_OUT_OPTION = typer.Option(..., "--output", "-o", help="Zip file, or the YAML file with --answers.")
ANSWER_REQS_ARG = typer.Argument(..., help="Requirement ids, e.g. 12.8.4 (several get the same answer).")
CONFIRM_OPTION = typer.Option(
    None,
    "--confirm",
    help="Confirm an eligibility condition by id (repeatable), e.g. ecommerce-only-channel.",
)
ANSWERS_IN_OPTION = typer.Option(..., "--answers", help="YAML written by `shopguard pci export --answers`.")


def register(app: typer.Typer) -> None:
    app.add_typer(pci_app, name="pci")


def _pick_store(config: Config, name: str | None) -> Store:
    if name is None:
        if len(config.stores) == 1:
            return config.stores[0]
        known = ", ".join(s.name for s in config.stores) or "none"
        fail(f"choose a store with --store (stores in the config: {known})")
    for s in config.stores:
        if s.name == name:
            return s
    known = ", ".join(s.name for s in config.stores) or "none"
    fail(f"no store named {name!r} in the config (stores: {known})")


def _ctx(
    config_path: Path | None, db_url: str | None, store: str | None
) -> tuple[Config, Store, sessionmaker[Session]]:
    _, config = load(config_path)
    st = _pick_store(config, store)
    return config, st, open_db(db_url, config)


def _pci_fail(exc: Exception) -> NoReturn:
    fail(str(exc), ExitCode.USAGE)


def _interactive(no_input: bool) -> bool:
    return not no_input and sys.stdin.isatty()


def _ask_bool(question: str, value: bool | None, interactive: bool) -> bool | None:
    if value is not None or not interactive:
        return value
    ans = typer.prompt(f"{question} [yes/no/unsure]", default="unsure").strip().lower()
    return {"yes": True, "y": True, "no": False, "n": False}.get(ans)


@pci_app.command("saq")
def saq_cmd(
    store: str | None = STORE_OPTION,
    integration: str | None = typer.Option(
        None,
        "--integration",
        help="How card data reaches the processor: redirect, iframe, direct-post, processor-js, api "
        "(default: store.payment_integration from shopguard.toml).",
    ),
    servers: bool | None = typer.Option(
        None,
        "--servers-receive-card-data/--no-servers-receive-card-data",
        help="Do your servers ever get card numbers?",
    ),
    stores_data: bool | None = typer.Option(
        None, "--stores-card-data/--no-stores-card-data", help="Do you keep card numbers electronically?"
    ),
    processor_ok: bool | None = typer.Option(
        None, "--processor-compliant/--no-processor-compliant", help="Have you seen your processor's PCI AoC?"
    ),
    elements: bool | None = typer.Option(
        None,
        "--all-elements-from-processor/--no-all-elements-from-processor",
        help="iframe: does every payment-form element come from the processor?",
    ),
    scripts: bool | None = typer.Option(
        None,
        "--script-protection/--no-script-protection",
        help="iframe: is your site protected from script attacks on the payment page (SAQ A, Jan 2025)?",
    ),
    confirm_ids: list[str] = CONFIRM_OPTION,
    by: str = BY_OPTION,
    year: int | None = YEAR_OPTION,
    dry_run: bool = typer.Option(False, "--dry-run", help="Decide and explain, store nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print the decision as JSON."),
    no_input: bool = typer.Option(False, "--no-input", help="Never ask; use flags and the config only."),
    ask: bool = typer.Option(False, "--ask", help="Ask every unanswered question, even without a terminal."),
    config_path: Path | None = CONFIG_OPTION,
    db_url: str | None = DB_OPTION,
) -> None:
    """Choose the SAQ (A, A-EP or D) from how your shop takes card payments."""
    _, config = load(config_path)
    st = _pick_store(config, store)
    interactive = ask or _interactive(no_input)
    configured = CONFIG_VALUES.get(st.payment_integration.value) if st.payment_integration else None
    chosen: Integration | None = None
    if integration is not None:
        try:
            chosen = Integration(integration.strip().lower())
        except ValueError:
            allowed = ", ".join(i.value for i in Integration)
            fail(f"--integration {integration!r}: expected one of {allowed}")
        conflict = config_conflict(st.name, configured, chosen, "--integration")
        if conflict is not None:
            fail(f"contradictory answers: {conflict}")
    chosen = chosen or configured
    if chosen is None:
        if not interactive:
            fail(
                f"store {st.name!r}: how does card data reach your processor? Set payment_integration in "
                "shopguard.toml or pass --integration (redirect, iframe, direct-post, processor-js, api)"
            )
        for i in Integration:
            out.print(f"  {i.value:13} {i.plain}")
        picked = typer.prompt("Which one describes your checkout?", default="redirect").strip().lower()
        try:
            chosen = Integration(picked)
        except ValueError:
            fail(f"{picked!r} is not one of the integrations listed")
    answers = SaqAnswers(
        integration=chosen,
        servers_receive_card_data=_ask_bool(
            "Do your servers ever receive full card numbers?", servers, interactive
        ),
        stores_card_data_electronically=_ask_bool(
            "Do you keep card numbers electronically (database, e-mail, spreadsheets)?",
            stores_data,
            interactive,
        ),
        processor_compliant=_ask_bool(
            "Have you seen your payment processor's current PCI DSS Attestation of Compliance?",
            processor_ok,
            interactive,
        ),
        all_payment_elements_from_processor=_ask_bool(
            "Does every element of the payment form come only from the processor?", elements, interactive
        )
        if chosen is Integration.IFRAME
        else elements,
        script_protection=_ask_bool(
            "Is your site protected from script attacks that could affect the payment page?",
            scripts,
            interactive,
        )
        if chosen is Integration.IFRAME
        else scripts,
    )
    try:
        decision = with_confirmations(decide(answers), confirm_ids or [])
    except Contradiction as exc:
        fail(f"contradictory answers: {exc} Nothing was stored.")
    if interactive and decision.pending:
        yes = [
            c.id
            for c in decision.pending
            if _ask_bool(f"Do you confirm: {c.text}", None, interactive=True) is True
        ]
        decision = with_confirmations(decision, yes)
    y = year or current_year()
    previous: str | None = None
    if not dry_run:
        db = open_db(db_url, config)
        with db() as s:
            old = get_assessment(s, st.name, y)
            previous = old.saq if old is not None else None
        save_decision(db, st.name, y, decision, by or "shopguard pci saq")
    if as_json:
        out.print_json(json.dumps({"store": st.name, "year": y, "stored": not dry_run, **decision.to_dict()}))
        return
    out.print(f"[bold]{decision.saq.long_name}[/] for store {st.name} ({y})")
    for r in decision.reasons:
        out.print(f"  - {r}")
    if decision.conditions:
        out.print("\n[bold]Confirm these eligibility conditions[/] (your acquirer may ask for proof):")
        for c in decision.conditions:
            mark = {True: "[green]yes[/]", False: "[red]NO[/]", None: "[yellow]to confirm[/]"}[c.confirmed]
            out.print(f"  [{mark}] {c.text} [dim]({c.source})[/]")
    if previous and previous != decision.saq.value:
        out.print(
            f"\n[yellow]The SAQ changed from {Saq(previous).long_name}.[/] Answers to requirements outside "
            "the new SAQ are kept but no longer count, and any signature must be given again."
        )
    n = len(load_catalogue().for_saq(decision.saq))
    out.print(f"\n{n} requirements apply. Next: `shopguard pci suggest --store {st.name}`.")
    out.print("[dim]ShopGuard is not a QSA; your acquirer decides which SAQ you may use.[/]")
    if dry_run:
        out.print("[dim](dry run: nothing stored)[/]")


@pci_app.command("catalogue")
def catalogue_cmd(
    saq: str = typer.Option("D", "--saq", help="A, A-EP or D."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List the requirements of an SAQ with ShopGuard's summaries and evidence sources."""
    try:
        s = Saq.parse(saq)
    except ValueError as exc:
        fail(f"--saq: {exc}")
    reqs = load_catalogue().for_saq(s)
    if as_json:
        rows = [
            {"id": r.id, "summary": r.summary, "evidence": r.evidence, "checks": list(r.checks)} for r in reqs
        ]
        out.print_json(json.dumps(rows))
        return
    t = Table(title=f"{s.long_name}: {len(reqs)} requirements (summaries in ShopGuard's words)")
    for col in ("Req.", "Summary", "Evidence", "ShopGuard checks"):
        t.add_column(col)
    for r in reqs:
        t.add_row(r.id, r.summary, r.evidence, ", ".join(r.checks))
    out.print(t)


@pci_app.command("suggest")
def suggest_cmd(
    store: str | None = STORE_OPTION,
    year: int | None = YEAR_OPTION,
    as_json: bool = typer.Option(False, "--json"),
    config_path: Path | None = CONFIG_OPTION,
    db_url: str | None = DB_OPTION,
) -> None:
    """Pre-answer what ShopGuard's own scans can show (suggestions only; confirm them)."""
    _, st, db = _ctx(config_path, db_url, store)
    try:
        sugs = compute_suggestions(db, st.name, year or current_year())
    except PciError as exc:
        _pci_fail(exc)
    if as_json:
        out.print_json(
            json.dumps(
                [
                    {
                        "requirement": x.requirement_id,
                        "suggestion": x.suggested.value,
                        "reason": x.reason,
                        "findings": [f.fingerprint for f in x.findings],
                        "checks": list(x.checks),
                    }
                    for x in sugs
                ]
            )
        )
        return
    t = Table(title=f"ShopGuard suggestions for {st.name} (not answers until you confirm them)")
    for col in ("Req.", "Suggestion", "Why"):
        t.add_column(col)
    for x in sugs:
        if x.suggested is Suggested.MANUAL:
            continue
        t.add_row(x.requirement_id, x.suggested.value, x.reason)
    out.print(t)
    manual = sum(1 for x in sugs if x.suggested is Suggested.MANUAL)
    out.print(f"{manual} requirement(s) need your own answer (ShopGuard has no check for them).")
    out.print("Confirm with `shopguard pci confirm REQ... --by NAME` (or --all-confirmable).")


@pci_app.command("confirm")
def confirm_cmd(
    requirements: list[str] = REQS_ARG,
    all_confirmable: bool = typer.Option(
        False, "--all-confirmable", help="Every In Place / Not in Place suggestion."
    ),
    by: str = BY_OPTION,
    store: str | None = STORE_OPTION,
    year: int | None = YEAR_OPTION,
    config_path: Path | None = CONFIG_OPTION,
    db_url: str | None = DB_OPTION,
) -> None:
    """Turn ShopGuard's suggestions into answers, in your name."""
    _, st, db = _ctx(config_path, db_url, store)
    y = year or current_year()
    ids = list(requirements or [])
    try:
        if all_confirmable:
            ids += [s.requirement_id for s in compute_suggestions(db, st.name, y) if s.suggested.confirmable]
        if not ids:
            fail("name the requirements to confirm, or pass --all-confirmable")
        done = confirm(db, st.name, y, sorted(set(ids)), by)
    except PciError as exc:
        _pci_fail(exc)
    for s in done:
        out.print(f"{s.requirement_id}: {s.suggested.value} (confirmed by {by})")


@pci_app.command("answer")
def answer_cmd(
    requirements: list[str] = ANSWER_REQS_ARG,
    answer: str = typer.Option(..., "--answer", "-a", help=", ".join(a.value for a in Answer)),
    justification: str = typer.Option("", "--justification", "-j", help="Required for N/A, Not Tested, CCW."),
    on: str | None = typer.Option(None, "--date", help="Date of the answer (default today)."),
    by: str = BY_OPTION,
    store: str | None = STORE_OPTION,
    year: int | None = YEAR_OPTION,
    config_path: Path | None = CONFIG_OPTION,
    db_url: str | None = DB_OPTION,
) -> None:
    """Answer requirements yourself (several ids get the same answer, all or nothing)."""
    _, st, db = _ctx(config_path, db_url, store)
    try:
        ans = Answer.parse(answer)
        day = date.fromisoformat(on) if on else None
    except ValueError as exc:
        fail(f"requirement {requirements[0]}: {exc}")
    items = [AnswerInput(rid, ans, by, justification, day) for rid in requirements]
    try:
        save_answers(db, st.name, year or current_year(), items)
    except PciError as exc:
        _pci_fail(exc)
    for rid in requirements:
        out.print(f"{rid}: {ans.label} (by {by})")


@evidence_app.command("add")
def evidence_add(
    requirement: str = typer.Argument(...),
    file: Path = EVIDENCE_FILE_ARG,
    by: str = BY_OPTION,
    note: str = typer.Option("", "--note"),
    store: str | None = STORE_OPTION,
    year: int | None = YEAR_OPTION,
    config_path: Path | None = CONFIG_OPTION,
    db_url: str | None = DB_OPTION,
) -> None:
    """Attach an evidence file to a requirement (stored with its sha256; never overwritten)."""
    _, st, db = _ctx(config_path, db_url, store)
    if not by.strip():
        fail("--by: who uploads the evidence is required")
    try:
        stored = attach_evidence(db, st.name, year or current_year(), requirement, file, by, note)
    except (PciError, EvidenceError) as exc:
        _pci_fail(exc)
    out.print(f"{requirement}: stored {stored.filename} ({stored.size:,} bytes, sha256 {stored.sha256})")


@evidence_app.command("list")
def evidence_list(
    store: str | None = STORE_OPTION,
    year: int | None = YEAR_OPTION,
    config_path: Path | None = CONFIG_OPTION,
    db_url: str | None = DB_OPTION,
) -> None:
    """List evidence files."""
    _, st, db = _ctx(config_path, db_url, store)
    try:
        with db() as s:
            a = require_assessment(s, st.name, year or current_year())
            rows = list(s.scalars(select(PciEvidence).where(PciEvidence.assessment_id == a.id)))
    except PciError as exc:
        _pci_fail(exc)
    t = Table(title="Evidence")
    for col in ("Req.", "File", "Size", "sha256", "By", "When"):
        t.add_column(col)
    for e in rows:
        t.add_row(
            e.requirement_id,
            e.filename,
            f"{e.size:,}",
            e.sha256[:16],
            e.uploader,
            f"{e.uploaded_at:%Y-%m-%d}",
        )
    out.print(t)


@pci_app.command("tasks")
def tasks_cmd(
    requirement: str | None = typer.Argument(None, help="Set owner/due for this requirement's task."),
    owner: str | None = typer.Option(None, "--owner"),
    due: str | None = typer.Option(None, "--due", help="YYYY-MM-DD"),
    store: str | None = STORE_OPTION,
    year: int | None = YEAR_OPTION,
    config_path: Path | None = CONFIG_OPTION,
    db_url: str | None = DB_OPTION,
) -> None:
    """Remediation tasks for requirements Not in Place (list, or set owner and due date)."""
    _, st, db = _ctx(config_path, db_url, store)
    y = year or current_year()
    try:
        if requirement is not None:
            due_d = date.fromisoformat(due) if due else None
            set_task(db, st.name, y, requirement, owner, due_d)
        with db() as s:
            tasks = tasks_of(s, require_assessment(s, st.name, y))
    except ValueError as exc:  # PciError is a ValueError too
        _pci_fail(exc)
    t = Table(title=f"Remediation tasks, {st.name} {y}")
    for col in ("Req.", "Task", "Owner", "Due", "Status", "Findings"):
        t.add_column(col)
    for task in tasks:
        t.add_row(
            task.requirement_id,
            task.title,
            task.owner or "-",
            str(task.due or "-"),
            task.status,
            ", ".join(f[:12] for f in task.findings or []),
        )
    out.print(t)


@pci_app.command("status")
def status_cmd(
    store: str | None = STORE_OPTION,
    year: int | None = YEAR_OPTION,
    as_json: bool = typer.Option(False, "--json"),
    config_path: Path | None = CONFIG_OPTION,
    db_url: str | None = DB_OPTION,
) -> None:
    """Progress per requirement group."""
    _, st, db = _ctx(config_path, db_url, store)
    try:
        a, groups = status(db, st.name, year or current_year())
    except PciError as exc:
        _pci_fail(exc)
    if as_json:
        rows: list[dict[str, Any]] = [dict(g.__dict__, percent=g.percent) for g in groups]
        out.print_json(json.dumps({"store": st.name, "year": a.year, "saq": a.saq, "groups": rows}))
        return
    t = Table(title=f"{Saq(a.saq).long_name}: {st.name} {a.year}")
    for col in (
        "Group",
        "Applicable",
        "Answered",
        "In Place",
        "N/A",
        "Not Tested",
        "Not in Place",
        "Open tasks",
    ):
        t.add_column(col)
    for g in groups:
        t.add_row(
            f"{g.group}. {g.title}",
            str(g.applicable),
            f"{g.answered} ({g.percent}%)",
            str(g.in_place),
            str(g.not_applicable),
            str(g.not_tested),
            str(g.not_in_place),
            str(g.open_tasks),
        )
    out.print(t)
    signed = f"signed {a.attested_at:%Y-%m-%d} by {a.attested_by}" if a.attested_at else "not signed"
    out.print(f"Assessment {signed}.")


@asv_app.command("add")
def asv_add(
    report: Path = ASV_REPORT_ARG,
    vendor: str = typer.Option(..., "--vendor", help="The ASV company."),
    scan_date: str = typer.Option(..., "--scan-date", help="YYYY-MM-DD"),
    passed: bool = typer.Option(..., "--passed/--failed", help="The report's overall result."),
    quarter: str | None = typer.Option(None, "--quarter", help="e.g. 2026-Q3 (default: from the scan date)."),
    by: str = BY_OPTION,
    store: str | None = STORE_OPTION,
    config_path: Path | None = CONFIG_OPTION,
    db_url: str | None = DB_OPTION,
) -> None:
    """Record an ASV scan report."""
    _, st, db = _ctx(config_path, db_url, store)
    try:
        day = date.fromisoformat(scan_date)
    except ValueError:
        fail(f"--scan-date {scan_date!r}: expected YYYY-MM-DD")
    try:
        rec = add_scan(
            db, st.name, report, quarter=quarter, scan_date=day, vendor=vendor, passed=passed, uploader=by
        )
    except (PciError, EvidenceError) as exc:
        _pci_fail(exc)
    out.print(
        f"{rec.quarter}: {'pass' if rec.passed else 'fail'} by {rec.vendor} recorded (sha256 {rec.sha256})"
    )


@asv_app.command("status")
def asv_status(
    store: str | None = STORE_OPTION,
    config_path: Path | None = CONFIG_OPTION,
    db_url: str | None = DB_OPTION,
) -> None:
    """Which quarters have a passing ASV scan."""
    _, st, db = _ctx(config_path, db_url, store)
    with db() as s:
        quarters = cadence(s, st.name)
    t = Table(title=f"ASV scans for {st.name} (11.3.2: one passing scan per quarter)")
    for col in ("Quarter", "Status", "Reports"):
        t.add_column(col)
    for q in quarters:
        t.add_row(q.quarter, q.status, "; ".join(q.scans))
    out.print(t)
    nxt = next_due(quarters)
    out.print(f"Next passing scan due: {nxt.quarter} (by {nxt.by}).")
    if nxt.overdue:
        out.print(f"[red]No passing scan for {', '.join(nxt.overdue)}.[/]")
    out.print(f"[dim]{NOT_AN_ASV}[/]")


@pci_app.command("prescan")
def prescan_cmd(
    store: str | None = STORE_OPTION,
    as_json: bool = typer.Option(False, "--json"),
    config_path: Path | None = CONFIG_OPTION,
    db_url: str | None = DB_OPTION,
) -> None:
    """Apply the ASV pass rule to ShopGuard's stored findings (exit 1 if it would fail)."""
    _, st, db = _ctx(config_path, db_url, store)
    with db() as s:
        res = prescan(s, st.name)
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "store": st.name,
                    "would_pass": res.passed,
                    "considered": res.considered,
                    "failures": [f.__dict__ for f in res.failures],
                    "notice": NOT_AN_ASV,
                }
            )
        )
    else:
        verdict = (
            "[green]would pass[/]" if res.passed else f"[red]would fail[/] ({len(res.failures)} item(s))"
        )
        out.print(f"Pre-scan of {res.considered} open finding(s): {verdict}")
        for f in res.failures:
            out.print(f"  - {f.title} at {f.location}: {f.reason}")
        out.print(f"[dim]{NOT_AN_ASV}[/]")
    if not res.passed:
        raise typer.Exit(int(ExitCode.FINDINGS))


@pci_app.command("sign")
def sign_cmd(
    by: str = BY_OPTION,
    title: str = typer.Option("", "--title", help="Your role, e.g. Owner, Director."),
    store: str | None = STORE_OPTION,
    year: int | None = YEAR_OPTION,
    config_path: Path | None = CONFIG_OPTION,
    db_url: str | None = DB_OPTION,
) -> None:
    """Record that you reviewed the completed assessment (sign the official AoC as well)."""
    _, st, db = _ctx(config_path, db_url, store)
    try:
        a = attest(db, st.name, year or current_year(), by, title)
    except PciError as exc:
        _pci_fail(exc)
    out.print(f"Signed by {a.attested_by} on {a.attested_at:%Y-%m-%d}. Now sign the official PCI SSC AoC.")
    out.print(f"By signing you confirmed: {ATTESTATION_STATEMENT}")
    out.print(f"[dim]{NOT_A_QSA}[/]")


@pci_app.command("report")
def report_cmd(
    output: Path = REPORT_OUT_OPTION,
    fmt: str | None = typer.Option(None, "--format", "-f", help="html or pdf (default: from the file name)."),
    store: str | None = STORE_OPTION,
    year: int | None = YEAR_OPTION,
    config_path: Path | None = CONFIG_OPTION,
    db_url: str | None = DB_OPTION,
) -> None:
    """Write the Attestation-of-Compliance-shaped working copy (HTML or PDF)."""
    from shopguard.pci.report import build_context, render_html, render_pdf

    config, st, db = _ctx(config_path, db_url, store)
    kind = (fmt or output.suffix.lstrip(".")).lower()
    if kind not in ("html", "pdf"):
        fail(f"--format {kind!r}: expected html or pdf")
    try:
        html = render_html(build_context(db, config, st.name, year or current_year()))
    except PciError as exc:
        _pci_fail(exc)
    tmp = output.with_name(output.name + ".partial")
    if kind == "pdf":
        tmp.write_bytes(render_pdf(html))
    else:
        tmp.write_text(html, encoding="utf-8")
    tmp.replace(output)
    out.print(f"Wrote {output} (working copy, not an official PCI SSC form)")


@pci_app.command("export")
def export_cmd(
    output: Path = EXPORT_OUT_OPTION,
    answers_only: bool = typer.Option(False, "--answers", help="Write only the answers as YAML."),
    store: str | None = STORE_OPTION,
    year: int | None = YEAR_OPTION,
    config_path: Path | None = CONFIG_OPTION,
    db_url: str | None = DB_OPTION,
) -> None:
    """Evidence pack (zip) for a QSA or acquirer, or the answers as YAML for git."""
    config, st, db = _ctx(config_path, db_url, store)
    y = year or current_year()
    try:
        if answers_only:
            text = export_answers(db, st.name, y)
            tmp = output.with_name(output.name + ".partial")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(output)
            out.print(f"Wrote answers to {output}")
            return
        from shopguard.pci.report import export_pack

        index = export_pack(db, config, st.name, y, output)
    except (PciError, EvidenceError) as exc:
        _pci_fail(exc)
    out.print(
        f"Wrote {output}: {index['answers']} answers, {len(index['files'])} files, "
        f"{index['findings']} findings"
    )


@pci_app.command("import")
def import_cmd(
    answers_file: Path = ANSWERS_IN_OPTION,
    store: str | None = STORE_OPTION,
    year: int | None = YEAR_OPTION,
    config_path: Path | None = CONFIG_OPTION,
    db_url: str | None = DB_OPTION,
) -> None:
    """Import answers from YAML (all or nothing)."""
    _, st, db = _ctx(config_path, db_url, store)
    try:
        n = import_answers(db, st.name, year or current_year(), answers_file)
    except PciError as exc:
        _pci_fail(exc)
    out.print(f"Imported {n} answer(s) from {answers_file}")
