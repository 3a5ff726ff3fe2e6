"""Benchmark: the full outside-in scan of the demo shop and of a bad-config nginx, and
ShopGuard's TLS facts side by side with `testssl.sh --fast` on the same nginx.

Run:  .venv/bin/python bench/web_scan.py
Prints seconds and requests per scan, the TLS timing ratio, and whether both tools
agree on the headline TLS facts (protocols offered, NULL/anonymous ciphers).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "scanning" / "web"))

from demo.run import start  # noqa: E402
from webscan_nginx import bad_servers, free_port, make_certs, run_nginx, write_site  # noqa: E402

from shopguard.checks import CheckContext, Resources, all_checks, run_one  # noqa: E402
from shopguard.config import Config, Store  # noqa: E402
from shopguard.scanning.web.client import RESOURCE_KEY, ScopedClient  # noqa: E402
from shopguard.scanning.web.tls import OPENSSL_FAMILIES, gather_facts  # noqa: E402

SHARED_RETIRE = next(
    (
        p / "shared/data/retirejs/jsrepository.json"
        for p in ROOT.parents
        if (p / "shared/data/retirejs/jsrepository.json").is_file()
    ),
    None,
)


async def full_scan(store: Store, prefixes: tuple[str, ...]) -> tuple[float, int, int, dict[str, float]]:
    checks = [c for c in all_checks() if c.id.startswith(prefixes) and c.applies(store)]
    cfg = Config(stores=(store,))
    res = Resources()
    t = time.monotonic()
    runs = await asyncio.gather(
        *(run_one(c, CheckContext(store=store, config=cfg, deadline=0.0, resources=res), 120) for c in checks)
    )
    took = time.monotonic() - t
    client: ScopedClient = await res.get(RESOURCE_KEY, lambda: ScopedClient.for_store(store))
    requests = client.stats.requests
    await res.aclose()
    errors = [r for r in runs if r.errored]
    for r in errors:
        print(f"   check error {r.check_id}: {r.message}")
    return took, requests, sum(len(r.findings) for r in runs), {r.check_id: r.duration_s for r in runs}


def s_client_accepts(port: int, ciphers: str) -> bool:
    """Arbiter for disagreements: does `openssl s_client` complete a TLS 1.2 handshake with these ciphers?"""
    r = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_2", "-cipher", ciphers],
        input=b"",
        capture_output=True,
        check=False,
        timeout=20,
    )
    return b"Cipher is (NONE)" not in r.stdout and b"New, TLSv1" in r.stdout


def testssl(port: int, out: Path) -> tuple[float, dict[str, str]]:
    exe = shutil.which("testssl") or shutil.which("testssl.sh")
    if exe is None:
        return -1.0, {}
    t = time.monotonic()
    subprocess.run(
        [
            exe,
            "--fast",
            "--quiet",
            "--warnings",
            "off",
            "--color",
            "0",
            "--jsonfile",
            str(out),
            f"https://127.0.0.1:{port}/",
        ],
        capture_output=True,
        check=False,
    )
    took = time.monotonic() - t
    facts: dict[str, str] = {}
    if out.is_file():
        for item in json.loads(out.read_text()):
            facts[item["id"]] = item["finding"]
    return took, facts


async def main() -> None:
    if SHARED_RETIRE is not None:
        os.environ.setdefault("SHOPGUARD_RETIREJS_FILE", str(SHARED_RETIRE))
    print("ShopGuard web scan benchmark (loopback, 2 cores)")
    with start() as demo:
        store = Store.model_validate(
            {
                "name": "demo",
                "storefront_url": demo.shop_url,
                "checkout_url": demo.checkout_url,
                "basket_url": demo.basket_url,
                "pages": {
                    "steps": [
                        {"goto": "/products/ethiopia-yirgacheffe"},
                        {"click": "form.add button[type=submit]"},
                    ],
                    "settle_ms": 500,
                },
            }
        )
        took, reqs, n, per = await full_scan(store, ("scanning.web.",))
        print(f"demo shop, web checks:      {took:6.2f} s  {reqs:4d} requests  {n:3d} findings")
        took, reqs, n, per = await full_scan(store, ("scanning.web.", "scanning.pages"))
        print(
            f"demo shop, web + browser:   {took:6.2f} s  {reqs:4d} requests  {n:3d} findings"
            f"  (browser monitor {per.get('scanning.pages', 0):.2f} s)"
        )
    with tempfile.TemporaryDirectory() as d:
        dd = Path(d)
        certs = make_certs(dd / "certs")
        root = dd / "www"
        write_site(root, bad=True)
        https, http = free_port(), free_port()
        with run_nginx(dd / "run", bad_servers(root, https, http, certs), https, http, root):
            store = Store.model_validate(
                {"name": "nginx", "storefront_url": f"https://127.0.0.1:{https}/", "web": {"http_port": http}}
            )
            took, reqs, n, _ = await full_scan(store, ("scanning.web.",))
            print(f"bad-config nginx, web:      {took:6.2f} s  {reqs:4d} requests  {n:3d} findings")
            t = time.monotonic()
            facts = await gather_facts("127.0.0.1", https, "127.0.0.1", timeout=5)
            ours = time.monotonic() - t
            theirs, tfacts = testssl(https, dd / "testssl.json")
            print(f"TLS facts, ShopGuard:       {ours:6.2f} s")
            if theirs < 0:
                print("testssl.sh not installed (Debian package testssl.sh): no ratio")
                return
            print(f"TLS facts, testssl.sh --fast: {theirs:6.2f} s   ratio {theirs / ours:5.1f}x")
            pairs = {"TLS1": "TLSv1.0", "TLS1_1": "TLSv1.1", "TLS1_2": "TLSv1.2", "TLS1_3": "TLSv1.3"}
            agree = 0
            for tid, ours_name in pairs.items():
                t_offered = tfacts.get(tid, "").startswith("offered")
                mine = facts.protocols.get(ours_name, False)
                agree += t_offered == mine
                print(
                    f"   {ours_name}: testssl {'offered' if t_offered else 'not offered':12s}"
                    f" shopguard {'offered' if mine else 'not offered'}"
                )
            compared = len(pairs)
            for tid, family in (
                ("cipherlist_NULL", "NULL (no encryption)"),
                ("cipherlist_aNULL", "anonymous (no authentication)"),
            ):
                mine = facts.weak_families[family]
                if tid not in tfacts:
                    print(
                        f"   {family}: testssl --fast does not test it; "
                        f"shopguard {'offered' if mine else 'no'}"
                    )
                    continue
                t_offered = tfacts[tid].startswith("offered")
                compared += 1
                agree += t_offered == mine
                truth = s_client_accepts(https, OPENSSL_FAMILIES[family])
                print(
                    f"   {family}: testssl {t_offered} shopguard {mine}; "
                    f"openssl s_client at SECLEVEL=0: {truth}"
                )
            print(f"headline TLS facts in agreement: {agree}/{compared}")


if __name__ == "__main__":
    asyncio.run(main())
