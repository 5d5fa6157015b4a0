"""The whole Chirpy user journey through the Python client generated from openapi/openapi.yaml.

Every call goes through the generated, typed functions; every response is checked for its
status and its parsed type. The one exception is the live stream (Server-Sent Events),
which the generator cannot read: a plain httpx reader follows them (the chirps feed and the
home timeline's), and the generated models parse their events. Usage: journey.py BASE_URL POLKA_KEY (the generated package
`chirpy_client` must be importable).

The harnesses start every server with RATE_LIMITS=off, so limited responses carry no
RateLimit fields, and the journey says so; with CHIRPY_RATE_LIMITS=on (a server with its
limits on) it checks instead that they parse as draft-ietf-httpapi-ratelimit-headers says.
"""

import base64
import json
import os
import re
import sys
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
from chirpy_client import AuthenticatedClient, Client
from chirpy_client.api.auth import login, refresh_token, revoke_token
from chirpy_client.api.chirps import create_chirp, delete_chirp, get_chirp, list_chirps
from chirpy_client.api.follows import follow, list_followers, list_following, unfollow
from chirpy_client.api.likes import like_chirp, list_likes, unlike_chirp
from chirpy_client.api.moderation import create_report
from chirpy_client.api.notifications import count_unread_notifications, list_notifications, set_notifications_marker
from chirpy_client.api.profiles import get_profile
from chirpy_client.api.safety import block, list_blocks, list_mutes, mute, unblock, unmute
from chirpy_client.api.search import search_chirps, search_users
from chirpy_client.api.threads import get_thread
from chirpy_client.api.timelines import get_home_timeline, stream_home_timeline
from chirpy_client.api.users import create_user, get_me, update_profile, update_user
from chirpy_client.api.webhooks import polka_webhook
from chirpy_client.models import (
    Chirp,
    Credentials,
    DeletedChirp,
    ErrorBody,
    FollowEdge,
    LoggedIn,
    Login,
    Marker,
    NewChirp,
    NewMarker,
    NewReport,
    NewUser,
    NotificationType,
    PolkaEvent,
    PolkaEventData,
    Profile,
    ProfileEdit,
    Refreshed,
    Report,
    SortOrder,
    Thread,
    Unread,
    User,
)
from chirpy_client.types import UNSET


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


# How long an event may take to arrive after the change that causes it.
EVENT_WITHIN_SECONDS = 2.0


