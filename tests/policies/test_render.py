from __future__ import annotations

from pathlib import Path

import pytest

from shopguard.policies.catalog import LIBRARY
from shopguard.policies.render import (
    ContextError,
    TemplateRenderError,
    build_context,
    render_markdown,
    statements,
)

from .conftest import make_config


def test_every_template_renders_with_company_facts(config):
    ctx = build_context(config)
    for t in LIBRARY:
        md = render_markdown(t.slug, ctx)
        assert md.startswith("# "), t.slug
        assert t.title.split()[0] in md.splitlines()[0], t.slug
        assert "Acme Socks Ltd" in md, t.slug
        assert "{{" not in md and "{%" not in md, t.slug


def test_saq_a_store_says_it_never_stores_cards(config):
    md = render_markdown("cardholder-data", build_context(config))
    assert "We never store card numbers" in md
    assert "SAQ A**" in md
    assert "Stripe" in md


def test_saq_d_store_gets_the_card_data_rules_instead():
    cfg = make_config(
        stores=[
            {
                "name": "api",
                "storefront_url": "https://api.example",
                "platform": "magento",
                "payment_integration": "api",
            }
        ]
    )
    ctx = build_context(cfg)
    assert ctx["saq"] == "D" and ctx["never_store_cards"] is False
    md = render_markdown("cardholder-data", ctx)
    assert "We never store card numbers" not in md
    assert "never stored after authorisation" in md
    assert "Magento" in render_markdown("information-security", ctx)


def test_unknown_variable_fails_naming_template_and_variable(tmp_path: Path, config):
    (tmp_path / "broken.md.j2").write_text("# Broken\n\nOwner: {{ company.nmae }}\n")
    with pytest.raises(TemplateRenderError) as exc:
        render_markdown("broken", build_context(config), directory=tmp_path)
    assert "broken.md.j2" in str(exc.value)
    assert "nmae" in str(exc.value)


def test_missing_context_variable_in_shipped_template_fails(config):
    ctx = build_context(config)
    del ctx["roles"]
    with pytest.raises(TemplateRenderError) as exc:
        render_markdown("access-control", ctx)
    assert "access-control.md.j2" in str(exc.value) and "roles" in str(exc.value)


def test_check_tag_outside_the_seven_protocols_fails(tmp_path: Path, config):
    (tmp_path / "bad.md.j2").write_text("- TLS only. {{ checks('tls.everything') }}\n")
    with pytest.raises(TemplateRenderError, match=r"tls\.everything"):
        render_markdown("bad", build_context(config), directory=tmp_path)


def test_company_name_is_required():
    cfg = make_config(company={"name": ""})
    with pytest.raises(ContextError, match=r"company\.name"):
        build_context(cfg)


def test_tagged_statements_carry_check_ids(config):
    ctx = build_context(config)
    by_slug = {t.slug: statements(render_markdown(t.slug, ctx)) for t in LIBRARY}
    patch = by_slug["change-patch"]
    assert any("within **30 days**" in s.text and s.check_ids == ("maintenance",) for s in patch)
    assert any(s.check_ids == ("scanning.files.fim",) for s in patch)
    tls = [s for s in by_slug["cardholder-data"] if "scanning.web.tls" in s.check_ids]
    assert tls and "HTTPS only" in tls[0].text
    ssh = [s for s in by_slug["access-control"] if s.check_ids == ("hosting.ssh",)]
    assert ssh and "password logins" in ssh[0].text
    assert "ShopGuard checks" not in ssh[0].text
    total = sum(len(v) for v in by_slug.values())
    assert total >= 20


def test_vendor_register_is_filled_from_vendors(config):
    ctx = build_context(
        config,
        [
            {
                "name": "Stripe",
                "service": "payments",
                "data": "card payments",
                "pci_attestation": "2026-03-01",
                "contact": "support@stripe.com",
            }
        ],
    )
    md = render_markdown("vendors", ctx)
    assert "| Stripe | payments | card payments | 2026-03-01 | support@stripe.com |" in md
