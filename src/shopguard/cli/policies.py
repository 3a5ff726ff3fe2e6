"""``shopguard policies ...``: the policy library, roster, acknowledgements and training."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shopguard.cli.common import CONFIG_OPTION, DB_OPTION, ExitCode, fail, load, open_db
from shopguard.config import Config, ConfigError
from shopguard.policies.documents import Format
from shopguard.policies.library import (
    PolicyError,
    approve,
    get_document,
    init_library,
    latest,
    library_state,
    new_version,
    publish,
    published,
    regenerate,
    retire,
    review,
)
from shopguard.policies.models import ImmutableVersionError, Person, TrainingRecord, Vendor
from shopguard.policies.output import render_library
from shopguard.policies.people import (
    PolicyInputError,
    acknowledge,
    add_person,
    add_training,
    import_roster_csv,
    parse_date,
    pending,
    remove_person,
    training_status,
)
from shopguard.policies.render import ContextError, TemplateRenderError, statements
from shopguard.policies.yamlio import export_yaml, import_yaml

console = Console()

app = typer.Typer(
    help="Security policies: write, approve, publish, acknowledge; people and training.", no_args_is_help=True
)
people_app = typer.Typer(help="The roster: who works for the store, in which roles.", no_args_is_help=True)
training_app = typer.Typer(help="Security awareness training records (PCI DSS 12.6).", no_args_is_help=True)
vendor_app = typer.Typer(help="The vendor register of the Vendor Management policy.", no_args_is_help=True)
app.add_typer(people_app, name="people")
app.add_typer(training_app, name="training")
app.add_typer(vendor_app, name="vendors")


@contextmanager
def _session(config_path: Path | None, db_url: str | None) -> Iterator[tuple[Config, sessionmaker[Session]]]:
    _, config = load(config_path)
    db = open_db(db_url, config)
    try:
        yield config, db
    except (
        PolicyError,
        PolicyInputError,
        ContextError,
        TemplateRenderError,
        ImmutableVersionError,
        ConfigError,
    ) as exc:
        fail(str(exc))
    except ValueError as exc:
        fail(str(exc))


def _done(msg: str) -> None:
    console.print(msg, highlight=False)


@app.command("init")
def init_cmd(
    by: str = typer.Option("", help="Who creates the drafts."),
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Create a draft of every policy from ShopGuard's templates and your shopguard.toml."""
    with _session(config, db) as (cfg, sdb):
        made = init_library(sdb, cfg, by)
        _done(f"created {len(made)} draft(s): {', '.join(made) or 'none (library complete)'}")
        if made:
            _done("next: read each (shopguard policies show SLUG), then approve and publish it")


@app.command("list")
def list_cmd(config: Path | None = CONFIG_OPTION, db: str | None = DB_OPTION) -> None:
    """The library: each policy's newest version, the published one, and its next review."""
    with _session(config, db) as (cfg, sdb):
        t = Table("policy", "title", "newest", "published", "review due")
        for st in library_state(sdb, cfg.policies.review_months):
            t.add_row(
                st.slug,
                st.title,
                f"v{st.latest_number} {st.latest_status}" if st.latest_number else "-",
                f"v{st.published_number}" if st.published_number else "-",
                st.review_due.isoformat() if st.review_due else "-",
            )
        console.print(t)


