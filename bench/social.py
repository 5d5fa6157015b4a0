"""The social data set of `just bench` (the home timeline's cases): users who follow each other
with a power-law shape, chirps by authors whose activity is a power law too, and access tokens
minted for every user. Made with SQL, in a database of its own on the bench's cluster.

The shape, for the full run (--quick makes a tiny one):

- 10,000 users. User n is the n-th most followed and the n-th most active (popular accounts
  post more): user 1 is the account everyone follows, "the celebrity".
- Out-degrees (whom a user follows, besides the celebrity) are Pareto quantiles, a power law
  with tail exponent 1.5, scaled so that the median user follows 100 accounts (the celebrity
  included), capped so that the few heaviest follow exactly 5,000, and dealt out to users in a
  fixed shuffled order (how many one follows has nothing to do with how followed one is).
- Whom they follow: distinct accounts drawn with a popularity skew (rank = N * u^3 for a
  uniform u: account r is drawn about r^(-2/3) as often as the first), so in-degrees follow a
  power law too; users following more than a tenth of everyone fill up with random accounts
  once the skewed draws run dry.
- 1,000,000 chirps, one every 30 seconds from 2025-01-01 plus a jitter under 30 s, so their
  timestamps are distinct; each by an author drawn with rank = N * u^2 (the celebrity writes
  about 1 in 100).

A variant (`independent`) draws the authors the same way but gives the activity ranks to users
in a fixed shuffled order, so that how much one writes has nothing to do with how followed one
is: it tells how much the timeline's cost depends on followed accounts writing more.

Everything random is seeded (setseed), so every run builds the same data set. Ids are md5s of
the user or chirp number, as seed.py makes them, so that pgbench (whose variables are
integers) can name the same rows.
"""

from __future__ import annotations

import hashlib
import random
import statistics
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from chirpy_harness.errors import HarnessError

import seed
from seed import CHIRP_ID_SQL, USER_ID_SQL, Psql

# The database the social data set lives in, on the bench's cluster.
DATABASE = "social"

# Tail exponent of the out-degree power law (Pareto): P(degree > x) ~ x^-1.5.
DEGREE_ALPHA = 1.5
# Followees are drawn as rank = N * u^FOLLOW_SKEW; authors as rank = N * u^ACTIVITY_SKEW.
FOLLOW_SKEW = 3
ACTIVITY_SKEW = 2
# Skewed draws per user: 2 * degree + 20, plenty for distinct picks below a tenth of everyone;
# above it, every user is a candidate too (after the skewed ones).
FALLBACK_SHARE = 0.1
SHUFFLE_SEED = 17
ACTIVITY_SHUFFLE_SEED = 23
# Chirp bodies: this many distinct sentences, dealt out in turn.
BODIES = 4096
CHIRP_STEP_S = 30


@dataclass(frozen=True)
class Shape:
    """How big the data set is: users, chirps, and the follow graph's median and heaviest
    following counts (the celebrity included)."""

    users: int
    chirps: int
    median_following: int
    most_following: int

    @property
    def fallback_degree(self) -> int:
        return max(1, int(self.users * FALLBACK_SHARE))


FULL = Shape(users=10_000, chirps=1_000_000, median_following=100, most_following=5_000)
QUICK = Shape(users=300, chirps=20_000, median_following=20, most_following=150)


def user_id(n: int) -> str:
    """User n's id, as USER_ID_SQL makes it in PostgreSQL (md5's hex digits read as a uuid)."""
    return str(uuid.UUID(hashlib.md5(f"chirpy-bench-user-{n}".encode()).hexdigest()))


def out_degrees(shape: Shape, alpha: float = DEGREE_ALPHA, shuffle_seed: int = SHUFFLE_SEED) -> list[int]:
    """How many accounts each of users 1..N follows besides the celebrity (user 1, who follows
    only these): Pareto quantiles (q = (i + 1/2) / N) with median `median_following - 1`, capped
    at `most_following - 1`, dealt out in a fixed shuffled order. Index 0 is user 1."""
    n = shape.users
    # Pareto: x(q) = x_min * (1 - q)^(-1/alpha), whose median is x_min * 2^(1/alpha).
    x_min = (shape.median_following - 1) / 2 ** (1 / alpha)
    cap = min(shape.most_following - 1, n - 2)  # nobody follows themselves or the celebrity twice
    degrees = [min(cap, max(1, round(x_min * (1 - (i + 0.5) / n) ** (-1 / alpha)))) for i in range(n)]
    random.Random(shuffle_seed).shuffle(degrees)
    return degrees


