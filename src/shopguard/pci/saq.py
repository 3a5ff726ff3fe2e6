"""Which merchant SAQ fits: decided from how card data reaches the payment processor.

Pure logic, no I/O: the CLI asks the questions (or reads them from shopguard.toml and
flags) and stores the decision. Contradictory answers raise :class:`Contradiction`
before anything is stored.

Sources (cited, not quoted): PCI SSC "SAQ A v4.0.1 r1" (30 January 2025) and its blog
post of the same day; PCI SSC FAQ 1588 (February 2025); "SAQ A-EP v4.0.1" and "SAQ D for
Merchants v4.0.1" eligibility sections. ShopGuard is not a QSA: the acquirer decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from shopguard.pci.catalogue import Saq


class Integration(StrEnum):
    """How the card number travels from the shopper to the processor."""

    REDIRECT = "redirect"
    """The shopper is sent to the processor's own payment page (HTTP redirect, link)."""
    IFRAME = "iframe"
    """The processor's payment form is shown inside an iframe on the merchant's page."""
    DIRECT_POST = "direct-post"
    """The merchant's page has a form that posts card data straight to the processor."""
    PROCESSOR_JS = "processor-js"
    """The processor's JavaScript builds the card fields on the merchant's own page."""
    API = "api"
    """Card data reaches the merchant's servers, which pass it on to the processor."""

    @property
    def plain(self) -> str:
        return _PLAIN[self]


_PLAIN = {
    Integration.REDIRECT: "shoppers are redirected to the payment processor's own page to pay",
    Integration.IFRAME: "the processor's payment form is embedded in your page in an iframe",
    Integration.DIRECT_POST: "your page holds a form that sends card data directly to the processor",
    Integration.PROCESSOR_JS: "the processor's JavaScript builds the card fields on your own page",
    Integration.API: "card data passes through your own servers on its way to the processor",
}

# Values accepted from shopguard.toml's store.payment_integration (config.PaymentIntegration).
CONFIG_VALUES = {
    "redirect": Integration.REDIRECT,
    "iframe": Integration.IFRAME,
    "direct-post": Integration.DIRECT_POST,
    "api": Integration.API,
}


class Contradiction(ValueError):
    """Two answers cannot both be true; nothing is stored."""


def config_conflict(
    store: str, configured: Integration | None, chosen: Integration, said_by: str = "your answer"
) -> str | None:
    """Why the chosen integration contradicts shopguard.toml's payment_integration, or None.

    The config has no ``processor-js`` value: a store configured as ``direct-post`` may say
    ``processor-js`` (both build the card form on the merchant's page).
    """
    same_family = configured is chosen or (
        configured is Integration.DIRECT_POST and chosen is Integration.PROCESSOR_JS
    )
    if configured is None or same_family:
        return None
    return (
        f"shopguard.toml says store {store!r} uses payment_integration = {configured.value!r} but "
        f"{said_by} says {chosen.value!r}. Fix one of them; nothing was stored."
    )


@dataclass(frozen=True)
class SaqAnswers:
    """The wizard's questions. ``None`` means "not answered / not sure"."""

    integration: Integration
    servers_receive_card_data: bool | None = None
    """Do your servers ever receive, process or pass on full card numbers?"""
    stores_card_data_electronically: bool | None = None
    """Do you keep card numbers in any electronic form (database, e-mail, spreadsheets)?"""
    processor_compliant: bool | None = None
    """Have you seen your processor's current PCI DSS Attestation of Compliance?"""
    all_payment_elements_from_processor: bool | None = None
    """Does every element of the payment form come only and directly from the processor?"""
    script_protection: bool | None = None
    """Is your site protected from script attacks that could affect the payment page
    (or has the processor confirmed its embedded form includes that protection)?"""


@dataclass(frozen=True)
class Condition:
    """An eligibility condition the merchant must confirm."""

    id: str
    text: str
    confirmed: bool | None
    """True confirmed, False denied, None not yet answered."""
    source: str = ""


