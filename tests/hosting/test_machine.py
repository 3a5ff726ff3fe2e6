"""Checks that read this machine's own state, compared with what the machine's own
tools say independently (ps, apt-get, the file system)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess

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


def test_pending_security_updates_match_apt() -> None:
    out = subprocess.run(
        ["apt-get", "-s", "-o", "Debug::NoLocking=1", "upgrade"], capture_output=True, text=True, check=True
    ).stdout
    expected = sorted(
        {ln.split()[1] for ln in out.splitlines() if ln.startswith("Inst ") and "ecurity" in ln}
    )
    r = run_hosting(store_for(), ["hosting.os.updates"])["hosting.os.updates"]
    assert r.outcome.value == "ok", r.message
    if expected:
        (f,) = r.findings
        assert f.evidence["count"] == len(expected) and f.evidence["security_packages"] == expected[:30]
        assert f.severity.value == "high"
    else:
        assert r.findings == []