def activity_order(shape: Shape) -> list[int]:
    """For the independent variant: the user (number) of each activity rank 1..N, shuffled."""
    users = list(range(1, shape.users + 1))
    random.Random(ACTIVITY_SHUFFLE_SEED).shuffle(users)
    return users


def following_counts(degrees: list[int]) -> list[int]:
    """Each user's following count as the server keeps it: the degree, plus the celebrity for
    everyone but the celebrity."""
    return [d + (1 if i else 0) for i, d in enumerate(degrees)]


def heavy_users(shape: Shape, degrees: list[int]) -> list[int]:
    """The users (numbers) who follow `most_following` accounts."""
    return [i + 1 for i, f in enumerate(following_counts(degrees)) if f >= shape.most_following]


def median_user(degrees: list[int]) -> int:
    """A user (number) whose following count is the median, for EXPLAIN."""
    counts = following_counts(degrees)
    median = statistics.median_low(counts)
    return next(i + 1 for i, f in enumerate(counts) if i and f == median)


def int_array(values: list[int]) -> str:
    return "'{" + ",".join(map(str, values)) + "}'::int[]"


def users_sql(shape: Shape, hashed_password: str) -> str:
    """Users 1..N, each with a handle and the one real Argon2id hash (so any can log in)."""
    return f"""
        insert into users (id, created_at, updated_at, email, email_key, hashed_password, handle, display_name)
        select {USER_ID_SQL.format(n="n")}, t, t, e, e, '{hashed_password}', 'user_' || n, 'User ' || n
        from generate_series(1, {shape.users}) n,
             lateral (select timestamptz '2024-01-01' + n * interval '1 minute') s(t),
             lateral (select 'bench-user-' || n || '@example.com') m(e);
    """


def chirps_sql(shape: Shape, authors: list[int] | None = None) -> str:
    """Chirps 1..M: distinct, increasing timestamps; authors drawn with the activity skew (user n
    the n-th most active, or `authors[n - 1]` when given); bodies from BODIES sentences of random
    words."""
    words = "array[" + ",".join(f"'{w}'" for w in seed.WORDS) + "]"
    author = f"1 + floor({shape.users} * random() ^ {ACTIVITY_SKEW})::int"
    if authors is not None:
        author = f"({int_array(authors)})[{author}]"
    return f"""
        select setseed(0.25);
        create temp table bench_bodies as
        select i, left(initcap(array_to_string(array(
                   select ({words})[1 + floor(random() * {len(seed.WORDS)})::int]
                   from generate_series(1, 2 + floor(random() * 24)::int + i * 0)), ' ')) || '.', 140) as body
        from generate_series(0, {BODIES - 1}) i;
        select setseed(0.5);
        insert into chirps (id, created_at, updated_at, body, user_id)
        select {CHIRP_ID_SQL.format(n="n")}, t, t, b.body, {USER_ID_SQL.format(n=author)}
        from generate_series(1, {shape.chirps}) n
        join bench_bodies b on b.i = n % {BODIES},
             lateral (select timestamptz '2025-01-01' + n * interval '{CHIRP_STEP_S} seconds'
                             + random() * interval '{CHIRP_STEP_S - 1} seconds' + n * interval '0') s(t);
    """


def follows_sql(shape: Shape, degrees: list[int]) -> str:
    """Each user's `degree` distinct followees (never themselves nor the celebrity), drawn
    with the popularity skew and, past FALLBACK_SHARE of everyone, topped up from all users;
    then everyone but the celebrity follows the celebrity. Sorted by the primary key, so the
    two indexes that lead with the follower fill in order."""
    n = shape.users
    followee = f"2 + floor({n - 1} * random() ^ {FOLLOW_SKEW})::int + d.n * 0"
    return f"""
        select setseed(0.75);
        insert into follows (follower_id, followee_id, created_at, updated_at)
        select * from (
            select {USER_ID_SQL.format(n="d.n")}, {USER_ID_SQL.format(n="f.v")}, f.t, f.t
            from unnest({int_array(degrees)}) with ordinality as d(degree, n)
            cross join lateral (
                select v, timestamptz '2024-06-01' + random() * interval '180 days' as t
                from (
                    select v, min(priority) as priority
                    from (
                        select {followee} as v, random() as priority
                        from generate_series(1, 2 * d.degree + 20)
                        union all
                        select v, 1 + random() from generate_series(2, {n}) v
                        where d.degree > {shape.fallback_degree}
                    ) drawn
                    where v <> d.n
                    group by v
                ) candidates
                order by priority
                limit d.degree
            ) f
            union all
            select {USER_ID_SQL.format(n="u")}, {USER_ID_SQL.format(n="1")}, t, t
            from generate_series(2, {n}) u,
                 lateral (select timestamptz '2024-01-01' + u * interval '1 second') s(t)
        ) edges
        order by 1, 2;
    """


