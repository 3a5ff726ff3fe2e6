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
"""
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
    port, ssl_port, fpm_port = free_port(), free_port(), free_port()
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
    info = {"conf": str(d / "httpd.conf"), "url": f"http://127.0.0.1:{port}", "web": str(web)}
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
            store_for(apache_bin="/usr/sbin/apache2", apache_conf=info["conf"]), ["hosting.apache"]
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
    }
    assert found["good"] == {}
    assert found["bad"]["hosting.apache.tls-protocols"].title.endswith("TLSv1, TLSv1.1")


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