@dataclass(frozen=True)
class SaqDecision:
    saq: Saq
    integration: Integration
    reasons: tuple[str, ...]
    conditions: tuple[Condition, ...] = field(default_factory=tuple)

    @property
    def pending(self) -> tuple[Condition, ...]:
        return tuple(c for c in self.conditions if c.confirmed is None)

    def to_dict(self) -> dict[str, object]:
        return {
            "saq": self.saq.value,
            "integration": self.integration.value,
            "reasons": list(self.reasons),
            "conditions": [
                {"id": c.id, "text": c.text, "confirmed": c.confirmed, "source": c.source}
                for c in self.conditions
            ],
        }


SAQ_A_R1 = "PCI SSC, SAQ A v4.0.1 r1 (January 2025) eligibility criteria"
FAQ_1588 = "PCI SSC FAQ 1588 (February 2025)"


def _common_conditions(a: SaqAnswers) -> list[Condition]:
    return [
        Condition(
            "processor-compliant",
            "Every payment processor or service provider you use is PCI DSS compliant for the "
            "services you use: you have seen their current Attestation of Compliance.",
            a.processor_compliant,
            "SAQ A and SAQ A-EP eligibility criteria",
        ),
        Condition(
            "no-electronic-storage",
            "You do not keep card numbers in any electronic form; any you keep are on paper only.",
            None if a.stores_card_data_electronically is None else not a.stores_card_data_electronically,
            "SAQ A and SAQ A-EP eligibility criteria",
        ),
        Condition(
            "ecommerce-only-channel",
            "This assessment covers the online (card-not-present) channel only; card terminals, "
            "phone or mail orders need their own check with your acquirer.",
            None,
            "SAQ A and SAQ A-EP eligibility criteria",
        ),
    ]


def check_consistency(a: SaqAnswers) -> None:
    """Raise :class:`Contradiction` when answers exclude each other."""
    outsourced = a.integration is not Integration.API
    if outsourced and a.servers_receive_card_data:
        raise Contradiction(
            f"you chose '{a.integration.value}' ({a.integration.plain}), but also said your servers "
            "receive card data. Both cannot be true: if card numbers reach your servers, choose 'api'; "
            "if they go straight to the processor, answer 'no' to the servers question."
        )
    if a.integration is Integration.API and a.servers_receive_card_data is False:
        raise Contradiction(
            "you chose 'api' (card data passes through your servers) but said your servers never "
            "receive card data. Choose redirect, iframe, direct-post or processor-js, or answer 'yes'."
        )
    if a.stores_card_data_electronically and a.servers_receive_card_data is False:
        raise Contradiction(
            "you said you keep card numbers electronically but that your systems never receive them. "
            "Stored card numbers mean your systems do receive card data: answer 'yes' to the servers "
            "question (that leads to SAQ D), or 'no' to the storage question."
        )
    if a.stores_card_data_electronically and outsourced:
        raise Contradiction(
            f"you chose '{a.integration.value}' (card data never reaches you) but said you keep card "
            "numbers electronically. If you do keep them, card data reaches your systems: choose 'api'."
        )
    if a.integration is Integration.REDIRECT and a.all_payment_elements_from_processor is False:
        raise Contradiction(
            "you chose 'redirect' (the processor's own page takes the card) but said parts of the "
            "payment form come from your site. With a full redirect the whole payment page is the "
            "processor's: choose 'direct-post' or 'processor-js' if your page builds the form."
        )


