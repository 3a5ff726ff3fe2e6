"""Apache against a real httpd (Debian apache2) started on loopback with a good and
a bad configuration, PHP through a real PHP-FPM: findings for the bad one only, and
the server really behaves the way the findings say."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shopguard.hosting.parsers.apache import include_tree, parse
from shopguard.hosting.transport import check_allowed

from .conftest import free_port, run_hosting, stop, store_for, wait_port
from .stack import FPM_BIN, FPM_CONF, write_web_root

MODULES = (
    "mpm_event",
    "authz_core",
    "dir",
    "autoindex",
    "mime",
    "headers",
    "alias",
    "proxy",
    "proxy_fcgi",
    "ssl",
    "socache_shmcb",
)
CONF = """
{modules}
ServerName shop.example
TypesConfig /etc/mime.types
PidFile {d}/httpd.pid
ErrorLog {d}/error.log
Mutex file:{d}
DefaultRuntimeDir {d}
Listen 127.0.0.1:{port}
Listen 127.0.0.1:{ssl_port}
Listen 127.0.0.1:{vport}
User www-data
Group www-data
DocumentRoot {web}
DirectoryIndex index.php
<Directory {web}>
    Options {options}
    Require all granted
</Directory>
<FilesMatch "\\.php$">
    SetHandler "proxy:fcgi://127.0.0.1:{fpm_port}"
</FilesMatch>
<VirtualHost 127.0.0.1:{ssl_port}>
    SSLEngine on
    SSLCertificateFile {d}/cert.pem
    SSLCertificateKeyFile {d}/key.pem
    SSLProtocol {protocols}
    {ciphers}
</VirtualHost>
{extra}
{vhosts}
"""
# Name-based virtual hosts on one port: Apache answers unknown Host headers with the first.
BAD_VHOSTS = """
<VirtualHost 127.0.0.1:{vport}>
    ServerName shop.example
    DocumentRoot {web}
    Include {d}/shop-vhost.conf
</VirtualHost>
<VirtualHost 127.0.0.1:{vport}>
    ServerName admin.example
    DocumentRoot {d}/admin
</VirtualHost>
"""
GOOD_VHOSTS = """
<VirtualHost 127.0.0.1:{vport}>
    ServerName _default_
    Include {d}/catch-all.conf
</VirtualHost>
<VirtualHost 127.0.0.1:{vport}>
    ServerName shop.example
    DocumentRoot {web}
</VirtualHost>
"""
# Included INSIDE a <VirtualHost>: applies to that virtual host only.
SHOP_VHOST_INCLUDE = "TraceEnable Off\n"
CATCH_ALL_INCLUDE = "<Location />\n    Require all denied\n</Location>\n"
GOOD_EXTRA = """
ServerTokens Prod
ServerSignature Off
TraceEnable Off
Header always set X-Content-Type-Options nosniff
Header always set X-Frame-Options SAMEORIGIN
Header always set Referrer-Policy "strict-origin-when-cross-origin"
<DirectoryMatch "/\\.(?!well-known)">
    Require all denied
</DirectoryMatch>
<FilesMatch "^\\.">
    Require all denied
</FilesMatch>
<Directory {web}/uploads>
    <FilesMatch "\\.ph(p|ar|tml)$">
        Require all denied
    </FilesMatch>
