"""Logs: web and authentication logs exist, are rotated, kept 12 months
(PCI DSS 10.5.1), and are not readable by every user."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from shopguard.checks import CheckContext, register_check
from shopguard.findings import Finding, Severity
from shopguard.hosting.base import HostCheck
from shopguard.hosting.facts import Facts
from shopguard.hosting.transport.interface import FileMissing, TransportError

PERIOD_DAYS = {"daily": 1, "weekly": 7, "monthly": 31, "yearly": 365}
RETENTION_DAYS = 365
WEB_LOGS = (("nginx", "nginx/access.log"), ("apache2", "apache2/access.log"), ("httpd", "httpd/access_log"))
AUTH_LOGS = ("auth.log", "secure")


@dataclass
class RotateRule:
    patterns: list[str]
    file: str
    options: dict[str, str] = field(default_factory=dict)


def parse_logrotate(text: str, file: str, defaults: dict[str, str], rules: list[RotateRule]) -> list[str]:
    """Adds the file's blocks to ``rules``, its top-level options to ``defaults``;
    returns its ``include`` targets."""
    includes: list[str] = []
    current: RotateRule | None = None
    pending: list[str] = []
    skipping = 0
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if skipping:
            if line == "endscript":
                skipping = 0
            continue
        if line.endswith("{"):
            current = RotateRule(pending + line[:-1].split(), file)
            pending = []
            continue
        if current is None and line.startswith(("/", '"')):
            pending += line.split()  # file patterns may stand on lines before the "{"
            continue
        if line == "}":
            if current is not None:
                rules.append(current)
            current = None
            continue
        if line in ("postrotate", "prerotate", "firstaction", "lastaction", "preremove"):
            skipping = 1
            continue
        word, _, arg = line.partition(" ")
        target = current.options if current is not None else defaults
        if word in PERIOD_DAYS:
            target["period"] = word
        elif word in ("rotate", "maxage"):
            target[word] = arg.strip()
        elif word == "include" and current is None:
            includes.append(arg.strip())
    return includes


def retention_days(options: dict[str, str], defaults: dict[str, str]) -> int | None:
    merged = defaults | options
    rotate = merged.get("rotate", "0")
    if not re.fullmatch(r"-?\d+", rotate):
        return None
    period = PERIOD_DAYS.get(merged.get("period", "weekly"), 7)
    days = 10**6 if int(rotate) < 0 else int(rotate) * period  # rotate -1: never delete
    if merged.get("maxage", "").isdigit():
        days = min(days, int(merged["maxage"]))
    return days


async def logrotate_rules(facts: Facts) -> tuple[list[RotateRule], dict[str, str]]:
    defaults: dict[str, str] = {}
    rules: list[RotateRule] = []
    main = facts.etc("logrotate.conf")
    try:
        pending = parse_logrotate(await facts.transport.read_text(main), main, defaults, rules)
    except FileMissing:
        return [], {}
    for inc in pending:
        try:
            names = await facts.transport.listdir(inc)
            paths = [f"{inc.rstrip('/')}/{n}" for n in names]
        except TransportError:
            paths = [inc]
        for p, data in (await facts.transport.read_files(paths)).items():
            if isinstance(data, bytes):
                parse_logrotate(data.decode("utf-8", "replace"), p, dict(defaults), rules)
    return rules, defaults


@register_check
class Logs(HostCheck):
    id = "hosting.logs"
    title = "Logs exist, rotate, are kept 12 months and are private"
    subject = "log files and their rotation"

    async def inspect(self, ctx: CheckContext, facts: Facts) -> AsyncIterator[Finding]:
        log_dir = facts.settings.log_dir.rstrip("/")
        rules, defaults = await logrotate_rules(facts)
        probe = [f"{log_dir}/{n}" for n, _ in WEB_LOGS] + [f"{log_dir}/{r}" for _, r in WEB_LOGS]
        probe += [f"{log_dir}/{n}" for n in AUTH_LOGS] + [f"{log_dir}/journal"]
        stats = await facts.transport.stat_many(probe)
        found: list[tuple[str, str]] = []  # (kind, path)
        for name, rel in WEB_LOGS:
            if stats[f"{log_dir}/{name}"] is not None:
                path = f"{log_dir}/{rel}"
                if stats[path] is not None:
                    found.append(("web", path))
                else:
                    yield self.finding(
                        "missing",
                        Severity.MEDIUM,
                        f"No web access log at {path}",
                        path,
                        detail="Without access logs nobody can tell which requests planted a skimmer.",
                        remediation="Enable access_log (nginx) / CustomLog (Apache) for every site.",
                        pci=("10.2.1",),
                        key=path,
                    )
        auth = [f"{log_dir}/{n}" for n in AUTH_LOGS if stats[f"{log_dir}/{n}"] is not None]
        if auth:
            found += [("auth", p) for p in auth]
        elif stats[f"{log_dir}/journal"] is not None:
            pass  # journald keeps authentication events; its retention is set in journald.conf
        else:
            yield self.finding(
                "missing",
                Severity.MEDIUM,
                "No authentication log (auth.log, secure or a persistent journal)",
                log_dir,
                detail="Logins, sudo use and SSH attempts are not recorded anywhere that survives a reboot.",
                remediation="apt-get install rsyslog (writes /var/log/auth.log), or make the journal "
                "persistent: "
                "mkdir -p /var/log/journal && systemctl restart systemd-journald",
                pci=("10.2.1", "10.2.1.2"),
                key="auth",
            )
        for kind, path in found:
            rule = next((r for r in rules if any(fnmatch.fnmatch(path, p) for p in r.patterns)), None)
            if rule is None:
                yield self.finding(
                    "not-rotated",
                    Severity.MEDIUM,
                    f"{path} is never rotated",
                    path,
                    detail="An unrotated log fills the disk; when it does, logging (and often the shop) "
                    "stops.",
                    remediation=f"Add a logrotate rule for {path} (see /etc/logrotate.d/) with `monthly` and "
                    "`rotate 13`.",
                    pci=("10.5.1",),
                    key=path,
                )
            else:
                days = retention_days(rule.options, defaults)
                if days is not None and days < RETENTION_DAYS:
                    yield self.finding(
                        "retention",
                        Severity.MEDIUM,
                        f"{path} is kept for about {days} days; PCI DSS asks for 12 months",
                        rule.file,
                        detail="Card-brand forensics often start months after a breach; PCI DSS 10.5.1 "
                        "requires a "
                        "year of history, three months immediately available.",
                        remediation=f"In {rule.file}: use `monthly` with `rotate 13` (or `daily` with "
                        "`rotate 400`), or ship logs to a central store that keeps a year.",
                        evidence={
                            "log": path,
                            "retention_days": days,
                            "rule_options": rule.options,
                            "defaults": defaults,
                        },
                        pci=("10.5.1",),
                        key=path,
                    )
            st = stats.get(path) or await facts.transport.stat(path)
            if st is not None and st.mode & 0o004:
                yield self.finding(
                    "world-readable",
                    Severity.MEDIUM if kind == "auth" else Severity.LOW,
                    f"{path} is readable by every user on the server",
                    path,
                    detail="Logs hold session ids, e-mail addresses and sometimes tokens in URLs.",
                    remediation=f"chmod o-r {path} (and `create 0640` in its logrotate rule)",
                    evidence={"mode": oct(st.mode)},
                    pci=("10.3.1",),
                    key=path,
                )
