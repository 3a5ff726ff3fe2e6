"""nginx: the effective configuration from ``nginx -T``.

Where a question is "what would nginx do with this request?" (a ``.git`` folder, a
PHP file in uploads) the check answers it the way nginx does: exact, then longest
prefix, then the first matching regex location, so a finding names the location
block that would serve the request.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

from shopguard.checks import CheckContext, register_check
from shopguard.findings import Finding, Severity
from shopguard.hosting.base import CouldNotCheck, HostCheck
from shopguard.hosting.facts import Facts
from shopguard.hosting.parsers.nginx import Directive, NginxParseError, parse_dump

OLD_PROTOCOLS = {"SSLv2", "SSLv3", "TLSv1", "TLSv1.1"}
WEAK_CIPHER_TOKENS = re.compile(
    r"^(RC4|DES|3DES|DES-CBC3-SHA|MD5|NULL|eNULL|aNULL|EXP|EXPORT|LOW|ALL|ADH|AECDH)$"
)
SECURITY_HEADERS = ("x-content-type-options", "x-frame-options", "referrer-policy")
UPLOAD_PROBES = (
    "/wp-content/uploads/x.php",
    "/pub/media/x.php",
    "/media/x.php",
    "/uploads/x.php",
    "/img/x.php",
)
DOT_PROBES = ("/.git/config", "/.env", "/.htpasswd")
BACKUP_PROBES = ("/backup.sql", "/index.php.bak", "/wp-config.php.old", "/site.tar.gz")
ADMIN_TOOLS = re.compile(r"phpmyadmin|adminer|/pma\b", re.I)


@dataclass(frozen=True)
class NginxConf:
    root: Directive
    version: tuple[int, ...]

    @property
    def servers(self) -> list[Directive]:
        http = self.root.first("http")
        return [d for d in (http.walk() if http else []) if d.name == "server" and d.block is not None]


async def nginx_conf(facts: Facts) -> NginxConf:
    async def read() -> NginxConf:
        s = facts.settings
        argv = [s.nginx_bin, "-T"] + (["-c", s.nginx_conf] if s.nginx_conf else [])
        res = await facts.run(argv)
        if not res.ok:
            raise CouldNotCheck(
                "could not check the nginx configuration because `nginx -T` reports an error: "
                + (res.stderr.strip().splitlines() or ["(no message)"])[-1][:300]
            )
        try:
            root = parse_dump(res.stdout)
        except NginxParseError as exc:
            raise CouldNotCheck(
                f"could not check the nginx configuration because it could not be parsed: {exc}"
            ) from None
        ver = await facts.run([s.nginx_bin, "-v"])
        m = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", ver.stderr + ver.stdout)
        return NginxConf(root, tuple(int(x) for x in m.groups()) if m else (0, 0, 0))

    return await facts.memo("nginx", read)


def effective(node: Directive, name: str) -> Directive | None:
    """The directive as inherited: the nearest enclosing block that sets it."""
    cur: Directive | None = node
    while cur is not None:
        found = cur.first(name)
        if found is not None:
            return found
        cur = cur.parent
    return None


def effective_all(node: Directive, name: str) -> list[Directive]:
    """For array directives (add_header): the nearest level that has any wins."""
    cur: Directive | None = node
    while cur is not None:
        found = cur.children(name)
        if found:
            return found
        cur = cur.parent
    return []


def server_label(server: Directive) -> str:
    names = server.first("server_name")
    listen = server.first("listen")
    name = names.args[0] if names and names.args else "_"
    return f"{name} ({listen.args[0] if listen and listen.args else '80'})"


def is_ssl(server: Directive) -> bool:
    return (
        any("ssl" in d.args for d in server.children("listen")) or server.first("ssl_certificate") is not None
    )


def _regex(loc: Directive) -> re.Pattern[str] | None:
    if not loc.args or loc.args[0] not in ("~", "~*") or len(loc.args) < 2:
        return None
    try:
        return re.compile(loc.args[1], re.I if loc.args[0] == "~*" else 0)
    except re.error:
        return None


def match_location(block: Directive, path: str) -> Directive | None:
    """The location nginx picks for ``path`` inside ``block`` (recursing into nested ones)."""
    locs = [d for d in block.children("location") if d.args and not d.args[0].startswith("@")]
    best: Directive | None = None
    best_len = -1
    for loc in locs:
        a = loc.args
        if a[0] == "=" and len(a) > 1 and a[1] == path:
            return loc
        prefix = a[1] if a[0] == "^~" and len(a) > 1 else a[0] if a[0] not in ("=", "~", "~*") else None
        if prefix is not None and path.startswith(prefix) and len(prefix) > best_len:
            best, best_len = loc, len(prefix)
    if best is not None and best.args[0] == "^~":
        return match_location(best, path) or best
    if best is not None:
        nested = [d for d in best.children("location") if _regex(d)]
        for loc in nested:
            rx = _regex(loc)
            if rx and rx.search(path):
                return loc
    for loc in locs:
        rx = _regex(loc)
        if rx and rx.search(path):
            return loc
    return match_location(best, path) or best if best is not None else None


def blocks(loc: Directive | None) -> bool:
    """Whether a location refuses requests (deny all, return 4xx, internal)."""
    if loc is None:
        return False
    for d in loc.block or []:
        if d.name == "deny" and d.args[:1] == ["all"]:
            return True
        if d.name == "return" and d.args and d.args[0][:1] == "4":
            return True
        if d.name == "internal":
            return True
    return False


def runs_php(loc: Directive | None) -> bool:
    return loc is not None and any(d.name == "fastcgi_pass" for d in loc.walk())


def _serves_files(server: Directive) -> bool:
    return effective(server, "root") is not None or any(d.name in ("root", "alias") for d in server.walk())


def _where(server: Directive) -> str:
    return server.where


@register_check
class Nginx(HostCheck):
    id = "hosting.nginx"
    title = "nginx configuration is hardened"
    subject = "the nginx configuration"
    optional = True

    async def inspect(self, ctx: CheckContext, facts: Facts) -> AsyncIterator[Finding]:
        conf = await nginx_conf(facts)
        for f in self._tokens(conf):
            yield f
        for f in self._autoindex(conf):
            yield f
        for f in self._tls(conf):
            yield f
        for server in conf.servers:
            for f in self._server(server):
                yield f
        for f in self._default_vhost(conf):
            yield f

    def _tokens(self, conf: NginxConf) -> Iterable[Finding]:
        leaking = []
        for server in conf.servers:
            d = effective(server, "server_tokens")
            if d is None or d.args[:1] != ["off"]:
                leaking.append(server_label(server))
        if leaking:
            yield self.finding(
                "server-tokens",
                Severity.LOW,
                "nginx tells every visitor its exact version",
                conf.root.file,
                detail="The version banner lets attackers pick exploits for your exact build.",
                remediation="Add `server_tokens off;` inside the http { } block, then `nginx -t && nginx "
                "-s reload`.",
                evidence={"servers": leaking[:20]},
                pci=("2.2.6",),
                cwe=("CWE-200",),
            )

    def _autoindex(self, conf: NginxConf) -> Iterable[Finding]:
        for d in conf.root.walk():
            if d.name == "autoindex" and d.args[:1] == ["on"]:
                yield self.finding(
                    "autoindex",
                    Severity.MEDIUM,
                    "nginx lists folder contents (autoindex on)",
                    d.where,
                    detail="Directory listings show backups, logs and private files to anyone.",
                    remediation=f"Remove `autoindex on;` at {d.where} (or set `autoindex off;`).",
                    evidence={"directive": "autoindex on"},
                    pci=("2.2.6",),
                    cwe=("CWE-548",),
                    key=d.where,
                )

    def _tls(self, conf: NginxConf) -> Iterable[Finding]:
        default_old = conf.version < (1, 23, 4)
        for server in conf.servers:
            if not is_ssl(server):
                continue
            label = server_label(server)
            d = effective(server, "ssl_protocols")
            protocols = (
                d.args if d else (["TLSv1", "TLSv1.1", "TLSv1.2"] if default_old else ["TLSv1.2", "TLSv1.3"])
            )
            old = sorted(set(protocols) & OLD_PROTOCOLS)
            if old:
                yield self.finding(
                    "tls-protocols",
                    Severity.HIGH,
                    f"{label} accepts outdated TLS versions: {', '.join(old)}",
                    d.where if d else _where(server),
                    detail="TLS 1.0/1.1 are broken for card data; PCI DSS requires strong cryptography.",
                    remediation="Set `ssl_protocols TLSv1.2 TLSv1.3;` in the http { } block.",
                    evidence={"ssl_protocols": protocols, "set_in_config": d is not None},
                    pci=("4.2.1",),
                    cwe=("CWE-327",),
                    key=label,
                )
            c = effective(server, "ssl_ciphers")
            if c is not None and c.args:
                weak = [
                    t for t in re.split(r"[:, ]+", c.args[0]) if t and WEAK_CIPHER_TOKENS.match(t.lstrip("+"))
                ]
                if weak:
                    yield self.finding(
                        "tls-ciphers",
                        Severity.MEDIUM,
                        f"{label} enables weak TLS ciphers: {', '.join(weak)}",
                        c.where,
                        remediation="Use Mozilla's intermediate list, e.g. `ssl_ciphers "
                        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                        "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;`",
                        evidence={"ssl_ciphers": c.args[0][:300], "weak": weak},
                        pci=("4.2.1",),
                        cwe=("CWE-327",),
                        key=label,
                    )

    def _server(self, server: Directive) -> Iterable[Finding]:
        label = server_label(server)
        reject = server.first("ssl_reject_handshake")
        if server.first("return") is not None or (reject is not None and reject.args == ["on"]):
            return  # a redirect-only or refuse-all server serves nothing
        headers = {d.args[0].lower() for d in effective_all(server, "add_header") if d.args}
        wanted = list(SECURITY_HEADERS) + (["strict-transport-security"] if is_ssl(server) else [])
        if "content-security-policy" in headers:
            wanted = [h for h in wanted if h != "x-frame-options"]
        missing = [h for h in wanted if h not in headers]
        if missing:
            yield self.finding(
                "headers",
                Severity.LOW,
                f"{label} does not set security headers: {', '.join(missing)}",
                server.where,
                detail="Set at the server level they protect every page, including error pages. Note that an "
                "add_header inside a location replaces all inherited ones.",
                remediation="In the server { } block: add_header X-Content-Type-Options nosniff always; "
                "add_header X-Frame-Options SAMEORIGIN always; "
                'add_header Referrer-Policy "strict-origin-when-cross-origin" always;'
                + (
                    ' add_header Strict-Transport-Security "max-age=31536000" always;'
                    if "strict-transport-security" in missing
                    else ""
                ),
                evidence={"missing": missing, "present": sorted(headers)},
                pci=("6.4.1",),
                cwe=("CWE-693",),
                key=label,
            )
        body = effective(server, "client_max_body_size")
        if body is not None and body.args:
            size = _bytes(body.args[0])
            if size == 0 or size > 256 * 1024 * 1024:
                yield self.finding(
                    "body-limit",
                    Severity.LOW,
                    f"{label} accepts request bodies of {'any size' if size == 0 else body.args[0]}",
                    body.where,
                    detail="Unlimited uploads let anyone fill the disk or tie up PHP workers.",
                    remediation="Set `client_max_body_size 32m;` (or what your largest legitimate upload "
                    "needs).",
                    evidence={"client_max_body_size": body.args[0]},
                    pci=("6.2.4",),
                    cwe=("CWE-400",),
                    key=label,
                )
        if not _serves_files(server):
            return
        exposed = [p for p in DOT_PROBES if not blocks(match_location(server, p))]
        if exposed:
            yield self.finding(
                "dotfiles",
                Severity.MEDIUM,
                f"{label} does not block hidden files such as .git and .env",
                server.where,
                detail="A forgotten .git folder or .env file hands out source code and database passwords.",
                remediation="In the server { } block: location ~ /\\.(?!well-known) { deny all; }",
                evidence={"reachable": exposed},
                pci=("6.2.4", "2.2.6"),
                cwe=("CWE-538",),
                key=label,
            )
        backups = [p for p in BACKUP_PROBES if not blocks(match_location(server, p))]
        if backups:
            yield self.finding(
                "backup-files",
                Severity.LOW,
                f"{label} would serve backup and dump files (.sql, .bak, .old, archives)",
                server.where,
                detail="Backups left in the web root are downloaded by bots looking for database dumps.",
                remediation="location ~* \\.(sql|bak|old|orig|swp|tar|tgz|gz|zip)$ { deny all; }",
                evidence={"reachable": backups},
                pci=("6.2.4",),
                cwe=("CWE-530",),
                key=label,
            )
        if any(d.name == "fastcgi_pass" for d in server.walk()):
            php_in_uploads = []
            for probe in UPLOAD_PROBES:
                loc = match_location(server, probe)
                if runs_php(loc) and loc is not None:
                    php_in_uploads.append({"path": probe, "location": " ".join(loc.args), "at": loc.where})
            if php_in_uploads:
                yield self.finding(
                    "php-in-uploads",
                    Severity.HIGH,
                    f"{label} would run PHP files from upload/media folders",
                    server.where,
                    detail="A web shell or skimmer loader uploaded as an 'image' becomes executable code. "
                    "Upload folders must never execute PHP.",
                    remediation="Before the PHP location: location ~* "
                    "^/(wp-content/uploads|pub/media|media|uploads)"
                    "/.*\\.php$ { deny all; }",
                    evidence={"probes": php_in_uploads},
                    pci=("6.4.1", "11.6.1"),
                    cwe=("CWE-434",),
                    key=label,
                )
        for loc in (d for d in server.walk() if d.name == "location"):
            if ADMIN_TOOLS.search(" ".join(loc.args)) and not (
                any(d.name == "auth_basic" and d.args[:1] != ["off"] for d in loc.walk()) or blocks(loc)
            ):
                yield self.finding(
                    "admin-tool",
                    Severity.HIGH,
                    f"{label} publishes a database admin tool ({' '.join(loc.args)}) without a restriction",
                    loc.where,
                    detail="phpMyAdmin/Adminer on the public site are brute-forced and exploited constantly.",
                    remediation="Remove it, or restrict it: allow YOUR.IP; deny all; plus auth_basic.",
                    evidence={"location": " ".join(loc.args)},
                    pci=("1.3.1", "8.2.2"),
                    key=loc.where,
                )

    def _default_vhost(self, conf: NginxConf) -> Iterable[Finding]:
        by_port: dict[str, list[Directive]] = {}
        explicit: dict[str, Directive] = {}
        for server in conf.servers:
            listens = server.children("listen") or [Directive("listen", ["80"], server.file, server.line)]
            for lst in listens:
                port = lst.args[0].rsplit(":", 1)[-1] if lst.args else "80"
                by_port.setdefault(port, []).append(server)
                if "default_server" in lst.args or "default" in lst.args:
                    explicit[port] = server
        for port, servers in sorted(by_port.items()):
            default = explicit.get(port, servers[0])
            reject = default.first("ssl_reject_handshake")
            if (
                default.first("return") is not None
                or blocks(default)
                or (reject is not None and reject.args == ["on"])
            ):
                continue
            if len(servers) == 1 and port not in explicit:
                continue  # only one site on this port: nothing else could answer
            shop = any(d.name in ("fastcgi_pass", "proxy_pass") for d in default.walk())
            yield self.finding(
                "default-vhost",
                Severity.MEDIUM if shop else Severity.LOW,
                f"Requests for unknown host names on port {port} are answered by {server_label(default)}",
                default.where,
                detail="Scanners and attackers reach sites by IP address or a made-up Host header; a "
                "catch-all "
                "server that refuses them hides the shop from mass scans and blocks Host-header tricks.",
                remediation=f"Add a catch-all: server {{ listen {port} default_server; server_name _; "
                "return 444; }}" + (" (with ssl_reject_handshake on; for 443)" if port == "443" else ""),
                evidence={"port": port, "default_server": server_label(default), "serves_application": shop},
                pci=("2.2.6",),
                key=port,
            )


def _bytes(text: str) -> int:
    m = re.fullmatch(r"(\d+)([kKmMgG]?)", text.strip())
    if not m:
        return -1
    mult = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[m.group(2).lower()]
    return int(m.group(1)) * mult
