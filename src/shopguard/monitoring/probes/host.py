"""Resources of the machine the daemon runs on, through psutil."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import psutil

from shopguard.monitoring.interface import ProbeContext, ProbeResult, Status
from shopguard.monitoring.settings import HostMonitor

psutil.cpu_percent(interval=None)  # prime: the first call has no interval to measure over

_SKIP_FS = {"squashfs", "tmpfs", "devtmpfs", "overlay", "proc", "sysfs", "nsfs", "fuse.snapfuse"}


def measure(spec: HostMonitor) -> tuple[list[str], dict[str, Any]]:
    """Return (problems, figures). Blocking: run it in a thread."""
    problems: list[str] = []
    figures: dict[str, Any] = {}
    cpu = psutil.cpu_percent(interval=None)
    load1, load5, _ = os.getloadavg()
    ncpu = psutil.cpu_count() or 1
    mem = psutil.virtual_memory()
    swap = psutil.swap_memory()
    figures.update(
        cpu_percent=cpu,
        load1=load1,
        load5=load5,
        memory_percent=mem.percent,
        swap_percent=swap.percent,
        cpus=ncpu,
    )
    if cpu > spec.max_cpu_percent:
        problems.append(f"CPU {cpu:.0f}% (limit {spec.max_cpu_percent:g}%)")
    if load5 / ncpu > spec.max_load_per_cpu:
        problems.append(f"load {load5:.1f} on {ncpu} CPUs (limit {spec.max_load_per_cpu:g} per CPU)")
    if mem.percent > spec.max_memory_percent:
        problems.append(f"memory {mem.percent:.0f}% used (limit {spec.max_memory_percent:g}%)")
    if swap.total and swap.percent > spec.max_swap_percent:
        problems.append(f"swap {swap.percent:.0f}% used (limit {spec.max_swap_percent:g}%)")
    mounts = (
        list(spec.mounts)
        or [p.mountpoint for p in psutil.disk_partitions(all=False) if p.fstype not in _SKIP_FS]
        or ["/"]
    )
    disks: dict[str, Any] = {}
    for mp in dict.fromkeys(mounts):
        try:
            usage = psutil.disk_usage(mp)
            st = os.statvfs(mp)
        except OSError as exc:
            problems.append(f"mount {mp} cannot be read ({exc.strerror})")
            continue
        inode_pct = 100.0 * (st.f_files - st.f_ffree) / st.f_files if st.f_files else 0.0
        disks[mp] = {
            "disk_percent": usage.percent,
            "inode_percent": round(inode_pct, 1),
            "free_bytes": usage.free,
        }
        if usage.percent > spec.max_disk_percent:
            problems.append(f"disk {mp} {usage.percent:.0f}% full (limit {spec.max_disk_percent:g}%)")
        if inode_pct > spec.max_inode_percent:
            problems.append(f"inodes on {mp} {inode_pct:.0f}% used (limit {spec.max_inode_percent:g}%)")
    figures["mounts"] = disks
    if spec.processes:
        names = set()
        for proc in psutil.process_iter(["name"]):
            name = proc.info.get("name")
            if name:
                names.add(name)
        missing = [want for want in spec.processes if not any(n == want or n.startswith(want) for n in names)]
        figures["processes_missing"] = missing
        for want in missing:
            problems.append(f"process {want} is not running")
    return problems, figures


async def probe(spec: HostMonitor, key: str, ctx: ProbeContext) -> ProbeResult:
    loop = asyncio.get_running_loop()
    problems, figures = await loop.run_in_executor(ctx.blocking, measure, spec)
    if problems:
        return ProbeResult(Status.DOWN, "; ".join(problems), None, figures)
    return ProbeResult(
        Status.UP,
        f"CPU {figures['cpu_percent']:.0f}%, memory {figures['memory_percent']:.0f}%, "
        f"load {figures['load5']:.1f}",
        None,
        figures,
    )
