"""One error type for a bad value in a form or request field (pages re-render with ``field`` marked)."""

from __future__ import annotations


class FieldError(ValueError):
    """``field`` names the input at fault; ``message`` says what was expected."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
