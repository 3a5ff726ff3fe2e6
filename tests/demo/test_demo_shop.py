"""The demo shop works like a shop, and every weakness in demo/README.md is really there."""

from __future__ import annotations

import json
import os
import re
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from demo.run import DemoHandle, start
from demo.shop.app import WEB_ROOT

from shopguard.config import load_config

REPO = Path(__file__).resolve().parents[2]
SECURITY_HEADERS = (
    "Content-Security-Policy",
    "Strict-Transport-Security",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Permissions-Policy",
)
RETIREJS = Path("/work/shared/data/retirejs/jsrepository.json")


@pytest.fixture(scope="module")
def shop() -> Iterator[DemoHandle]:
    handle = start(shop_port=0, provider_port=0)
    yield handle
    handle.stop()


@pytest.fixture
def client(shop: DemoHandle) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shop.shop_url, follow_redirects=False, timeout=5) as c:
        yield c


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF field in the form"
    return m.group(1)


def _future_expiry() -> str:
    now = datetime.now(UTC)
    return f"{now.month:02d}/{(now.year + 2) % 100:02d}"


def _add_to_basket(client: httpx.Client, slug: str = "colombia-huila", qty: int = 2) -> None:
    page = client.get(f"/products/{slug}")
    assert page.status_code == 200
    r = client.post("/basket/add", data={"csrf": _csrf(page.text), "product": slug, "qty": str(qty)})
    assert r.status_code == 303
    assert r.headers["location"] == "/basket?added=1"


def test_purchase_walk_through_the_iframe_provider(shop: DemoHandle, client: httpx.Client) -> None:
    home = client.get("/")
    assert home.status_code == 200
    assert "PHPSESSID" in client.cookies
    assert home.text.count('class="card"') == 6
    assert 'href="/products/colombia-huila"' in home.text

    product = client.get("/products/colombia-huila")
    assert "Colombia Huila, 250 g" in product.text and "€11.00" in product.text
    _add_to_basket(client, "colombia-huila", 2)
    _add_to_basket(client, "enamel-mug", 1)

    basket = client.get("/basket?added=1")
    assert "Added to your basket." in basket.text
    assert '<span class="count">3</span>' in basket.text
    assert "€36.00" in basket.text  # 2 x 11.00 + 14.00

    checkout = client.get("/checkout")
    assert checkout.status_code == 200
    src = re.search(r'<iframe id="payment-frame"[^>]*src="([^"]+)"', checkout.text)
    assert src, checkout.text
    iframe_url = src.group(1).replace("&amp;", "&")
    assert iframe_url.startswith(f"{shop.provider_url}hosted/card-form?")
    params = {k: v[0] for k, v in parse_qs(urlsplit(iframe_url).query).items()}
    assert params["amount"] == "3600" and params["merchant"] == "kestrel-finch"
    assert params["order"].startswith("KF-")

    with httpx.Client(follow_redirects=False, timeout=5) as provider:
        form = provider.get(iframe_url)
        assert form.status_code == 200
        assert 'name="card-number"' in form.text and 'name="cvv"' in form.text
        assert shop.shop_url.rstrip("/") in form.headers["content-security-policy"]
        assert "PHPSESSID" not in provider.cookies  # the shop's cookie never goes to the provider
        fields = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form.text))
        approved = provider.post(
            f"{shop.provider_url}hosted/card-form",
            data={
                **fields,
                "cardholder": "Ada Byrne",
                "card-number": "4242 4242 4242 4242",
                "expiry": _future_expiry(),
                "cvv": "123",
            },
        )
    assert approved.status_code == 200, approved.text
    assert "Payment approved" in approved.text
    assert "4242" not in approved.text.replace("4242 4242 4242 4242", "")  # only the test-card hint
    back = re.search(r'id="return-link" href="([^"]+)"\s+target="_top"', approved.text)
    assert back
    back_url = back.group(1).replace("&amp;", "&")
    assert back_url.startswith(f"{shop.shop_url}checkout/complete?")

    payment_id = parse_qs(urlsplit(back_url).query)["payment"][0]
    api = httpx.get(f"{shop.provider_url}api/payments/{payment_id}", timeout=5).json()
    assert api["status"] == "approved" and api["amount"] == 3600
    assert not any("card" in k or "cvv" in k for k in api), "the provider must not hand card data to the shop"

    done = client.get(back_url)
    assert done.status_code == 303
    assert done.headers["location"] == f"/orders/{params['order']}"
    order = client.get(done.headers["location"])
    assert order.status_code == 200
    assert "Thank you!" in order.text and params["order"] in order.text and payment_id in order.text
    assert '<span class="count">0</span>' in client.get("/basket").text
    # The order belongs to this session only.
    assert httpx.get(f"{shop.shop_url}orders/{params['order']}", timeout=5).status_code == 404