class EventStream:
    """An event stream (GET /api/chirps/stream, /api/timelines/home/stream) read as it
    arrives: its events, one at a time.

    The generated stream_chirps and stream_home_timeline would read the whole body as one
    document, and the streams never end, so this is plain httpx. Comment lines (the
    heartbeats) are skipped. `token` is sent as `Authorization: Bearer`.
    """

    def __init__(
        self,
        base_url: str,
        path: str,
        params: dict[str, str] | None = None,
        token: str | None = None,
        last_event_id: str | None = None,
    ):
        headers = {"Accept": "text/event-stream"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        self._http = httpx.Client(base_url=base_url, timeout=httpx.Timeout(5.0, read=EVENT_WITHIN_SECONDS))
        request = self._http.build_request("GET", path, params=params, headers=headers)
        self._response = self._http.send(request, stream=True)
        assert self._response.status_code == 200, f"stream: {self._response.status_code} {self._response.read()!r}"
        content_type = self._response.headers["content-type"]
        assert content_type.startswith("text/event-stream"), content_type
        self._lines = self._response.iter_lines()

    def next_event(self) -> tuple[str, str, dict]:
        """The next event's (id, event type, parsed data), within EVENT_WITHIN_SECONDS."""
        deadline = time.monotonic() + EVENT_WITHIN_SECONDS
        fields: dict[str, str] = {}
        try:
            for line in self._lines:
                if line == "":  # a blank line ends an event
                    if "data" in fields:
                        return fields.get("id", ""), fields.get("event", "message"), json.loads(fields["data"])
                    fields = {}
                elif not line.startswith(":"):
                    name, _, value = line.partition(":")
                    value = value.removeprefix(" ")
                    fields[name] = f"{fields[name]}\n{value}" if name == "data" and name in fields else value
                assert time.monotonic() < deadline, f"no event within {EVENT_WITHIN_SECONDS} s"
        except httpx.ReadTimeout:
            raise AssertionError(f"no event within {EVENT_WITHIN_SECONDS} s") from None
        raise AssertionError("the stream ended")

    def close(self) -> None:
        self._response.close()
        self._http.close()

    def __enter__(self) -> "EventStream":
        return self

    def __exit__(self, *_) -> None:
        self.close()


NEXT_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?next"?')


def next_page(response) -> dict[str, str] | None:
    """The query of the `Link: <...>; rel="next"` URL, or None on the last page."""
    link = response.headers.get("link")
    if link is None:
        return None
    found = NEXT_LINK.search(link)
    assert found, f"a Link header without rel=next: {link!r}"
    url = urlsplit(found.group(1))
    return {name: values[-1] for name, values in parse_qs(url.query).items()}


def newest_first(chirps: list[Chirp]) -> list[uuid.UUID]:
    """The ids in the home timeline's order: newest first, ties broken by id (descending)."""
    return [c.id for c in sorted(chirps, key=lambda c: (c.created_at, c.id), reverse=True)]


# How long a read that may come from a replica (a thread, a search) may lag the write it
# should show: the server's default DB_REPLICA_MAX_LAG_MS (5 s) plus two of its one-second
# replica checks, as cluster check 8 allows. One server alone has no replica: no wait.
REPLICA_MAY_LAG_SECONDS = 7.0


def settled(read, done):
    """`read()`'s answer once `done(answer)` holds, or its last answer when the replica's lag
    has passed (the caller's asserts then say what is wrong)."""
    deadline = time.monotonic() + REPLICA_MAY_LAG_SECONDS
    while not done(answer := read()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return answer


class Token(str):
    """A Structured Fields Token, told apart from a String."""


SF_TOKEN = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~:/A-Za-z0-9]*")
SF_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
SF_INTEGER = re.compile(r"-?[0-9]{1,15}(?![0-9.])")


def sf_list(text: str) -> list[tuple[object, dict[str, object]]]:
    """An HTTP Structured Fields List (RFC 9651) of Items, as (bare item, parameters): Strings,
    Tokens, Integers, Booleans and Byte Sequences (no Decimals, Dates, Inner Lists: the
    RateLimit fields use none). Raises ValueError on anything else."""
    pos = 0

    def bare() -> object:
        nonlocal pos
        if text.startswith('"', pos):
            out, pos = [], pos + 1
            while pos < len(text):
                ch = text[pos]
                pos += 1
                if ch == "\\" and pos < len(text) and text[pos] in '"\\':
                    out.append(text[pos])
                    pos += 1
                elif ch == '"':
                    return "".join(out)
                elif not " " <= ch <= "~" or ch == "\\":
                    raise ValueError(f"bad character {ch!r} in a String at {pos - 1}: {text!r}")
                else:
                    out.append(ch)
            raise ValueError(f"an unterminated String: {text!r}")
        if text.startswith("?", pos):
            if text[pos + 1 : pos + 2] not in ("0", "1"):
                raise ValueError(f"a bad Boolean at {pos}: {text!r}")
            pos += 2
            return text[pos - 1] == "1"
        if text.startswith(":", pos):
            end = text.find(":", pos + 1)
            if end == -1:
                raise ValueError(f"an unterminated Byte Sequence: {text!r}")
            value, pos = base64.b64decode(text[pos + 1 : end], validate=True), end + 1
            return value
        for pattern, kind in ((SF_INTEGER, int), (SF_TOKEN, Token)):
            if found := pattern.match(text, pos):
                pos = found.end()
                return kind(found.group())
        raise ValueError(f"no Item at {pos}: {text!r}")

    def parameters() -> dict[str, object]:
        nonlocal pos
        params: dict[str, object] = {}
        while text.startswith(";", pos):
            pos += 1
            while text.startswith(" ", pos):
                pos += 1
            if not (key := SF_KEY.match(text, pos)):
                raise ValueError(f"a bad parameter key at {pos}: {text!r}")
            pos = key.end()
            if text.startswith("=", pos):
                pos += 1
                params[key.group()] = bare()
            else:
                params[key.group()] = True
        return params

    members = []
    pos = len(text) - len(text.lstrip(" "))
    while pos < len(text):
        members.append((bare(), parameters()))
        while text.startswith((" ", "\t"), pos):
            pos += 1
        if pos == len(text):
            break
        if not text.startswith(",", pos):
            raise ValueError(f"expected ',' at {pos}: {text!r}")
        pos += 1
        while text.startswith((" ", "\t"), pos):
            pos += 1
        if pos == len(text):
            raise ValueError(f"a trailing comma: {text!r}")
    return members


# Whether the server counts requests against rate limits (the harnesses turn them off).
RATE_LIMITS_ON = os.environ.get("CHIRPY_RATE_LIMITS", "off") == "on"


def rate_limit_fields(response, what: str) -> dict[str, dict[str, int]]:
    """A limited operation's RateLimit-Policy and RateLimit fields, checked against the draft
    (draft-ietf-httpapi-ratelimit-headers): each policy a String with an Integer quota `q` >= 1
    and window `w` >= 1 seconds, each standing a String naming a policy, with `r` remaining
    (0 to q) and `t` seconds to go (0 to w). Returns {policy: q, w, r, t}; {} with limits off,
    when both must be absent."""
    policy, standing = response.headers.get("ratelimit-policy"), response.headers.get("ratelimit")
    if not RATE_LIMITS_ON:
        assert policy is None and standing is None, f"{what}: RateLimit fields with limits off: {policy!r} {standing!r}"
        return {}
    assert policy is not None and standing is not None, f"{what}: a RateLimit field missing: {dict(response.headers)}"
    found: dict[str, dict[str, int]] = {}
    for name, params in sf_list(policy):
        assert type(name) is str and name not in found, f"{what}: policy {name!r} in {policy!r}"
        q, w = params.get("q"), params.get("w")
        assert type(q) is int and q >= 1 and (w is None or type(w) is int and w >= 1), f"{what}: {policy!r}"
        found[name] = {"q": q, "w": w}
    for name, params in sf_list(standing):
        assert type(name) is str and name in found, f"{what}: {standing!r} names a policy not in {policy!r}"
        r, t = params.get("r"), params.get("t")
        limits = found[name]
        assert type(r) is int and 0 <= r <= limits["q"], f"{what}: {standing!r} against {policy!r}"
        assert t is None or type(t) is int and 0 <= t <= (limits["w"] or t), f"{what}: {standing!r} against {policy!r}"
        limits.update(r=r, t=t)
    return found


def follow_and_read_a_timeline(base_url: str, walt: User, walt_client: AuthenticatedClient, jesse: User, jesse_token: str) -> None:
    """Walt fills in his profile; Jesse follows him, reads Walt's chirps in the home timeline
    (paged, revalidated, live), unfollows and sees them go."""
    anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)
    jesse_client = authed(base_url, jesse_token)

    # Walt sets a display name and a bio; the handle, left out, stays as it is.
    edit = ProfileEdit(display_name="Walter White", bio="Chemistry teacher.\nAlbuquerque, NM")
    edited = expect(update_profile.sync_detailed(client=walt_client, body=edit), 200, User)
    assert (edited.id, edited.handle, edited.display_name, edited.bio) == (walt.id, walt.handle, edit.display_name, edit.bio)
    assert edited.updated_at > walt.updated_at
    expect(update_profile.sync_detailed(client=walt_client, body=ProfileEdit(handle="Admin")), 400, ErrorBody)
    expect(update_profile.sync_detailed(client=jesse_client, body=ProfileEdit(handle=walt.handle.upper())), 409, ErrorBody)
    expect(update_profile.sync_detailed(client=anonymous, body=edit), 401, ErrorBody)
    walts = expect(list_chirps.sync_detailed(client=anonymous, author_id=walt.id), 200, list)
    jesses = expect(list_chirps.sync_detailed(client=anonymous, author_id=jesse.id), 200, list)

    # Anyone sees a profile, by handle in any letter case (with or without `@`) or by id:
    # never the email, and whether they follow the user only with an access token.
    for name in (walt.handle.upper(), f"@{walt.handle.lower()}", str(walt.id)):
        response = get_profile.sync_detailed(name, client=anonymous)
        profile = expect(response, 200, Profile)
        assert "email" not in json.loads(response.content), response.content
        assert (profile.id, profile.handle, profile.display_name, profile.bio) == (walt.id, walt.handle, edit.display_name, edit.bio)
        assert profile.is_chirpy_red is True and profile.created_at == walt.created_at
        counts = (profile.followers_count, profile.following_count, profile.chirps_count)
        assert counts == (0, 0, len(walts)), (name, counts, len(walts))
        assert profile.followed_by_me is UNSET, profile
    seen_by_jesse = expect(get_profile.sync_detailed(str(walt.id), client=jesse_client), 200, Profile)
    assert seen_by_jesse.followed_by_me is False
    expect(get_profile.sync_detailed(f"nobody_{uuid.uuid4().hex[:8]}", client=anonymous), 404, ErrorBody)
    expect(get_profile.sync_detailed(walt.handle, client=authed(base_url, "not-a-token")), 401, ErrorBody)

    # Jesse follows Walt: 204, and again 204 (nothing changes). Not oneself, not nobody.
    expect(follow.sync_detailed(walt.id, client=jesse_client), 204, None)
    expect(follow.sync_detailed(walt.id, client=jesse_client), 204, None)
    expect(follow.sync_detailed(jesse.id, client=jesse_client), 400, ErrorBody)
    expect(follow.sync_detailed(uuid.uuid4(), client=jesse_client), 404, ErrorBody)
    expect(follow.sync_detailed(walt.id, client=anonymous), 401, ErrorBody)
    followed = expect(get_profile.sync_detailed(walt.handle, client=jesse_client), 200, Profile)
    assert (followed.followers_count, followed.following_count, followed.followed_by_me) == (1, 0, True), followed
    follower = expect(get_profile.sync_detailed(jesse.handle, client=jesse_client), 200, Profile)
    assert (follower.followers_count, follower.following_count, follower.followed_by_me) == (0, 1, False), follower
    # Read as Jesse, who just wrote: what he changed shows at once on every instance.
    followers = list_followers.sync_detailed(walt.id, client=jesse_client)
    assert [p.id for p in expect(followers, 200, list)] == [jesse.id] and "link" not in followers.headers
    assert all("email" not in p for p in json.loads(followers.content)), followers.content
    following = expect(list_following.sync_detailed(jesse.id, client=jesse_client), 200, list)
    assert [(p.id, p.handle, p.followed_by_me) for p in following] == [(walt.id, walt.handle, True)], following
    expect(list_followers.sync_detailed(uuid.uuid4(), client=anonymous), 404, ErrorBody)

    # Walt posts; Jesse's home timeline holds Walt's chirps and his own, newest first,
    # paged one at a time through the Link header until it is absent.
    posted = [expect(create_chirp.sync_detailed(client=walt_client, body=NewChirp(f"Tread lightly {n}")), 201, Chirp) for n in range(3)]
    expected = newest_first(walts + jesses + posted)
    pages, query = [], {}
    while True:
        response = get_home_timeline.sync_detailed(client=jesse_client, limit=1, cursor=query.get("cursor", UNSET))
        pages.append([c.id for c in expect(response, 200, list)])
        assert len(pages) <= len(expected), f"more pages than chirps: {pages}"
        if (query := next_page(response)) is None:
            break
        assert query.get("limit") == "1" and re.fullmatch(r"[0-9a-f]{48}", query.get("cursor", "")), query
    assert all(len(page) == 1 for page in pages), pages
    assert [id for page in pages for id in page] == expected, (pages, expected)
    whole = get_home_timeline.sync_detailed(client=jesse_client)
    assert [c.id for c in expect(whole, 200, list)] == expected and "link" not in whole.headers
    expect(get_home_timeline.sync_detailed(client=anonymous), 401, ErrorBody)
    expect(get_home_timeline.sync_detailed(client=jesse_client, cursor="not-a-cursor"), 400, ErrorBody)

    # Revalidation: the page's ETag back in If-None-Match is 304 while it is unchanged; a new
    # chirp of Jesse's own changes the page, and the old tag no longer matches.
    top = get_home_timeline.sync_detailed(client=jesse_client, limit=1)
    etag = top.headers["etag"]
    assert top.headers["cache-control"] == "no-cache"
    unchanged = get_home_timeline.sync_detailed(client=jesse_client, limit=1, if_none_match=etag)
    expect(unchanged, 304, None)
    assert unchanged.headers["etag"] == etag
    magnets = expect(create_chirp.sync_detailed(client=jesse_client, body=NewChirp("Yeah, magnets!")), 201, Chirp)
    changed = get_home_timeline.sync_detailed(client=jesse_client, limit=1, if_none_match=etag)
    assert [c.id for c in expect(changed, 200, list)] == [magnets.id] and changed.headers["etag"] != etag

    # The home live stream (with Jesse's token): a chirp of Walt's arrives as he posts it.
    expect(stream_home_timeline.sync_detailed(client=anonymous), 401, ErrorBody)
    with EventStream(base_url, "/api/timelines/home/stream", token=jesse_token) as home:
        live = expect(create_chirp.sync_detailed(client=walt_client, body=NewChirp("Say my name, live")), 201, Chirp)
        seen_id, kind, data = home.next_event()
        assert kind == "chirp.created" and Chirp.from_dict(data) == live, (kind, data)
    # Jesse unfollows while disconnected (204, and again 204); resumed from Last-Event-ID, the
    # stream says so. Walt's chirps are no longer Jesse's to see; Jesse's own still are.
    expect(unfollow.sync_detailed(walt.id, client=jesse_client), 204, None)
    expect(unfollow.sync_detailed(walt.id, client=jesse_client), 204, None)
    with EventStream(base_url, "/api/timelines/home/stream", token=jesse_token, last_event_id=seen_id) as resumed:
        _, kind, data = resumed.next_event()
        assert kind == "follow.deleted", (kind, data)
        assert FollowEdge.from_dict(data) == FollowEdge(follower_id=jesse.id, followee_id=walt.id), data
        expect(create_chirp.sync_detailed(client=walt_client, body=NewChirp("Anyone there?")), 201, Chirp)
        alone = expect(create_chirp.sync_detailed(client=jesse_client, body=NewChirp("Just me now")), 201, Chirp)
        _, kind, data = resumed.next_event()
        assert kind == "chirp.created" and Chirp.from_dict(data).id == alone.id, (kind, data)

    # Unfollowed, the timeline shrinks to Jesse's own chirps, and the counts drop.
    shrunk = expect(get_home_timeline.sync_detailed(client=jesse_client), 200, list)
    assert [c.id for c in shrunk] == newest_first(jesses + [magnets, alone]), shrunk
    unfollowed = expect(get_profile.sync_detailed(str(walt.id), client=jesse_client), 200, Profile)
    assert (unfollowed.followers_count, unfollowed.followed_by_me) == (0, False), unfollowed
    assert unfollowed.chirps_count == len(walts) + len(posted) + 2, unfollowed
    assert expect(list_followers.sync_detailed(walt.id, client=jesse_client), 200, list) == []
    assert expect(list_following.sync_detailed(jesse.id, client=jesse_client), 200, list) == []