@app.command("show")
def show_cmd(
    slug: str,
    version: int | None = typer.Option(None, help="Version number (default: newest)."),
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Print a policy's Markdown text."""
    with _session(config, db) as (_, sdb), sdb() as s:
        doc = get_document(s, slug)
        v = latest(doc) if version is None else next((x for x in doc.versions if x.number == version), None)
        if v is None:
            fail(f"{slug} has no version {version}")
        typer.echo(f"<!-- {doc.slug} v{v.number} {v.status} sha256 {v.text_hash} -->")
        typer.echo(v.text)


@app.command("regenerate")
def regenerate_cmd(
    slug: str,
    note: str = typer.Option(..., help="What changed and why."),
    by: str = typer.Option(""),
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Re-render from the template and current shopguard.toml into a draft (if the text changed)."""
    with _session(config, db) as (cfg, sdb):
        v = regenerate(sdb, cfg, slug, note, by)
        _done(f"{slug}: draft v{v.number} ({v.text_hash[:12]})" if v else f"{slug}: no change")


@app.command("edit")
def edit_cmd(
    slug: str,
    file: Path,
    note: str = typer.Option(..., help="What changed and why."),
    by: str = typer.Option(""),
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Store your edited Markdown FILE as the new draft of a policy."""
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"{file}: {exc.strerror}")
    with _session(config, db) as (_, sdb):
        v = new_version(sdb, slug, text, note, by)
        _done(f"{slug}: draft v{v.number}" if v else f"{slug}: same text as before, nothing stored")


@app.command("approve")
def approve_cmd(
    slug: str,
    by: str = typer.Option(..., help="Who approves (name and role)."),
    version: int | None = typer.Option(None),
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Approve a draft (management sign-off)."""
    with _session(config, db) as (_, sdb):
        v = approve(sdb, slug, by, version)
        _done(f"{slug} v{v.number} approved by {v.approved_by}")


@app.command("publish")
def publish_cmd(
    slug: str,
    version: int | None = typer.Option(None),
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Publish an approved version: it becomes immutable and everyone must acknowledge it."""
    with _session(config, db) as (_, sdb):
        v = publish(sdb, slug, version)
        _done(f"{slug} v{v.number} published (sha256 {v.text_hash})")


@app.command("retire")
def retire_cmd(slug: str, config: Path | None = CONFIG_OPTION, db: str | None = DB_OPTION) -> None:
    """Retire the published version of a policy (nothing replaces it)."""
    with _session(config, db) as (_, sdb):
        v = retire(sdb, slug)
        _done(f"{slug} v{v.number} retired")


@app.command("review")
def review_cmd(
    slug: str, by: str = typer.Option(...), config: Path | None = CONFIG_OPTION, db: str | None = DB_OPTION
) -> None:
    """Record the periodic review of a published policy that still fits (PCI DSS 12.1.2)."""
    with _session(config, db) as (_, sdb):
        v = review(sdb, slug, by)
        _done(f"{slug} v{v.number} reviewed by {v.reviewed_by}")


@app.command("render")
def render_cmd(
    out: Path = typer.Option(Path("policies"), "--out", "-o", help="Folder to write into."),
    formats: str = typer.Option(
        "md,html,pdf,docx", "--format", "-f", help="Comma-separated: md,html,pdf,docx."
    ),
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Render the whole library into a folder (published text; drafts and templates are marked)."""
    try:
        fmts = [Format(f.strip()) for f in formats.split(",") if f.strip()]
    except ValueError:
        fail(f"--format {formats!r}: expected a comma-separated list of md, html, pdf, docx")
    with _session(config, db) as (cfg, sdb):
        done = render_library(cfg, out, fmts, sdb)
        for r in done:
            _done(f"{r.slug:22} {r.status:28} {', '.join(p.name for p in r.paths)}")
        _done(f"{len(done)} policies written to {out}")


@app.command("statements")
def statements_cmd(config: Path | None = CONFIG_OPTION, db: str | None = DB_OPTION) -> None:
    """The statements in published policies that ShopGuard's checks verify."""
    with _session(config, db) as (_, sdb), sdb() as s:
        from shopguard.policies.models import PolicyDocument

        t = Table("policy", "statement", "verified by")
        for doc in s.scalars(select(PolicyDocument).order_by(PolicyDocument.slug)):
            v = published(doc) or latest(doc)
            for st in statements(v.text) if v else []:
                t.add_row(doc.slug, st.text, ", ".join(st.check_ids))
        console.print(t)


@app.command("pending")
def pending_cmd(config: Path | None = CONFIG_OPTION, db: str | None = DB_OPTION) -> None:
    """Who still owes which acknowledgement. Exit code 1 when anything is pending."""
    with _session(config, db) as (cfg, sdb):
        rows = pending(sdb, cfg.policies)
        t = Table("person", "policy", "version", "why")
        for p in rows:
            t.add_row(f"{p.name} <{p.email}>", p.slug, f"v{p.version}", p.reason)
        console.print(t if rows else "nothing pending")
    if rows:
        raise typer.Exit(int(ExitCode.FINDINGS))


@app.command("ack")
def ack_cmd(
    email: str,
    slugs: list[str] = typer.Argument(None, help="Policies (default: all pending)."),
    method: str = typer.Option("cli", help="cli, web, email or paper."),
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Record that EMAIL read and accepts the published version of the policies."""
    with _session(config, db) as (cfg, sdb):
        todo = slugs or [p.slug for p in pending(sdb, cfg.policies) if p.email == email.strip().lower()]
        for slug in todo:
            a = acknowledge(sdb, email, slug, method)
            _done(f"{email} acknowledged {slug} ({a.text_hash[:12]})")
        if not todo:
            _done("nothing pending for " + email)


@app.command("export")
def export_cmd(
    file: Path | None = typer.Argument(None, help="Default: standard output."),
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Export policies, roster, acknowledgements, training and vendors as YAML."""
    with _session(config, db) as (_, sdb):
        text = export_yaml(sdb)
    if file is None:
        typer.echo(text, nl=False)
    else:
        file.write_text(text, encoding="utf-8")


@app.command("import")
def import_cmd(file: Path, config: Path | None = CONFIG_OPTION, db: str | None = DB_OPTION) -> None:
    """Import a YAML export (all or nothing)."""
    with _session(config, db) as (cfg, sdb):
        counts = import_yaml(sdb, file, cfg.policies)
        _done("imported: " + ", ".join(f"{v} {k}" for k, v in counts.items()))


@people_app.command("import")
def people_import(file: Path, config: Path | None = CONFIG_OPTION, db: str | None = DB_OPTION) -> None:
    """Import a roster CSV (email,name,roles,start_date, optional end_date); all rows or none."""
    with _session(config, db) as (cfg, sdb):
        _done(f"{import_roster_csv(sdb, file, cfg.policies)} people imported")


@people_app.command("add")
def people_add(
    email: str,
    name: str = typer.Option(...),
    roles: str = typer.Option(..., help="e.g. admin;developer"),
    start: str = typer.Option("", help="Start date YYYY-MM-DD."),
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    with _session(config, db) as (cfg, sdb):
        p = add_person(sdb, email, name, roles, cfg.policies, start or None)
        _done(f"{p.email} on the roster as {', '.join(p.roles)}")


@people_app.command("remove")
def people_remove(
    email: str,
    on: str = typer.Option("", help="Last day YYYY-MM-DD (default today)."),
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Mark someone as left (their records stay; remember to remove their access)."""
    with _session(config, db) as (_, sdb):
        p = remove_person(sdb, email, parse_date(on, "--on") if on else None)
        _done(f"{p.email} left on {p.end_date}; remove their accounts (Access Control policy)")


@people_app.command("list")
def people_list(config: Path | None = CONFIG_OPTION, db: str | None = DB_OPTION) -> None:
    with _session(config, db) as (_, sdb), sdb() as s:
        t = Table("email", "name", "roles", "start", "left")
        for p in s.scalars(select(Person).order_by(Person.email)):
            t.add_row(p.email, p.name, ", ".join(p.roles), str(p.start_date or ""), str(p.end_date or ""))
        console.print(t)


@training_app.command("add")
def training_add(
    email: str,
    course: str = typer.Option(...),
    date_: str = typer.Option(..., "--date"),
    result: str = typer.Option("passed"),
    expires: str = typer.Option("", help="Default: +12 months."),
    provider: str = typer.Option(""),
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    with _session(config, db) as (cfg, sdb):
        r = add_training(sdb, email, course, date_, cfg.policies, result, expires or None, provider)
        _done(f"{email}: {course} {r.result}, valid until {r.expires_on}")


@training_app.command("list")
def training_list(config: Path | None = CONFIG_OPTION, db: str | None = DB_OPTION) -> None:
    """Everyone's training state. Exit code 1 when anyone's is not current."""
    with _session(config, db) as (_, sdb):
        rows = training_status(sdb)
        t = Table("person", "state", "course", "valid until")
        for r in rows:
            t.add_row(f"{r.name} <{r.email}>", r.state, r.course, str(r.expires_on or ""))
        console.print(t)
        with sdb() as s:
            console.print(f"{s.query(TrainingRecord).count()} training record(s) stored")
    if any(r.state != "current" for r in rows):
        raise typer.Exit(int(ExitCode.FINDINGS))


@vendor_app.command("add")
def vendor_add(
    name: str,
    service: str = typer.Option(""),
    data: str = typer.Option(""),
    pci_attestation: str = typer.Option("", help="Date of their PCI DSS AoC, YYYY-MM-DD."),
    contact: str = typer.Option(""),
    config: Path | None = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    with _session(config, db) as (_, sdb), sdb.begin() as s:
        v = s.scalar(select(Vendor).where(Vendor.name == name)) or Vendor(name=name)
        s.add(v)
        v.service, v.data, v.contact = service, data, contact
        v.pci_attestation = parse_date(pci_attestation, "--pci-attestation") if pci_attestation else None
    _done(f"vendor {name} saved; run `shopguard policies regenerate vendors --note 'vendor register'`")


@vendor_app.command("list")
def vendor_list(config: Path | None = CONFIG_OPTION, db: str | None = DB_OPTION) -> None:
    with _session(config, db) as (_, sdb), sdb() as s:
        t = Table("vendor", "service", "data", "PCI AoC", "contact")
        for v in s.scalars(select(Vendor).order_by(Vendor.name)):
            t.add_row(v.name, v.service, v.data, str(v.pci_attestation or "-"), v.contact)
        console.print(t)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="policies")
