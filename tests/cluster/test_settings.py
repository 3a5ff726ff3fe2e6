"""The [cluster] section: embedded default, validation, secrets through SecretRef."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopguard.cluster import cluster_enabled
from shopguard.cluster.urls import resolve, safe
from shopguard.config import ConfigError, load_config

STORE = '[[stores]]\nname = "a"\nstorefront_url = "http://127.0.0.1:9/"\n'


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "shopguard.toml"
    p.write_text(text)
    return p


def test_without_cluster_section_everything_stays_embedded(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, STORE))
    assert cfg.cluster is None and not cluster_enabled(cfg)


def test_passwords_come_from_secret_refs_and_never_show(tmp_path: Path) -> None:
    secret = tmp_path / "pg.pw"
    secret.write_text("p@ss/word\n")
    secret.chmod(0o600)
    cfg = load_config(write(tmp_path, STORE + f"""
[cluster]
broker_url = "amqp://sg@127.0.0.1:5672//"
broker_password = {{env = "SG_TEST_SETTINGS_PW"}}
database_url = "postgresql://sg@127.0.0.1:5432/sg"
database_password = {{file = "{secret}"}}
"""))  # fmt: skip
    assert cluster_enabled(cfg)
    with pytest.raises(ConfigError, match=r"cluster\.broker_password: .*SG_TEST_SETTINGS_PW is not set"):
        resolve(cfg)
    import os

    os.environ["SG_TEST_SETTINGS_PW"] = "b:r/oker"
    try:
        urls = resolve(cfg)
    finally:
        del os.environ["SG_TEST_SETTINGS_PW"]
    assert urls.broker == "amqp://sg:b%3Ar%2Foker@127.0.0.1:5672//"
    assert urls.database == "postgresql://sg:p%40ss%2Fword@127.0.0.1:5432/sg"
    assert "oker" not in safe(urls.broker) and "word" not in safe(urls.database)
    assert cfg.cluster is not None and cfg.cluster.queues == (
        "shopguard.default",
        "shopguard.heavy",
        "shopguard.monitor",
    )


BASE = 'broker_url = "amqp://h//"\ndatabase_url = "postgresql://h/sg"\n'


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ('broker_url = "amqp://sg:secret@h//"\ndatabase_url = "postgresql://h/sg"',
         r"cluster\.broker_url: .*password"),
        ('broker_url = "amqp://h//"', "cluster.database_url: required but missing"),
        ('broker_url = "amqp://h//"\ndatabase_url = "postgresql://h/sg"\nper_host_concurrency = 0',
         "cluster.per_host_concurrency"),
        ('broker_url = "amqp://h//"\ndatabase_url = "postgresql://h/sg"\ntask_schema = 99', "task schema"),
        (BASE + 'queus = ["x"]', r"cluster\.queus: unknown key"),
    ],
)  # fmt: skip
def test_bad_cluster_settings_name_the_field(tmp_path: Path, snippet: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, STORE + "[cluster]\n" + snippet + "\n"))


def test_inline_secret_needs_the_explicit_switch(tmp_path: Path) -> None:
    text = STORE + '[cluster]\nbroker_url = "amqp://h//"\ndatabase_url = "postgresql://h/sg"\n'
    text += 'broker_password = {value = "x"}\n'
    with pytest.raises(ConfigError, match=r"cluster\.broker_password is inline"):
        resolve(load_config(write(tmp_path, text)))
    assert (
        resolve(load_config(write(tmp_path, "allow_inline_secrets = true\n" + text))).broker
        == "amqp://:x@h//"
    )


def test_heavy_checks_go_to_their_own_queue() -> None:
    from shopguard.cluster.enqueue import split_heavy
    from shopguard.cluster.settings import ClusterSettings

    cs = ClusterSettings(
        broker_url="amqp://h//",
        database_url="postgresql://h/sg",
        heavy_selectors=("scanning.test-cluster.crash",),
    )
    assert split_heavy(cs, ["scanning.test-cluster"]) == [
        ("shopguard.default", ("scanning.test-cluster.fetch",)),
        ("shopguard.heavy", ("scanning.test-cluster.crash",)),
    ]
    assert split_heavy(cs, ["scanning.test-cluster.fetch"]) == [
        ("shopguard.default", ("scanning.test-cluster.fetch",))
    ]
    assert split_heavy(cs, ["scanning.test-cluster.crash"]) == [
        ("shopguard.heavy", ("scanning.test-cluster.crash",))
    ]