def test_provider_rejects_bad_and_declined_cards(shop: DemoHandle) -> None:
    base = {"merchant": "kestrel-finch", "order": "KF-100001", "amount": "1250", "currency": "EUR"}
    card = {"cardholder": "A B", "expiry": _future_expiry(), "cvv": "123"}
    url = f"{shop.provider_url}hosted/card-form"
    bad = httpx.post(url, data={**base, **card, "card-number": "4242424242424241"}, timeout=5)
    assert bad.status_code == 422 and "not valid" in bad.text
    assert "4242424242424241" not in bad.text  # card data is not echoed back
    declined = httpx.post(url, data={**base, **card, "card-number": "4000000000000002"}, timeout=5)
    assert declined.status_code == 422 and "declined" in declined.text
    assert httpx.get(url + "?merchant=someone-else&order=x&amount=5", timeout=5).status_code == 400


def test_checkout_complete_refuses_a_payment_for_another_amount(
    shop: DemoHandle, client: httpx.Client
) -> None:
    _add_to_basket(client, "hand-grinder", 1)
    checkout = client.get("/checkout").text
    order = re.search(r"order=(KF-\d+)", checkout)
    assert order
    paid = httpx.post(
        f"{shop.provider_url}hosted/card-form",
        data={
            "merchant": "kestrel-finch",
            "order": order.group(1),
            "amount": "100",  # tampered: the basket costs 59.00
            "currency": "EUR",
            "cardholder": "A B",
            "card-number": "4242424242424242",
            "expiry": _future_expiry(),
            "cvv": "123",
        },
        timeout=5,
    )
    payment = re.search(r"payment=(pay_[0-9a-f]+)", paid.text)
    assert payment
    r = client.get(f"/checkout/complete?order={order.group(1)}&payment={payment.group(1)}")
    assert r.status_code == 200 and "did not match your order" in r.text
    assert '<span class="count">1</span>' in client.get("/basket").text


def test_basket_forms_need_the_session_csrf_token(client: httpx.Client) -> None:
    client.get("/")
    r = client.post("/basket/add", data={"csrf": "forged", "product": "enamel-mug", "qty": "1"})
    assert r.status_code == 403
    page = client.get("/products/enamel-mug")
    bad_qty = client.post(
        "/basket/add", data={"csrf": _csrf(page.text), "product": "enamel-mug", "qty": "99"}
    )
    assert bad_qty.status_code == 400


@pytest.mark.parametrize(
    "path",
    ["/", "/products/ethiopia-yirgacheffe", "/basket", "/checkout", "/css/shop.css", "/uploads/", "/nope"],
)
def test_every_response_has_banners_and_no_security_headers(client: httpx.Client, path: str) -> None:
    r = client.get(path)
    assert r.headers["server"] == "Apache/2.4.29 (Ubuntu)"
    assert r.headers["x-powered-by"] == "PHP/7.2.24"
    for name in SECURITY_HEADERS:
        assert name not in r.headers, f"{path} unexpectedly sends {name}"


