"""Fill the policy templates with the company's facts.

Templates are Jinja2 + Markdown under ``shopguard/data/policies``. The environment is
strict: a template that names a variable the context lacks raises
:class:`TemplateRenderError` naming the template and the variable, so a policy is
never published with a blank where a name should be.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from shopguard.config import Config, PaymentIntegration
from shopguard.findings import protocol_of
from shopguard.policies.catalog import LIBRARY, PolicyTemplate, template

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "data" / "policies"

CHECK_MARK = re.compile(r"\*\(ShopGuard checks: ([a-z0-9., _-]+)\)\*")
"""How a machine-checkable statement is tagged in rendered Markdown."""


class TemplateRenderError(Exception):
    """A template could not be rendered; the message names the template and the cause."""


class ContextError(Exception):
    """shopguard.toml lacks a fact the policies need; the message names the key."""


# How card data reaches the processor decides the self-assessment type (PCI SSC SAQ
# eligibility: A for redirect / iframe, A-EP for direct post or a payment form
# script on our page, D when our servers handle the card number).
_SAQ = {
    PaymentIntegration.REDIRECT: ("A", "customers are redirected to the processor's payment page"),
    PaymentIntegration.IFRAME: ("A", "the card form is an iframe served by the processor"),
    PaymentIntegration.DIRECT_POST: ("A-EP", "our page posts card data straight to the processor"),
    PaymentIntegration.API: ("D", "our server receives card data and sends it to the processor"),
}

PLATFORM_LABELS = {
    "wordpress": "WordPress",
    "woocommerce": "WooCommerce",
    "magento": "Magento (Adobe Commerce)",
    "prestashop": "PrestaShop",
    "opencart": "OpenCart",
    "shopware": "Shopware",
    "django-oscar": "Django Oscar",
    "custom": "our own store software",
}


def text_hash(text: str) -> str:
    """sha256 of the exact Markdown text (what an acknowledgement refers to)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _checks(*ids: str) -> str:
    if not ids:
        raise TemplateRenderError("checks() needs at least one ShopGuard check id")
    for cid in ids:
        protocol_of(cid)  # raises ValueError for an id outside the seven protocols
    return "*(ShopGuard checks: " + ", ".join(ids) + ")*"


def _environment(directory: Path) -> jinja2.Environment:
    env = jinja2.Environment(  # noqa: S701 - renders Markdown, not HTML; HTML is escaped later
        loader=jinja2.FileSystemLoader(str(directory)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["checks"] = _checks
    return env


def build_context(config: Config, vendors: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The variables every template may use, from shopguard.toml (and the vendor register)."""
    settings = config.policies
    company = config.company
    if not company.name.strip():
        raise ContextError("shopguard.toml: company.name is empty; the policies need the company's name")
    contacts = config.contacts
    processor = settings.payment_processor or (
        contacts.payment_processor.organisation if contacts.payment_processor else ""
    )
    hosting = settings.hosting or (
        contacts.hosting_provider.organisation if contacts.hosting_provider else ""
    )
    stores = []
    for s in config.stores:
        saq, how = (
            _SAQ[s.payment_integration]
            if s.payment_integration
            else ("D", "the payment integration is not set in shopguard.toml, so we assume the strictest")
        )
        stores.append(
            {
                "name": s.name,
                "url": str(s.storefront_url),
                "platform": s.platform.value,
                "platform_label": PLATFORM_LABELS.get(s.platform.value, s.platform.value),
                "saq": saq,
                "integration_text": how,
                "host": s.host,
            }
        )
    saqs = {s["saq"] for s in stores}
    worst = "D" if "D" in saqs or not stores else ("A-EP" if "A-EP" in saqs else "A")
    roles = settings.roles
    owner = roles.owner or "the owner"
    lead = roles.security_lead or owner
    platforms = sorted({s["platform_label"] for s in stores}) or ["our store software"]
    return {
        "company": {
            "name": company.name,
            "legal_name": company.legal_name or company.name,
            "address": company.address,
            "country": company.country,
            "website": company.website,
        },
        "stores": stores,
        "store_list": ", ".join(f"{s['name']} ({s['url']})" for s in stores) or "its online store",
        "platforms": ", ".join(platforms),
        "saq": worst,
        "never_store_cards": worst in {"A", "A-EP"},
        "payment_processor": processor or "our payment processor",
        "hosting": hosting or "our hosting provider",
        "roles": {
            "owner": owner,
            "security_lead": lead,
            "developer": roles.developer or "our developer",
            "customer_service": roles.customer_service or "customer service staff",
            "hosting_provider": roles.hosting_provider or hosting or "our hosting provider",
        },
        "review_months": settings.review_months,
        "ack_months": settings.ack_months,
        "training_months": settings.training_months,
        "patch_days": settings.patch_days_critical,
        "log_retention_months": settings.log_retention_months,
        "data_retention_months": settings.data_retention_months,
        "vendors": [dict(v) for v in vendors],
        "library": [{"slug": t.slug, "title": t.title} for t in LIBRARY],
        "response_plan": "generated and kept with `shopguard response plan`",
    }


def render_markdown(slug: str, context: Mapping[str, Any], directory: Path = TEMPLATE_DIR) -> str:
    """Render one policy template to Markdown, strictly."""
    tpl = template(slug) if directory == TEMPLATE_DIR else PolicyTemplate(slug, slug)
    env = _environment(directory)
    try:
        return env.get_template(tpl.filename).render(**context)
    except jinja2.UndefinedError as exc:
        raise TemplateRenderError(
            f"policy template {tpl.filename}: unknown variable: {exc.message}"
        ) from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateRenderError(
            f"policy template {tpl.filename} line {exc.lineno}: {exc.message}"
        ) from None
    except ValueError as exc:
        raise TemplateRenderError(f"policy template {tpl.filename}: {exc}") from None


@dataclass(frozen=True)
class Statement:
    """A policy sentence ShopGuard can verify, with the check ids (prefixes) that verify it."""

    text: str
    check_ids: tuple[str, ...]


def statements(markdown: str) -> list[Statement]:
    """The tagged statements in a rendered policy: the paragraph or list item around each tag."""
    out: list[Statement] = []
    for block in _blocks(markdown):
        for m in CHECK_MARK.finditer(block):
            ids = tuple(i.strip() for i in m.group(1).split(",") if i.strip())
            text = CHECK_MARK.sub("", block)
            text = re.sub(r"\s+", " ", text).strip().lstrip("-* ").strip()
            out.append(Statement(text, ids))
    return out


def _blocks(markdown: str) -> Iterable[str]:
    """Paragraphs and list items (a list item continues on indented lines)."""
    current: list[str] = []
    for line in markdown.splitlines():
        starts_item = line.lstrip().startswith(("- ", "* ")) and not line.startswith("  ")
        if not line.strip() or starts_item or line.startswith("#"):
            if current:
                yield "\n".join(current)
            current = [] if not line.strip() or line.startswith("#") else [line]
            continue
        current.append(line)
    if current:
        yield "\n".join(current)
