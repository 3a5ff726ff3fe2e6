"""Apache httpd: the configuration files the server really loads (``apache2 -t -D
DUMP_INCLUDES``), read and evaluated for what matters to a shop."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable

from shopguard.checks import CheckContext, register_check
from shopguard.findings import Finding, Severity
from shopguard.hosting.base import CouldNotCheck, HostCheck
from shopguard.hosting.facts import Facts
from shopguard.hosting.parsers.apache import Node, included_files, parse

OLD = {"SSLv2", "SSLv3", "TLSv1", "TLSv1.1"}
ALL = {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"}
WEAK_CIPHER = re.compile(r"^(RC4|DES|3DES|DES-CBC3-SHA|MD5|NULL|eNULL|aNULL|EXP|EXPORT|LOW|ALL|ADH)$")
HEADERS = ("x-content-type-options", "x-frame-options", "referrer-policy")
UPLOAD_DIR = re.compile(r"/(wp-content/uploads|pub/media|media|uploads)(/|$)")


def ssl_protocols(args: list[str]) -> set[str]:
    enabled: set[str] = set()
    for a in args:
        sign, name = (a[0], a[1:]) if a[:1] in "+-" else ("+", a)
        group = ALL if name.lower() == "all" else {name}
        enabled = enabled - group if sign == "-" else enabled | group
    return enabled


def _denies(node: Node) -> bool:
    for n in [node, *node.walk()]:
        if n.name == "require" and [a.lower() for a in n.args[:2]] == ["all", "denied"]:
            return True
        if n.name == "deny" and [a.lower() for a in n.args[:2]] == ["from", "all"]:
            return True
    return False


def _matches(node: Node, probe: str) -> bool:
    pattern = node.args[0] if node.args else ""
    if node.args and node.args[0] == "~" and len(node.args) > 1:
        pattern = node.args[1]
    try:
        return re.search(pattern, probe) is not None
    except re.error:
        return False


def _blocked(root: Node, probe_file: str, probe_path: str) -> bool:
    for n in root.walk():
        if n.name in ("filesmatch", "files") and _matches(n, probe_file) and _denies(n):
            return True
        if n.name in ("directorymatch", "locationmatch") and _matches(n, probe_path) and _denies(n):
            return True
        if n.name == "redirectmatch" and len(n.args) >= 2 and n.args[0] in ("404", "403"):
            try:
                if re.search(n.args[1], probe_path):
                    return True
            except re.error:
                continue
    return False


def _php_handler(root: Node) -> bool:
    for n in root.walk():
        joined = " ".join(n.args).lower()
        if n.name in ("sethandler", "addhandler", "addtype") and ("php" in joined or "proxy:" in joined):
            return True
        if n.name == "loadmodule" and "php" in joined:
            return True
    return False


def _uploads_safe(root: Node) -> bool:
    for n in root.walk():
        if n.name not in ("directory", "directorymatch", "location", "locationmatch") or not n.args:
            continue
        if not UPLOAD_DIR.search(n.args[-1]):
            continue
        for c in n.walk():
            if c.name == "php_admin_flag" and [a.lower() for a in c.args] == ["engine", "off"]:
                return True
            if c.name in ("removehandler", "removetype") or (
                c.name == "sethandler" and c.args[:1] == ["none"]
            ):
                return True
            if c.name in ("filesmatch", "files") and _matches(c, "x.php") and _denies(c):
                return True
    return False


@register_check
class Apache(HostCheck):
    id = "hosting.apache"
    title = "Apache configuration is hardened"
    subject = "the Apache configuration"
    optional = True

    async def inspect(self, ctx: CheckContext, facts: Facts) -> AsyncIterator[Finding]:
        s = facts.settings
        argv = [s.apache_bin, "-t", "-D", "DUMP_INCLUDES"] + (["-f", s.apache_conf] if s.apache_conf else [])
        res = await facts.run(argv)
        if not res.ok:
            reason = (res.stderr.strip().splitlines() or res.stdout.strip().splitlines() or ["(no message)"])[
                0
            ]
            raise CouldNotCheck(
                f"could not check {self.subject} because `{res.command}` reports an error: {reason[:300]}"
            )
        paths = included_files(res.stdout)
        if not paths:
            raise CouldNotCheck(f"could not check {self.subject} because it listed no configuration files")
        texts = await facts.transport.read_files(paths)
        files = []
        for p in paths:
            data = texts[p]
            if isinstance(data, Exception):
                raise data
            files.append((p, data.decode("utf-8", "replace")))
        root = parse(files)
        main = paths[0]
        for f in self._server_wide(root, main):
            yield f
        for f in self._content(root, main):
            yield f

    def _server_wide(self, root: Node, main: str) -> Iterable[Finding]:
        tokens = root.top("servertokens")
        if tokens is None or tokens.args[:1] not in (["Prod"], ["ProductOnly"], ["prod"]):
            yield self.finding(
                "server-tokens",
                Severity.LOW,
                "Apache tells every visitor its version and modules (ServerTokens)",
                tokens.where if tokens else main,
                remediation="Set `ServerTokens Prod` and `ServerSignature Off` (Debian: "
                "conf-available/security.conf).",
                evidence={"ServerTokens": " ".join(tokens.args) if tokens else "(default: Full)"},
                pci=("2.2.6",),
                cwe=("CWE-200",),
            )
        trace = root.top("traceenable")
        if trace is None or [a.lower() for a in trace.args[:1]] != ["off"]:
            yield self.finding(
                "trace",
                Severity.LOW,
                "Apache answers HTTP TRACE requests",
                trace.where if trace else main,
                remediation="Set `TraceEnable Off`.",
                evidence={"TraceEnable": " ".join(trace.args) if trace else "(default: On)"},
                pci=("2.2.6",),
                cwe=("CWE-693",),
            )
        for n in root.find("options"):
            if any(a.lstrip("+").lower() == "indexes" for a in n.args if not a.startswith("-")):
                yield self.finding(
                    "indexes",
                    Severity.MEDIUM,
                    "Apache lists folder contents (Options Indexes)",
                    n.where,
                    remediation=f"Change the line at {n.where} to `Options -Indexes` (keep FollowSymLinks "
                    "if needed).",
                    evidence={"options": n.args},
                    pci=("2.2.6",),
                    cwe=("CWE-548",),
                    key=n.where,
                )
        for n in root.find("sslprotocol"):
            old = sorted(ssl_protocols(n.args) & OLD)
            if old:
                yield self.finding(
                    "tls-protocols",
                    Severity.HIGH,
                    f"Apache accepts outdated TLS versions: {', '.join(old)}",
                    n.where,
                    remediation="Set `SSLProtocol -all +TLSv1.2 +TLSv1.3`.",
                    evidence={"SSLProtocol": n.args},
                    pci=("4.2.1",),
                    cwe=("CWE-327",),
                    key=n.where,
                )
        for n in root.find("sslciphersuite"):
            spec = n.args[-1] if n.args else ""
            weak = [t for t in re.split(r"[:, ]+", spec) if t and WEAK_CIPHER.match(t.lstrip("+"))]
            if weak:
                yield self.finding(
                    "tls-ciphers",
                    Severity.MEDIUM,
                    f"Apache enables weak TLS ciphers: {', '.join(weak)}",
                    n.where,
                    remediation="Use Mozilla's intermediate SSLCipherSuite list.",
                    evidence={"SSLCipherSuite": spec[:300], "weak": weak},
                    pci=("4.2.1",),
                    cwe=("CWE-327",),
                    key=n.where,
                )

    def _content(self, root: Node, main: str) -> Iterable[Finding]:
        headers = {a.lower() for n in root.find("header") for a in n.args if a.lower() in HEADERS}
        missing = [h for h in HEADERS if h not in headers]
        if "content-security-policy" in {a.lower() for n in root.find("header") for a in n.args}:
            missing = [h for h in missing if h != "x-frame-options"]
        if missing:
            yield self.finding(
                "headers",
                Severity.LOW,
                f"Apache does not set security headers: {', '.join(missing)}",
                main,
                remediation="a2enmod headers; then in the server config: Header always set "
                "X-Content-Type-Options "
                "nosniff / Header always set X-Frame-Options SAMEORIGIN / Header always set Referrer-Policy "
                '"strict-origin-when-cross-origin"',
                evidence={"missing": missing},
                pci=("6.4.1",),
                cwe=("CWE-693",),
            )
        reachable = [
            p
            for p, (f, d) in {
                ".env": (".env", "/var/www/.env"),
                ".git": ("config", "/var/www/.git/config"),
            }.items()
            if not _blocked(root, f, d)
        ]
        if reachable:
            yield self.finding(
                "dotfiles",
                Severity.MEDIUM,
                f"Apache does not block hidden files such as {' and '.join(reachable)}",
                main,
                detail="A forgotten .git folder or .env file hands out source code and database passwords.",
                remediation='<DirectoryMatch "/\\.(?!well-known)"> Require all denied </DirectoryMatch> and '
                '<FilesMatch "^\\."> Require all denied </FilesMatch>',
                evidence={"reachable": reachable},
                pci=("6.2.4", "2.2.6"),
                cwe=("CWE-538",),
            )
        if _php_handler(root) and not _uploads_safe(root):
            yield self.finding(
                "php-in-uploads",
                Severity.HIGH,
                "Apache would run PHP files from upload/media folders",
                main,
                detail="A web shell uploaded as an 'image' becomes executable code. Upload folders must "
                "never "
                "execute PHP.",
                remediation='<Directory /var/www/shop/wp-content/uploads> <FilesMatch "\\.ph(p|ar|tml)$"> '
                "Require all denied </FilesMatch> </Directory>",
                evidence={"php_handler": True},
                pci=("6.4.1", "11.6.1"),
                cwe=("CWE-434",),
            )
