"""BENCHMARKS.md's section 9 and its rows of the Targets table: the social data set, the home
timeline's first page for random users and for the heaviest followers next to pgbench, the
celebrity's posts, the fan-out candidates side by side; then likes, notifications and search
(report_likes.py)."""

from __future__ import annotations

import math
import re

from chirpy_harness.report import fmt_ms, fmt_rate, mib

import social
import social_sql
from cases import CACHE_MIB
import report_likes
from loadgen import Result
from report_rows import at_most, busiest, case_table, ratio, row, shown
from social_cases import HOME

HEADING = "## 9. The social data set: the home timeline, likes, notifications and search"
# What section 9 was called before it held likes and search, recognised when merging a run of
# one part into an older file.
OLD_HEADINGS = ("## 9. The home timeline: a social data set, fan-out on read and on write",)
# Every row this part adds to the Targets table starts with one of these, so a run of one part
# can put the other's rows back (benchmarks_md.merge).
TARGET_PREFIX = "home timeline: "
TARGET_PREFIXES = (TARGET_PREFIX, *report_likes.TARGET_PREFIXES)
# The hand-written findings below the region.
FINDINGS = "[The home timeline: the design, from the measurements](#the-home-timeline-the-design-from-the-measurements)"
P99_GOAL_MS = 20
HEAVY_P99_GOAL_MS = 50
POST_P99_GOAL_MS = 50
DURING_GOAL = 2.0
# The server may hold its idle RSS, the chirp cache and this much more while timelines are read.
RSS_MARGIN_MIB = 20


def targets(data: dict) -> list[tuple[str, str, str, str, bool, float]]:
    """(target, measured, ratio, goal, met, noise) for the issue's table."""
    r: dict[str, Result] = data["cases"]
    s = data["social"]
    home, naive, heavy = r["social_home"], r["social_pg_naive"], r["social_home_heavy"]
    rest, during, post = r["social_home_rest"], r["social_home_during"], r["social_celebrity_post"]

    noise = busiest
    peak = max(c.rss_peak for c in (home, heavy, rest, during))
    budget = s["idle_rss"] + (CACHE_MIB + RSS_MARGIN_MIB) * 1024 * 1024
    x = ratio(home.rps, naive.rps)
    worse = ratio(during.p99_ms, rest.p99_ms)
    most = f"{s['shape'].most_following:,}"
    # The bench stops on a page that lacks the followee's chirps, so a report has all of them.
    follows = s["follow_then_read"]
    return [
        (f"{TARGET_PREFIX}first page, random users, vs pgbench naive query", f"{fmt_rate(home.rps)} vs "
         f"{fmt_rate(naive.rps)} /s", f"{at_most(x)}x", ">= 1x", x >= 1.0, noise(home, naive)),
        (f"{TARGET_PREFIX}first page, random users: p99 at {home.connections} connections", fmt_ms(home.p99_ms), "",
         f"< {P99_GOAL_MS} ms", home.p99_ms < P99_GOAL_MS, noise(home)),
        (f"{TARGET_PREFIX}first page, users following {most}: p99", fmt_ms(heavy.p99_ms), "",
         f"< {HEAVY_P99_GOAL_MS} ms", heavy.p99_ms < HEAVY_P99_GOAL_MS, noise(heavy)),
        (f"{TARGET_PREFIX}the celebrity's POST p99 while timelines are read", fmt_ms(post.p99_ms), "",
         f"< {POST_P99_GOAL_MS} ms", post.p99_ms < POST_P99_GOAL_MS, noise(during)),
        (f"{TARGET_PREFIX}read p99 while the celebrity posts vs at rest", f"{fmt_ms(during.p99_ms)} vs "
         f"{fmt_ms(rest.p99_ms)}", f"{worse:.2f}x", f"< {DURING_GOAL:g}x", worse < DURING_GOAL, noise(rest, during)),
        (f"{TARGET_PREFIX}follow, then read: the followee's new chirp on the first page at once",
         f"{follows['pairs']} of {follows['pairs']} pages (follow and read: {fmt_ms(follows['p50_ms'])} p50)", "",
         "every page", True, 0.0),
        (f"{TARGET_PREFIX}peak RSS while timelines are read (cache {CACHE_MIB} MiB)",
         f"{mib(peak)} (idle {mib(s['idle_rss'])})", "", f"<= idle + {CACHE_MIB} + {RSS_MARGIN_MIB} MiB = {mib(budget)}",
         peak <= budget, 0.0),
        *report_likes.targets(data),
    ]