def test_shop_speaks_plain_http_only(shop: DemoHandle) -> None:
    assert load_config(REPO / "demo/shopguard.toml").stores[0].storefront_url.scheme == "http"
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection(("127.0.0.1", shop.shop_port), timeout=5) as raw,
        pytest.raises((ssl.SSLError, ConnectionResetError)),
    ):
        ctx.wrap_socket(raw, server_hostname="127.0.0.1")


def test_git_config_and_env_are_exposed(client: httpx.Client, shop: DemoHandle) -> None:
    git = client.get("/.git/config")
    assert git.status_code == 200
    assert '[remote "origin"]' in git.text and "url = https://" in git.text
    assert client.get("/.git/HEAD").text == "ref: refs/heads/main\n"
    assert (shop.web_root / ".git" / "config").read_text() == git.text  # file scanners see it too
    env = client.get("/.env")
    assert env.status_code == 200
    assert "DB_PASSWORD=demo-not-a-real-secret" in env.text and "APP_KEY=base64:" in env.text


def test_uploads_folder_is_listed_but_others_are_not(client: httpx.Client) -> None:
    listing = client.get("/uploads/")
    assert listing.status_code == 200
    assert "<title>Index of /uploads</title>" in listing.text
    for name in ("returns-form.txt", "autumn-sale-banner.svg", "wholesale-price-list-2024.csv"):
        assert f'<a href="{name}">' in listing.text
    assert client.get("/uploads").headers["location"] == "/uploads/"
    assert client.get("/js/").status_code == 403
    assert client.get("/img/").status_code == 403


def test_session_cookie_has_no_secure_httponly_or_samesite(shop: DemoHandle) -> None:
    r = httpx.get(shop.shop_url, timeout=5)
    cookie = r.headers["set-cookie"]
    assert re.fullmatch(r"PHPSESSID=[0-9a-f]{26}; path=/", cookie), cookie


def test_pages_use_jquery_1_12_4_which_retirejs_knows_is_vulnerable(client: httpx.Client) -> None:
    for path in ("/", "/products/enamel-mug", "/basket", "/checkout"):
        assert '<script src="/js/jquery-1.12.4.min.js"></script>' in client.get(path).text
    js = client.get("/js/jquery-1.12.4.min.js")
    assert js.status_code == 200
    assert js.text.startswith("/*! jQuery v1.12.4 | (c) jQuery Foundation | jquery.org/license */")
    repo = json.loads(RETIREJS.read_text())["jquery"]
    extractor = repo["extractors"]["filecontent"][0].replace("§§version§§", r"[0-9][0-9.a-z_\-]+")
    m = re.search(extractor, js.text[:200])
    assert m and m.group(1) == "1.12.4"

    def ver(v: str) -> tuple[int, ...]:
        return tuple(int(x) for x in re.findall(r"\d+", v)[:3])

    hits = [
        v for v in repo["vulnerabilities"] if ver(v.get("atOrAbove", "0")) <= (1, 12, 4) < ver(v["below"])
    ]
    assert len(hits) >= 2


def test_defanged_skimmer_is_in_the_web_root_but_not_loaded(client: httpx.Client) -> None:
    r = client.get("/js/checkout-helper.js")
    assert r.status_code == 200
    for marker in (
        "cdn-paymentz.example/collect",
        "btoa(",
        "new Image()",
        "card-number",
        "cvv",
        "if (false)",
    ):
        assert marker in r.text
    assert "HARMLESS TEST SAMPLE" in r.text
    client.get("/")
    for path in ("/", "/products/enamel-mug", "/basket", "/checkout", "/about"):
        assert "checkout-helper" not in client.get(path).text


