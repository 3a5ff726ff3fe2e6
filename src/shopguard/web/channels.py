"""Alert channels added in the dashboard, next to the ones in shopguard.toml.

A channel is an apprise URL, and apprise URLs carry tokens and passwords, so the URL is
kept in the vault (encrypted with the key outside the database) and a page shows only
its kind and last characters. Delivery is :func:`shopguard.monitoring.channels.send`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shopguard.config import AlertChannel, Config, SecretRef
from shopguard.fielderror import FieldError
from shopguard.findings import Severity
from shopguard.web.models import StoredSecret, WebAlertChannel
from shopguard.web.vault import Vault

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
SECRET_PREFIX = "alerts."  # noqa: S105 - a name prefix, not a secret


class ChannelError(FieldError):
    """A bad value in the add-channel form; ``field`` names the form field."""


@dataclass(frozen=True)
class ChannelRow:
    """What the settings page shows about a channel (never its URL)."""

    name: str
    kind: str
    min_severity: str
    origin: str
    """"dashboard" or where shopguard.toml reads the URL from (env VAR, file PATH)."""
    hint: str
    last_test_at: datetime | None = None
    last_test_ok: bool | None = None


def _kind(url: str) -> str:
    scheme, sep, _ = url.partition("://")
    return scheme.lower() if sep and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]{0,31}", scheme) else ""


def validate(name: str, url: str, min_severity: str, taken: set[str]) -> tuple[str, str, Severity]:
    """Check the form; raises ChannelError naming the field. Returns (name, url, severity)."""
    import apprise

    name = name.strip()
    url = url.strip()
    if not NAME_RE.fullmatch(name):
        raise ChannelError("name", "1-100 letters, digits and _ . - (starting with a letter or digit)")
    if name in taken:
        raise ChannelError("name", f"a channel named {name!r} exists already")
    if not _kind(url):
        raise ChannelError("url", "an apprise URL such as mailto://... , json://... or slack://...")
    if not apprise.Apprise().add(url):
        raise ChannelError("url", f"apprise does not understand {_kind(url)}:// URLs of this shape")
    try:
        sev = Severity.parse(min_severity)
    except ValueError:
        raise ChannelError("min_severity", "choose a severity") from None
    return name, url, sev


def config_rows(config: Config) -> list[ChannelRow]:
    rows = []
    for ch in config.alerts:
        ref = ch.url
        origin = (
            f"env {ref.env}" if ref.env else f"file {ref.file}" if ref.file else "inline in shopguard.toml"
        )
        rows.append(ChannelRow(ch.name, "", ch.min_severity.value, origin, "••••"))
    return rows


def stored_rows(s: Session) -> list[ChannelRow]:
    hints = {r.name: r.hint for r in s.scalars(select(StoredSecret))}
    return [
        ChannelRow(
            c.name,
            c.kind,
            c.min_severity,
            "dashboard",
            hints.get(c.secret_name, "••••"),
            c.last_test_at,
            c.last_test_ok,
        )
        for c in s.scalars(select(WebAlertChannel).order_by(WebAlertChannel.name))
    ]


def add(
    s: Session, vault: Vault, config: Config, name: str, url: str, min_severity: str, by: str
) -> WebAlertChannel:
    """Store a new channel; its URL goes into the vault."""
    taken = {c.name for c in config.alerts} | set(s.scalars(select(WebAlertChannel.name)))
    name, url, sev = validate(name, url, min_severity, taken)
    secret = f"{SECRET_PREFIX}{name}"
    vault.put(s, secret, url, by)
    row = WebAlertChannel(
        name=name, kind=_kind(url), min_severity=sev.value, secret_name=secret, created_by=by
    )
    s.add(row)
    s.flush()
    return row


def delete(s: Session, config: Config, name: str) -> WebAlertChannel:
    """Remove a dashboard channel and its encrypted URL from the vault (in the caller's
    transaction). A channel of shopguard.toml cannot be removed here: ChannelError."""
    if any(c.name == name for c in config.alerts):
        raise ChannelError("name", f"{name!r} is set in shopguard.toml: remove it there and restart")
    row = s.scalar(select(WebAlertChannel).where(WebAlertChannel.name == name))
    if row is None:
        raise KeyError(name)
    secret = s.scalar(select(StoredSecret).where(StoredSecret.name == row.secret_name))
    if secret is not None:
        s.delete(secret)
    s.delete(row)
    s.flush()
    return row


def stored_channels(s: Session, vault: Vault) -> list[AlertChannel]:
    """The dashboard's channels, decrypted, in the form the monitoring daemon routes alerts to."""
    out = []
    for c in s.scalars(select(WebAlertChannel).order_by(WebAlertChannel.name)):
        url = vault.get(s, c.secret_name)
        out.append(AlertChannel(name=c.name, url=SecretRef(value=url), min_severity=Severity(c.min_severity)))
    return out


def all_channels(config: Config, s: Session, vault: Vault) -> list[AlertChannel]:
    """shopguard.toml's channels, then the dashboard's."""
    return [*config.alerts, *stored_channels(s, vault)]


def find(config: Config, s: Session, vault: Vault, name: str) -> AlertChannel | None:
    for ch in config.alerts:
        if ch.name == name:
            return ch
    row = s.scalar(select(WebAlertChannel).where(WebAlertChannel.name == name))
    if row is None:
        return None
    url = vault.get(s, row.secret_name)
    return AlertChannel(name=row.name, url=SecretRef(value=url), min_severity=Severity(row.min_severity))


def send_test(channel: AlertChannel, store: str, by: str) -> tuple[bool, str]:
    """Send a real test message through one channel (blocking). Returns (delivered, reason);
    the reason names the channel, never its URL."""
    from shopguard.monitoring import AlertEvent
    from shopguard.monitoring.channels import render, send

    event = AlertEvent(
        store=store or "-",
        monitor="test",
        kind="test",
        event="test",
        severity=channel.min_severity.value,
        cause=f"This is a test message sent from the ShopGuard dashboard by {by}. "
        "If you read it, the channel works.",
        at=datetime.now(UTC),
    )
    title, body = render(event)
    result = send([channel], title, body)
    if result.delivered:
        return True, ""
    return False, "; ".join(result.failed) or f"{channel.name}: delivery failed"


def record_test(s: Session, name: str, ok: bool) -> None:
    row = s.scalar(select(WebAlertChannel).where(WebAlertChannel.name == name))
    if row is not None:
        row.last_test_at = datetime.now(UTC)
        row.last_test_ok = ok


def with_dashboard_channels(config: Config, db: sessionmaker[Session], key: bytes | None = None) -> Config:
    """``config`` with the dashboard's channels added to ``alerts``: what the monitoring daemon
    routes alerts to. The vault key is loaded only when there is a dashboard channel; a database
    without the dashboard's tables (never served) simply has none."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from shopguard.web.vault import load_key

    try:
        with db() as s:
            if s.scalar(select(WebAlertChannel.id).limit(1)) is None:
                return config
            extra = stored_channels(s, Vault(key or load_key()))
    except (OperationalError, ProgrammingError):
        return config
    # model_copy skips validation: the decrypted URLs are values, which the file format forbids
    # inline, but here they came from the encrypted vault, not from shopguard.toml.
    return config.model_copy(update={"alerts": (*config.alerts, *extra)})
