"""Resolve a monitor's secret without ever putting it in a message."""

from __future__ import annotations

from shopguard.config import ConfigError, SecretRef
from shopguard.monitoring.interface import ConfigProblem
from shopguard.monitoring.settings import Secret


def resolve(secret: Secret | None, allow_inline: bool, field: str) -> str | None:
    if secret is None:
        return None
    if secret.value is not None and not allow_inline:
        raise ConfigProblem(f"{field} is inline; use env or file, or set allow_inline_secrets = true")
    try:
        return SecretRef.model_validate(secret.model_dump(exclude_none=True)).resolve()
    except ConfigError as exc:
        raise ConfigProblem(f"{field}: {exc}") from None