def problems(data: dict) -> list[str]:
    """What makes the social part fail: errors under load, empty runs, its server's ERRORs."""
    from report_targets import load_problems  # report_targets imports this module

    return [*load_problems(data, social=True),
            *(f"server-social log: {line}" for line in data["social"].get("log_errors", [])[:5])]


def spread(values: list[int]) -> str:
    """Median, p90, p99 and max."""
    return " / ".join(f"{v:,}" for v in values)


def section(data: dict, measured_by: str) -> list[str]:
    """Section 9, from its heading to its last line."""
    s, r = data["social"], data["cases"]
    return [
        HEADING,
        "",
        f"{measured_by} Which design meets the targets and why, and what changes at 1M users: {FINDINGS}, below.",
        "",
        *data_set(s),
        *first_page(s, r),
        *heavy_page(s, r),
        *celebrity(s, r),
        *explain(s),
        *candidates(s, r),
        *independent(s, r),
        *report_likes.section(s, r),
        *(["### Problems in this part", "", *(f"- {p}" for p in problems(data)), ""] if problems(data) else []),
    ]


def data_set(s: dict) -> list[str]:
    shape, seeded = s["shape"], s["seed"]
    f = seeded["figures"]
    steps = ", ".join(f"{name} {sec:.1f} s" for name, sec in seeded["steps"].items())
    off = "; ".join(f"`{table}`: {', '.join(f'`{t}`' for t in names) or 'none'}"
                    for table, names in seeded["triggers_off"].items())
    b = f["bytes"]
    return [
        "### The data set",
        "",
        "| | |",
        "|---|---|",
        f"| users | {f['users']:,} (user 1, the celebrity, followed by {f['celebrity_followers']:,}) |",
        f"| chirps | {f['chirps']:,}, one every {social.CHIRP_STEP_S} s from 2025-01-01 (distinct timestamps); "
        f"the celebrity wrote {f['celebrity_chirps']:,} |",
        f"| follows | {f['follows']:,} |",
        f"| following: median / p90 / p99 / max (min) | {spread(f['following'])} ({f['min_following']:,}); "
        f"{len(s['heavy'])} users follow {shape.most_following:,} |",
        f"| followers: median / p90 / p99 / max | {spread(f['followers'])} |",
        f"| chirps per user: median / p90 / p99 / max (min) | {spread(f['chirps_per_user'])} ({f['min_chirps']:,}) |",
        f"| a timeline's share of all chirps: min / p10 / median / p90 | {shares(f['timeline_share'])} |",
        f"| size on disk (tables and indexes) | chirps {mib(b['chirps'])}, follows {mib(b['follows'])}, "
        f"users {mib(b['users'])} |",
        f"| seeded in | {seeded['seconds']:.0f} s: {steps} |",
        "",
        f"Made by `bench/social.py` with one `insert ... select` per table: out-degrees are Pareto quantiles "
        f"(tail exponent {social.DEGREE_ALPHA:g}) dealt out in a fixed shuffled order; followees are drawn with a "
        f"popularity skew (user n is the n-th most followed) and authors with an activity skew (user n is also the "
        f"n-th most active: popular accounts post more); random draws are seeded, so every run builds the same "
        f"data. Users' ids are md5s of their number, so pgbench names them; their access tokens are minted by the "
        f"bench (HS256 with the server's `JWT_SECRET`). The tables' own triggers ({off}) are off during the bulk "
        "load, in its transaction (the foreign keys stay checked); the counts they keep are then recomputed with one "
        "`update` and checked against `count(*)` for a sample, and every user's following count against the degree "
        "asked for. The seeded rows are not in the event log. `vacuum analyze` and a checkpoint follow.",
        "",
        f"Exact: before measuring, {s['checked_http']} readers' first pages over HTTP (the celebrity, a median "
        f"reader, heavy followers and a spread of others) were compared with the naive query's, row for row, as were "
        f"the walk-first candidate's ({s['candidates']['checked_sql']['walk_first']} readers) and the inboxes' "
        f"({s['candidates']['checked_sql']['inboxes']} sampled readers): all equal.",
        "",
    ]


def shares(values: list[float]) -> str:
    return " / ".join(f"{v:.2%}" for v in values)


