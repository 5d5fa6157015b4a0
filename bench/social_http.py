"""The social data set's users over HTTP: access tokens minted for every user (the server is
started with the bench's JWT_SECRET, so the bench need not log 10,000 users in), and requests
as them outside wrk."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
from pathlib import Path

import seed
from social import user_id

# The server signs access tokens with this (the bench sets JWT_SECRET on the social server), so
# the bench can mint a token for each of its 10,000 users instead of logging them all in.
JWT_SECRET = "chirpy-bench-social-jwt-secret-0123456789abcdef"
ACCESS_ISSUER = "chirpy-access"
TOKEN_TTL_S = 4 * 3600


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint_access_token(secret: str, user: str, issued_at: int, ttl_s: int = TOKEN_TTL_S) -> str:
    """An access token as the server issues it: an HS256 JWT with iss, sub (the user id), iat
    and exp, signed with `secret` (compact JSON, keys in the server's order)."""
    header = b64url(json.dumps({"typ": "JWT", "alg": "HS256"}, separators=(",", ":")).encode())
    claims = {"iss": ACCESS_ISSUER, "sub": user, "iat": issued_at, "exp": issued_at + ttl_s}
    payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode()
    signature = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


def write_tokens(path: Path, users: list[int], now: int | None = None) -> None:
    """One access token per line for `users` (numbers), minted for JWT_SECRET."""
    issued = int(time.time()) if now is None else now
    path.write_text("".join(mint_access_token(JWT_SECRET, user_id(n), issued) + "\n" for n in users))


def send(base_url: str, method: str, path: str, token: str | None, body: dict | None = None) -> tuple[int, object]:
    """A `method` request as the token's user if any, with a JSON body if any: the status and
    the JSON answer (None if there is none, or for errors)."""
    try:
        status, raw = seed.http(base_url, method, path, body, timeout=30, token=token)
        return status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        return exc.code, None


def get_json(base_url: str, path: str, token: str | None = None) -> tuple[int, object]:
    """GET `path`, as the token's user if any."""
    return send(base_url, "GET", path, token)
