"""Service URLs of a cluster with their passwords filled in from SecretRefs."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import make_url

from shopguard.cluster.settings import ClusterSettings, _Secret, with_password
from shopguard.config import Config, ConfigError, SecretRef


@dataclass(frozen=True)
class ClusterUrls:
    broker: str
    result_backend: str
    database: str
    redis: str


def _secret(secret: _Secret | None, field: str, allow_inline: bool) -> str | None:
    if secret is None:
        return None
    if secret.value is not None and not allow_inline:
        raise ConfigError(f"cluster.{field} is inline; use env or file, or set allow_inline_secrets = true")
    try:
        ref = SecretRef.model_validate(secret.model_dump(exclude_none=True))
    except ValueError as exc:
        raise ConfigError(f"cluster.{field}: {exc}") from None
    try:
        return ref.resolve()
    except ConfigError as exc:
        raise ConfigError(f"cluster.{field}: {exc}") from None


def settings_of(config: Config) -> ClusterSettings:
    if config.cluster is None:
        raise ConfigError("no [cluster] section in the config: ShopGuard runs in-process")
    return config.cluster


def resolve(config: Config) -> ClusterUrls:
    """Resolve every URL of ``[cluster]``; raises ConfigError naming the field."""
    cs = settings_of(config)
    inline = config.allow_inline_secrets
    db_pw = _secret(cs.database_password, "database_password", inline)
    database = cs.database_url
    if db_pw:
        database = make_url(database).set(password=db_pw).render_as_string(hide_password=False)
    return ClusterUrls(
        broker=with_password(cs.broker_url, _secret(cs.broker_password, "broker_password", inline)),
        result_backend=with_password(
            cs.result_backend, _secret(cs.result_backend_password, "result_backend_password", inline)
        ),
        database=database,
        redis=with_password(cs.redis_url, _secret(cs.redis_password, "redis_password", inline)),
    )


def safe(url: str) -> str:
    """A URL fit for logs and messages: the password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not an SQLAlchemy-shaped URL: strip the userinfo
        scheme, _, rest = url.partition("://")
        return f"{scheme}://{rest.rpartition('@')[2]}"
