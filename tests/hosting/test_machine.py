"""Checks that read this machine's own state, compared with what the machine's own
tools say independently (ps, apt-get, the file system)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from pathlib import Path

from shopguard.hosting.facts import Facts
from shopguard.hosting.settings import HostingSettings
from shopguard.hosting.transport import LocalTransport

from .conftest import run_hosting, store_for


def test_installed_programs_listing() -> None:
    facts = Facts(LocalTransport(), HostingSettings())

    async def probe() -> list[bool]:
        return [await facts.installed(p) for p in ("nginx", "sshd", "fail2ban-server", "no-such-program-xyz")]

    assert asyncio.run(probe()) == [
        shutil.which("nginx", path="/usr/sbin:/usr/bin") is not None,
        shutil.which("sshd", path="/usr/sbin:/usr/bin") is not None,
        shutil.which("fail2ban-server", path="/usr/sbin:/usr/bin:/usr/local/bin") is not None,
        False,
    ]


def test_brute_force_and_time_sync_match_the_process_list() -> None:
    procs = set(subprocess.run(["ps", "-eo", "comm="], capture_output=True, text=True).stdout.split())
    runs = run_hosting(store_for(), ["hosting.brute-force", "hosting.os.time-sync"])
    bf = runs["hosting.brute-force"]
    assert bf.outcome.value == "ok", bf.message
    assert bool(bf.findings) == (not procs & {"fail2ban-server", "crowdsec", "sshguard"})
    ts = runs["hosting.os.time-sync"]
    assert ts.outcome.value == "ok", ts.message
    daemons = procs & {"chronyd", "ntpd", "systemd-timesyn", "openntpd", "ptp4l", "timesyncd"}
    if ts.findings:
        assert ts.findings[0].evidence["daemons_found"] == [] and not daemons
        assert "10.6.1" in ts.findings[0].refs.pci


def test_pending_security_updates_match_apt(tmp_path: Path) -> None:
    out = subprocess.run(
        ["apt-get", "-s", "-o", "Debug::NoLocking=1", "upgrade"], capture_output=True, text=True, check=True
    ).stdout
    expected = sorted(
        {ln.split()[1] for ln in out.splitlines() if ln.startswith("Inst ") and "ecurity" in ln}
    )
    old = tmp_path / "deb.debian.org_debian_dists_bookworm_InRelease"
    old.write_text("x")
    os.utime(old, (time.time() - 30 * 86400, time.time() - 30 * 86400))
    r = run_hosting(store_for(apt_lists=str(tmp_path)), ["hosting.os.updates"])["hosting.os.updates"]
    assert r.outcome.value == "ok", r.message
    stale = [f for f in r.findings if f.check_id == "hosting.os.updates.stale-lists"]
    assert len(stale) == 1 and stale[0].evidence["days_since_refresh"] == 30
    security = [f for f in r.findings if f.check_id == "hosting.os.updates.security"]
    if expected:
        (f,) = security
        assert f.evidence["count"] == len(expected) and f.evidence["security_packages"] == expected[:30]
        assert f.severity.value == "high"
    else:
        assert security == []


def test_package_lists_age_of_this_machine() -> None:
    from shopguard.hosting.checks.os import PendingUpdates

    newest = max(p.stat().st_mtime for p in Path("/var/lib/apt/lists").glob("*Release"))
    facts = Facts(LocalTransport(), HostingSettings())
    days = asyncio.run(PendingUpdates()._lists_age_days(facts))
    assert days == int((time.time() - newest) // 86400)
