"""Code ownership: can the web server or PHP rewrite the shop's code, is anything
world-writable, are credential files readable by every user?"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

from shopguard.checks import CheckContext, register_check
from shopguard.findings import Finding, Severity
from shopguard.hosting.base import CouldNotCheck, HostCheck
from shopguard.hosting.facts import Facts
from shopguard.hosting.transport.interface import CommandMissing, TransportError

CODE_FILE = re.compile(r"\.(php|phtml|inc|js|mjs|html?|htaccess|user\.ini|twig|tpl|xml)$|/\.htaccess$", re.I)
WRITABLE_OK = {
    "uploads",
    "media",
    "cache",
    "var",
    "tmp",
    "generated",
    "static",
    "sessions",
    "log",
    "logs",
    "upgrade",
    "backups-dup-lite",
    "wflogs",
    "img",
    "download",
    "upload",
}
"""Folders shop software must be able to write (uploads, caches); code files there are not reported."""
CREDENTIAL_FILES = re.compile(
    r"/(wp-config\.php|env\.php|\.env(\.[a-z]+)?|config\.php|parameters\.php|settings\.inc\.php|local\.xml|"
    r"configuration\.php|\.my\.cnf|auth\.json)$"
)
FIND_FORMAT = "%y %m %U %G %p\\n"


@dataclass(frozen=True)
class Entry:
    kind: str
    mode: int
    uid: int
    gid: int
    path: str


async def walk(facts: Facts, root: str) -> tuple[list[Entry], bool]:
    """Every file and folder under ``root`` (one file system), and whether the
    listing was cut at ``max_files``."""
    res = await facts.run(["find", root, "-xdev", "-printf", FIND_FORMAT])
    if res.returncode != 0 and not res.stdout:
        reason = res.stderr.strip().splitlines()[0] if res.stderr.strip() else f"exit {res.returncode}"
        raise CouldNotCheck(f"could not check the files under {root} because {reason}")
    if res.returncode != 0 and "Permission denied" in res.stderr:
        raise CouldNotCheck(
            f"could not check all files under {root} because some folders are not readable "
            f"({res.stderr.strip().splitlines()[0][:200]})"
        )
    out: list[Entry] = []
    limit = facts.settings.max_files
    for line in res.stdout.splitlines():
        parts = line.split(" ", 4)
        if len(parts) == 5 and parts[1].isdigit():
            out.append(Entry(parts[0], int(parts[1], 8), int(parts[2]), int(parts[3]), parts[4]))
            if len(out) >= limit:
                return out, True
    return out, False


async def web_users(facts: Facts) -> list[str]:
    """Users the web server and PHP run as: FPM pool users, nginx's ``user``,
    else the usual Debian/RHEL web users that exist on the host."""
    users: list[str] = []
    try:
        from shopguard.hosting.checks.php import fpm_pools

        _, pools, _ = await fpm_pools(facts)
        users += [p.values["user"] for p in pools if p.values.get("user")]
    except (CouldNotCheck, TransportError):
        pass
    try:
        from shopguard.hosting.checks.nginx import nginx_conf

        conf = await nginx_conf(facts)
        u = conf.root.first("user")
        users.append(u.args[0] if u and u.args else "nobody")
    except (CouldNotCheck, TransportError):
        pass
    if not users:
        users = [n for n in ("www-data", "nginx", "apache", "http") if await facts.account(n)]
    return sorted(set(users))


def _exempt(path: str, root: str) -> bool:
    rel = path[len(root) :].strip("/").split("/")
    return any(part in WRITABLE_OK for part in rel[:-1])


@register_check
class CodeOwnership(HostCheck):
    id = "hosting.code"
    title = "The web server cannot rewrite the shop's code"
    subject = "file ownership in the web roots"

    def applies(self, store: object) -> bool:
        return bool(getattr(store, "web_roots", ()))

    async def inspect(self, ctx: CheckContext, facts: Facts) -> AsyncIterator[Finding]:
        users = await web_users(facts)
        ids: dict[str, tuple[int, set[int]]] = {}
        for u in users:
            acc = await facts.account(u)
            if acc is not None:
                ids[u] = (acc.uid, await facts.gids_of(u))
        for root_path in ctx.store.web_roots:
            root = str(root_path).rstrip("/") or "/"
            try:
                entries, truncated = await walk(facts, root)
            except CommandMissing as exc:
                raise CouldNotCheck(f"could not check {root} because {exc}") from None
            world: list[str] = []
            writable: dict[str, list[str]] = {u: [] for u in ids}
            secrets: list[str] = []
            for e in entries:
                if e.kind == "l":
                    continue
                if e.mode & 0o002 and not (e.kind == "d" and e.mode & 0o1000):
                    world.append(e.path)
                if e.kind == "f" and CREDENTIAL_FILES.search(e.path) and e.mode & 0o004:
                    secrets.append(e.path)
                if e.kind != "f" or not CODE_FILE.search(e.path) or _exempt(e.path, root):
                    continue
                for u, (uid, gids) in ids.items():
                    if (e.uid == uid and e.mode & 0o200) or (e.gid in gids and e.mode & 0o020):
                        writable[u].append(e.path)
            ev_common = {"web_root": root, "files_listed": len(entries), "listing_truncated": truncated}
            for u, paths in writable.items():
                if paths:
                    yield self.finding(
                        "web-writable",
                        Severity.HIGH,
                        f"{len(paths)} code file(s) in {root} are writable by the web/PHP user {u!r}",
                        root,
                        detail="This is how most skimmers get in: a flaw in any plugin lets PHP rewrite "
                        "checkout "
                        "code. Code should belong to a separate deploy user and be read-only for the web "
                        "user.",
                        remediation=f"chown -R deploy:{u} {root} && find {root} -type f -exec chmod 640 "
                        f"{{}} + && "
                        f"find {root} -type d -exec chmod 750 {{}} +  (then re-allow writes to "
                        "upload/cache folders "
                        "only)",
                        evidence=ev_common | {"user": u, "count": len(paths), "examples": paths[:10]},
                        pci=("6.4.3", "11.6.1", "7.2.1"),
                        cwe=("CWE-732",),
                        key=f"{root}:{u}",
                    )
            if world:
                yield self.finding(
                    "world-writable",
                    Severity.HIGH,
                    f"{len(world)} file(s)/folder(s) in {root} can be changed by every user on the server",
                    root,
                    remediation=f"chmod -R o-w {root}",
                    evidence=ev_common | {"count": len(world), "examples": world[:10]},
                    pci=("7.2.1", "6.4.3"),
                    cwe=("CWE-732",),
                    cis=("6.1.10",),
                    key=root,
                )
            for path in secrets:
                yield self.finding(
                    "credentials-readable",
                    Severity.MEDIUM,
                    f"{path} holds credentials and is readable by every user on the server",
                    path,
                    detail="Database passwords and API keys in this file can be read by any local account or "
                    "any other site's code on the same server.",
                    remediation=f"chmod 640 {path} (owner: deploy user, group: the PHP user's group)",
                    evidence={"path": path},
                    pci=("8.3.2", "3.6.1"),
                    cwe=("CWE-732",),
                    key=path,
                )