</Directory>
"""


def _start(base: Path, good: bool) -> tuple[dict[str, str], list[subprocess.Popen[bytes]], Path]:
    d = base / ("good" if good else "bad")
    d.mkdir()
    d.chmod(0o755)
    web = d / "www"
    write_web_root(web, good)
    port, ssl_port, fpm_port, vport = free_port(), free_port(), free_port(), free_port()
    (d / "admin").mkdir()
    (d / "admin" / "index.php").write_text("<?php echo 'ADMIN';\n")
    (d / "shop-vhost.conf").write_text(SHOP_VHOST_INCLUDE)
    (d / "catch-all.conf").write_text(CATCH_ALL_INCLUDE)
    for p in (d / "admin", d / "admin" / "index.php", d / "shop-vhost.conf", d / "catch-all.conf"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(d / "key.pem"),
            "-out",
            str(d / "cert.pem"),
            "-subj",
            "/CN=shop.example",
            "-days",
            "2",
        ],
        check=True,
        capture_output=True,
    )
    (d / "fpm.conf").write_text(FPM_CONF.format(d=d, fpm_port=fpm_port, pool_extra=""))
    fpm = subprocess.Popen(
        [FPM_BIN, "-F", "-R", "-y", str(d / "fpm.conf")], stderr=subprocess.DEVNULL, start_new_session=True
    )
    modules = "\n".join(f"LoadModule {m}_module /usr/lib/apache2/modules/mod_{m}.so" for m in MODULES)
    (d / "httpd.conf").write_text(
        CONF.format(
            modules=modules,
            d=d,
            web=web,
            port=port,
            ssl_port=ssl_port,
            fpm_port=fpm_port,
            options="-Indexes +FollowSymLinks" if good else "Indexes FollowSymLinks",
            protocols="-all +TLSv1.2 +TLSv1.3" if good else "all -SSLv3",
            ciphers="" if good else 'SSLCipherSuite "HIGH:!aNULL:RC4"',
            extra=GOOD_EXTRA.format(web=web) if good else "",
            vhosts=(GOOD_VHOSTS if good else BAD_VHOSTS).format(d=d, web=web, vport=vport),
            vport=vport,
        )
    )
    httpd = subprocess.Popen(
        ["/usr/sbin/apache2", "-f", str(d / "httpd.conf"), "-DFOREGROUND"],
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        wait_port(fpm_port, fpm)
        wait_port(port, httpd)
    except Exception:
        stop(httpd)
        stop(fpm)
        raise
    info = {
        "conf": str(d / "httpd.conf"),
        "url": f"http://127.0.0.1:{port}",
        "vhosts_url": f"http://127.0.0.1:{vport}",
        "vport": str(vport),
        "web": str(web),
    }
    return info, [fpm, httpd], d


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, dict[str, str]]]:
    base = Path(tempfile.mkdtemp(prefix="sg-apache-"))
    base.chmod(0o755)
    procs: list[subprocess.Popen[bytes]] = []
    out = {}
    try:
        for name in ("good", "bad"):
            info, p, _ = _start(base, name == "good")
            procs += p
            out[name] = info
        yield out
    finally:
        for p in procs:
            stop(p)
        shutil.rmtree(base, ignore_errors=True)


def test_apache_good_vs_bad(servers: dict[str, dict[str, str]]) -> None:
    found = {}
    for name, info in servers.items():
        r = run_hosting(
            store_for(
                apache_bin="/usr/sbin/apache2", apache_conf=info["conf"], web_roots=[Path(info["web"])]
            ),
            ["hosting.apache"],
        )
        res = r["hosting.apache"]
        assert res.outcome.value == "ok", res.message
        found[name] = {f.check_id: f for f in res.findings}
    assert set(found["bad"]) == {
        "hosting.apache.server-tokens",
        "hosting.apache.trace",
        "hosting.apache.indexes",
        "hosting.apache.tls-protocols",
        "hosting.apache.tls-ciphers",
        "hosting.apache.headers",
        "hosting.apache.dotfiles",
        "hosting.apache.php-in-uploads",
        "hosting.apache.default-vhost",
    }
    assert found["good"] == {}
    assert found["bad"]["hosting.apache.tls-protocols"].title.endswith("TLSv1, TLSv1.1")
    # TraceEnable Off comes from a file included inside the shop's <VirtualHost>: it does
    # not switch TRACE off for the whole server, so the server-wide finding stays.
    assert found["bad"]["hosting.apache.trace"].evidence["TraceEnable"] == "(default: On)"


def test_apache_default_vhost_finding(servers: dict[str, dict[str, str]]) -> None:
    bad = servers["bad"]
    r = run_hosting(
        store_for(apache_bin="/usr/sbin/apache2", apache_conf=bad["conf"], web_roots=[Path(bad["web"])]),
        ["hosting.apache"],
    )
    (f,) = [f for f in r["hosting.apache"].findings if f.check_id == "hosting.apache.default-vhost"]
    address = f"127.0.0.1:{bad['vport']}"
    assert f.severity.name == "MEDIUM"
    assert f.location == f"{bad['conf']}:{_first_vhost_line(bad['conf'], bad['vport'])}"
    assert f.evidence["address"] == address
    assert f.evidence["port"] == bad["vport"]
    assert f.evidence["default_vhost"] == "shop.example"
    assert f.evidence["document_root"] == bad["web"]
    assert f.evidence["serves_application"] is True
    assert f.evidence["other_vhosts"] == ["admin.example"]
    assert f.refs.pci == ("2.2.6",)
    assert f"<VirtualHost {address}>" in f.remediation
    assert "Require all denied" in f.remediation
    # Without the store's web root the default still answers, but it is not known to be the shop.
    r = run_hosting(store_for(apache_bin="/usr/sbin/apache2", apache_conf=bad["conf"]), ["hosting.apache"])
    (f,) = [f for f in r["hosting.apache"].findings if f.check_id == "hosting.apache.default-vhost"]
    assert f.severity.name == "LOW" and f.evidence["serves_application"] is False


def _first_vhost_line(conf: str, vport: str) -> int:
    """Line of the first ``<VirtualHost`` for the name-based port in a written config."""
    lines = Path(conf).read_text().splitlines()
    return next(i for i, ln in enumerate(lines, 1) if ln.startswith(f"<VirtualHost 127.0.0.1:{vport}>"))


def test_apache_behaves_as_the_findings_say(servers: dict[str, dict[str, str]]) -> None:
    bad, good = servers["bad"]["url"], servers["good"]["url"]
    with httpx.Client(timeout=5) as c:
        assert c.get(bad + "/.git/config").status_code == 200
        assert c.get(good + "/.git/config").status_code == 403
        assert c.get(good + "/.env").status_code in (403, 404)
        assert "PHP-RAN" in c.get(bad + "/uploads/x.php").text
        assert c.get(good + "/uploads/x.php").status_code == 403
        assert "SHOP" in c.get(good + "/").text  # PHP still runs elsewhere
        assert "Index of /files" in c.get(bad + "/files/").text
        assert c.get(good + "/files/").status_code == 403
        assert c.get(bad + "/").headers["server"].startswith("Apache/2.4")
        assert c.get(good + "/").headers["server"] == "Apache"
        # default virtual host: an unknown Host header gets the shop (bad) or a refusal (good)
        bad_v, good_v = servers["bad"]["vhosts_url"], servers["good"]["vhosts_url"]
        unknown = {"Host": "unknown.example"}
        assert "SHOP" in c.get(bad_v + "/", headers=unknown).text
        assert "ADMIN" in c.get(bad_v + "/", headers={"Host": "admin.example"}).text
        assert c.get(good_v + "/", headers=unknown).status_code == 403
        assert c.get(good_v + "/index.php", headers=unknown).status_code == 403
        assert "SHOP" in c.get(good_v + "/", headers={"Host": "shop.example"}).text
        # TraceEnable from the include inside the shop's vhost: that vhost only
        assert c.request("TRACE", bad_v + "/", headers={"Host": "shop.example"}).status_code == 405
        assert c.request("TRACE", bad + "/").status_code == 200


def test_apache_syntax_error_and_missing(scratch: Path) -> None:
    conf = scratch / "broken.conf"
    conf.write_text("Listen 127.0.0.1:1\n<Directory /x>\nRequire all granted\n")
    r = run_hosting(store_for(apache_bin="/usr/sbin/apache2", apache_conf=str(conf)), ["hosting.apache"])
    assert r["hosting.apache"].outcome.value == "error"
    assert "could not check the Apache configuration because" in r["hosting.apache"].message
    missing = run_hosting(store_for(apache_bin="/nonexistent/apache2ctl"), ["hosting.apache"])[
        "hosting.apache"
    ]
    assert [f.check_id for f in missing.findings] == ["hosting.apache.not-checked"]
    check_allowed(["apache2ctl", "-t", "-D", "DUMP_INCLUDES"])


VARIANTS_CONF = """
{modules}
ServerName shop.example
TypesConfig /etc/mime.types
PidFile {d}/httpd.pid
ErrorLog {d}/error.log
Mutex file:{d}
DefaultRuntimeDir {d}
DirectoryIndex index.html
{listens}
# redirect: unknown hosts are sent to the shop's real address
<VirtualHost 127.0.0.1:{p[0]}>
    ServerName _default_
    Redirect permanent / https://shop.example/
