"""Integrity changes as findings a store owner can act on (PCI DSS 11.5.2)."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from shopguard.config import Store
from shopguard.findings import Finding, Refs, Severity
from shopguard.scanning.files import fim

if TYPE_CHECKING:
    from shopguard.hosting import RemoteTransport

CHECK_ID = "scanning.files.integrity"
MAX_DETAILED = 500

SENSITIVE = re.compile(
    r"(checkout|payment|onepage|basket|cart|order|gateway|admin|adminhtml|wp-admin|/app/etc/|wp-config"
    r"|\.htaccess|\.user\.ini|/index\.php$)",
    re.I,
)
CODE_SUFFIXES = (
    ".php", ".phtml", ".php5", ".php7", ".phar", ".inc", ".js", ".mjs", ".html", ".htm", ".tpl", ".twig",
    ".py", ".rb", ".pl", ".cgi", ".sh", ".htaccess", ".ini", ".xml", ".json", ".svg",
)  # fmt: skip
REFS = Refs(pci=("11.5.2",), cwe=("CWE-494",))

REMEDIATION = {
    "changed": "If nobody on your team changed this file (a deploy, an update), compare it with the clean "
    "copy (version control or the official release) and restore it; then run `shopguard scan files`. "
    "If the change was yours, record it: `shopguard fim accept --reason 'what and why' PATH`.",
    "added": "If you did not add this file, look at it (`shopguard scan files PATH`), keep a copy as "
    "evidence, "
    "and remove it. If it is yours: `shopguard fim accept --reason 'what and why' PATH`.",
    "removed": "If the removal was not planned, restore the file from your backup or release. If it was: "
    "`shopguard fim accept --reason 'what and why'`.",
    "permissions": "Put the permissions/owner back (code should not be writable by the web server user, "
    "never world-writable: `chmod 644 FILE`). If the change was deliberate: "
    "`shopguard fim accept --reason 'what and why' PATH`.",
}


def _is_code(path: str) -> bool:
    name = os.path.basename(path).lower()
    return name.endswith(CODE_SUFFIXES) or "." not in name


def severity_of(change: fim.Change) -> Severity:
    code = _is_code(change.path)
    sensitive = bool(SENSITIVE.search(change.path.replace("\\", "/")))
    if change.kind == "permissions":
        assert change.after is not None
        if change.after[fim.MODE] & stat.S_IWOTH:
            return Severity.HIGH
        return Severity.MEDIUM if code else Severity.LOW
    if change.kind == "removed":
        return Severity.MEDIUM if (code and sensitive) else Severity.LOW
    if code and sensitive:
        return Severity.HIGH
    return Severity.MEDIUM if code else Severity.LOW


def _describe(change: fim.Change) -> str:
    b, a = change.before, change.after
    if change.kind == "changed" and a and b:
        return f"Content changed (size {b[fim.SIZE]} -> {a[fim.SIZE]} bytes)."
    if change.kind == "permissions" and a and b:
        return (
            f"Mode {stat.filemode(b[fim.MODE])} -> {stat.filemode(a[fim.MODE])}, "
            f"owner {b[fim.UID]}:{b[fim.GID]} -> {a[fim.UID]}:{a[fim.GID]}."
        )
    if change.kind == "added" and a:
        return f"New file ({a[fim.SIZE]} bytes) not in the baseline."
    return "In the baseline but no longer present."


TITLES = {
    "changed": "File changed since the integrity baseline",
    "added": "New file since the integrity baseline",
    "removed": "File removed since the integrity baseline",
    "permissions": "File permissions or owner changed since the integrity baseline",
}


def findings(store: Store, check_id: str = CHECK_ID) -> Iterator[Finding]:
    """The integrity findings of a store whose web roots are on this machine."""
    loaded = _load(store, check_id, store.web_roots)
    if isinstance(loaded, list):
        yield from loaded
        return
    comparison = fim.compare(loaded, paranoid=store.files.fim_paranoid, exclude=store.files.trusted_folders)
    configured = {os.path.abspath(r) for r in store.web_roots}
    yield from _report(store, loaded, comparison, store.web_roots, configured, check_id)


async def remote_findings(
    store: Store, transport: RemoteTransport, check_id: str = CHECK_ID
) -> list[Finding]:
    """The same for a store whose web roots are on ``transport``'s host. Transport errors
    (host unreachable) are raised: an unreachable host must not look like an empty web root."""
    from shopguard.scanning.files.fim_remote import compare_remote, root_key

    roots = [root_key(transport.name, str(r)) for r in store.web_roots]
    loaded = _load(store, check_id, roots)
    if isinstance(loaded, list):
        return loaded
    comparison = await compare_remote(
        loaded,
        transport,
        paranoid=store.files.fim_paranoid,
        exclude=[str(p) for p in store.files.trusted_folders],
    )
    return list(_report(store, loaded, comparison, roots, set(roots), check_id))


def _load(store: Store, check_id: str, roots: Sequence[object]) -> fim.Baseline | list[Finding]:
    """The store's baseline, or the one finding that says why there is none to compare with."""
    roots_text = ", ".join(str(r) for r in roots)
    try:
        return fim.load(store.name)
    except fim.BaselineTampered as exc:
        return [
            Finding(
                check_id=check_id + ".tampered",
                severity=Severity.CRITICAL,
                title="The file-integrity baseline was modified outside ShopGuard",
                location=str(fim.baseline_path(store.name)),
                detail=str(exc),
                remediation="Someone with access to ShopGuard's data folder edited the baseline, possibly to "
                "hide "
                "changes. Treat the web root as suspect: scan it (`shopguard scan files`), compare it with a "
                "clean release, then start a new baseline (`shopguard fim baseline --force`).",
                refs=REFS,
                key="tampered",
            )
        ]
    except fim.BaselineError:
        return [
            Finding(
                check_id=check_id + ".no-baseline",
                severity=Severity.MEDIUM,
                title="No file-integrity baseline for the web roots",
                location=roots_text,
                detail="Without a baseline nobody notices when shop code is changed or a file is added "
                "(PCI DSS 11.5.2 asks for change detection on critical files, compared at least weekly).",
                remediation="Record one now: `shopguard fim baseline`, then run `shopguard fim check` "
                "(or `shopguard audit`) regularly.",
                refs=REFS,
                key="no-baseline",
            )
        ]