def decide(a: SaqAnswers) -> SaqDecision:
    """The SAQ for the answers given, with plain-words reasons and conditions to confirm."""
    check_consistency(a)
    common = _common_conditions(a)
    if a.integration is Integration.API or a.servers_receive_card_data:
        return SaqDecision(
            Saq.D,
            a.integration,
            (
                f"Card data reaches your own servers ({Integration.API.plain}).",
                "A merchant whose systems receive, process, transmit or store card data cannot use the "
                "short questionnaires: SAQ D for Merchants applies, with every merchant requirement.",
                "To shrink this, switch to a redirect or an iframe from your processor.",
            ),
            (),
        )
    if a.processor_compliant is False:
        return SaqDecision(
            Saq.D,
            a.integration,
            (
                "You could not confirm that your payment processor is PCI DSS compliant.",
                "SAQ A and SAQ A-EP both require a compliant processor; without one, ask your acquirer "
                "which assessment applies. ShopGuard falls back to SAQ D, the full merchant set.",
            ),
            tuple(common),
        )
    if a.integration in (Integration.DIRECT_POST, Integration.PROCESSOR_JS):
        return SaqDecision(
            Saq.A_EP,
            a.integration,
            (
                f"Your checkout works like this: {a.integration.plain}.",
                "Card data does not reach your servers, but your web page controls how the payment form "
                "reaches the shopper's browser. Whoever can change your page can steal card numbers, so "
                "your site and server are in scope: SAQ A-EP applies.",
            ),
            (
                *common,
                Condition(
                    "site-controls-payment-page",
                    "Your website does not receive card data but controls how card data is sent to the "
                    "processor; all processing of card data is done by the compliant processor.",
                    None,
                    "SAQ A-EP v4.0.1 eligibility criteria",
                ),
            ),
        )
    if a.integration is Integration.REDIRECT:
        return SaqDecision(
            Saq.A,
            a.integration,
            (
                f"Your checkout works like this: {a.integration.plain}.",
                "Card data never touches your site or servers; your site only decides where the shopper "
                "is sent. SAQ A applies. Protect the page that does the redirect: if it were changed, "
                "shoppers could be sent to a fake payment page.",
                f"The January 2025 script-attack condition does not apply to full redirects ({FAQ_1588}).",
            ),
            tuple(common),
        )
    # iframe
    script_condition = Condition(
        "script-attack-protection",
        "Your site is protected from script attacks that could affect the payment page: you use "
        "techniques such as those in PCI DSS 6.4.3 and 11.6.1 (script inventory and authorisation, "
        "tamper and header-change detection), yourself or through a provider, or your processor "
        "confirms its embedded form includes that protection when installed as instructed.",
        a.script_protection,
        f"{SAQ_A_R1}; {FAQ_1588}",
    )
    elements_condition = Condition(
        "all-elements-from-processor",
        "Every element of the payment page or form shown in the shopper's browser comes only and "
        "directly from the PCI DSS compliant processor.",
        a.all_payment_elements_from_processor,
        SAQ_A_R1,
    )
    if a.all_payment_elements_from_processor is False:
        return SaqDecision(
            Saq.A_EP,
            a.integration,
            (
                "Your payment iframe does not supply every element of the payment form: some parts come "
                "from your own page. Your page then affects card data security, so SAQ A-EP applies.",
            ),
            (*common, elements_condition),
        )
    if a.script_protection is False:
        return SaqDecision(
            Saq.A_EP,
            a.integration,
            (
                f"Your checkout works like this: {a.integration.plain}.",
                "Since SAQ A v4.0.1 r1 (January 2025) an iframe merchant may use SAQ A only after "
                "confirming that the site is protected from script attacks that could affect the "
                "payment page. You answered that it is not (yet), so ShopGuard proposes SAQ A-EP until "
                f"that protection is in place ({FAQ_1588} describes the ways to meet it).",
                "ShopGuard's payment-page script inventory and tamper monitor (`shopguard scan pages`) "
                "can provide that protection's evidence.",
            ),
            (*common, elements_condition, script_condition),
        )
    return SaqDecision(
        Saq.A,
        a.integration,
        (
            f"Your checkout works like this: {a.integration.plain}.",
            "Card data is typed into the processor's own form and never touches your servers: SAQ A "
            "applies, provided you confirm the conditions below.",
            "Since SAQ A v4.0.1 r1 (January 2025) iframe merchants must also confirm their site is "
            "protected from script attacks that could affect the payment page (see "
            f"{FAQ_1588}): a script injected into your page can overlay or swap the iframe.",
        ),
        (*common, elements_condition, script_condition),
    )


def with_confirmations(decision: SaqDecision, confirmed: Sequence[str]) -> SaqDecision:
    """Mark named eligibility conditions as confirmed by the merchant."""
    known = {c.id: c for c in decision.conditions}
    for cid in confirmed:
        if cid not in known:
            names = ", ".join(known) or "none for this SAQ"
            raise Contradiction(
                f"--confirm {cid!r} is not a condition of {decision.saq.long_name} ({names})."
            )
        if known[cid].confirmed is False:
            raise Contradiction(f"--confirm {cid!r}, but your answers deny that condition.")
    conditions = tuple(replace(c, confirmed=True) if c.id in confirmed else c for c in decision.conditions)
    return replace(decision, conditions=conditions)
