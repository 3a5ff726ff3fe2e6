"""``shopguard insurance ...``: the cyber insurance register, gaps, renewals and readiness."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shopguard.cli.common import CONFIG_OPTION, DB_OPTION, ExitCode, fail, load, open_db
from shopguard.config import Config, ConfigError
from shopguard.db.base import utcnow
from shopguard.insurance import insurer_notifications
from shopguard.insurance.coverages import KINDS
from shopguard.insurance.gaps import analyse
from shopguard.insurance.models import InsurancePolicy
from shopguard.insurance.money import fmt_money
from shopguard.insurance.readiness import QUESTIONS, answer_sheet, answers
from shopguard.insurance.register import (
    InsuranceInputError,
    export_yaml,
    import_yaml,
    store_answer,
    validate_answer,
)

console = Console()
app = typer.Typer(
    help="Cyber insurance: policies held, coverage gaps, renewals, underwriting answers.",
    no_args_is_help=True,
)

NOT_ADVICE = "ShopGuard is not an insurer or broker; this is not insurance advice."

TEMPLATE = (
    """\
# Your cyber insurance policy, for `shopguard insurance import FILE`.
# Amounts: 250000, "250k" or "1M". Dates: YYYY-MM-DD. Delete the coverages you do not have.
insurance:
  - insurer: Example Insurance Co
    policy_number: CY-000000
    period_start: 2026-01-01
    period_end: 2026-12-31
    currency: USD
    aggregate_limit: 1M
    retention: 2500            # deductible / excess
    broker: {name: "", email: "", phone: ""}
    notification: {window_hours: 72, hotline: "", email: ""}
    exclusions: []
    coverages:
"""
    + "".join(f"      {k.id}: {{limit: 250k, sublimits: {{}}}}   # {k.title}\n" for k in KINDS)
    + """\
underwriting:                  # your answers where ShopGuard has no evidence
  - {question: mfa_email, answer: yes, answered_by: "", note: ""}
"""
)


@contextmanager
def _session(config_path: Path | None, db_url: str | None) -> Iterator[tuple[Config, sessionmaker[Session]]]:
    _, config = load(config_path)
    db = open_db(db_url, config)
    try:
        yield config, db
    except (InsuranceInputError, ConfigError) as exc:
        fail(str(exc))


@app.command("template")
def template_cmd() -> None:
    """Print a YAML skeleton of a policy to fill in."""
    typer.echo(TEMPLATE, nl=False)


@app.command("import")
def import_cmd(file: Path, config: Path | None = CONFIG_OPTION, db: str | None = DB_OPTION) -> None:
    """Import policies (and owner answers) from YAML; all or nothing."""
    with _session(config, db) as (_, sdb):
        n, a = import_yaml(sdb, file)
    console.print(f"imported {n} policy(ies) and {a} answer(s)")


@app.command("export")
def export_cmd(
    file: Path | None = typer.Argument(None),
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Export the register and owner answers as YAML."""
    with _session(config, db) as (_, sdb):
        text = export_yaml(sdb)
    if file is None:
        typer.echo(text, nl=False)
    else:
        file.write_text(text, encoding="utf-8")


@app.command("list")
def list_cmd(config: Path | None = CONFIG_OPTION, db: str | None = DB_OPTION) -> None:
    """Policies held, with period, notification window and limits."""
    with _session(config, db) as (_, sdb), sdb() as s:
        today = utcnow().date()
        for p in s.scalars(select(InsurancePolicy).order_by(InsurancePolicy.period_start)):
            state = (
                "in force"
                if p.period_start <= today <= p.period_end
                else ("expired" if p.period_end < today else "future")
            )
            console.print(
                f"[bold]{escape(p.insurer)}[/] {escape(p.policy_number)}  {p.period_start} to "
                f"{p.period_end} ({state}); notify within "
                f"{p.notification_window_hours or '?'} h: {escape(p.notification_hotline or '-')}"
            )
            t = Table("coverage", "limit", "sub-limits")
            for c in p.coverages:
                subs = ", ".join(f"{k} {fmt_money(v, p.currency)}" for k, v in c.sublimits.items())
                t.add_row(c.kind, fmt_money(c.limit, p.currency), subs)
            console.print(t)


