"""Apache httpd: the configuration files the server really loads (``apache2 -t -D
DUMP_INCLUDES``) and its virtual hosts as the server itself sorts them (``-D
DUMP_VHOSTS``, what ``apachectl -S`` prints), read and evaluated for what matters to
a shop."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable
from pathlib import PurePosixPath

from shopguard.checks import CheckContext, register_check
from shopguard.findings import Finding, Severity
from shopguard.hosting.base import CouldNotCheck, HostCheck
from shopguard.hosting.facts import Facts
from shopguard.hosting.parsers.apache import Node, include_tree, parse
from shopguard.hosting.parsers.apache_vhosts import VhostSet, main_document_root, vhost_sets

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
        argv = [s.apache_bin, "-t", "-D", "DUMP_INCLUDES", "-D", "DUMP_VHOSTS", "-D", "DUMP_RUN_CFG"] + (
            ["-f", s.apache_conf] if s.apache_conf else []
        )
        res = await facts.run(argv)
        if not res.ok:
            reason = (res.stderr.strip().splitlines() or res.stdout.strip().splitlines() or ["(no message)"])[
                0
            ]
            raise CouldNotCheck(
                f"could not check {self.subject} because `{res.command}` reports an error: {reason[:300]}"
            )
        tree = include_tree(res.stdout)
        paths = list(dict.fromkeys(e.path for r in tree for e in r.flat()))
        if not paths:
            raise CouldNotCheck(f"could not check {self.subject} because it listed no configuration files")
        texts = await facts.transport.read_files(paths)
        files = []
        for p in paths:
            data = texts[p]
            if isinstance(data, Exception):
                raise data
            files.append((p, data.decode("utf-8", "replace")))
        root = parse(files, tree)
        main = paths[0]
        for f in self._server_wide(root, main):
            yield f
        for f in self._content(root, main):
            yield f
        web_roots = [str(p) for p in ctx.store.web_roots]
        for f in self._default_vhost(root, res.stdout, web_roots):
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

    def _default_vhost(self, root: Node, dump: str, web_roots: list[str]) -> Iterable[Finding]:
        """For each address with several name-based virtual hosts, the first one answers
        every request whose Host header names none of them; it should refuse."""
        main_root = main_document_root(dump) or _docroot(root) or ""
        vhosts = {v.where: v for v in root.find("virtualhost")}
        for vs in vhost_sets(dump):
            if not vs.name_based:
                continue  # only one site on this address: nothing else could answer
            node = vhosts.get(vs.default.where)
            if node is not None and refuses(node):
                continue
            docroot = (_docroot(node) if node is not None else None) or main_root
            shop = _serves_shop(node, docroot, web_roots)
            yield self._default_finding(vs, docroot, shop, node is not None)

    def _default_finding(self, vs: VhostSet, docroot: str, shop: bool, located: bool) -> Finding:
        port = vs.port
        ssl = (
            "\n    SSLEngine on\n    SSLCertificateFile /etc/ssl/certs/ssl-cert-snakeoil.pem"
            "\n    SSLCertificateKeyFile /etc/ssl/private/ssl-cert-snakeoil.key"
            if port == "443"
            else ""
        )
        catch_all = (
            f"<VirtualHost {vs.address}>\n    ServerName _default_{ssl}\n    <Location />\n"
            "        Require all denied\n    </Location>\n</VirtualHost>"
        )
        return self.finding(
            "default-vhost",
            Severity.MEDIUM if shop else Severity.LOW,
            f"Requests for unknown host names on {vs.address} are answered by {vs.default.name} "
            f"({vs.default.where})",
            vs.default.where,
            detail="Apache hands a request whose Host header matches no ServerName/ServerAlias to the "
            "first virtual host of that address. Scanners and attackers reach sites by IP address or a "
            "made-up Host header; a catch-all first virtual host that refuses them hides the shop from "
            "mass scans and blocks Host-header tricks (poisoned password-reset links, cache poisoning).",
            remediation="Make a catch-all the FIRST virtual host for this address (on Debian a file that "
            "sorts first, e.g. /etc/apache2/sites-available/000-catch-all.conf, then `a2ensite "
            "000-catch-all`), keep the shop's own `ServerName`/`ServerAlias` in its virtual host, and "
            "reload Apache:\n" + catch_all + "\nA redirect to the shop's real address "
            "(`Redirect permanent / https://shop.example/`) is fine too.",
            evidence={
                "address": vs.address,
                "port": port,
                "default_vhost": vs.default.name,
                "defined_at": vs.default.where,
                "document_root": docroot or "(unknown)",
                "serves_application": shop,
                "other_vhosts": vs.names[1:],
                **({} if located else {"note": "virtual host not found in the files Apache listed"}),
            },
            pci=("2.2.6",),
            cwe=("CWE-16",),
            key=vs.address,
        )


_REDIRECT_STATUS = re.compile(r"^(\d{3}|permanent|temp|seeother|gone)$", re.IGNORECASE)
_ALL_PATHS = ("/", "/index.php", "/x/y.html")


def _covers_all(pattern: str) -> bool:
    try:
        return all(re.search(pattern, p) for p in _ALL_PATHS)
    except re.error:
        return False


def refuses(vhost: Node) -> bool:
    """The virtual host denies, redirects or rewrites away every request."""
    for n in vhost.walk():
        args = n.args
        if n.name == "location" and args:
            if (args[0] == "/" or (args[0] == "~" and len(args) > 1 and _covers_all(args[1]))) and _denies(n):
                return True
        elif n.name == "locationmatch" and args and _covers_all(args[0]) and _denies(n):
            return True
        elif n.name in ("redirect", "redirectmatch", "redirectpermanent", "redirecttemp"):
            rest = args[1:] if args and _REDIRECT_STATUS.match(args[0]) else args
            if not rest:
                continue
            if n.name == "redirectmatch" and _covers_all(rest[0]):
                return True
            if n.name != "redirectmatch" and rest[0] == "/":
                return True
        elif n.name == "rewriterule" and len(args) >= 3 and _covers_all(args[0]) and not _conditional(n):
            flags = {f.strip().split("=")[0].upper() for f in args[2].strip("[]").split(",")}
            if flags & {"F", "FORBIDDEN", "G", "GONE", "R", "REDIRECT"}:
                return True
    return False


def _conditional(rule: Node) -> bool:
    """A RewriteCond stands right before the rule: it does not apply to every request."""
    siblings = rule.parent.children if rule.parent is not None and rule.parent.children else []
    i = next((k for k, c in enumerate(siblings) if c is rule), 0)
    return i > 0 and siblings[i - 1].name == "rewritecond"


def _docroot(node: Node | None) -> str | None:
    if node is None:
        return None
    if node.name == "root":
        found = node.top("documentroot")
    else:
        roots = node.find("documentroot")
        found = roots[-1] if roots else None
    return found.args[0] if found is not None and found.args else None


def _serves_shop(node: Node | None, docroot: str, web_roots: list[str]) -> bool:
    """The default virtual host serves the shop: its DocumentRoot is (inside) one of the
    store's web roots, or it hands requests to an application (ProxyPass, proxy handler)."""
    if docroot:
        d = PurePosixPath(docroot)
        for w in web_roots:
            p = PurePosixPath(w)
            if d == p or p in d.parents:
                return True
    if node is None:
        return False
    for n in node.walk():
        joined = " ".join(n.args).lower()
        if n.name in ("proxypass", "proxypassmatch") and not joined.endswith(" !"):
            return True
        if n.name == "sethandler" and "proxy:" in joined:
            return True
    return False
