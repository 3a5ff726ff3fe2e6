"""argon2id password hashes and password rules."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.low_level import Type

# OWASP's argon2id baseline: 19 MiB memory, 2 iterations, 1 lane.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, type=Type.ID)
MIN_LENGTH = 12
# A dummy hash verified when the user does not exist, so timing does not reveal which emails exist.
_DUMMY = _HASHER.hash("not-a-real-password-" + "x" * 16)


class WeakPassword(ValueError):
    pass


def check_strength(password: str, email: str = "") -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"password: use at least {MIN_LENGTH} characters")
    if email and email.split("@")[0].lower() in password.lower():
        raise WeakPassword("password: must not contain your email name")
    if len(set(password)) < 5:
        raise WeakPassword("password: too repetitive")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