</VirtualHost>
# rewrite: 421 Misdirected Request
<VirtualHost 127.0.0.1:{p[1]}>
    ServerName _default_
    RewriteEngine On
    RewriteRule ^ - [R=421,L]
</VirtualHost>
# the refusal two includes deep
<VirtualHost 127.0.0.1:{p[2]}>
    ServerName _default_
    Include {d}/outer.conf
</VirtualHost>
# a placeholder page first: not the shop, still answers
<VirtualHost 127.0.0.1:{p[3]}>
    ServerName placeholder.example
    DocumentRoot {d}/placeholder
</VirtualHost>
# the shop first, refusing one bad name only: every other unknown name still gets the shop
<VirtualHost 127.0.0.1:{p[5]}>
    ServerName shop.example
    DocumentRoot {d}/www
    RewriteEngine On
    RewriteCond %{{HTTP_HOST}} ^evil\\.example$
    RewriteRule ^ - [F]
</VirtualHost>
# one site alone on its port: nothing else could answer
<VirtualHost 127.0.0.1:{p[4]}>
    ServerName shop.example
    DocumentRoot {d}/www
</VirtualHost>
{shops}
"""
SHOP_VHOST = """<VirtualHost 127.0.0.1:{port}>
    ServerName shop.example
    DocumentRoot {d}/www