def independent(s: dict, r: dict[str, Result]) -> list[str]:
    i = s["independent"]
    naive, srv, walk = (r[f"social_pg_{k}_independent"] for k in ("naive", "server", "walk_first"))
    base = r["social_pg_naive"]
    return [
        "### e. The same statements when activity does not follow popularity",
        "",
        f"A copy of the data set whose chirps are drawn again the same way, but with the activity ranks given to "
        f"users in a shuffled order (`social.reauthor`, {i['seconds']:.0f} s): the celebrity wrote "
        f"{i['celebrity_chirps']:,}, and a timeline holds {shares(i['timeline_share'])} (min / p10 / median / p90) "
        f"of all chirps, against {shares(s['seed']['figures']['timeline_share'])} above. The naive query walks the "
        "newest chirps of all until it has 21 of the reader's, about 21 / share rows; the server's merge costs an "
        "index probe per followee whatever they write.",
        "",
        *case_table(
            row("pgbench, the naive query, random users", naive),
            row("pgbench, the server's statement, random users", srv),
            row("pgbench, the walk-first candidate, random users", walk),
        ),
        f"The server's statement **{ratio(srv.rps, naive.rps):.2f}x** the naive query here (against "
        f"{ratio(r['social_pg_server'].rps, base.rps):.2f}x in a); the walk-first candidate "
        f"{ratio(walk.rps, naive.rps):.2f}x; the naive query itself {ratio(naive.rps, base.rps):.2f}x its rate in a.",
        "",
    ]


def first_page(s: dict, r: dict[str, Result]) -> list[str]:
    home, naive, srv, walk = (r[k] for k in ("social_home", "social_pg_naive", "social_pg_server",
                                             "social_pg_walk_first"))
    return [
        f"### a. The first page (`GET {HOME}`), random users",
        "",
        *case_table(
            row(f"wrk `GET {HOME}`, a random user's token per request", home),
            row(f"pgbench {sql(social_sql.NAIVE_PAGE)}: the naive query (21 rows)", naive),
            row(f"pgbench {sql(social_sql.SERVER_PAGE)}: the server's statement (`home_timeline`, 21 rows)", srv),
            row("pgbench `bench/sql/walk_first_page.sql`: the walk-first candidate", walk),
        ),
        f"Over HTTP **{ratio(home.rps, naive.rps):.2f}x** the naive query; the server's statement alone "
        f"{ratio(srv.rps, naive.rps):.2f}x it, and over HTTP the server makes {ratio(home.rps, srv.rps):.2f}x its own "
        f"statement's rate; the walk-first candidate {ratio(walk.rps, naive.rps):.2f}x the naive query. pgbench picks "
        "a random user per transaction (`\\set n random(1, users)`), as wrk picks a random token.",
        "",
    ]


def heavy_page(s: dict, r: dict[str, Result]) -> list[str]:
    home, naive, srv, walk = (r[k] for k in ("social_home_heavy", "social_pg_naive_heavy", "social_pg_server_heavy",
                                             "social_pg_walk_first_heavy"))
    most = f"{s['shape'].most_following:,}"
    # The bench stops on a page that lacks the followee's chirps, so a report has all of them.
    follows = s["follow_then_read"]
    return [
        f"### b. The first page for the {len(s['heavy'])} users who follow {most}",
        "",
        *case_table(
            row(f"wrk `GET {HOME}`, their tokens", home),
            row("pgbench, the naive query, for them", naive),
            row("pgbench, the server's statement, for them", srv),
            row("pgbench, the walk-first candidate, for them", walk),
        ),
        f"Over HTTP {ratio(home.rps, naive.rps):.2f}x the naive query; the server's statement "
        f"{ratio(srv.rps, naive.rps):.2f}x it.",
        "",
    ]


def celebrity(s: dict, r: dict[str, Result]) -> list[str]:
    rest, during, post = r["social_home_rest"], r["social_home_during"], r["social_celebrity_post"]
    return [
        "### c. The celebrity posts while timelines are read",
        "",
        *case_table(
            row(f"wrk `GET {HOME}`, random users, at rest", rest),
            row("wrk `POST /api/chirps` as the celebrity, 1 connection, paced", post),
            row(f"wrk `GET {HOME}`, random users, while the celebrity posts", during),
        ),
        f"The celebrity posted at {s['post_rate']:.1f} /s (one connection pausing "
        f"{max(1, round(1000 / s['celebrity_rate']))} ms after each answer) from 1 s before the reads began until "
        f"after they ended; every post is in the timeline of all {s['seed']['figures']['celebrity_followers']:,} "
        f"followers from its commit. Read p99 while it posts over at rest: "
        f"**{ratio(during.p99_ms, rest.p99_ms):.2f}x**. The reads' CPU/req while it posts includes the posts'.",
        "",
        f"Before any case was measured, {s['follow_then_read']['pairs']} times, an account a reader did not follow posted, and the reader "
        "followed it and read their first page at once, over HTTP: every page led with the new chirp and equalled "
        "the naive query's after the follow, row for row (follow and read, one after the other: "
        f"{fmt_ms(s['follow_then_read']['p50_ms'])} p50, {fmt_ms(s['follow_then_read']['max_ms'])} at most); each "
        "follow was undone after.",
        "",
    ]


