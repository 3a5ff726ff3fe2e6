"""Operating system: support status, pending security updates, automatic updates,
reboot required, time synchronisation."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from shopguard.checks import CheckContext, register_check
from shopguard.findings import Finding, Severity
from shopguard.hosting.base import CouldNotCheck, HostCheck
from shopguard.hosting.eol import lookup, support_status
from shopguard.hosting.facts import Facts
from shopguard.hosting.transport.interface import CommandMissing, FileMissing


def parse_os_release(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip().strip('"').strip("'")
    return out


async def os_release(facts: Facts) -> dict[str, str]:
    async def read() -> dict[str, str]:
        try:
            return parse_os_release(await facts.transport.read_text(facts.etc("os-release")))
        except FileMissing:
            return parse_os_release(await facts.transport.read_text("/usr/lib/os-release"))

    return await facts.memo("os-release", read)


@register_check
class OsRelease(HostCheck):
    id = "hosting.os.release"
    title = "Operating system still receives security updates"
    subject = "the operating system release"

    async def inspect(self, ctx: CheckContext, facts: Facts) -> AsyncIterator[Finding]:
        rel = await os_release(facts)
        distro, version = rel.get("ID", "").lower(), rel.get("VERSION_ID", "")
        loc = facts.etc("os-release")
        ev = {"id": distro, "version": version, "pretty_name": rel.get("PRETTY_NAME", "")}
        today = datetime.now(UTC).date()
        info = lookup(distro, version, today) if distro and version else None
        if info is None:
            yield self.finding(
                "unknown",
                Severity.INFO,
                f"Support status of {rel.get('PRETTY_NAME') or 'this OS'} is not in ShopGuard's table",
                loc,
                detail="Check the vendor's release schedule yourself and plan upgrades before support ends.",
                evidence=ev,
                pci=("6.3.3",),
                key=f"{distro}-{version}",
            )
            return
        status = support_status(info, today)
        ev |= {"regular_support_until": info.regular_until.isoformat(), "status": status}
        if info.extended_until:
            ev["extended_support_until"] = info.extended_until.isoformat()
        if status == "ended":
            yield self.finding(
                "end-of-life",
                Severity.HIGH,
                f"{info.product} {info.version} no longer receives security updates",
                loc,
                detail="New vulnerabilities in this system will never be fixed. PCI DSS requires "
                "supported software with security patches.",
                remediation=f"Upgrade the server to {info.successor} (or move the shop to a new, "
                "supported server).",
                evidence=ev,
                pci=("6.3.3", "12.3.4"),
                cis=("1.9",),
                key=f"{distro}-{version}",
            )
        elif status == "extended":
            yield self.finding(
                "extended-support",
                Severity.MEDIUM,
                f"{info.product} {info.version} is past its regular security support "
                f"(extended support only until {info.extended_until})",
                loc,
                detail="Only a subset of packages gets fixes in extended support (Debian LTS / Ubuntu ESM).",
                remediation=f"Plan the upgrade to {info.successor} before {info.extended_until}.",
                evidence=ev,
                pci=("6.3.3", "12.3.4"),
                key=f"{distro}-{version}",
            )


_SECURITY = re.compile(r"security", re.I)
PACKAGE_TOOL_TIMEOUT_S = 90.0
LISTS_MAX_AGE_DAYS = 7
"""apt/dnf dependency solving is legitimately slow on small or busy servers."""


@register_check
class PendingUpdates(HostCheck):
    id = "hosting.os.updates"
    title = "No pending security updates"
    subject = "pending security updates"

    async def inspect(self, ctx: CheckContext, facts: Facts) -> AsyncIterator[Finding]:
        try:
            res = await facts.transport.run(
                ["apt-get", "-s", "-o", "Debug::NoLocking=1", "upgrade"], timeout=PACKAGE_TOOL_TIMEOUT_S
            )
            tool = "apt"
            if not res.ok:
                raise CouldNotCheck(
                    f"could not check {self.subject} because apt-get failed: {res.stderr[:200]}"
                )
            pkgs = sorted(
                {
                    line.split()[1]
                    for line in res.stdout.splitlines()
                    if line.startswith("Inst ") and _SECURITY.search(line)
                }
            )
            total = sum(1 for line in res.stdout.splitlines() if line.startswith("Inst "))
        except CommandMissing:
            res = await facts.transport.run(
                ["dnf", "-q", "-C", "updateinfo", "list", "--security"], timeout=PACKAGE_TOOL_TIMEOUT_S
            )
            tool = "dnf"
            if res.returncode not in (0, 100):
                raise CouldNotCheck(
                    f"could not check {self.subject} because dnf failed: {res.stderr[:200]}"
                ) from None
            pkgs = sorted({line.split()[-1] for line in res.stdout.splitlines() if line.strip()})
            total = len(pkgs)
        if tool == "apt":
            stale = await self._lists_age_days(facts)
            if stale is not None and stale > LISTS_MAX_AGE_DAYS:
                yield self.finding(
                    "stale-lists",
                    Severity.MEDIUM,
                    f"The package lists were last refreshed {stale} days ago",
                    facts.settings.apt_lists,
                    detail="The server cannot know about security updates published since then, so "
                    "'no pending updates' means little. unattended-upgrades refreshes them daily.",
                    remediation='Run `apt-get update`, and enable APT::Periodic::Update-Package-Lists "1"; '
                    "(dpkg-reconfigure -plow unattended-upgrades).",
                    evidence={"days_since_refresh": stale},
                    pci=("6.3.3",),
                )
        if pkgs:
            cmd = "apt-get update && apt-get upgrade" if tool == "apt" else "dnf upgrade --security"
            yield self.finding(
                "security",
                Severity.HIGH,
                f"{len(pkgs)} security update(s) are waiting to be installed",
                f"{tool} packages",
                detail="Published fixes for known vulnerabilities are not installed yet. PCI DSS asks for "
                "critical security patches within one month of release. (Based on the package lists as "
                "last refreshed on the host.)",
                remediation=f"Run `{cmd}` (as root), then reboot if the kernel or libc was updated.",
                evidence={
                    "tool": tool,
                    "security_packages": pkgs[:30],
                    "count": len(pkgs),
                    "all_pending": total,
                },
                pci=("6.3.3",),
                cis=("1.9",),
            )

    async def _lists_age_days(self, facts: Facts) -> int | None:
        """Days since the newest ``*Release`` file in apt's lists changed (None if none)."""
        folder = facts.settings.apt_lists.rstrip("/")
        try:
            names = [n for n in await facts.transport.listdir(folder) if n.endswith("Release")]
        except FileMissing:
            return None
        stats = await facts.transport.stat_many([f"{folder}/{n}" for n in names])
        newest = max((st.mtime for st in stats.values() if st is not None), default=None)
        if newest is None:
            return None
        return int((datetime.now(UTC).timestamp() - newest) // 86400)


@register_check
class AutoUpdates(HostCheck):
    id = "hosting.os.auto-updates"
    title = "Security updates install automatically"
    subject = "automatic security updates"

    async def inspect(self, ctx: CheckContext, facts: Facts) -> AsyncIterator[Finding]:
        conf_dir = facts.etc("apt/apt.conf.d")
        try:
            names = await facts.transport.listdir(conf_dir)
        except FileMissing:
            names = None
        if names is not None:
            enabled: str | None = None
            where: str | None = None
            contents = await facts.transport.read_files([f"{conf_dir}/{n}" for n in names])
            for path, data in contents.items():  # apt reads files in name order: the last one wins
                if isinstance(data, bytes):
                    m = re.search(
                        r'APT::Periodic::Unattended-Upgrade\s+"?(\d+)"?', data.decode("utf-8", "replace")
                    )
                    if m:
                        enabled, where = m.group(1), path
            installed = await facts.installed("unattended-upgrade")
            if not installed or enabled in (None, "0"):
                yield self.finding(
                    "disabled",
                    Severity.MEDIUM,
                    "Security updates are not installed automatically (unattended-upgrades)",
                    conf_dir,
                    detail="Without automatic updates, fixes wait until someone logs in; skimming gangs "
                    "exploit new holes within days.",
                    remediation="apt-get install unattended-upgrades && dpkg-reconfigure -plow "
                    "unattended-upgrades "
                    '(writes APT::Periodic::Unattended-Upgrade "1"; to /etc/apt/apt.conf.d/20auto-upgrades)',
                    evidence={
                        "unattended_upgrades_installed": installed,
                        "setting": enabled,
                        "where": where,
                    },
                    pci=("6.3.3",),
                    cis=("1.9",),
                )
            return
        res = await facts.run(["systemctl", "is-enabled", "dnf-automatic-install.timer"])
        if res.stdout.strip() != "enabled":
            yield self.finding(
                "disabled",
                Severity.MEDIUM,
                "Security updates are not installed automatically (dnf-automatic)",
                "dnf-automatic-install.timer",
                remediation="dnf install dnf-automatic && systemctl enable --now dnf-automatic-install.timer",
                evidence={"systemctl": res.stdout.strip() or res.stderr.strip()[:200]},
                pci=("6.3.3",),
            )


@register_check
class RebootRequired(HostCheck):
    id = "hosting.os.reboot"
    title = "No reboot pending after updates"
    subject = "whether a reboot is pending"

    async def inspect(self, ctx: CheckContext, facts: Facts) -> AsyncIterator[Finding]:
        flag = f"{facts.settings.run_dir.rstrip('/')}/reboot-required"
        if await facts.transport.exists(flag):
            try:
                pkgs = (await facts.transport.read_text(flag + ".pkgs")).split()
            except FileMissing:
                pkgs = []
            yield self.finding(
                "pending",
                Severity.MEDIUM,
                "Updates were installed but the server has not been rebooted",
                flag,
                detail="Updated kernels and libraries only protect you after a restart; until then the old, "
                "vulnerable code keeps running.",
                remediation="Schedule a reboot in a quiet hour: `systemctl reboot`.",
                evidence={"packages": sorted(set(pkgs))[:20]},
                pci=("6.3.3",),
            )
            return
        try:
            res = await facts.run(["needs-restarting", "-r"])
        except CommandMissing:
            return
        if res.returncode == 1:
            yield self.finding(
                "pending",
                Severity.MEDIUM,
                "Updates were installed but the server has not been rebooted",
                "needs-restarting -r",
                remediation="Schedule a reboot in a quiet hour: `systemctl reboot`.",
                evidence={"output": res.stdout.strip()[:300]},
                pci=("6.3.3",),
            )


TIME_DAEMONS = ("chronyd", "ntpd", "systemd-timesyn", "openntpd", "ptp4l", "timesyncd")


@register_check
class TimeSync(HostCheck):
    id = "hosting.os.time-sync"
    title = "Clock is synchronised"
    subject = "time synchronisation"

    async def inspect(self, ctx: CheckContext, facts: Facts) -> AsyncIterator[Finding]:
        synced: str | None = None
        try:
            res = await facts.run(["timedatectl", "show", "-p", "NTPSynchronized", "--value"])
            if res.ok:
                synced = res.stdout.strip()
        except CommandMissing:
            pass
        daemons = await facts.running(*TIME_DAEMONS)
        if synced == "yes" or daemons:
            return
        yield self.finding(
            "not-running",
            Severity.MEDIUM,
            "The server's clock is not kept in sync (no NTP client running)",
            "time synchronisation",
            detail="Log times must be accurate to reconstruct an incident; PCI DSS 10.6 requires time "
            "synchronisation. In a container the host's clock applies: check it there.",
            remediation="apt-get install systemd-timesyncd (or chrony) && systemctl enable --now "
            "systemd-timesyncd",
            evidence={"timedatectl_ntp_synchronized": synced, "daemons_found": daemons},
            pci=("10.6.1", "10.6.2"),
            cis=("2.1.1",),
        )
