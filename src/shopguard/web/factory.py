"""Build the app from environment variables: what ``shopguard serve --workers N`` runs in
each worker process (uvicorn imports it by name)."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI

ENV_DB = "SHOPGUARD_WEB_DB"
ENV_CONFIG = "SHOPGUARD_WEB_CONFIG"
ENV_COOKIE = "SHOPGUARD_WEB_COOKIE_SECURE"
ENV_TOTP = "SHOPGUARD_WEB_TOTP_ADMINS"


def from_env() -> FastAPI:
    from shopguard.config import load_config
    from shopguard.db import open_database
    from shopguard.web.app import create_app
    from shopguard.web.settings import WebSettings

    cfg_path = os.environ.get(ENV_CONFIG, "")
    config = load_config(Path(cfg_path)) if cfg_path else None
    cookie = os.environ.get(ENV_COOKIE, "auto")
    settings = WebSettings(
        cookie_secure=cookie if cookie in ("always", "never") else "auto",  # type: ignore[arg-type]
        require_totp_for_admins=os.environ.get(ENV_TOTP) == "1",
    )
    return create_app(open_database(os.environ[ENV_DB]), settings, config)