PLAN = re.compile(r"^duration: ([0-9.]+) ms\s+plan:\nQuery Text: (.*?)\n(.*?)(?=^duration: |\Z)", re.M | re.S)
BUFFERS = re.compile(r"Buffers: shared hit=(\d+)(?: read=(\d+))?")


def plan_summary(text: str) -> list[tuple[float, str, int, int]]:
    """(ms, the statement's first line, shared buffers hit, read) per auto_explain plan."""
    out = []
    for m in PLAN.finditer(text):
        buffers = BUFFERS.search(m.group(3))
        hit, read = (int(buffers.group(1)), int(buffers.group(2) or 0)) if buffers else (0, 0)
        query = " ".join(m.group(2).split())[:90].replace("|", "\\|")
        out.append((float(m.group(1)), query, hit, read))
    return out


def explain(s: dict) -> list[str]:
    e = s["explain"]
    out = ["### Inside the server's statement", "",
           f"auto_explain (`log_nested_statements`, analyze with buffers, timing off) of the server's statement for "
           f"user {s['median_user']} (following {s['median_following']:,}, the median) and for a user following "
           f"{s['shape'].most_following:,}, after 8 runs in the same session (a warm plan cache, as pgbench's prepared "
           "statements have), next to the naive query's plan for the same readers:", "",
           "| reader | statement inside `home_timeline` | ms | buffers hit / read |", "|---|---|---|---|"]
    for label in ("median", "heavy"):
        for ms, query, hit, read in plan_summary(e[label]):
            out.append(f"| {label} | `{query}` | {ms:.3f} | {hit:,} / {read:,} |")
    out.append("")
    for label in ("median", "heavy"):
        out += [f"<details><summary>The plans for the {label} reader</summary>", "", "```",
                e[label], "", "-- the naive query:", e[f"{label}_naive"].strip(), "```", "", "</details>", ""]
    return out


