"""Secrets encrypted at rest (Fernet) with the key kept outside the database.

The key comes from ``SHOPGUARD_SECRET_KEY`` (a Fernet key) or from a file
``web-secret.key`` in the user data folder, created with mode 0600 on first use.
A stolen database alone does not reveal DB passwords, SSH keys or channel tokens.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopguard.db.base import utcnow
from shopguard.paths import user_data_dir
from shopguard.web.models import StoredSecret

KEY_ENV = "SHOPGUARD_SECRET_KEY"
KEY_FILE = "web-secret.key"


class VaultError(Exception):
    pass


def key_path() -> Path:
    return user_data_dir() / KEY_FILE


def load_key(path: Path | None = None) -> bytes:
    """The Fernet key: env var, else the key file (created 0600 if missing)."""
    if env := os.environ.get(KEY_ENV):
        key = env.encode()
        _check(key, KEY_ENV)
        return key
    path = path or key_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(Fernet.generate_key())
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise VaultError(f"{path}: the secret key file must be readable by its owner only (chmod 600 {path})")
    key = path.read_bytes().strip()
    _check(key, str(path))
    return key


def _check(key: bytes, where: str) -> None:
    try:
        Fernet(key)
    except (ValueError, TypeError) as exc:
        raise VaultError(f"{where}: not a valid Fernet key (44 url-safe base64 characters)") from exc


class Vault:
    def __init__(self, key: bytes) -> None:
        self._f = Fernet(key)

    def encrypt(self, value: str) -> str:
        return self._f.encrypt(value.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._f.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise VaultError(
                "a stored secret cannot be decrypted with this key (wrong or rotated key?)"
            ) from exc

    def put(self, s: Session, name: str, value: str, by: str) -> StoredSecret:
        if not name.strip() or len(name) > 200:
            raise ValueError("name: 1-200 characters")
        if not value:
            raise ValueError("value: must not be empty")
        rec = s.scalar(select(StoredSecret).where(StoredSecret.name == name))
        if rec is None:
            rec = StoredSecret(name=name, ciphertext="")
            s.add(rec)
        rec.ciphertext = self.encrypt(value)
        rec.hint = mask(value)
        rec.updated_at = utcnow()
        rec.updated_by = by
        s.flush()
        return rec

    def get(self, s: Session, name: str) -> str:
        rec = s.scalar(select(StoredSecret).where(StoredSecret.name == name))
        if rec is None:
            raise KeyError(name)
        return self.decrypt(rec.ciphertext)


def mask(value: str) -> str:
    """What a page may show of a secret: never more than its last 4 characters."""
    if len(value) < 12:
        return "••••"
    return "••••" + value[-4:]
