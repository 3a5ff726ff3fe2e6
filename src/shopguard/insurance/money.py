"""Money amounts as typed by people: 1000000, "1,000,000", "1M", "250k", "$ 50,000", "USD 2.5m"."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_AMOUNT = re.compile(r"^(?:[A-Z]{3}\s*)?[$€£]?\s*([0-9][0-9,_ ]*(?:\.[0-9]+)?)\s*([kKmM])?$")


def parse_money(value: object, where: str) -> int:
    """Whole currency units. Raises ValueError naming ``where`` when it is not an amount."""
    if isinstance(value, bool):
        raise ValueError(f"{where}: {value!r} is not a money amount; expected e.g. 250000, 250k or 1M")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{where}: {value} is negative")
        return value
    if isinstance(value, float):
        value = repr(value)
    text = str(value).strip()
    m = _AMOUNT.match(text)
    if not m:
        raise ValueError(f"{where}: {text!r} is not a money amount; expected e.g. 250000, 250k or 1M")
    try:
        number = Decimal(m.group(1).replace(",", "").replace("_", "").replace(" ", ""))
    except InvalidOperation:
        raise ValueError(f"{where}: {text!r} is not a money amount") from None
    factor = {"k": 1000, "m": 1_000_000}.get((m.group(2) or "").lower(), 1)
    return int(number * factor)


def fmt_money(amount: int | float | None, currency: str) -> str:
    if amount is None:
        return "-"
    return f"{currency} {amount:,.0f}"