# The counts the triggers keep, recomputed after the bulk load in one statement.
RECOUNT_SQL = """
    update users u
       set following_count = c.following, followers_count = c.followers, chirps_count = c.chirps
    from (select users.id, coalesce(fo.n, 0) as following, coalesce(fe.n, 0) as followers,
                 coalesce(ch.n, 0) as chirps
          from users
          left join (select follower_id as id, count(*) as n from follows group by 1) fo using (id)
          left join (select followee_id as id, count(*) as n from follows group by 1) fe using (id)
          left join (select user_id as id, count(*) as n from chirps group by 1) ch using (id)) c
    where u.id = c.id;
"""


def bulk(table: str, statements: str) -> str:
    """`statements` in one transaction with `table`'s own triggers (the counts and the event log;
    not the foreign keys) off: per-row triggers would cost minutes here, and the live feeds have
    no business replaying a data set that never happened. RECOUNT_SQL puts the counts right after;
    the event log stays without the seeded rows. A failure rolls it all back, triggers included."""
    return f"""
        set max_parallel_workers_per_gather = 0;
        set jit = off;
        set work_mem = '64MB';
        begin;
        alter table {table} disable trigger user;
        {statements}
        alter table {table} enable trigger user;
        commit;
    """


def user_triggers(psql: Psql, table: str) -> list[str]:
    return psql.run(f"select tgname from pg_trigger where tgrelid = '{table}'::regclass and not tgisinternal "
                    "order by 1").split()


def sign_up_hash(base_url: str, psql: Psql) -> str:
    """One sign-up through the API, for a real Argon2id hash; the user is then deleted."""
    status, user = seed.http_json(base_url, "POST", "/api/users",
                                  {"email": "bench-social-signup@example.com", "password": seed.PASSWORD})
    if status != 201:
        raise HarnessError(f"sign-up answered {status}")
    hashed = psql.scalar(f"select hashed_password from users where id = '{user['id']}'")
    if not hashed.startswith("$argon2"):
        raise HarnessError(f"unexpected hash {hashed[:20]}...")
    psql.run(f"delete from users where id = '{user['id']}'")
    return hashed


def load(base_url: str, psql: Psql, shape: Shape, log) -> dict:
    """Seeds the social database (already migrated by its server); returns seconds per step,
    the triggers turned off during the load, and the data set's figures."""
    degrees = out_degrees(shape)
    steps: dict[str, float] = {}

    def step(name: str, sql: str) -> None:
        started = time.monotonic()
        psql.run(sql)
        steps[name] = time.monotonic() - started
        log(f"social: {name} in {steps[name]:.1f}s")

    hashed = sign_up_hash(base_url, psql)
    off = {table: user_triggers(psql, table) for table in ("chirps", "follows")}
    step(f"{shape.users:,} users", users_sql(shape, hashed))
    step(f"{shape.chirps:,} chirps", bulk("chirps", chirps_sql(shape)))
    step(f"{sum(following_counts(degrees)):,} follows", bulk("follows", follows_sql(shape, degrees)))
    step("the counts, recomputed", RECOUNT_SQL)
    step("vacuum analyze, checkpoint", "vacuum analyze users;\nvacuum analyze chirps;\nvacuum analyze follows;\n"
                                       "checkpoint;")
    check_counts(psql, shape, degrees)
    figures = describe(psql)
    return {"steps": steps, "seconds": sum(steps.values()), "triggers_off": off, "figures": figures,
            "degrees": degrees}


