"""From a store to findings: build the engine from the store's settings, scan its
web roots, and describe each flagged file for a store owner."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

from shopguard.config import Store
from shopguard.findings import Finding, Refs, Severity
from shopguard.paths import user_data_dir
from shopguard.scanning.files.engine import EngineSpec, FileResult, TreeScan, make_spec, scan_tree

CHECK_ID = "scanning.files.malware"

FAMILY_TITLES = {
    "js-skimmer": "Card-skimming JavaScript",
    "js-obfuscated-loader": "Hidden JavaScript loader",
    "php-skimmer": "Server-side card skimmer",
    "php-backdoor": "PHP backdoor",
    "php-webshell": "Webshell (remote control panel for attackers)",
    "php-obfuscated-loader": "Obfuscated PHP that runs hidden code",
    "php-uploader": "Unprotected file uploader",
    "php-in-media": "PHP code hidden in an image",
    "config-backdoor": "Server configuration that loads or runs hidden code",
    "scan-limit": "File not fully checked",
}

REMEDIATION = (
    "Keep a copy as evidence (`shopguard scan files --quarantine DIR`), then restore the clean file from "
    "the official release or your version control, or delete it if it is not yours. Change admin, hosting "
    "and database passwords and look for other changes (`shopguard fim check`). If card data may be "
    "exposed, open an incident and tell your payment processor. Your own code? "
    "`shopguard findings false-positive ID --store STORE --reason ...` or `shopguard files allow FILE`."
)


def shop_hosts(store: Store) -> tuple[str, ...]:
    """The store's own host names: scripts sending data there are not exfiltration."""
    hosts: list[str] = []
    for url in (store.storefront_url, store.checkout_url, store.basket_url):
        if url is not None and (h := urlsplit(str(url)).hostname):
            hosts.append(h.lower())
    hosts.extend(h.lower() for h in store.web.extra_hosts)
    return tuple(dict.fromkeys(hosts))


def default_allow_list() -> Path:
    return user_data_dir() / "files" / "allowlist.sha256"


def read_allow_hashes(paths: Iterable[Path]) -> set[str]:
    """sha256 hashes from allow-list files (``sha256sum`` output or one hash a line)."""
    out: set[str] = set()
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise ValueError(f"{path}: cannot read the hash allow-list: {exc.strerror}") from None
        for n, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            token = line.split()[0].lower()
            if len(token) != 64 or any(c not in "0123456789abcdef" for c in token):
                raise ValueError(
                    f"{path}:{n}: expected a sha256 hash (64 hex characters), found {token[:70]!r}"
                )
            out.add(token)
    return out


def spec_for(store: Store, *, use_hyperscan: bool = True) -> EngineSpec:
    settings = store.files
    allow = read_allow_hashes([default_allow_list(), *settings.allow_hashes])
    return make_spec(
        settings.rule_folders,
        third_party=settings.third_party_rules,
        use_hyperscan=use_hyperscan,
        max_file_bytes=settings.max_file_mb * 1024 * 1024,
        shop_hosts=shop_hosts(store),
        allow_hashes=allow,
    )


def scan_store(store: Store, deadline: float | None = None, stop: threading.Event | None = None) -> TreeScan:
    """Scan the store's web roots (raises FileNotFoundError for a missing root)."""
    for root in store.web_roots:
        if not os.path.lexists(root):
            raise FileNotFoundError(f"web root {root} does not exist (check web_roots in the config)")
    spec = spec_for(store)

    def should_stop() -> bool:
        if stop is not None and stop.is_set():
            return True
        return deadline is not None and time.monotonic() > deadline

    return scan_tree(
        store.web_roots,
        spec,
        jobs=store.files.jobs,
        follow_symlinks=store.files.follow_symlinks,
        exclude=store.files.trusted_folders,
        should_stop=should_stop,
    )


def _refs(result: FileResult) -> Refs:
    families = {d.family for d in result.detections}
    pci = ["5.2.2", "5.3.2"]
    if families & {"js-skimmer", "js-obfuscated-loader"}:
        pci += ["6.4.3", "11.6.1"]
    if result.severity >= Severity.HIGH:
        pci.append("12.10.1")
    return Refs(pci=tuple(pci), cwe=("CWE-506",))


