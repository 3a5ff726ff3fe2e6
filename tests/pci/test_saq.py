from __future__ import annotations

import pytest

from shopguard.pci.catalogue import Saq
from shopguard.pci.saq import Contradiction, Integration, SaqAnswers, decide


def ids(decision) -> set[str]:
    return {c.id for c in decision.conditions}


def test_redirect_is_saq_a_without_script_condition() -> None:
    d = decide(SaqAnswers(Integration.REDIRECT, servers_receive_card_data=False, processor_compliant=True))
    assert d.saq is Saq.A
    assert "script-attack-protection" not in ids(d)
    assert any("redirect" in r for r in d.reasons)
    assert any("FAQ 1588" in r for r in d.reasons)


def test_iframe_is_saq_a_with_january_2025_condition_pending() -> None:
    d = decide(SaqAnswers(Integration.IFRAME, processor_compliant=True))
    assert d.saq is Saq.A
    cond = {c.id: c for c in d.conditions}
    assert cond["script-attack-protection"].confirmed is None
    assert "January 2025" in cond["script-attack-protection"].source
    assert "FAQ 1588" in cond["script-attack-protection"].source
    assert "script-attack-protection" in {c.id for c in d.pending}


def test_iframe_without_script_protection_is_a_ep() -> None:
    d = decide(SaqAnswers(Integration.IFRAME, processor_compliant=True, script_protection=False))
    assert d.saq is Saq.A_EP
    assert any("January 2025" in r for r in d.reasons)


def test_iframe_with_merchant_elements_is_a_ep() -> None:
    d = decide(SaqAnswers(Integration.IFRAME, all_payment_elements_from_processor=False))
    assert d.saq is Saq.A_EP


@pytest.mark.parametrize("integration", [Integration.DIRECT_POST, Integration.PROCESSOR_JS])
def test_direct_post_and_processor_js_are_a_ep(integration: Integration) -> None:
    d = decide(SaqAnswers(integration, servers_receive_card_data=False))
    assert d.saq is Saq.A_EP
    assert "site-controls-payment-page" in ids(d)


def test_api_is_saq_d() -> None:
    d = decide(
        SaqAnswers(Integration.API, servers_receive_card_data=True, stores_card_data_electronically=True)
    )
    assert d.saq is Saq.D
    assert any("own servers" in r for r in d.reasons)


def test_non_compliant_processor_falls_back_to_d() -> None:
    d = decide(SaqAnswers(Integration.REDIRECT, processor_compliant=False))
    assert d.saq is Saq.D


@pytest.mark.parametrize(
    ("answers", "needle"),
    [
        (SaqAnswers(Integration.REDIRECT, servers_receive_card_data=True), "servers receive card data"),
        (SaqAnswers(Integration.IFRAME, servers_receive_card_data=True), "servers receive card data"),
        (SaqAnswers(Integration.API, servers_receive_card_data=False), "never receive"),
        (
            SaqAnswers(
                Integration.API, servers_receive_card_data=False, stores_card_data_electronically=True
            ),
            "never",
        ),
        (SaqAnswers(Integration.IFRAME, stores_card_data_electronically=True), "keep card numbers"),
        (SaqAnswers(Integration.REDIRECT, all_payment_elements_from_processor=False), "redirect"),
    ],
)
def test_contradictions_are_refused(answers: SaqAnswers, needle: str) -> None:
    with pytest.raises(Contradiction, match=needle):
        decide(answers)
