"""``shopguard findings``: list stored findings and triage them."""

from __future__ import annotations

import getpass
import json
from datetime import date, timedelta
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy import select

from shopguard.cli.common import CONFIG_OPTION, DB_OPTION, fail, load, open_db
from shopguard.config import FindingsSettings
from shopguard.db.base import utcnow
from shopguard.db.models import FindingRecord
from shopguard.db.repository import NotFound, set_triage
from shopguard.findings import Triage

findings_app = typer.Typer(help="List and triage stored findings.", no_args_is_help=True)


@findings_app.command("list")
def list_findings(
    store: str | None = typer.Option(None, "--store", "-s"),
    status: str = typer.Option("open", "--status", help="open (new or open), resolved, or all."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Findings across runs, with their lifecycle and triage."""
    cfg = load(config)[1] if config else None
    sessions = open_db(db, cfg)
    with sessions() as s:
        q = select(FindingRecord)
        if store:
            q = q.where(FindingRecord.store == store)
        if status == "open":
            q = q.where(FindingRecord.status != "resolved")
        elif status == "resolved":
            q = q.where(FindingRecord.status == "resolved")
        elif status != "all":
            fail(f"--status {status!r}: expected open, resolved or all")
        rows = list(s.scalars(q.order_by(FindingRecord.store, FindingRecord.protocol, FindingRecord.id)))
    if as_json:
        out = [
            {
                "store": r.store,
                "fingerprint": r.fingerprint,
                "check_id": r.check_id,
                "severity": r.severity,
                "title": r.title,
                "location": r.location,
                "status": r.status,
                "triage": r.effective_triage.value,
                "triage_reason": r.triage_reason,
                "triage_expires_at": r.triage_expires_at.isoformat() if r.triage_expires_at else None,
                "triage_lapsed": r.triage_lapsed,
                "assignee": r.assignee,
                "first_seen": r.first_seen.isoformat(),
                "last_seen": r.last_seen.isoformat(),
            }
            for r in rows
        ]
        typer.echo(json.dumps(out, indent=2))
        return
    t = Table(title=f"{len(rows)} finding(s)")
    for col in ("Id", "Store", "Severity", "Title", "Where", "Status", "Triage"):
        t.add_column(col)
    for r in rows:
        cells = (r.fingerprint[:12], r.store, r.severity, r.title, r.location, r.status, _triage_text(r))
        t.add_row(*(Text(x) for x in cells))
    Console().print(t)


def _triage_text(r: FindingRecord) -> str:
    if r.triage_lapsed and r.triage_expires_at is not None:
        return f"none (risk acceptance lapsed {r.triage_expires_at:%Y-%m-%d})"
    if r.triage == Triage.ACCEPTED_RISK.value and r.triage_expires_at is not None:
        return f"accepted_risk until {r.triage_expires_at:%Y-%m-%d}"
    return r.triage


def _parse_expires(text: str | None) -> date | None:
    """``YYYY-MM-DD`` or a number of days from today (``90`` or ``90d``)."""
    if text is None:
        return None
    raw = text.strip().lower()
    if raw.removesuffix("d").isdigit():
        return utcnow().date() + timedelta(days=int(raw.removesuffix("d")))
    try:
        return date.fromisoformat(raw)
    except ValueError:
        fail(f"--expires {text!r}: expected a date (YYYY-MM-DD) or a number of days (e.g. 90d)")


def _triage(
    store: str,
    fingerprint: str,
    state: Triage,
    reason: str,
    by: str | None,
    db: str | None,
    config: Path | None = None,
    expires: str | None = None,
) -> None:
    cfg = load(config)[1] if config else None
    sessions = open_db(db, cfg)
    settings = cfg.findings if cfg is not None else FindingsSettings()
    try:
        rec = set_triage(
            sessions,
            store,
            fingerprint,
            state,
            reason,
            by or getpass.getuser(),
            expires=_parse_expires(expires),
            settings=settings,
        )
    except (NotFound, ValueError) as exc:
        fail(str(exc))
    until = f" until {rec.triage_expires_at:%Y-%m-%d}" if rec.triage_expires_at else ""
    Console(markup=False, highlight=False).print(
        f"{rec.fingerprint[:12]} ({rec.title}): {state.value.replace('_', ' ')}{until}"
    )


@findings_app.command("accept")
def accept(
    fingerprint: str = typer.Argument(..., help="Finding id (a prefix of its fingerprint)."),
    store: str = typer.Option(..., "--store", "-s"),
    reason: str = typer.Option(..., "--reason", help="Why the risk is accepted."),
    expires: str | None = typer.Option(
        None,
        "--expires",
        help="When the acceptance lapses: YYYY-MM-DD or days (90d). Default and maximum: "
        "[findings] accept_risk_default_days / accept_risk_max_days (90 / 365).",
    ),
    by: str | None = typer.Option(None, "--by", help="Who decided (default: your user name)."),
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Accept the risk of a finding until a date; it stays visible but no longer counts,
    and counts as open again once the date passes."""
    _triage(store, fingerprint, Triage.ACCEPTED_RISK, reason, by, db, config, expires)


@findings_app.command("false-positive")
def false_positive(
    fingerprint: str = typer.Argument(...),
    store: str = typer.Option(..., "--store", "-s"),
    reason: str = typer.Option(..., "--reason"),
    by: str | None = typer.Option(None, "--by"),
    db: str | None = DB_OPTION,
) -> None:
    """Mark a finding as a false positive; survives later runs."""
    _triage(store, fingerprint, Triage.FALSE_POSITIVE, reason, by, db)


@findings_app.command("reopen")
def reopen(
    fingerprint: str = typer.Argument(...),
    store: str = typer.Option(..., "--store", "-s"),
    by: str | None = typer.Option(None, "--by"),
    db: str | None = DB_OPTION,
) -> None:
    """Clear an accepted-risk or false-positive mark."""
    _triage(store, fingerprint, Triage.NONE, "", by, db)


def register(app: typer.Typer) -> None:
    app.add_typer(findings_app, name="findings")
