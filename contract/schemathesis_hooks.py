"""Credentials for schemathesis, fresh for every test case; and the live streams' event
schema where schemathesis looks for it.

Schemathesis calls every operation, including POST /admin/reset (which deletes every user)
and POST /api/revoke (which ends the refresh token it was given). With one fixed set of
credentials, every later case would be answered 401, correctly, and would then count as a
valid request rejected. So each case gets a user of its own, signed up and logged in just
for it. Which credential an operation takes is read from the spec's `security`. A
moderator's (`moderator_token`) is a fresh user's access token too, made a moderator as an
operator does, in the database (CHIRPY_DATABASE_URL): no operation does that.

Where a credential is optional (`security` lists `{}` too: profiles and follow lists, which
then also say whether the caller follows each user; chirps, threads, likes and searches),
every other case goes without, so both answers are checked.

The spec describes an event stream's body as poem-openapi writes it: `type: array, format:
event-stream`, with `items` the schema of each event's data. Schemathesis reads a
`text/event-stream` schema in an OpenAPI 3.0 document as the schema of one event, parsed as
`{event, data, id}`: every event would fail (an object is not an array), and no event's
data would be checked. So before the spec is loaded, each such schema is restated as one
event whose `data` is JSON (`contentMediaType`) holding the spec's own `items`
(`contentSchema`), which schemathesis then checks against each event it reads.
"""

import itertools
import os
import subprocess
import uuid

import requests
import schemathesis

BASE_URL = os.environ["CHIRPY_URL"]
POLKA_KEY = os.environ["CHIRPY_POLKA_KEY"]
# The server's database, for making moderators; empty when the harness does not know it.
DATABASE_URL = os.environ.get("CHIRPY_DATABASE_URL", "")


def fresh_login() -> dict:
    email = f"schemathesis-{uuid.uuid4().hex}@example.com"
    credentials = {"email": email, "password": "correct horse"}
    requests.post(f"{BASE_URL}/api/users", json=credentials, timeout=10).raise_for_status()
    login = requests.post(f"{BASE_URL}/api/login", json=credentials, timeout=10)
    login.raise_for_status()
    return login.json()


def make_moderator(user_id: str) -> None:
    sql = f"update users set is_moderator = true where id = '{uuid.UUID(user_id)}'"
    psql = ["psql", "--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1", DATABASE_URL, "--command", sql]
    subprocess.run(psql, check=True, capture_output=True, timeout=10)


def scheme_of(context) -> str | None:
    requirements = context.operation.definition.raw.get("security") or []
    return next((name for requirement in requirements for name in requirement), None)


def optional(context) -> bool:
    """Whether the operation also takes no credential at all."""
    return {} in (context.operation.definition.raw.get("security") or [])


def event_schema(stream: dict) -> dict:
    """One event of a stream whose body the spec describes as an array of event data."""
    data = {"type": "string", "contentMediaType": "application/json", "contentSchema": stream["items"]}
    return {"type": "object", "required": ["data"], "properties": {"data": data}}


@schemathesis.hook
def before_load_schema(context, raw_schema: dict) -> None:
    for path_item in raw_schema.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue  # a path's own `parameters`
            for response in operation.get("responses", {}).values():
                media = response.get("content", {}).get("text/event-stream")
                if media and media.get("schema", {}).get("format") == "event-stream":
                    media["schema"] = event_schema(media["schema"])


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
        if scheme == "moderator_token" and DATABASE_URL:
            moderator = fresh_login()
            make_moderator(moderator["id"])
            return f"Bearer {moderator['token']}"
        if scheme == "refresh_token":
            return f"Bearer {fresh_login()['refresh_token']}"
        return None

    def set(self, case, data, context):
        if data is not None:
            case.headers = {**(case.headers or {}), "Authorization": data}