</VirtualHost>"""


def test_apache_default_vhost_variants(scratch: Path) -> None:
    d = scratch
    for name, text in (("www", "SHOP"), ("placeholder", "PLACEHOLDER")):
        (d / name).mkdir()
        (d / name / "index.html").write_text(text)
        (d / name).chmod(0o755)
        (d / name / "index.html").chmod(0o644)
    (d / "outer.conf").write_text(f"Include {d}/inner.conf\n")
    (d / "inner.conf").write_text('<LocationMatch "^/">\n    Require all denied\n</LocationMatch>\n')
    ports = [free_port() for _ in range(6)]
    modules = "\n".join(
        f"LoadModule {m}_module /usr/lib/apache2/modules/mod_{m}.so"
        for m in ("mpm_event", "authz_core", "dir", "mime", "alias", "rewrite")
    )
    conf = d / "httpd.conf"
    conf.write_text(
        VARIANTS_CONF.format(
            modules=modules,
            d=d,
            p=ports,
            listens="\n".join(f"Listen 127.0.0.1:{p}" for p in ports),
            shops="\n".join(SHOP_VHOST.format(port=p, d=d) for p in ports[:4] + ports[5:]),
        )
    )
    httpd = subprocess.Popen(
        ["/usr/sbin/apache2", "-f", str(conf), "-DFOREGROUND"], stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        for p in ports:
            wait_port(p, httpd)
        unknown = {"Host": "unknown.example"}
        with httpx.Client(timeout=5) as c:
            url = [f"http://127.0.0.1:{p}/" for p in ports]
            r = c.get(url[0], headers=unknown)
            assert r.status_code == 301 and r.headers["location"] == "https://shop.example/"
            assert c.get(url[1], headers=unknown).status_code == 421
            assert c.get(url[2], headers=unknown).status_code == 403
            assert c.get(url[3], headers=unknown).text == "PLACEHOLDER"
            assert c.get(url[4], headers=unknown).text == "SHOP"
            assert c.get(url[5], headers={"Host": "evil.example"}).status_code == 403
            assert c.get(url[5], headers=unknown).text == "SHOP"
            for u in url:
                assert c.get(u, headers={"Host": "shop.example"}).text == "SHOP"
        res = run_hosting(
            store_for(apache_bin="/usr/sbin/apache2", apache_conf=str(conf), web_roots=[d / "www"]),
            ["hosting.apache"],
        )["hosting.apache"]
        assert res.outcome.value == "ok", res.message
    finally:
        stop(httpd)
    found = [f for f in res.findings if f.check_id == "hosting.apache.default-vhost"]
    assert sorted((f.evidence["address"], f.severity.name) for f in found) == sorted(
        [(f"127.0.0.1:{ports[3]}", "LOW"), (f"127.0.0.1:{ports[5]}", "MEDIUM")]
    )
    by_port = {f.evidence["port"]: f for f in found}
    assert by_port[str(ports[3])].evidence["default_vhost"] == "placeholder.example"
    assert by_port[str(ports[3])].evidence["document_root"] == str(d / "placeholder")
    assert by_port[str(ports[5])].evidence["document_root"] == str(d / "www")


def test_apache_include_inside_vhost_belongs_to_it(scratch: Path) -> None:
    """Apache's own include dump, parsed: directives two includes deep inside a
    <VirtualHost> hang under it; an Include at the top level stays server-wide."""
    (scratch / "outer.conf").write_text(f"ServerAlias www.shop.example\nInclude {scratch}/inner.conf\n")
    (scratch / "inner.conf").write_text("TraceEnable Off\n")
    (scratch / "top.conf").write_text("ServerTokens Prod\n")
    conf = scratch / "httpd.conf"
    conf.write_text(
        "LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so\n"
        "LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so\n"
        f"ServerName shop.example\nErrorLog {scratch}/error.log\nListen 127.0.0.1:{free_port()}\n"
        f"Include {scratch}/top.conf\n"
        "<VirtualHost *:80>\n    ServerName shop.example\n"
        f"    Include {scratch}/outer.conf\n</VirtualHost>\n"
        "TraceEnable On\n"
    )
    dump = subprocess.run(
        ["/usr/sbin/apache2", "-f", str(conf), "-t", "-D", "DUMP_INCLUDES"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    tree = include_tree(dump)
    assert [e.path for r in tree for e in r.flat()] == [
        str(conf),
        f"{scratch}/top.conf",
        f"{scratch}/outer.conf",
        f"{scratch}/inner.conf",
    ]
    files = [(e.path, Path(e.path).read_text()) for r in tree for e in r.flat()]
    root = parse(files, tree)
    (vhost,) = root.find("virtualhost")
    assert [(n.name, n.file) for n in vhost.walk()] == [
        ("servername", str(conf)),
        ("serveralias", f"{scratch}/outer.conf"),
        ("traceenable", f"{scratch}/inner.conf"),
    ]
    trace = root.top("traceenable")
    assert trace is not None and trace.args == ["On"] and trace.file == str(conf)
    tokens = root.top("servertokens")
    assert tokens is not None and tokens.file == f"{scratch}/top.conf"
    # the old flat reading put the vhost's TraceEnable Off last at the top level
    flat_trace = parse(files).top("traceenable")
    assert flat_trace is not None and flat_trace.args == ["Off"]
