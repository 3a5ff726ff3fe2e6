"""A dashboard over a real SQLite database with two stores, one run, and one user per role."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shopguard.checks import CheckRun, Outcome
from shopguard.config import Config, parse_config
from shopguard.db import open_database
from shopguard.db.models import FindingRecord
from shopguard.db.repository import begin_run, finish_run, record_check
from shopguard.findings import Finding, Refs, Severity
from shopguard.policies.library import approve, init_library, publish
from shopguard.policies.people import add_person
from shopguard.web.app import create_app
from shopguard.web.auth import sha256
from shopguard.web.models import WebSession, WebUser
from shopguard.web.permissions import Role
from shopguard.web.settings import WebSettings
from shopguard.web.users import create_user

PASSWORD = "Sufficiently-long-pw-1"
ROLE_EMAIL = {r: f"{r.value}@shop.example" for r in Role}
SCOPED_EMAIL = "scoped@shop.example"
ACK_SLUG = "acceptable-use"


def make_config() -> Config:
    return parse_config(
        {
            "company": {"name": "Acme Socks Ltd", "legal_name": "Acme Socks Limited", "country": "GB"},
            "stores": [
                {"name": "alpha", "storefront_url": "https://alpha.example", "platform": "woocommerce"},
                {"name": "beta", "storefront_url": "https://beta.example", "platform": "magento"},
            ],
        }
    )


def seed_run(db: sessionmaker[Session]) -> int:
    run_id = begin_run(db, ["alpha", "beta"], "all")
    record_check(
        db,
        run_id,
        CheckRun(
            "scanning.web.headers",
            "alpha",
            Outcome.OK,
            [
                Finding(
                    "scanning.web.headers.hsts",
                    Severity.HIGH,
                    "The shop does not ask browsers to always use HTTPS",
                    "https://alpha.example/",
                    detail="No Strict-Transport-Security header.",
                    remediation="Add: Strict-Transport-Security: max-age=31536000",
                    evidence={"header": None, "status": 200},
                    refs=Refs(pci=("4.2.1",), cwe=("CWE-319",)),
                ),
                Finding(
                    "scanning.web.headers.csp",
                    Severity.LOW,
                    "No Content-Security-Policy",
                    "https://alpha.example/",
                    remediation="Add a Content-Security-Policy header.",
                ),
            ],
        ),
    )
    record_check(db, run_id, CheckRun("pci.saq", "alpha", Outcome.OK, []))
    record_check(
        db,
        run_id,
        CheckRun(
            "pci.saq",
            "beta",
            Outcome.OK,
            [
                Finding(
                    "pci.saq.missing", Severity.CRITICAL, "No SAQ answers recorded", "beta", remediation="x"
                )
            ],
        ),
    )
    record_check(
        db, run_id, CheckRun("hosting.ssh", "beta", Outcome.ERROR, [], message="ssh: connection refused")
    )
    finish_run(db, run_id)
    return run_id


@dataclass
class Env:
    app: FastAPI
    db: sessionmaker[Session]
    run_id: int
    config: Config
    key: bytes
    users: dict[str, int] = field(default_factory=dict)

    def finding_id(self, store: str, check_id: str) -> int:
        with self.db() as s:
            fid = s.scalar(
                select(FindingRecord.id).where(
                    FindingRecord.store == store, FindingRecord.check_id == check_id
                )
            )
        assert fid is not None
        return fid

    def client(self, base_url: str = "http://testserver") -> TestClient:
        return TestClient(self.app, base_url=base_url, follow_redirects=False)

    def session_client(self, email: str) -> tuple[TestClient, str]:
        """A client with a live session for ``email`` (made directly: logins are tested separately)."""
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        with self.db.begin() as s:
            uid = s.scalar(select(WebUser.id).where(WebUser.email == email))
            assert uid is not None
            s.add(WebSession(token_hash=sha256(token), user_id=uid, csrf_token=csrf, ip="testclient"))
        c = self.client()
        c.cookies.set("sg_session", token)
        return c, csrf


def login(client: TestClient, email: str, password: str = PASSWORD, totp: str = "") -> Any:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    return client.post(
        "/login",
        data={"email": email, "password": password, "totp": totp, "csrf_token": token.group(1), "next": ""},
    )


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m is not None, html[:500]
    return m.group(1)


def build_env(url: str, settings: WebSettings | None = None) -> Env:
    db = open_database(url)
    config = make_config()
    key = Fernet.generate_key()
    run_id = seed_run(db)
    users: dict[str, int] = {}
    with db.begin() as s:
        for role, email in ROLE_EMAIL.items():
            users[email] = create_user(s, email, role.value.title(), role, PASSWORD).id
        users[SCOPED_EMAIL] = create_user(s, SCOPED_EMAIL, "Scoped", Role.ANALYST, PASSWORD, ["beta"]).id
    init_library(db, config)
    approve(db, ACK_SLUG, "Ann Owner")
    publish(db, ACK_SLUG)
    add_person(db, ROLE_EMAIL[Role.EMPLOYEE], "Emma Employee", "staff", config.policies)
    app = create_app(db, settings or WebSettings(), config, key=key)
    return Env(app=app, db=db, run_id=run_id, config=config, key=key, users=users)


@pytest.fixture
def env(sqlite_url: str) -> Iterator[Env]:
    e = build_env(sqlite_url)
    yield e
    e.db.kw["bind"].dispose()
