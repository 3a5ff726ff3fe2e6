"""Debian's nginx started by the tests on free loopback ports, plus certificates made
with openssl (a private CA and leaf, a self-signed one, one for the wrong host)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(*args: str) -> None:
    subprocess.run(list(args), check=True, capture_output=True)


@dataclass(frozen=True)
class Certs:
    ca: Path
    leaf: Path
    leaf_key: Path
    self_signed: Path
    self_signed_key: Path
    wrong_host: Path
    wrong_host_key: Path


def make_certs(d: Path) -> Certs:
    d.mkdir(parents=True, exist_ok=True)
    ca, ca_key = d / "ca.pem", d / "ca.key"
    _run(
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(ca_key),
        "-out",
        str(ca),
        "-days",
        "365",
        "-subj",
        "/CN=ShopGuard Test CA",
    )
    leaf, leaf_key, csr = d / "leaf.pem", d / "leaf.key", d / "leaf.csr"
    _run(
        "openssl",
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(leaf_key),
        "-out",
        str(csr),
        "-subj",
        "/CN=localhost",
    )
    ext = d / "leaf.ext"
    ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    _run(
        "openssl",
        "x509",
        "-req",
        "-in",
        str(csr),
        "-CA",
        str(ca),
        "-CAkey",
        str(ca_key),
        "-CAcreateserial",
        "-out",
        str(leaf),
        "-days",
        "90",
        "-sha256",
        "-extfile",
        str(ext),
    )
    ss, ss_key = d / "self.pem", d / "self.key"
    _run(
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(ss_key),
        "-out",
        str(ss),
        "-days",
        "5",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
    )
    wh, wh_key = d / "wrong.pem", d / "wrong.key"
    _run(
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(wh_key),
        "-out",
        str(wh),
        "-days",
        "60",
        "-subj",
        "/CN=wrong.example",
        "-addext",
        "subjectAltName=DNS:wrong.example",
    )
    return Certs(ca, leaf, leaf_key, ss, ss_key, wh, wh_key)


MOZILLA_INTERMEDIATE = (
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
)


CSP = "default-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'self'"


def hardened_servers(root: Path, https_port: int, http_port: int, certs: Certs) -> str:
    return f"""
    server_tokens off;
    server {{
        listen 127.0.0.1:{http_port};
        server_name _;
        return 301 https://$host:{https_port}$request_uri;
    }}
    server {{
        listen 127.0.0.1:{https_port} ssl;
        server_name _;
        root {root};
        ssl_certificate {certs.leaf};
        ssl_certificate_key {certs.leaf_key};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers {MOZILLA_INTERMEDIATE};
        ssl_prefer_server_ciphers off;
        add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;
        add_header Content-Security-Policy "{CSP}" always;
        add_header X-Frame-Options SAMEORIGIN always;
        add_header X-Content-Type-Options nosniff always;
        add_header Referrer-Policy strict-origin-when-cross-origin always;
        add_header Permissions-Policy "camera=(), microphone=(), geolocation=(), payment=(self)" always;
        location ~ /\\.(?!well-known) {{ deny all; }}
        location / {{ try_files $uri $uri/ =404; }}
    }}
    """


def bad_servers(root: Path, https_port: int, http_port: int, certs: Certs) -> str:
    return f"""
    server_tokens on;
    server {{
        listen 127.0.0.1:{http_port};
        root {root};
        location /uploads/ {{ autoindex on; }}
    }}
    server {{
        listen 127.0.0.1:{https_port} ssl;
        root {root};
        ssl_certificate {certs.self_signed};
        ssl_certificate_key {certs.self_signed_key};
        ssl_protocols TLSv1 TLSv1.1 TLSv1.2;
        ssl_ciphers ALL:eNULL:@SECLEVEL=0;
        location /uploads/ {{ autoindex on; }}
    }}
    """


def write_site(root: Path, *, bad: bool) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "js").mkdir(exist_ok=True)
    (root / "js" / "app.js").write_text("document.documentElement.dataset.ok = '1';\n")
    (root / "index.html").write_text(
        '<!doctype html><html><head><title>Shop</title><script src="/js/app.js"></script></head>'
        "<body><h1>Hardened shop</h1></body></html>\n"
    )
    (root / ".env").write_text("APP_ENV=production\nDB_PASSWORD=not-a-real-secret\nAPP_KEY=base64:xyz\n")
    (root / ".git").mkdir(exist_ok=True)
    (root / ".git" / "config").write_text("[core]\n\trepositoryformatversion = 0\n\tbare = false\n")
    if bad:
        (root / "uploads").mkdir(exist_ok=True)
        (root / "uploads" / "invoice-1.pdf").write_bytes(b"%PDF-1.4 test")
        (root / "backup.sql").write_text("-- MySQL dump 10.13\nCREATE TABLE `customers` (id int);\n")


@dataclass
class Nginx:
    https_port: int
    http_port: int
    root: Path
    process: subprocess.Popen[bytes]

    @property
    def https_url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}/"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/"


@contextmanager
def run_nginx(workdir: Path, servers: str, https_port: int, http_port: int, root: Path) -> Iterator[Nginx]:
    workdir.mkdir(parents=True, exist_ok=True)
    for sub in ("client", "proxy", "fastcgi", "uwsgi", "scgi"):
        (workdir / sub).mkdir(exist_ok=True)
    conf = workdir / "nginx.conf"
    conf.write_text(
        f"""
{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log;
events {{ worker_connections 128; }}
http {{
    access_log off;
    client_body_temp_path {workdir}/client;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    {servers}
}}
"""
    )
    proc = subprocess.Popen(
        ["/usr/sbin/nginx", "-p", str(workdir), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", https_port), timeout=0.2):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read().decode() if proc.stderr else ""
                proc.kill()
                raise RuntimeError(f"nginx did not start: {err}") from None
            time.sleep(0.05)
    try:
        yield Nginx(https_port, http_port, root, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