def reply_like_and_search(
    base_url: str,
    word: str,
    walt: User,
    walt_client: AuthenticatedClient,
    jesse: User,
    jesse_client: AuthenticatedClient,
    skyler: User,
    skyler_client: AuthenticatedClient,
) -> None:
    """Jesse replies to a chirp of Walt's and Walt answers; the thread reads up the chain and
    down the replies, a page at a time; Jesse and Skyler like it and unlike it; chirps are found
    by a word no other run's contain (`word`), people by the start of a handle."""
    anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)

    # A chirp that answers none: `reply_to` null (as the spec now declares it may be), no
    # likes, no replies. Every write here is rate-limited, and says so unless limits are off.
    posted = create_chirp.sync_detailed(client=walt_client, body=NewChirp(f"Blue sky, {word}"))
    root = expect(posted, 201, Chirp)
    rate_limit_fields(posted, "createChirp")
    assert (root.reply_to, root.like_count, root.reply_count) == (None, 0, 0), root
    assert json.loads(posted.content)["reply_to"] is None, posted.content

    # Jesse replies three times; Walt answers the first reply. A reply to no chirp is 404.
    replies = []
    for n in range(3):
        reply = NewChirp(f"Reply {n}, {word}", reply_to=root.id)
        replies.append(expect(create_chirp.sync_detailed(client=jesse_client, body=reply), 201, Chirp))
    assert all((r.reply_to, r.user_id) == (root.id, jesse.id) for r in replies), replies
    answer = NewChirp(f"Blue, and the answer: {word}", reply_to=replies[0].id)
    answer = expect(create_chirp.sync_detailed(client=walt_client, body=answer), 201, Chirp)
    assert answer.reply_to == replies[0].id, answer
    nowhere = NewChirp("To nobody", reply_to=uuid.uuid4())
    expect(create_chirp.sync_detailed(client=jesse_client, body=nowhere), 404, ErrorBody)
    # The replier reads his own change at once (his token makes the counts current anywhere).
    assert expect(get_chirp.sync_detailed(root.id, client=jesse_client), 200, Chirp).reply_count == 3

    # The answer's thread: the chain it answers, oldest first, and no replies of its own.
    # Threads may come from a replica, so a read waits out its lag (none on one server).
    response = settled(
        lambda: get_thread.sync_detailed(answer.id, client=anonymous),
        lambda r: r.status_code != 200 or len(r.parsed.ancestors) == 2,
    )
    thread = expect(response, 200, Thread)
    rate_limit_fields(response, "getThread")
    assert [c.id for c in thread.ancestors] == [root.id, replies[0].id], thread.ancestors
    assert (thread.more_ancestors, thread.chirp, thread.replies) == (False, answer, []), thread
    assert "link" not in response.headers, response.headers
    # The root's: no ancestors, its count, and its replies oldest first, one a page, each
    # page's Link naming the next until the last.
    whole = settled(
        lambda: expect(get_thread.sync_detailed(root.id, client=anonymous), 200, Thread),
        lambda t: len(t.replies) == 3,
    )
    assert (whole.ancestors, whole.more_ancestors, whole.chirp.id) == ([], False, root.id), whole
    assert whole.chirp.reply_count == 3, whole.chirp
    pages, query = [], {}
    while True:
        response = get_thread.sync_detailed(root.id, client=anonymous, limit=1, cursor=query.get("cursor", UNSET))
        page = expect(response, 200, Thread)
        assert page.chirp.id == root.id and page.ancestors == [], page
        pages.append([c.id for c in page.replies])
        assert len(pages) <= len(replies), f"more pages than replies: {pages}"
        if (query := next_page(response)) is None:
            break
        assert query.get("limit") == "1" and re.fullmatch(r"[0-9a-f]{48}", query.get("cursor", "")), query
    assert pages == [[r.id] for r in replies], (pages, replies)
    assert [c.reply_count for c in whole.replies] == [1, 0, 0], whole.replies
    expect(get_thread.sync_detailed(uuid.uuid4(), client=anonymous), 404, ErrorBody)
    expect(get_thread.sync_detailed(root.id, client=anonymous, cursor="0" * 47), 400, ErrorBody)

    # Jesse likes the root: 204, and again 204 (still one like). Read with his token, the
    # count shows it at once, by id and in a list, on any instance.
    liked = like_chirp.sync_detailed(root.id, client=jesse_client)
    expect(liked, 204, None)
    rate_limit_fields(liked, "likeChirp")
    expect(like_chirp.sync_detailed(root.id, client=jesse_client), 204, None)
    assert expect(get_chirp.sync_detailed(root.id, client=jesse_client), 200, Chirp).like_count == 1
    listed = expect(list_chirps.sync_detailed(client=jesse_client, author_id=walt.id, sort=SortOrder.DESC), 200, list)
    assert [c.like_count for c in listed if c.id == root.id] == [1], listed
    # Skyler (who has no handle: null in her profile) likes it too. The likes list has the
    # newest like first, one a page through Link, profiles without emails.
    expect(like_chirp.sync_detailed(root.id, client=skyler_client), 204, None)
    assert expect(get_chirp.sync_detailed(root.id, client=skyler_client), 200, Chirp).like_count == 2
    likers = list_likes.sync_detailed(root.id, client=skyler_client)
    profiles = expect(likers, 200, list)
    assert [(p.id, p.handle) for p in profiles] == [(skyler.id, None), (jesse.id, jesse.handle)], profiles
    assert all("email" not in p for p in json.loads(likers.content)) and "link" not in likers.headers, likers.content
    pages, query = [], {}
    while True:
        response = list_likes.sync_detailed(root.id, client=skyler_client, limit=1, cursor=query.get("cursor", UNSET))
        pages.append([p.id for p in expect(response, 200, list)])
        assert len(pages) <= 2, f"more pages than likes: {pages}"
        if (query := next_page(response)) is None:
            break
        assert query.get("limit") == "1" and re.fullmatch(r"[0-9a-f]{48}", query.get("cursor", "")), query
    assert pages == [[skyler.id], [jesse.id]], pages
    # Jesse unlikes: 204, and again 204. Liking, unliking or listing no chirp is 404; liking
    # without a token 401.
    expect(unlike_chirp.sync_detailed(root.id, client=jesse_client), 204, None)
    expect(unlike_chirp.sync_detailed(root.id, client=jesse_client), 204, None)
    assert expect(get_chirp.sync_detailed(root.id, client=jesse_client), 200, Chirp).like_count == 1
    assert [p.id for p in expect(list_likes.sync_detailed(root.id, client=jesse_client), 200, list)] == [skyler.id]
    nobody = uuid.uuid4()
    expect(like_chirp.sync_detailed(nobody, client=jesse_client), 404, ErrorBody)
    expect(unlike_chirp.sync_detailed(nobody, client=jesse_client), 404, ErrorBody)
    expect(list_likes.sync_detailed(nobody, client=anonymous), 404, ErrorBody)
    expect(like_chirp.sync_detailed(root.id, client=anonymous), 401, ErrorBody)

    # Search by a word: every chirp with it, newest first; with two words (any letter case),
    # those with both; a page at a time through Link. A profane word is stored masked, so
    # searching for it finds nothing, even beside a word its chirp does contain.
    profanity = NewChirp(f"What a kerfuffle, {word}")
    profane = expect(create_chirp.sync_detailed(client=skyler_client, body=profanity), 201, Chirp)
    assert profane.body == f"What a ****, {word}", profane
    mine = [root, *replies, answer, profane]
    response = settled(
        lambda: search_chirps.sync_detailed(client=anonymous, q=word),
        lambda r: r.status_code != 200 or len(r.parsed) == len(mine),
    )
    assert [c.id for c in expect(response, 200, list)] == newest_first(mine), response.parsed
    rate_limit_fields(response, "searchChirps")
    both = expect(search_chirps.sync_detailed(client=anonymous, q=f"BLUE {word.upper()}"), 200, list)
    assert [c.id for c in both] == newest_first([root, answer]), both
    pages, query = [], {}
    while True:
        cursor = query.get("cursor", UNSET)
        response = search_chirps.sync_detailed(client=anonymous, q=f"blue {word}", limit=1, cursor=cursor)
        pages.append([c.id for c in expect(response, 200, list)])
        assert len(pages) <= 2, f"more pages than chirps: {pages}"
        if (query := next_page(response)) is None:
            break
        assert query.get("q") == f"blue {word}" and query.get("limit") == "1", query
    assert pages == [[id] for id in newest_first([root, answer])], pages
    assert expect(search_chirps.sync_detailed(client=anonymous, q=f"kerfuffle {word}"), 200, list) == []
    assert expect(search_chirps.sync_detailed(client=anonymous, q="kerfuffle"), 200, list) == []

    # People by the start of a handle, in any letter case, with or without `@`: no emails.
    start = walt.handle[: len("Heisenberg_") + 8]
    for q in (start.lower(), f"@{start.upper()}"):
        response = search_users.sync_detailed(client=walt_client, q=q)
        found = expect(response, 200, list)
        assert [(p.id, p.handle, p.followed_by_me) for p in found] == [(walt.id, walt.handle, False)], (q, found)
        assert "email" not in json.loads(response.content)[0], response.content
    assert expect(search_users.sync_detailed(client=anonymous, q=f"nobody_{word}"), 200, list) == []

    # `q` is 1 to 200 characters with something visible and no NUL: else 400.
    for q in ("", "x" * 201, "   ", "a\0b"):
        expect(search_chirps.sync_detailed(client=anonymous, q=q), 400, ErrorBody)
        expect(search_users.sync_detailed(client=anonymous, q=q), 400, ErrorBody)


