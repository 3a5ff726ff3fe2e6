"""HTML for the demo storefront. Plain string building with escaping; no template engine."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from urllib.parse import urlencode

from demo.shop.catalogue import BY_SLUG, CURRENCY, PRODUCTS, Product, money

SHOP_NAME = "Kestrel & Finch Coffee"
MERCHANT_ID = "kestrel-finch"


def layout(
    title: str,
    body: str,
    *,
    basket_count: int,
    extra_head: str = "",
    flash: str = "",
) -> str:
    flash_html = f'<p class="flash">{escape(flash)}</p>' if flash else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} | {escape(SHOP_NAME)}</title>
<link rel="icon" href="/img/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/css/shop.css">
<script src="/js/jquery-1.12.4.min.js"></script>
<script src="/js/shop.js"></script>
{extra_head}</head>
<body>
<header class="site-header">
  <a class="brand" href="/"><img src="/img/logo.svg" alt="" width="36" height="36"> {escape(SHOP_NAME)}</a>
  <nav>
    <a href="/">Shop</a>
    <a href="/about">About</a>
    <a class="basket-link" href="/basket">Basket <span class="count">{basket_count}</span></a>
  </nav>
</header>
<main>
{flash_html}
{body}
</main>
<footer class="site-footer">
  <p>Kestrel &amp; Finch Coffee Roasters Ltd &middot; Unit 4, Dockside Yard, Dublin, Ireland
  &middot; <a href="mailto:hello@example.com">hello@example.com</a></p>
  <p>Roasted in small batches since 2016. Free delivery in Ireland on orders over €40.</p>
</footer>
</body>
</html>
"""


def product_card(p: Product) -> str:
    return f"""<article class="card">
  <a href="/products/{p.slug}"><img src="{p.image}" alt="{escape(p.name)}" width="240" height="240"></a>
  <h2><a href="/products/{p.slug}">{escape(p.name)}</a></h2>
  <p>{escape(p.summary)}</p>
  <p class="price">{money(p.price_cents)}</p>
</article>"""


def home(basket_count: int) -> str:
    cards = "\n".join(product_card(p) for p in PRODUCTS)
    body = f"""<section class="hero">
  <h1>Fresh coffee, roasted by the harbour</h1>
  <p>Single origins and blends roasted every Tuesday and Friday, with the brewing kit we use ourselves.</p>
</section>
<section class="grid">
{cards}
</section>"""
    return layout("Shop", body, basket_count=basket_count)


def about(basket_count: int) -> str:
    body = """<section class="prose">
<h1>About us</h1>
<p>Kestrel &amp; Finch started as a market stall on the quays. Today we roast on a 15 kg drum roaster
in a converted boat shed and buy green coffee from the same farms year after year.</p>
<p>Questions about an order? Write to <a href="mailto:hello@example.com">hello@example.com</a>.</p>
</section>"""
    return layout("About", body, basket_count=basket_count)


def product_page(p: Product, *, basket_count: int, csrf: str) -> str:
    body = f"""<article class="product">
  <img src="{p.image}" alt="{escape(p.name)}" width="360" height="360">
  <div>
    <h1>{escape(p.name)}</h1>
    <p class="price">{money(p.price_cents)}</p>
    <p>{escape(p.summary)}</p>
    <p>{escape(p.description)}</p>
    <form class="add" method="post" action="/basket/add">
      <input type="hidden" name="csrf" value="{csrf}">
      <input type="hidden" name="product" value="{p.slug}">
      <label for="qty">Quantity</label>
      <span class="stepper">
        <button type="button" class="step" data-step="-1" aria-label="One less">&minus;</button>
        <input id="qty" name="qty" type="number" min="1" max="20" value="1">
        <button type="button" class="step" data-step="1" aria-label="One more">+</button>
      </span>
      <button type="submit" class="button">Add to basket</button>
    </form>
  </div>
</article>"""
    return layout(p.name, body, basket_count=basket_count)


def basket_lines(basket: dict[str, int]) -> tuple[list[tuple[Product, int, int]], int]:
    """(product, quantity, line total) rows and the basket total, in catalogue order."""
    rows = []
    for p in PRODUCTS:
        qty = basket.get(p.slug, 0)
        if qty > 0:
            rows.append((p, qty, qty * p.price_cents))
    return rows, sum(r[2] for r in rows)


