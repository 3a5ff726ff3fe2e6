"""The [stores.web] and [stores.pages] sections of shopguard.toml."""

from __future__ import annotations

import pytest

from shopguard.config import ConfigError, load_config


def test_web_and_pages_sections_load(tmp_path):
    cfg = tmp_path / "shopguard.toml"
    cfg.write_text(
        '[[stores]]\nname = "main"\nstorefront_url = "https://shop.example/"\n'
        'checkout_url = "https://shop.example/checkout"\n'
        '[stores.web]\nca_bundle = "certs/ca.pem"\nhttp_port = 8080\n'
        '[stores.pages]\nsteps = [{goto = "/p/1"}, {click = "button.add"}, {fill = "#qty", value = "2"}]\n'
    )
    store = load_config(cfg).stores[0]
    assert store.web.ca_bundle == (tmp_path / "certs" / "ca.pem").resolve()
    assert [s.goto or s.click or s.fill for s in store.pages.steps] == ["/p/1", "button.add", "#qty"]
    assert store.pages.interval_hours == 24 and store.web.request_budget == 600


def test_a_step_with_two_actions_is_an_error_naming_the_field(tmp_path):
    cfg = tmp_path / "shopguard.toml"
    cfg.write_text(
        '[[stores]]\nname = "main"\nstorefront_url = "https://shop.example/"\n'
        '[stores.pages]\nsteps = [{goto = "/p/1", click = "button"}]\ninterval_hours = 500\n'
    )
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    text = str(err.value)
    assert "stores[0].pages.steps[0]" in text and "exactly one of goto, click or fill" in text
    assert "stores[0].pages.interval_hours" in text
