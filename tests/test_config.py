from __future__ import annotations

import os
from pathlib import Path

import pytest

from shopguard.config import ConfigError, SecretRef, find_config, load_config

GOOD = """
[company]
name = "Acme"

[[stores]]
name = "main"
storefront_url = "https://shop.example.com/"
checkout_url = "https://shop.example.com/checkout"
web_roots = ["www"]
platform = "woocommerce"
payment_integration = "iframe"

[[stores.databases]]
dsn = "mysql://shop@127.0.0.1:3306/shop"
password = { env = "SHOP_DB_PW" }
"""


def write(tmp_path: Path, text: str, name: str = "shopguard.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_good_config_loads_and_resolves_relative_paths(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, GOOD))
    store = cfg.stores[0]
    assert store.web_roots == ((tmp_path / "www").resolve(),)
    assert str(store.checkout_url) == "https://shop.example.com/checkout"
    assert store.databases[0].password == SecretRef(env="SHOP_DB_PW")


def test_error_names_file_field_found_and_expected(tmp_path: Path) -> None:
    bad = GOOD.replace('checkout_url = "https://shop.example.com/checkout"', 'checkout_url = "not a url"')
    path = write(tmp_path, bad)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    msg = str(err.value)
    assert str(path) in msg
    assert "stores[0].checkout_url" in msg
    assert "'not a url'" in msg
    assert "expected a valid URL" in msg


def test_unknown_keys_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"stores\[0\]\.plaform: unknown key"):
        load_config(write(tmp_path, GOOD.replace('platform = "woocommerce"', 'plaform = "woocommerce"')))


def test_enum_error_lists_choices(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"stores\[0\]\.platform: found 'shopify'.*'wordpress'"):
        load_config(write(tmp_path, GOOD.replace('"woocommerce"', '"shopify"')))


def test_inline_database_password_refused_by_default(tmp_path: Path) -> None:
    text = GOOD.replace("mysql://shop@127", "mysql://shop:hunter2@127")
    with pytest.raises(ConfigError, match=r"databases\[0\]\.dsn holds a password") as err:
        load_config(write(tmp_path, text))
    assert "hunter2" not in str(err.value)
    cfg = load_config(write(tmp_path, "allow_inline_secrets = true\n" + text))
    assert cfg.stores[0].databases[0].has_inline_password


def test_half_written_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, GOOD[: len(GOOD) // 2] + '\nname = "'))
    p = tmp_path / "bin.toml"
    p.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(p)
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "missing.toml")


def test_duplicate_store_names(tmp_path: Path) -> None:
    text = GOOD + '\n[[stores]]\nname = "main"\nstorefront_url = "https://b.example.com/"\n'
    with pytest.raises(ConfigError, match="repeated: main"):
        load_config(write(tmp_path, text))


def test_ssh_host_shape(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"stores\[0\]\.host: found 'root@box'"):
        load_config(write(tmp_path, GOOD.replace('platform = "woocommerce"', 'host = "root@box"')))
    cfg = load_config(
        write(tmp_path, GOOD.replace('platform = "woocommerce"', 'host = "ssh://deploy@box:2222"'))
    )
    assert not cfg.stores[0].is_local_host


def test_secret_ref_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SG_TEST_SECRET", "s3cret")
    assert SecretRef(env="SG_TEST_SECRET").resolve() == "s3cret"
    assert "s3cret" not in repr(SecretRef(value="s3cret"))
    f = tmp_path / "secret"
    f.write_text("from-file\n")
    os.chmod(f, 0o644)
    with pytest.raises(ConfigError, match="readable by other users"):
        SecretRef(file=f).resolve()
    os.chmod(f, 0o600)
    assert SecretRef(file=f).resolve() == "from-file"
    with pytest.raises(ConfigError, match="SG_MISSING is not set"):
        SecretRef(env="SG_MISSING").resolve()


def test_find_config_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="no config found"):
        find_config(None)
    user = Path(os.environ["XDG_CONFIG_HOME"]) / "shopguard" / "shopguard.toml"
    user.parent.mkdir(parents=True)
    user.write_text(GOOD)
    assert find_config(None) == user
    local = write(tmp_path, GOOD)
    assert find_config(None) == local
    assert find_config(Path("x.toml")) == Path("x.toml")


def test_file_scan_paths_are_relative_to_the_config(tmp_path: Path) -> None:
    # [stores.files] must follow its store's table: put it before the databases table
    text = GOOD.replace(
        "[[stores.databases]]",
        '[stores.files]\nrule_folders = ["rules"]\ntrusted_folders = ["/abs/vendor"]\n\n[[stores.databases]]',
    )
    files = load_config(write(tmp_path, text)).stores[0].files
    assert files.rule_folders == ((tmp_path / "rules").resolve(),)
    assert files.trusted_folders == (Path("/abs/vendor"),)