def _report(
    store: Store,
    baseline: fim.Baseline,
    comparison: fim.Comparison,
    roots: Sequence[object],
    configured: set[str],
    check_id: str,
) -> Iterator[Finding]:
    roots_text = ", ".join(str(r) for r in roots)
    if configured != set(baseline.roots):
        yield Finding(
            check_id=check_id + ".roots-changed",
            severity=Severity.LOW,
            title="The web roots in the config differ from those in the baseline",
            location=roots_text,
            detail=f"Baseline roots: {', '.join(sorted(baseline.roots))}.",
            remediation="Record a new baseline for the current roots: `shopguard fim baseline --force`.",
            refs=REFS,
            key="roots-changed",
        )
    for change in comparison.changes[:MAX_DETAILED]:
        yield Finding(
            check_id=f"{check_id}.{change.kind}",
            severity=severity_of(change),
            title=TITLES[change.kind],
            location=change.path,
            detail=_describe(change),
            remediation=REMEDIATION[change.kind],
            evidence={
                "change": change.kind,
                "before": _evidence(change.before),
                "after": _evidence(change.after),
                "baseline_algorithm": baseline.algorithm,
            },
            refs=REFS,
            key=change.kind,
        )
    extra = comparison.changes[MAX_DETAILED:]
    if extra:
        worst = max(severity_of(c) for c in extra)
        yield Finding(
            check_id=check_id + ".more",
            severity=worst,
            title=f"{len(extra)} more file changes since the integrity baseline",
            location=roots_text,
            detail="Only the first 500 changes are listed one by one.",
            remediation="If this is a deploy or an update, accept it: `shopguard fim accept --reason '...'`.",
            evidence={"paths": [c.path for c in extra[:200]]},
            refs=REFS,
            key="more",
        )
    last = baseline.history[-1] if baseline.history else None
    yield Finding(
        check_id=check_id + ".summary",
        severity=Severity.INFO,
        title=f"Compared {comparison.unchanged + comparison.rehashed} files with the integrity baseline",
        location=roots_text,
        detail=f"{len(comparison.changes)} changes; {comparison.rehashed} files re-hashed"
        + (" (paranoid: every file)" if store.files.fim_paranoid else " (the rest had identical metadata)")
        + (f"; last accepted {last['at']} by {last['by']}: {last['reason']}" if last else "")
        + ".",
        evidence={
            "baseline_created": baseline.created,
            "baseline_files": baseline.count,
            "changes": len(comparison.changes),
            "rehashed": comparison.rehashed,
            "unreadable": comparison.stats.unreadable,
            "last_accept": last,
        },
        refs=REFS,
        key="summary",
    )


def _evidence(entry: fim.Entry | None) -> dict[str, object] | None:
    if entry is None:
        return None
    return {
        "size": entry[fim.SIZE],
        "mode": stat.filemode(entry[fim.MODE]),
        "uid": entry[fim.UID],
        "gid": entry[fim.GID],
        "hash": entry[fim.HASH],
    }


def store_roots(store: Store) -> list[Path]:
    return [Path(os.path.abspath(r)) for r in store.web_roots]
