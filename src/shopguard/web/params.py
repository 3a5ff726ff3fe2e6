"""Shared request parameter types."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

RowId = Annotated[int, Path(ge=1, le=2_147_483_647, description="A row id (32-bit, from 1).")]
"""Ids in paths: bounded, so a huge number is a 422, not a database overflow."""