@app.command("gaps")
def gaps_cmd(config: Path | None = CONFIG_OPTION, db: str | None = DB_OPTION) -> None:
    """Coverages missing and limits that look low against a breach-cost estimate. Exit 1 on gaps."""
    with _session(config, db) as (cfg, sdb), sdb() as s:
        policies, gaps, est = analyse(s, cfg.insurance, utcnow().date())
    if est is not None:
        console.print("[bold]Breach-cost estimate[/] " + escape(est.explain()))
        for src in est.sources:
            console.print("  source: " + escape(src))
        console.print("  change the inputs under [insurance] in shopguard.toml", markup=False)
    else:
        console.print(
            "No estimate: set [insurance] customer_records and card_transactions_per_year.", markup=False
        )
    if not policies:
        console.print("No cyber insurance policy in force.")
        raise typer.Exit(int(ExitCode.FINDINGS))
    for g in gaps:
        console.print(f"- {escape(g.message)}")
    console.print("no gaps" if not gaps else f"{len(gaps)} gap(s)")
    console.print(NOT_ADVICE)
    if gaps:
        raise typer.Exit(int(ExitCode.FINDINGS))


@app.command("answer")
def answer_cmd(
    question: str,
    answer: str,
    by: str = typer.Option(""),
    note: str = typer.Option(""),
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Record your answer to an underwriting question ShopGuard cannot answer from evidence."""
    row, errs = validate_answer(
        {"question": question, "answer": answer, "answered_by": by, "note": note}, "answer"
    )
    if row is None:
        fail("; ".join(errs))
    with _session(config, db) as (_, sdb), sdb.begin() as s:
        store_answer(s, row)
    console.print(f"{question}: {answer}")


@app.command("readiness")
def readiness_cmd(
    fmt: str = typer.Option("table", "--format", "-f", help="table, md, csv or yaml."),
    store: str | None = typer.Option(None, "--store", help="Store whose evidence to use."),
    out: Path | None = typer.Option(None, "--out", "-o"),
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Underwriting questions answered from ShopGuard's evidence, else your answers."""
    if fmt not in {"table", "md", "csv", "yaml"}:
        fail(f"--format {fmt!r}: expected table, md, csv or yaml")
    with _session(config, db) as (cfg, sdb):
        stores = cfg.store(store) if store else list(cfg.stores)
        name = stores[0].name if stores else "-"
        with sdb() as s:
            rows = answers(s, name)
    now = datetime.now(UTC)
    if fmt == "table":
        t = Table("question", "answer", "source", "detail")
        for a in rows:
            t.add_row(a.question.id, a.answer + (" (conflict)" if a.conflict else ""), a.source, a.detail)
        console.print(t)
        console.print(NOT_ADVICE)
        return
    text = answer_sheet(rows, fmt, cfg.company.name, name, now)
    if out:
        out.write_text(text, encoding="utf-8")
    else:
        typer.echo(text, nl=False)


@app.command("questions")
def questions_cmd() -> None:
    """The underwriting questions and where ShopGuard looks for evidence."""
    t = Table("id", "question", "evidence")
    for q in QUESTIONS.values():
        t.add_row(q.id, q.question, ", ".join(q.evidence) or "owner")
    console.print(t)


@app.command("notify")
def notify_cmd(
    at: str = typer.Option("", help="Discovery time, ISO 8601 (default: now)."),
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Who to call at the insurer, and by when, for an incident discovered at --at."""
    try:
        when = datetime.fromisoformat(at) if at else datetime.now(UTC)
    except ValueError:
        fail(f"--at {at!r}: expected an ISO 8601 time such as 2026-03-01T14:30:00+00:00")
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    with _session(config, db) as (_, sdb), sdb() as s:
        notices = insurer_notifications(s, when)
    if not notices:
        console.print("No insurance policy in force on that day.")
        raise typer.Exit(int(ExitCode.FINDINGS))
    for n in notices:
        by = n.deadline.isoformat() if n.deadline else "as soon as practicable (no fixed window recorded)"
        console.print(
            f"{escape(n.insurer)} {escape(n.policy_number)}: notify by {by}; hotline "
            f"{escape(n.hotline or '-')}; e-mail {escape(n.email or '-')}"
        )
        console.print("  " + escape(n.note))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="insurance")
