"""Where the response protocol meets other protocols without importing their internals.

The insurance register (another protocol) knows the policy's notification window. At merge the
lead wires it with ``set_insurer_window_provider(shopguard.insurance.<function>)``; until then the
``[response] insurer_notification_window_hours`` setting is used.
"""

from __future__ import annotations

from collections.abc import Callable

from shopguard.config import Config

InsurerWindowProvider = Callable[[Config, str], "int | None"]
"""(config, store name) -> hours the insurer allows for notice, or None when unknown."""

_provider: InsurerWindowProvider | None = None


def set_insurer_window_provider(provider: InsurerWindowProvider | None) -> None:
    global _provider
    _provider = provider


def insurer_window_hours(config: Config, store: str) -> tuple[int | None, str]:
    """The insurer's notification window and where it came from."""
    if _provider is not None:
        try:
            hours = _provider(config, store)
        except Exception as exc:  # the register failing must not hide the setting
            hours = None
            source = f"insurance register unavailable ({type(exc).__name__})"
        else:
            source = "insurance register"
        if hours:
            return int(hours), source
    return (
        config.response.insurer_notification_window_hours,
        "shopguard.toml [response] insurer_notification_window_hours",
    )
