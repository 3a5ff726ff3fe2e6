"""Creating dashboard accounts (used by the settings page and ``shopguard users``)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopguard.fielderror import FieldError
from shopguard.web.models import WebUser
from shopguard.web.passwords import WeakPassword, check_strength, hash_password
from shopguard.web.permissions import Role

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class UserError(FieldError):
    """A bad value for a new or changed dashboard user."""


def create_user(
    s: Session, email: str, name: str, role: Role, password: str, stores: list[str] | None = None
) -> WebUser:
    email = email.strip().lower()
    if not _EMAIL.fullmatch(email):
        raise UserError("email", "expected an address like name@example.com")
    if s.scalar(select(WebUser.id).where(WebUser.email == email)) is not None:
        raise UserError("email", "a user with this email exists")
    try:
        check_strength(password, email)
    except WeakPassword as exc:
        raise UserError("password", str(exc).removeprefix("password: ")) from exc
    user = WebUser(
        email=email,
        name=name.strip(),
        role=role.value,
        stores=sorted(set(stores or [])),
        password_hash=hash_password(password),
        totp_secret="",
        totp_enabled=False,
        totp_last_step=0,
        failed_logins=0,
        active=True,
    )
    s.add(user)
    s.flush()
    return user
