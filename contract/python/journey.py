"""The whole Chirpy user journey through the Python client generated from openapi/openapi.yaml.

Every call goes through the generated, typed functions; every response is checked for its
status and its parsed type. Usage: journey.py BASE_URL POLKA_KEY (the generated package
`chirpy_client` must be importable).
"""

import sys
import uuid
from http import HTTPStatus

from chirpy_client import AuthenticatedClient, Client
from chirpy_client.api.auth import login, refresh_token, revoke_token
from chirpy_client.api.chirps import create_chirp, delete_chirp, get_chirp, list_chirps
from chirpy_client.api.users import create_user, update_user
from chirpy_client.api.webhooks import polka_webhook
from chirpy_client.models import (
    Chirp,
    Credentials,
    ErrorBody,
    LoggedIn,
    Login,
    NewChirp,
    PolkaEvent,
    PolkaEventData,
    Refreshed,
    SortOrder,
    User,
)


def expect(response, status, parsed_type):
    """Asserts the status and the type the generated client parsed the body into."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.content!r}"
    if parsed_type is None:
        assert response.content == b"", response.content
    else:
        assert isinstance(response.parsed, parsed_type), f"expected {parsed_type.__name__}, got {response.parsed!r}"
    return response.parsed


def authed(base_url: str, token: str, prefix: str = "Bearer") -> AuthenticatedClient:
    # An undocumented status raises: the spec must list every status the server sends.
    return AuthenticatedClient(base_url=base_url, token=token, prefix=prefix, raise_on_unexpected_status=True)


def main(base_url: str, polka_key: str) -> None:
    anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)
    suffix = uuid.uuid4().hex[:12]
    email, password = f"walt-{suffix}@example.com", "say my name"

    # Sign up two users, log in as the first.
    walt = expect(create_user.sync_detailed(client=anonymous, body=Credentials(email, password)), 201, User)
    assert walt.email == email and walt.is_chirpy_red is False
    jesse = expect(create_user.sync_detailed(client=anonymous, body=Credentials(f"jesse-{suffix}@example.com", "yo")), 201, User)
    taken = expect(create_user.sync_detailed(client=anonymous, body=Credentials(email.upper(), "x")), 409, ErrorBody)
    assert taken.error == "Email is already taken"
    wrong = expect(login.sync_detailed(client=anonymous, body=Login(email, "wrong")), 401, ErrorBody)
    assert wrong.error == "Incorrect email or password"

    session = expect(login.sync_detailed(client=anonymous, body=Login(email, password)), 200, LoggedIn)
    assert session.id == walt.id and len(session.refresh_token) == 64
    walt_client = authed(base_url, session.token)
    jesse_session = expect(login.sync_detailed(client=anonymous, body=Login(jesse.email, "yo")), 200, LoggedIn)
    jesse_client = authed(base_url, jesse_session.token)

    # Post chirps; one too long gets the typed 400.
    first = expect(create_chirp.sync_detailed(client=walt_client, body=NewChirp("Say my name. What a kerfuffle!")), 201, Chirp)
    assert first.body == "Say my name. What a ****!" and first.user_id == walt.id
    second = expect(create_chirp.sync_detailed(client=walt_client, body=NewChirp("é" * 140)), 201, Chirp)
    too_long = expect(create_chirp.sync_detailed(client=walt_client, body=NewChirp("é" * 141)), 400, ErrorBody)
    assert too_long.error == "Chirp is too long"
    theirs = expect(create_chirp.sync_detailed(client=jesse_client, body=NewChirp("Yeah, science!")), 201, Chirp)
    expect(create_chirp.sync_detailed(client=anonymous, body=NewChirp("anonymous")), 401, ErrorBody)

    # List by author, newest first; get one.
    mine = expect(list_chirps.sync_detailed(client=anonymous, author_id=walt.id, sort=SortOrder.DESC), 200, list)
    assert [c.id for c in mine] == [second.id, first.id], mine
    everyone = expect(list_chirps.sync_detailed(client=anonymous), 200, list)
    assert {first.id, second.id, theirs.id} <= {c.id for c in everyone}
    got = expect(get_chirp.sync_detailed(client=anonymous, chirp_id=first.id), 200, Chirp)
    assert got.body == first.body and got.created_at == first.created_at
    expect(get_chirp.sync_detailed(client=anonymous, chirp_id=uuid.uuid4()), 404, ErrorBody)

    # Refresh the access token and use the new one.
    refresh_client = authed(base_url, session.refresh_token)
    refreshed = expect(refresh_token.sync_detailed(client=refresh_client), 200, Refreshed)
    walt_client = authed(base_url, refreshed.token)

    # Update email and password; the old password stops working. This revokes refresh tokens, so log in again.
    new_email = f"heisenberg-{suffix}@example.com"
    updated = expect(update_user.sync_detailed(client=walt_client, body=Credentials(new_email, "blue sky")), 200, User)
    assert updated.email == new_email and updated.updated_at > walt.updated_at
    expect(login.sync_detailed(client=anonymous, body=Login(email, password)), 401, ErrorBody)
    expect(refresh_token.sync_detailed(client=refresh_client), 401, ErrorBody)
    session = expect(login.sync_detailed(client=anonymous, body=Login(new_email, "blue sky")), 200, LoggedIn)
    walt_client = authed(base_url, session.token)

    # Delete one's own chirp; someone else's is forbidden.
    expect(delete_chirp.sync_detailed(client=walt_client, chirp_id=first.id), 204, None)
    expect(get_chirp.sync_detailed(client=anonymous, chirp_id=first.id), 404, ErrorBody)
    forbidden = expect(delete_chirp.sync_detailed(client=walt_client, chirp_id=theirs.id), 403, ErrorBody)
    assert forbidden.error == "You can only delete your own chirps"

    # Polka upgrades Walt through the ApiKey scheme.
    polka = authed(base_url, polka_key, "ApiKey")
    event = PolkaEvent(event="user.upgraded", data=PolkaEventData(user_id=walt.id))
    expect(polka_webhook.sync_detailed(client=polka, body=event), 204, None)
    wrong_key = authed(base_url, "not-the-key", "ApiKey")
    expect(polka_webhook.sync_detailed(client=wrong_key, body=event), 401, ErrorBody)
    nobody = PolkaEvent(event="user.upgraded", data=PolkaEventData(user_id=uuid.uuid4()))
    assert expect(polka_webhook.sync_detailed(client=polka, body=nobody), 404, ErrorBody).error == "User not found"
    other_event = PolkaEvent(event="user.payment_failed", data=PolkaEventData(user_id=jesse.id))
    expect(polka_webhook.sync_detailed(client=polka, body=other_event), 204, None)
    session = expect(login.sync_detailed(client=anonymous, body=Login(new_email, "blue sky")), 200, LoggedIn)
    assert session.is_chirpy_red is True

    # Revoke the refresh token; refreshing with it fails.
    refresh_client = authed(base_url, session.refresh_token)
    expect(revoke_token.sync_detailed(client=refresh_client), 204, None)
    expect(refresh_token.sync_detailed(client=refresh_client), 401, ErrorBody)

    print("python client journey: ok (generated with openapi-python-client)")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