def candidates(s: dict, r: dict[str, Result]) -> list[str]:
    c = s["candidates"]
    st = c["storage"]
    inbox, hybrid = st["bench_home_inbox"], st["bench_home_inbox_hybrid"]
    per_row = ratio(inbox["bytes"], inbox["rows"])
    users = s["shape"].users
    f = c["followers"]
    wal = c["wal"]
    keep = social_sql.INBOX_KEEP
    pulled_over = int(users * social_sql.PULLED_SHARE)
    reads = [("naive query", "social_pg_naive"), ("server's `home_timeline` (fan-out on read)", "social_pg_server"),
             ("walk-first candidate (fan-out on read)", "social_pg_walk_first"),
             ("inbox (fan-out on write)", "social_pg_inbox"), ("hybrid (inbox + pulled accounts)", "social_pg_hybrid")]
    out = [
        "### d. The candidates at the SQL level",
        "",
        f"Fan-out on write, prototyped in `bench/sql/` (not in the server): `bench_home_inbox (user_id, created_at, "
        f"chirp_id)`, its primary key in that order, holding each reader's newest {keep} chirps (trimmed); filled for "
        f"every {social_sql.SAMPLE_STEP}th user ({inbox['readers']:,} readers) by the timeline's definition (the "
        f"naive query with a limit of {keep}) in {c['fill_seconds']:.1f} s. The hybrid: the same, but the accounts "
        f"followed by more than {pulled_over:,} users ({c['pulled']} accounts here) are not copied into inboxes; a "
        "read merges the inbox with the newest chirps of the pulled accounts the reader follows. The walk-first "
        "candidate is fan-out on read with the walk tried first within a budget (`bench/sql/walk_first.sql`).",
        "",
        "Reads, 32 clients (the inbox and hybrid rows read the sampled readers):",
        "",
        "| candidate | pages/s | p50 | p99 | PostgreSQL CPU µs/page | other |",
        "|---|---|---|---|---|---|",
        *(pg_row(label, r[name]) for label, name in reads),
        "",
        f"Writes, one client posting as fast as its commits allow (so the latency is what one post costs, and "
        f"PostgreSQL's CPU per post is mostly its own): the celebrity ({f['celebrity']:,} followers) and user "
        f"{c['median_author']} ({f['median']:,} followers, the median). Inboxes are not trimmed here; a trimmed "
        "one deletes a row per row it adds once full.",
        "",
        "| post | rows written | posts/s | p50 | p99 | WAL per post | PostgreSQL CPU µs/post | other |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for who in ("celebrity", "median"):
        for kind, rows in (("plain", 1), ("fanout", 2 + f[who])):
            name = f"social_pg_post_{who}_{kind}"
            res = r[name]
            what = "a chirp (fan-out on read)" if kind == "plain" else "a chirp and an inbox row per follower and self"
            out.append(f"| {who}: {what} | {rows:,} | {fmt_rate(res.rps)} | {fmt_ms(res.p50_ms)} | "
                       f"{fmt_ms(res.p99_ms)} | {wal_text(wal[name])} | {fmt_cpu(res.cpu_db_us)} | {other(res)} |")
    back = r["social_pg_backfill"]
    out += [
        f"| a follow's backfill: the followee's newest {keep} into an inbox | up to {keep} | {fmt_rate(back.rps)} | "
        f"{fmt_ms(back.p50_ms)} | {fmt_ms(back.p99_ms)} | {wal_text(wal['social_pg_backfill'])} | "
        f"{fmt_cpu(back.cpu_db_us)} | {other(back)} |",
        "",
        f"With the hybrid, the celebrity's post is the plain one (plus its own inbox row) and a median author's the "
        f"fan-out one. Storage: the inboxes hold {inbox['rows']:,} rows for {inbox['readers']:,} readers "
        f"({mib(inbox['bytes'])} with the index: **{per_row:.0f} bytes per row**, "
        f"{ratio(inbox['rows'], inbox['readers']):.0f} rows and {ratio(inbox['bytes'], inbox['readers']) / 1024:.1f} "
        f"KiB per reader); the hybrid's {hybrid['rows']:,} ({mib(hybrid['bytes'])}). For all {users:,} users at "
        f"{keep} rows each that is {mib(per_row * keep * users)}, next to chirps' {mib(st['chirps']['bytes'])} and "
        f"follows' {mib(st['follows']['bytes'])}.",
        "",
        f"Reads while the celebrity posts at {s['celebrity_rate']:g} /s (one client, pgbench `-R`, whose latency "
        "counts from each post's scheduled start, so a backlog shows; from 1 s before the reads until after them), "
        "32 clients reading:",
        "",
        "| candidate | reads | pages/s | p50 | p99 | p99 during / at rest | the posts' p99 |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, kind in (("server's statement; posts without fan-out", "server"),
                        ("inbox; posts with fan-out", "inbox")):
        rest, during, posts = r[f"social_pg_{kind}_rest"], r[f"social_pg_{kind}_during"], \
            r[f"social_pg_post_during_{kind}"]
        for when, res in (("at rest", rest), ("during", during)):
            worse = f"**{ratio(during.p99_ms, rest.p99_ms):.2f}x**" if when == "during" else ""
            out.append(f"| {label} | {when} | {fmt_rate(res.rps)} | {fmt_ms(res.p50_ms)} | {fmt_ms(res.p99_ms)} | "
                       f"{worse} | {fmt_ms(posts.p99_ms) if when == 'during' else ''} |")
    out.append("")
    return out


def pg_row(label: str, res: Result) -> str:
    return (f"| {label} | {fmt_rate(res.rps)} | {fmt_ms(res.p50_ms)} | {fmt_ms(res.p99_ms)} | "
            f"{fmt_cpu(res.cpu_db_us)} | {other(res)} |")


def fmt_cpu(us: float) -> str:
    return "–" if math.isnan(us) else f"{us:,.0f}"


def other(res: Result) -> str:
    return "–" if math.isnan(res.other_cpu) else f"{res.other_cpu:.2f}"


def wal_text(n_bytes: float) -> str:
    if math.isnan(n_bytes):
        return "n/a"
    return f"{n_bytes / 1024:,.1f} KiB" if n_bytes < 1024 * 1024 else f"{n_bytes / 1024 / 1024:,.2f} MiB"


def sql(name: str) -> str:
    return f"`{shown(social_sql.SQL_DIR / name)}`"
