"""The whole outside-in scan against Debian's nginx: a hardened configuration gives no
findings at all, a bad one gives each of its weaknesses."""

from __future__ import annotations

import time

from webscan_helpers import make_store, run_web_checks

from shopguard.checks import all_checks
from shopguard.findings import Severity
from shopguard.scanning.web.tls import gather_facts

WEB_IDS = [c.id for c in all_checks() if c.id.startswith("scanning.web.")]


async def test_hardened_nginx_gives_no_findings(hardened_nginx, certs):
    store = make_store(hardened_nginx.https_url, http_port=hardened_nginx.http_port, ca_bundle=certs.ca)
    runs = await run_web_checks(store, WEB_IDS)
    errors = {k: r.message for k, r in runs.items() if r.errored}
    assert errors == {}
    found = [(f.check_id, f.title) for r in runs.values() for f in r.findings]
    assert found == []


async def test_bad_nginx_weaknesses_are_found(bad_nginx):
    store = make_store(bad_nginx.https_url, http_port=bad_nginx.http_port)
    runs = await run_web_checks(store, WEB_IDS)
    assert {k: r.message for k, r in runs.items() if r.errored} == {}
    by_id: dict[str, list] = {}
    for r in runs.values():
        for f in r.findings:
            by_id.setdefault(f.check_id, []).append(f)
    tls_protocols = by_id["scanning.web.tls.protocols"]
    assert any(f.severity is Severity.HIGH and "TLSv1.0" in f.title for f in tls_protocols)
    ciphers = {f.evidence["family"]: f.severity for f in by_id["scanning.web.tls.ciphers"]}
    assert ciphers["NULL (no encryption)"] is Severity.CRITICAL
    assert "static RSA key exchange (no forward secrecy)" in ciphers
    cert = {f.key: f for f in by_id["scanning.web.tls.certificate"]}
    assert cert["trust"].severity is Severity.HIGH and "self-signed" in cert["trust"].title
    assert cert["expiry"].severity is Severity.HIGH  # 5 days left
    assert by_id["scanning.web.https"][0].key == "no-redirect"
    assert {f.key for f in by_id["scanning.web.exposures"]} >= {"/.env", "/.git/config", "/backup.sql"}
    assert [f.key for f in by_id["scanning.web.directory-listing"]] == ["/uploads/"]
    banner = by_id["scanning.web.server-banner"][0]
    assert banner.evidence["value"].startswith("nginx/") and "server_tokens off;" in banner.remediation
    hsts = by_id["scanning.web.headers.hsts"][0]
    assert hsts.severity is Severity.MEDIUM
    env = next(f for f in by_id["scanning.web.exposures"] if f.key == "/.env")
    assert env.severity is Severity.CRITICAL and "DB_PASSWORD" in env.evidence["variables"]
    assert "not-a-real-secret" not in str(env.to_dict())  # names only, never values


async def test_tls_facts_are_fast(bad_nginx):
    t = time.monotonic()
    facts = await gather_facts("127.0.0.1", bad_nginx.https_port, "127.0.0.1", timeout=5)
    assert time.monotonic() - t < 2.0
    assert facts.protocols == {
        "SSLv3": False,
        "TLSv1.0": True,
        "TLSv1.1": True,
        "TLSv1.2": True,
        "TLSv1.3": False,
    }
    assert facts.weak_families["RC4"] is False  # OpenSSL 3 servers cannot offer it


async def test_wrong_host_certificate(tmp_path, certs):
    from webscan_nginx import free_port, run_nginx

    https, http = free_port(), free_port()
    servers = f"""server {{ listen 127.0.0.1:{https} ssl; root {tmp_path};
        ssl_certificate {certs.wrong_host}; ssl_certificate_key {certs.wrong_host_key}; }}"""
    (tmp_path / "index.html").write_text("<html>x</html>")
    with run_nginx(tmp_path / "run", servers, https, http, tmp_path) as n:
        found = (await run_web_checks(make_store(n.https_url), ["scanning.web.tls"]))["scanning.web.tls"]
    titles = {f.key: f.title for f in found.findings}
    assert titles["hostname"] == "The certificate is not valid for 127.0.0.1"
