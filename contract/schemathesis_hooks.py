"""Credentials for schemathesis, fresh for every test case.

Schemathesis calls every operation, including POST /admin/reset (which deletes every user)
and POST /api/revoke (which ends the refresh token it was given). With one fixed set of
credentials, every later case would be answered 401, correctly, and would then count as a
valid request rejected. So each case gets a user of its own, signed up and logged in just
for it. Which credential an operation takes is read from the spec's `security`.

Where a credential is optional (`security` lists `{}` too: a profile, the follow lists,
which then also say whether the caller follows each user), every other case goes without,
so both answers are checked.
"""

import itertools
import os
import uuid

import requests
import schemathesis

BASE_URL = os.environ["CHIRPY_URL"]
POLKA_KEY = os.environ["CHIRPY_POLKA_KEY"]


def fresh_login() -> dict:
    email = f"schemathesis-{uuid.uuid4().hex}@example.com"
    credentials = {"email": email, "password": "correct horse"}
    requests.post(f"{BASE_URL}/api/users", json=credentials, timeout=10).raise_for_status()
    login = requests.post(f"{BASE_URL}/api/login", json=credentials, timeout=10)
    login.raise_for_status()
    return login.json()


def scheme_of(context) -> str | None:
    requirements = context.operation.definition.raw.get("security") or []
    return next((name for requirement in requirements for name in requirement), None)


def optional(context) -> bool:
    """Whether the operation also takes no credential at all."""
    return {} in (context.operation.definition.raw.get("security") or [])


# Alternates the cases of operations whose credential is optional: with, without, ...
_optional_cases = itertools.count()


@schemathesis.auth(refresh_interval=None)
class ChirpyAuth:
    def get(self, case, context):
        scheme = scheme_of(context)
        if optional(context) and next(_optional_cases) % 2:
            return None
        if scheme == "polka_api_key":
            return f"ApiKey {POLKA_KEY}"
        if scheme == "access_token":
            return f"Bearer {fresh_login()['token']}"
        if scheme == "refresh_token":
            return f"Bearer {fresh_login()['refresh_token']}"
        return None

    def set(self, case, data, context):
        if data is not None:
            case.headers = {**(case.headers or {}), "Authorization": data}
