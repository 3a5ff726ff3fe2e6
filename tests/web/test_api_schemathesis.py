"""schemathesis against the OpenAPI spec: generated requests never get a server error."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from sqlalchemy import select

from shopguard.web.auth import new_api_token
from shopguard.web.models import WebUser
from shopguard.web.permissions import ROLE_PERMS, Role

from .conftest import ROLE_EMAIL, build_env


def test_api_never_answers_500(sqlite_url: str) -> None:
    env = build_env(sqlite_url)
    with env.db.begin() as s:
        owner = s.scalar(select(WebUser).where(WebUser.email == ROLE_EMAIL[Role.OWNER]))
        assert owner is not None
        value, _ = new_api_token(s, owner, "fuzz", sorted(ROLE_PERMS[Role.OWNER]), None)
    auth = {"Authorization": f"Bearer {value}"}
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", env.app)
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 7

    for op in operations:

        @given(case=op.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case: Any) -> None:
            response = case.call(headers=auth)
            assert response.status_code < 500, (case.method, case.formatted_path, response.text[:500])
            assert response.status_code != 401  # the token is valid for every operation

        check()
    env.db.kw["bind"].dispose()