def finding_for(result: FileResult, check_id: str = CHECK_ID) -> Finding:
    main = max(result.detections, key=lambda d: (d.severity.rank, d.source != "heuristic"))
    family = main.family.split(":", 1)[0]
    what = FAMILY_TITLES.get(family, "Suspicious code")
    if family == "heuristic":
        what = "Suspicious code (several warning signs)"
    name = os.path.basename(result.path)
    title = f"{what} in {name}"
    detail_lines = [f"{d.description} [{d.rule}]" for d in result.detections]
    evidence = {
        "confidence": result.confidence,
        "kind": result.kind,
        "size": result.size,
        "sha256": result.sha256,
        "matches": [d.to_dict() for d in result.detections[:10]],
    }
    return Finding(
        check_id=check_id,
        severity=result.severity,
        title=title,
        location=result.path,
        detail="; ".join(detail_lines)[:2000] + f" (confidence: {result.confidence}).",
        remediation=REMEDIATION,
        evidence=evidence,
        refs=_refs(result),
    )


def findings_for(scan: TreeScan, roots: Iterable[Path | str], check_id: str = CHECK_ID) -> Iterator[Finding]:
    """Every flagged file, plus what could not be checked, plus a summary with the counts."""
    roots_text = ", ".join(str(r) for r in roots)
    for result in sorted(scan.results, key=lambda r: r.path):
        if result.detections:
            yield finding_for(result, check_id)
        if result.capped_at is not None:
            yield Finding(
                check_id=check_id + ".capped",
                severity=Severity.LOW,
                title=f"File too big to check completely: {os.path.basename(result.path)}",
                location=result.path,
                detail=f"Only the first {result.capped_at // (1024 * 1024)} MB of this "
                f"{result.size // (1024 * 1024)} MB file were scanned.",
                remediation="Large files rarely belong in a web root: move backups, archives and videos out "
                "of it, or raise files.max_file_mb in the config.",
                evidence={"size": result.size, "scanned_bytes": result.capped_at, "sha256": result.sha256},
                refs=Refs(pci=("5.3.2",)),
            )
    if scan.not_fetched:
        yield Finding(
            check_id=check_id + ".not-fetched",
            severity=Severity.MEDIUM,
            title=f"{len(scan.not_fetched)} files on the remote web root were not scanned (read limit)",
            location=roots_text,
            detail=f"These files were not read because {scan.not_fetched_reason}; they were not checked "
            "for malicious code. The evidence lists the first 50.",
            remediation="Raise files.remote_max_mb in the store's config, move backups and archives out of "
            "the web root, or run `shopguard scan files` on the host itself.",
            evidence={"count": len(scan.not_fetched), "paths": scan.not_fetched[:50]},
            refs=Refs(pci=("5.3.2",)),
            key="not-fetched",
        )
    st = scan.stats
    if st.unreadable:
        yield Finding(
            check_id=check_id + ".unreadable",
            severity=Severity.LOW,
            title=f"{st.unreadable} files or folders in the web root could not be read",
            location=roots_text,
            detail="ShopGuard could not open them (permissions), so they were not checked for malicious "
            "code.",
            remediation="Run the scan as a user that can read the whole web root (for example the "
            "web server's "
            "user), or fix the permissions of the files listed in the evidence.",
            evidence={"paths": st.unreadable_paths[:50]},
            refs=Refs(pci=("5.3.2",)),
            key="unreadable",
        )
    yield Finding(
        check_id=check_id + ".summary",
        severity=Severity.INFO,
        title=f"Scanned {st.scanned} files in the web roots for malicious code",
        location=roots_text,
        detail="Counts of what was scanned and what was skipped (symlinks are not followed out of the "
        "web root; FIFOs, sockets and devices are never read)."
        + (" The scan stopped early." if scan.interrupted else "")
        + (
            f" {len(scan.not_fetched)} files on the remote host were not read: {scan.not_fetched_reason}."
            if scan.not_fetched
            else ""
        ),
        evidence=st.as_dict() | {"interrupted": scan.interrupted},
        refs=Refs(pci=("5.2.2", "5.3.2")),
        key="summary",
    )