def check_counts(psql: Psql, shape: Shape, degrees: list[int], sample: int = 50) -> None:
    """The recomputed counts against count(*) for the celebrity, the heavy followers and a
    sample of users; and every following count against the degrees asked for."""
    heavy = heavy_users(shape, degrees)
    picks = sorted({1, *heavy, *range(1, shape.users + 1, max(1, shape.users // sample))})
    wrong = psql.run(f"""
        select n from unnest({int_array(picks)}) n
        join users u on u.id = {USER_ID_SQL.format(n="n")}
        where u.following_count <> (select count(*) from follows where follower_id = u.id)
           or u.followers_count <> (select count(*) from follows where followee_id = u.id)
           or u.chirps_count <> (select count(*) from chirps where user_id = u.id);
    """).split()
    if wrong:
        raise HarnessError(f"social: counts differ from count(*) for users {', '.join(wrong[:10])}")
    got = [int(x) for x in psql.run(f"""
        select u.following_count from generate_series(1, {shape.users}) n
        join users u on u.id = {USER_ID_SQL.format(n="n")} order by n;
    """).split()]
    short = [i + 1 for i, (a, b) in enumerate(zip(got, following_counts(degrees))) if a != b]
    if len(got) != shape.users or short:
        raise HarnessError(f"social: {len(short)} users follow other than their degree (first: {short[:5]})")


def describe(psql: Psql) -> dict:
    """The data set as seeded: sizes, and the spread of following, followers and chirps."""
    q = "array[0.5, 0.9, 0.99, 1]"
    row = psql.run(f"""
        select count(*),
               (select count(*) from chirps), (select count(*) from follows),
               percentile_disc({q}) within group (order by following_count),
               percentile_disc({q}) within group (order by followers_count),
               percentile_disc({q}) within group (order by chirps_count),
               min(following_count), min(chirps_count),
               (select chirps_count from users where id = {USER_ID_SQL.format(n="1")}),
               (select followers_count from users where id = {USER_ID_SQL.format(n="1")}),
               pg_total_relation_size('chirps'), pg_total_relation_size('follows'), pg_total_relation_size('users')
        from users;
    """).strip().split("|")
    share = psql.scalar(TIMELINE_SHARE_SQL)

    def spread(text: str) -> list[int]:
        return [int(x) for x in text.strip("{}").split(",")]

    return {
        "users": int(row[0]), "chirps": int(row[1]), "follows": int(row[2]),
        "following": spread(row[3]), "followers": spread(row[4]), "chirps_per_user": spread(row[5]),
        "min_following": int(row[6]), "min_chirps": int(row[7]),
        "celebrity_chirps": int(row[8]), "celebrity_followers": int(row[9]),
        "bytes": {"chirps": int(row[10]), "follows": int(row[11]), "users": int(row[12])},
        "timeline_share": [float(x) for x in share.strip("{}").split(",")],
    }


# What share of all chirps each reader's timeline holds (their own and their followees'): min,
# p10, median, p90. The naive query walks the newest chirps of all until it has a page: about
# 21 / share rows.
TIMELINE_SHARE_SQL = """
    select percentile_disc(array[0, 0.1, 0.5, 0.9]) within group (order by share)
    from (select r.id, (r.chirps_count + coalesce(sum(u.chirps_count), 0))::float8
                       / greatest((select sum(chirps_count) from users), 1) as share
          from users r
          left join follows f on f.follower_id = r.id
          left join users u on u.id = f.followee_id
          group by r.id, r.chirps_count) s;
"""


def reauthor(psql: Psql, shape: Shape, log) -> dict:
    """Makes the database (a copy of the seeded one) the independent variant: its chirps again,
    by the same draws given to users in a shuffled order, and the counts recomputed."""
    started = time.monotonic()
    psql.run(bulk("chirps", f"truncate chirps cascade;\n{chirps_sql(shape, activity_order(shape))}"))
    psql.run(RECOUNT_SQL + "\nvacuum analyze users;\nvacuum analyze chirps;\ncheckpoint;")
    seconds = time.monotonic() - started
    log(f"social: the independent variant's chirps in {seconds:.1f}s")
    celebrity = psql.scalar(f"select chirps_count from users where id = {USER_ID_SQL.format(n='1')}")
    share = psql.scalar(TIMELINE_SHARE_SQL)
    return {"seconds": seconds, "celebrity_chirps": int(celebrity),
            "timeline_share": [float(x) for x in share.strip("{}").split(",")]}
