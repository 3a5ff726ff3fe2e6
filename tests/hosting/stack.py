"""A real shop web stack for tests: nginx + PHP-FPM on loopback ports, from config
files written into a scratch folder, in a hardened ("good") or careless ("bad")
variant. Nothing touches the machine's own nginx or PHP configuration."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .conftest import free_port, stop, wait_port

FPM_BIN = sorted(glob.glob("/usr/sbin/php-fpm*"))[-1]

BAD_INI = """
expose_php = On
display_errors = On
allow_url_include = On
allow_url_fopen = On
disable_functions =
session.cookie_httponly = 0
session.cookie_secure = 0
session.use_strict_mode = 0
upload_max_filesize = 1G
post_max_size = 1G
"""

GOOD_INI = """
expose_php = Off
display_errors = Off
log_errors = On
allow_url_include = Off
allow_url_fopen = Off
disable_functions = exec,shell_exec,system,passthru,proc_open,popen,pcntl_exec
open_basedir = {web}:/tmp
session.cookie_httponly = 1
session.cookie_secure = 1
session.use_strict_mode = 1
session.cookie_samesite = Lax
upload_max_filesize = 8M
post_max_size = 10M
"""

GOOD_HTTP = """
  server_tokens off;
  ssl_protocols TLSv1.2 TLSv1.3;
  add_header X-Content-Type-Options nosniff always;
  add_header X-Frame-Options SAMEORIGIN always;
  add_header Referrer-Policy strict-origin-when-cross-origin always;
  add_header Strict-Transport-Security "max-age=31536000" always;
  client_max_body_size 16m;
  server {{ listen 127.0.0.1:{port} default_server; server_name _; return 444; }}
  server {{ listen 127.0.0.1:{ssl_port} ssl default_server; server_name _; ssl_reject_handshake on; }}
"""

BAD_HTTP = """
  ssl_protocols TLSv1 TLSv1.1 TLSv1.2;
  ssl_ciphers "HIGH:!aNULL:3DES:RC4";
  client_max_body_size 0;
"""

GOOD_SERVER = r"""
    location ~ /\.(?!well-known) { deny all; }
    location ~* \.(sql|bak|old|orig|swp|tar|tgz|gz|zip)$ { deny all; }
    location ~* ^/(wp-content/uploads|pub/media|media|uploads|img)/.*\.php$ { deny all; }
"""

BAD_SERVER = """
    location /files/ { autoindex on; }
"""

NGINX_CONF = r"""
user www-data;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/nginx-error.log;
events {{ worker_connections 64; }}
http {{
  access_log {d}/access.log;
  client_body_temp_path {d}/tmp-body; proxy_temp_path {d}/tmp-proxy; fastcgi_temp_path {d}/tmp-fcgi;
  uwsgi_temp_path {d}/tmp-uwsgi; scgi_temp_path {d}/tmp-scgi;
  {http_extra}
  server {{
    listen 127.0.0.1:{port};
    listen 127.0.0.1:{ssl_port} ssl;
    server_name shop.example;
    ssl_certificate {d}/cert.pem;
    ssl_certificate_key {d}/key.pem;
    root {web};
    index index.php index.html;
    {server_extra}
    location ~ \.php$ {{
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
      fastcgi_pass 127.0.0.1:{fpm_port};
    }}
  }}
  {other}
}}
"""

FPM_CONF = """
[global]
pid = {d}/fpm.pid
error_log = {d}/fpm.log
daemonize = no
[shop]
user = www-data
group = www-data
listen = 127.0.0.1:{fpm_port}
pm = static
pm.max_children = 1
{pool_extra}
"""

BAD_POOL = """security.limit_extensions = .php .jpg
php_admin_flag[display_errors] = on
"""


@dataclass
class Stack:
    good: bool
    dir: Path
    web: Path
    port: int
    ssl_port: int
    fpm_port: int
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def settings(self) -> dict[str, Any]:
        return {
            "nginx_conf": str(self.dir / "nginx.conf"),
            "php_ini": str(self.dir / "php.ini"),
            "php_fpm_bin": FPM_BIN,
            "php_fpm_conf": str(self.dir / "fpm.conf"),
            "php_fpm_ini": str(self.dir / "php.ini"),
        }

    def close(self) -> None:
        for p in self.procs:
            stop(p)


def write_web_root(web: Path, good: bool) -> None:
    (web / "uploads").mkdir(parents=True)
    (web / "files").mkdir()
    (web / ".git").mkdir()
    (web / "index.php").write_text("<?php echo 'SHOP';\n")
    (web / "uploads" / "x.php").write_text("<?php echo 'PHP-RAN';\n")
    (web / ".git" / "config").write_text("[core]\n")
    (web / "files" / "a.txt").write_text("a")
    (web / "wp-config.php").write_text("<?php define('DB_PASSWORD', 'not-a-real-one');\n")
    (web / "backup.sql").write_text("-- dump\n")
    for p in [web, *web.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    if good:
        (web / "wp-config.php").chmod(0o640)
        os.chown(web / "wp-config.php", 0, 33)  # root:www-data, group-readable for PHP only
    else:
        for p in [web, *web.rglob("*")]:
            os.chown(p, 33, 33)  # everything owned (and writable) by www-data
        (web / "files").chmod(0o777)


def start_stack(base: Path, good: bool) -> Stack:
    d = base / ("good" if good else "bad")
    web = d / "www"
    d.mkdir(parents=True)
    d.chmod(0o755)
    write_web_root(web, good)
    s = Stack(good, d, web, free_port(), free_port(), free_port())
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
    fmt = {"d": d, "web": web, "port": s.port, "ssl_port": s.ssl_port, "fpm_port": s.fpm_port}
    (d / "php.ini").write_text((GOOD_INI if good else BAD_INI).format(**fmt))
    (d / "fpm.conf").write_text(FPM_CONF.format(**fmt, pool_extra="" if good else BAD_POOL))
    (d / "nginx.conf").write_text(
        NGINX_CONF.format(
            **fmt,
            http_extra=(GOOD_HTTP if good else BAD_HTTP).format(**fmt),
            server_extra=GOOD_SERVER if good else BAD_SERVER,
            other=""
            if good
            else f"server {{ listen 127.0.0.1:{s.port}; server_name other.example; root {web}; }}",
        )
    )
    fpm = subprocess.Popen(
        [FPM_BIN, "-F", "-R", "-y", str(d / "fpm.conf"), "-c", str(d / "php.ini")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    s.procs.append(fpm)
    try:
        wait_port(s.fpm_port, fpm)
    except Exception:
        s.close()
        raise
    nginx = subprocess.Popen(
        ["nginx", "-c", str(d / "nginx.conf"), "-p", str(d), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    s.procs.append(nginx)
    try:
        wait_port(s.port, nginx)
    except Exception:
        s.close()
        raise
    return s


def remove(stack: Stack) -> None:
    stack.close()
    shutil.rmtree(stack.dir, ignore_errors=True)