def notified_and_protected(
    base_url: str,
    walt: User,
    walt_client: AuthenticatedClient,
    jesse: User,
    jesse_client: AuthenticatedClient,
    skyler: User,
    skyler_client: AuthenticatedClient,
) -> None:
    """Skyler follows Walt and likes a chirp of his: Walt is notified, reads up to them (the
    marker), and an unlike takes its notification back. Walt blocks Jesse: no follow and no like
    either way until he unblocks. Skyler mutes Walt: his chirps leave her home until she
    unmutes. Jesse reports Walt; nobody can report themselves."""
    anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)
    chirp = expect(create_chirp.sync_detailed(client=walt_client, body=NewChirp("Notify me")), 201, Chirp)
    expect(follow.sync_detailed(walt.id, client=skyler_client), 204, None)
    expect(like_chirp.sync_detailed(chirp.id, client=skyler_client), 204, None)

    def skylers(found: list) -> set:
        return {(n.type_, n.chirp_id if n.type_ == "like" else None) for n in found if n.actor_id == skyler.id}

    def walts_notifications(**query) -> list:
        return expect(list_notifications.sync_detailed(client=walt_client, **query), 200, list)

    found = settled(walts_notifications, lambda found: {("follow", None), ("like", chirp.id)} <= skylers(found))
    assert {("follow", None), ("like", chirp.id)} <= skylers(found), found
    assert [int(n.id) for n in found] == sorted((int(n.id) for n in found), reverse=True), "newest first"
    likes_only = walts_notifications(types=[NotificationType.LIKE])
    assert likes_only and all(n.type_ == "like" for n in likes_only), likes_only
    assert expect(count_unread_notifications.sync_detailed(client=walt_client), 200, Unread).count >= 2
    marker = expect(set_notifications_marker.sync_detailed(client=walt_client, body=NewMarker(found[0].id)), 200,
                    Marker)
    assert marker.last_read_id == found[0].id, marker
    # The marker is on the primary at once; a replica may take its lag to show it.
    unread = settled(lambda: expect(count_unread_notifications.sync_detailed(client=walt_client), 200, Unread),
                     lambda unread: unread.count == 0)
    assert unread.count == 0, unread
    expect(count_unread_notifications.sync_detailed(client=anonymous), 401, ErrorBody)
    expect(unlike_chirp.sync_detailed(chirp.id, client=skyler_client), 204, None)
    found = settled(walts_notifications, lambda found: ("like", chirp.id) not in skylers(found))
    assert ("like", chirp.id) not in skylers(found), "an unlike takes its notification back"

    # A block works both ways; a block list is the blocker's own.
    expect(block.sync_detailed(jesse.id, client=walt_client), 204, None)
    expect(block.sync_detailed(jesse.id, client=walt_client), 204, None)
    blocked = expect(list_blocks.sync_detailed(client=walt_client), 200, list)
    assert [p.user_id for p in blocked] == [jesse.id], blocked
    assert expect(list_blocks.sync_detailed(client=jesse_client), 200, list) == []
    expect(block.sync_detailed(walt.id, client=walt_client), 400, ErrorBody)
    for refused in (follow.sync_detailed(walt.id, client=jesse_client), follow.sync_detailed(jesse.id, client=walt_client),
                    like_chirp.sync_detailed(chirp.id, client=jesse_client)):
        assert expect(refused, 403, ErrorBody).error, refused.content
    expect(unblock.sync_detailed(jesse.id, client=walt_client), 204, None)
    expect(like_chirp.sync_detailed(chirp.id, client=jesse_client), 204, None)
    expect(unlike_chirp.sync_detailed(chirp.id, client=jesse_client), 204, None)

    # A mute hides Walt from Skyler's home (she follows him), and only from hers.
    def in_skylers_home() -> bool:
        page = expect(get_home_timeline.sync_detailed(client=skyler_client, limit=100), 200, list)
        return chirp.id in {c.id for c in page}

    assert in_skylers_home()
    expect(mute.sync_detailed(walt.id, client=skyler_client), 204, None)
    assert [p.user_id for p in expect(list_mutes.sync_detailed(client=skyler_client), 200, list)] == [walt.id]
    assert not in_skylers_home(), "a mute shows at once in the muter's own home"
    expect(unmute.sync_detailed(walt.id, client=skyler_client), 204, None)
    assert in_skylers_home()
    expect(unfollow.sync_detailed(walt.id, client=skyler_client), 204, None)

    # Reports: about someone else and their chirps, never oneself.
    report = NewReport(user_id=walt.id, reason="Spam, every few seconds.", chirp_ids=[chirp.id])
    filed = expect(create_report.sync_detailed(client=jesse_client, body=report), 201, Report)
    assert (filed.reporter_id, filed.user_id, filed.chirp_ids, filed.status) == (jesse.id, walt.id, [chirp.id], "open")
    yourself = NewReport(user_id=jesse.id, reason="Me?")
    assert expect(create_report.sync_detailed(client=jesse_client, body=yourself), 400, ErrorBody).error
    expect(create_report.sync_detailed(client=anonymous, body=report), 401, ErrorBody)