def _summary_table(rows: Iterable[tuple[Product, int, int]], total: int, *, csrf: str | None) -> str:
    out = []
    for p, qty, line in rows:
        if csrf is not None:
            qty_cell = f"""<form method="post" action="/basket/update" class="inline">
        <input type="hidden" name="csrf" value="{csrf}">
        <input type="hidden" name="product" value="{p.slug}">
        <input name="qty" type="number" min="0" max="20" value="{qty}" aria-label="Quantity">
        <button type="submit" class="link">Update</button>
      </form>"""
        else:
            qty_cell = str(qty)
        out.append(
            f"""<tr><td><a href="/products/{p.slug}">{escape(p.name)}</a></td>
      <td>{qty_cell}</td><td class="num">{money(line)}</td></tr>"""
        )
    lines = "\n".join(out)
    return f"""<table class="basket">
<thead><tr><th>Product</th><th>Quantity</th><th class="num">Price</th></tr></thead>
<tbody>
{lines}
</tbody>
<tfoot><tr><th colspan="2">Total (incl. VAT)</th><th class="num total">{money(total)}</th></tr></tfoot>
</table>"""


def basket_page(basket: dict[str, int], *, basket_count: int, csrf: str, flash: str = "") -> str:
    rows, total = basket_lines(basket)
    if not rows:
        body = """<h1>Your basket</h1>
<p>Your basket is empty. <a href="/">Browse the shop</a>.</p>"""
    else:
        body = f"""<h1>Your basket</h1>
{_summary_table(rows, total, csrf=csrf)}
<p class="actions"><a href="/">Continue shopping</a> <a class="button" href="/checkout">Checkout</a></p>"""
    return layout("Basket", body, basket_count=basket_count, flash=flash)


def checkout_page(
    basket: dict[str, int],
    *,
    basket_count: int,
    order_ref: str | None,
    provider_origin: str,
    error: str = "",
) -> str:
    # The analytics widget is served by the payment provider's origin, without SRI: a
    # deliberate weakness (third-party script on the payment page; see demo/README.md).
    extra_head = f'<script src="{provider_origin}/widgets/analytics.js" async></script>\n'
    rows, total = basket_lines(basket)
    if not rows or order_ref is None:
        body = """<h1>Checkout</h1>
<p>Your basket is empty, so there is nothing to pay for yet. <a href="/">Browse the shop</a>.</p>"""
        return layout("Checkout", body, basket_count=basket_count, extra_head=extra_head)
    query = urlencode({"merchant": MERCHANT_ID, "order": order_ref, "amount": total, "currency": CURRENCY})
    err = f'<p class="error">{escape(error)}</p>' if error else ""
    body = f"""<h1>Checkout</h1>
{err}
<div class="checkout">
  <section>
    <h2>Order {escape(order_ref)}</h2>
    {_summary_table(rows, total, csrf=None)}
    <p><a href="/basket">Change basket</a></p>
  </section>
  <section>
    <h2>Payment</h2>
    <p class="muted">Card details are entered on our payment provider's secure form and never reach our
    servers.</p>
    <iframe id="payment-frame" title="Card payment" src="{provider_origin}/hosted/card-form?{escape(query)}"
      width="100%" height="380"></iframe>
  </section>
</div>"""
    return layout("Checkout", body, basket_count=basket_count, extra_head=extra_head)


def order_page(ref: str, lines: list[tuple[str, int, int]], total: int, payment_ref: str) -> str:
    rows = "\n".join(
        f'<tr><td>{escape(BY_SLUG[slug].name)}</td><td>{qty}</td><td class="num">{money(line)}</td></tr>'
        for slug, qty, line in lines
    )
    body = f"""<h1>Thank you!</h1>
<p>Your order <strong class="order-ref">{escape(ref)}</strong> is confirmed and will be roasted
and shipped within two working days.</p>
<table class="basket">
<thead><tr><th>Product</th><th>Quantity</th><th class="num">Price</th></tr></thead>
<tbody>
{rows}
</tbody>
<tfoot><tr><th colspan="2">Paid</th><th class="num total">{money(total)}</th></tr></tfoot>
</table>
<p class="muted">Payment reference: <span class="payment-ref">{escape(payment_ref)}</span></p>"""
    return layout("Order confirmed", body, basket_count=0)


def message_page(title: str, text: str, *, basket_count: int) -> str:
    body = f'<h1>{escape(title)}</h1>\n<p>{escape(text)}</p>\n<p><a href="/">Back to the shop</a></p>'
    return layout(title, body, basket_count=basket_count)
