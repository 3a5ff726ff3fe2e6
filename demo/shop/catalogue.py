"""The demo shop's products: a small coffee roaster's range (fictional)."""

from __future__ import annotations

from dataclasses import dataclass

CURRENCY = "EUR"


@dataclass(frozen=True)
class Product:
    slug: str
    name: str
    price_cents: int
    image: str
    """Path of the product picture under the web root."""
    summary: str
    description: str


PRODUCTS: tuple[Product, ...] = (
    Product(
        slug="ethiopia-yirgacheffe",
        name="Ethiopia Yirgacheffe, 250 g",
        price_cents=1250,
        image="/img/ethiopia-yirgacheffe.svg",
        summary="Washed heirloom lots from Gedeo. Jasmine, bergamot, lemon curd.",
        description=(
            "Grown at 1,900 to 2,100 metres by smallholders delivering to the Konga washing station. "
            "Roasted light for filter brewing; rest it a week after the roast date for the sweetest cup."
        ),
    ),
    Product(
        slug="colombia-huila",
        name="Colombia Huila, 250 g",
        price_cents=1100,
        image="/img/colombia-huila.svg",
        summary="Caturra and Castillo from Pitalito. Red apple, panela, cocoa.",
        description=(
            "A dependable, round coffee from a cooperative of forty families in southern Huila. "
            "Medium roast that works as espresso and as filter."
        ),
    ),
    Product(
        slug="house-espresso-1kg",
        name="Dockside House Espresso, 1 kg",
        price_cents=3400,
        image="/img/house-espresso.svg",
        summary="Our everyday blend of Brazil and Guatemala. Hazelnut, milk chocolate.",
        description=(
            "The blend we pour at the roastery bar. Forgiving on home machines, generous in milk. "
            "Roasted twice a week and shipped within two days of roasting."
        ),
    ),
    Product(
        slug="ceramic-dripper",
        name="Ceramic Pour-Over Dripper",
        price_cents=2400,
        image="/img/ceramic-dripper.svg",
        summary="Hand-glazed stoneware cone for size 02 filter papers.",
        description=(
            "Thrown and glazed by a small studio in Co. Wicklow. Spiral ribs keep the paper off the "
            "wall for an even draw-down. Dishwasher safe."
        ),
    ),
    Product(
        slug="hand-grinder",
        name="Conical Burr Hand Grinder",
        price_cents=5900,
        image="/img/hand-grinder.svg",
        summary="Stainless steel burrs, 40 click settings, grinds 20 g in under a minute.",
        description=(
            "A sturdy aluminium-bodied grinder with a stepped adjustment from Turkish to French press. "
            "Comes with a cleaning brush and a two-year guarantee."
        ),
    ),
    Product(
        slug="enamel-mug",
        name="Enamel Camp Mug, 350 ml",
        price_cents=1400,
        image="/img/enamel-mug.svg",
        summary="Speckled blue enamel over steel with our kestrel on the side.",
        description="Light, tough and good for the trail. Rolled rim, not for the microwave.",
    ),
)

BY_SLUG: dict[str, Product] = {p.slug: p for p in PRODUCTS}


def money(cents: int) -> str:
    """Format an amount for display: ``€12.50``."""
    return f"€{cents // 100:,}.{cents % 100:02d}"