def test_checkout_loads_a_third_party_script_without_sri(shop: DemoHandle, client: httpx.Client) -> None:
    page = client.get("/checkout").text
    tag = re.search(r"<script[^>]*analytics\.js[^>]*>", page)
    assert tag
    assert f'src="{shop.provider_url}widgets/analytics.js"' in tag.group(0)
    assert "integrity=" not in tag.group(0)
    assert urlsplit(shop.provider_url).port != urlsplit(shop.shop_url).port  # another origin
    js = httpx.get(f"{shop.provider_url}widgets/analytics.js", timeout=5)
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert "analytics.js" not in client.get("/").text  # only on the payment page


def test_ordinary_parts_stay_clean(client: httpx.Client) -> None:
    assert client.get("/products/no-such-thing").status_code == 404
    assert client.get("/../../../etc/passwd").status_code == 404
    assert client.get("/%2e%2e/%2e%2e/etc/passwd").status_code == 404
    assert client.get("/robots.txt").text.startswith("User-agent: *")
    assert client.post("/", data={"a": "b"}).status_code == 405
    assert client.get("/img/logo.svg").headers["content-type"].startswith("image/svg+xml")


def test_shopguard_toml_validates_and_points_at_the_instance(shop: DemoHandle, tmp_path: Path) -> None:
    cfg = load_config(REPO / "demo/shopguard.toml")
    store = cfg.stores[0]
    assert store.name == "demo" and str(store.storefront_url) == "http://127.0.0.1:18080/"
    assert str(store.checkout_url) == "http://127.0.0.1:18080/checkout"
    assert store.web_roots == (WEB_ROOT,)
    assert store.payment_integration == "iframe" and store.platform == "custom"
    assert cfg.contacts.security_lead is not None
    assert cfg.contacts.security_lead.email.endswith("@example.com")
    mine = load_config(shop.write_config(tmp_path / "shopguard.toml")).stores[0]
    assert str(mine.storefront_url) == shop.shop_url
    assert str(mine.checkout_url) == shop.checkout_url
    assert mine.web_roots == (WEB_ROOT,)
    assert httpx.get(str(mine.checkout_url), timeout=5).status_code == 200


def test_stop_frees_both_ports() -> None:
    handle = start(0, 0)
    ports = (handle.shop_port, handle.provider_port)
    assert httpx.get(handle.shop_url, timeout=5).status_code == 200
    handle.stop()
    handle.stop()  # idempotent
    for port in ports:
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))  # free again


def test_refuses_non_loopback_host() -> None:
    from demo.run import DemoError

    with pytest.raises(DemoError, match=r"127\.0\.0\.0/8"):
        start(0, 0, host="0.0.0.0")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_cli_start_status_stop_and_stale_pid_file(tmp_path: Path) -> None:
    env = {**os.environ, "SHOPGUARD_DEMO_RUN_DIR": str(tmp_path)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(REPO / "demo/run.py"), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )

    # A stale pid file (a process that has exited) is cleaned up, not trusted.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / "demo.pid").write_text(f"{dead.pid}\n")
    assert run("status").returncode == 3
    assert not (tmp_path / "demo.pid").exists()

    shop_port, provider_port = _free_port(), _free_port()
    started = run("start", "--shop-port", str(shop_port), "--provider-port", str(provider_port))
    try:
        assert started.returncode == 0, started.stderr
        assert f"http://127.0.0.1:{shop_port}/" in started.stdout
        pid = int((tmp_path / "demo.pid").read_text())
        assert httpx.get(f"http://127.0.0.1:{provider_port}/", timeout=5).status_code == 200
        status = run("status")
        assert status.returncode == 0 and f"pid {pid}" in status.stdout
        again = run("start", "--shop-port", str(shop_port), "--provider-port", str(provider_port))
        assert again.returncode == 0 and "already running" in again.stdout
    finally:
        stopped = run("stop")
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert not (tmp_path / "demo.pid").exists()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{shop_port}/", timeout=2)
    assert run("status").returncode == 3