def main(base_url: str, polka_key: str) -> None:
    anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)
    suffix = uuid.uuid4().hex[:12]
    email, password = f"walt-{suffix}@example.com", "say my name"

    # Sign up two users, each with a handle (kept as typed), log in as the first.
    signup = NewUser(email, password, handle=f"Heisenberg_{suffix}")
    walt = expect(create_user.sync_detailed(client=anonymous, body=signup), 201, User)
    assert walt.email == email and walt.is_chirpy_red is False and walt.handle == signup.handle
    assert (walt.display_name, walt.bio) == ("", "")
    jesse_signup = NewUser(f"jesse-{suffix}@example.com", "yo", handle=f"cap_n_{suffix}")
    jesse = expect(create_user.sync_detailed(client=anonymous, body=jesse_signup), 201, User)
    assert jesse.handle == jesse_signup.handle
    taken = expect(create_user.sync_detailed(client=anonymous, body=NewUser(email.upper(), "x")), 409, ErrorBody)
    assert taken.error == "Email is already taken"
    # Handles are unique in any letter case.
    other = NewUser(f"skyler-{suffix}@example.com", "x", handle=walt.handle.lower())
    expect(create_user.sync_detailed(client=anonymous, body=other), 409, ErrorBody)
    # A handle is optional: without one it is null (declared nullable).
    skyler_signup = NewUser(f"skyler.white-{suffix}@example.com", "car wash")
    signed_up = create_user.sync_detailed(client=anonymous, body=skyler_signup)
    skyler = expect(signed_up, 201, User)
    assert skyler.handle is None and json.loads(signed_up.content)["handle"] is None, signed_up.content
    wrong = expect(login.sync_detailed(client=anonymous, body=Login(email, "wrong")), 401, ErrorBody)
    assert wrong.error == "Incorrect email or password"

    session = expect(login.sync_detailed(client=anonymous, body=Login(email, password)), 200, LoggedIn)
    assert session.id == walt.id and len(session.refresh_token) == 64
    walt_client = authed(base_url, session.token)
    jesse_session = expect(login.sync_detailed(client=anonymous, body=Login(jesse.email, "yo")), 200, LoggedIn)
    jesse_client = authed(base_url, jesse_session.token)
    skyler_session = expect(login.sync_detailed(client=anonymous, body=Login(skyler.email, "car wash")), 200, LoggedIn)
    skyler_client = authed(base_url, skyler_session.token)

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

    # Conditional GETs: the ETag sent back in If-None-Match gets 304, no body, while nothing changed.
    fresh = get_chirp.sync_detailed(client=anonymous, chirp_id=first.id)
    etag = fresh.headers["etag"]
    assert fresh.headers["cache-control"] == "no-cache"
    not_modified = get_chirp.sync_detailed(client=anonymous, chirp_id=first.id, if_none_match=etag)
    expect(not_modified, 304, None)
    assert not_modified.headers["etag"] == etag
    list_etag = list_chirps.sync_detailed(client=anonymous, author_id=walt.id).headers["etag"]
    expect(list_chirps.sync_detailed(client=anonymous, author_id=walt.id, if_none_match=list_etag), 304, None)

    # Who am I: the caller's own user, from the access token alone.
    me = expect(get_me.sync_detailed(client=walt_client), 200, User)
    assert (me.id, me.email, me.is_chirpy_red) == (walt.id, email, False)
    expect(get_me.sync_detailed(client=anonymous), 401, ErrorBody)
    expect(get_me.sync_detailed(client=authed(base_url, "not-a-token")), 401, ErrorBody)

    # Safe retries: the same Idempotency-Key and text replay the first 201 (no second chirp);
    # the same key with other text is 422; a malformed key 400; keys are per user.
    key = str(uuid.uuid4())
    once = expect(create_chirp.sync_detailed(client=walt_client, body=NewChirp("Posted once"), idempotency_key=key), 201, Chirp)
    again = expect(create_chirp.sync_detailed(client=walt_client, body=NewChirp("Posted once"), idempotency_key=key), 201, Chirp)
    assert again == once, (again, once)
    other_text = create_chirp.sync_detailed(client=walt_client, body=NewChirp("Posted twice?"), idempotency_key=key)
    assert expect(other_text, 422, ErrorBody).error
    expect(create_chirp.sync_detailed(client=walt_client, body=NewChirp("x"), idempotency_key="not a key"), 400, ErrorBody)
    jesses = expect(create_chirp.sync_detailed(client=jesse_client, body=NewChirp("Posted once"), idempotency_key=key), 201, Chirp)
    assert jesses.id != once.id and jesses.user_id == jesse.id
    walts = expect(list_chirps.sync_detailed(client=anonymous, author_id=walt.id), 200, list)
    assert [c.body for c in walts].count("Posted once") == 1, walts
    # The list changed, so its old ETag no longer matches.
    changed = list_chirps.sync_detailed(client=anonymous, author_id=walt.id, if_none_match=list_etag)
    assert changed.status_code == 200 and changed.headers["etag"] != list_etag

    # The live stream: a chirp posted through the client arrives as `chirp.created`.
    by_walt = {"author_id": str(walt.id)}
    with EventStream(base_url, "/api/chirps/stream", by_walt) as stream:
        live = expect(create_chirp.sync_detailed(client=walt_client, body=NewChirp("Live!")), 201, Chirp)
        seen_id, kind, data = stream.next_event()
        assert kind == "chirp.created" and Chirp.from_dict(data) == live, (kind, data)
    # Missed while disconnected, then caught up from Last-Event-ID: in order, none twice.
    missed = expect(create_chirp.sync_detailed(client=walt_client, body=NewChirp("Missed")), 201, Chirp)
    expect(delete_chirp.sync_detailed(client=walt_client, chirp_id=live.id), 204, None)
    with EventStream(base_url, "/api/chirps/stream", by_walt, last_event_id=seen_id) as resumed:
        _, kind, data = resumed.next_event()
        assert kind == "chirp.created" and Chirp.from_dict(data) == missed, (kind, data)
        _, kind, data = resumed.next_event()
        assert kind == "chirp.deleted" and DeletedChirp.from_dict(data).id == live.id, (kind, data)
        # Nothing else was pending: the next event is the one that happens now.
        now = expect(create_chirp.sync_detailed(client=walt_client, body=NewChirp("Now")), 201, Chirp)
        _, kind, data = resumed.next_event()
        assert kind == "chirp.created" and Chirp.from_dict(data).id == now.id, (kind, data)

    # Last-Event-ID is read as sent: one that is not ASCII is refused, not taken for none.
    for path, token in (("/api/chirps/stream", None), ("/api/timelines/home/stream", jesse_session.token)):
        headers = {"Last-Event-ID": "1-\u00e9".encode()} | ({"Authorization": f"Bearer {token}"} if token else {})
        with httpx.Client(base_url=base_url, timeout=5.0) as http, http.stream("GET", path, headers=headers) as refused:
            assert refused.status_code == 400, f"{path}: {refused.status_code}"
            assert ErrorBody.from_dict(json.loads(refused.read())).error, refused.content

    # Refresh the access token and use the new one.
    refresh_client = authed(base_url, session.refresh_token)
    refreshed = expect(refresh_token.sync_detailed(client=refresh_client), 200, Refreshed)
    walt_client = authed(base_url, refreshed.token)

    # Update email and password; the old password stops working. This revokes refresh tokens, so log in again.
    new_email = f"heisenberg-{suffix}@example.com"
    updated = expect(update_user.sync_detailed(client=walt_client, body=Credentials(new_email, "blue sky")), 200, User)
    assert updated.email == new_email and updated.updated_at > walt.updated_at
    assert expect(get_me.sync_detailed(client=walt_client), 200, User).email == new_email
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
    assert expect(get_me.sync_detailed(client=walt_client), 200, User).is_chirpy_red is True
    session = expect(login.sync_detailed(client=anonymous, body=Login(new_email, "blue sky")), 200, LoggedIn)
    assert session.is_chirpy_red is True

    # Revoke the refresh token; refreshing with it fails.
    refresh_client = authed(base_url, session.refresh_token)
    expect(revoke_token.sync_detailed(client=refresh_client), 204, None)
    expect(refresh_token.sync_detailed(client=refresh_client), 401, ErrorBody)

    follow_and_read_a_timeline(base_url, walt, walt_client, jesse, jesse_session.token)
    reply_like_and_search(base_url, f"w{suffix}", walt, walt_client, jesse, jesse_client, skyler, skyler_client)
    notified_and_protected(base_url, walt, walt_client, jesse, jesse_client, skyler, skyler_client)

    print("python client journey: ok (generated with openapi-python-client)")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
