"""Section 9's likes, notifications and search (social_likes.py): their subsections and their
rows of the Targets table."""

from __future__ import annotations

import math

from chirpy_harness.report import fmt_ms, fmt_rate

import social_likes
import social_sql
from loadgen import Result
from report_rows import at_most, busiest, case_table, ratio, row, shown

# Every row of the Targets table from here starts with one of these (benchmarks_md.merge).
TARGET_PREFIXES = ("likes: ", "notifications: ", "search: ")
STORM_GOAL = 0.7
HOT_DURING_GOAL = 0.5
SEARCH_P99_GOAL_MS = 50


def targets(data: dict) -> list[tuple[str, str, str, str, bool, float]]:
    r: dict[str, Result] = data["cases"]
    likes = data["social"]["likes"]
    storm, pg = r["social_like_storm"], r["social_pg_like_storm"]
    rest, during = r["social_hot_rest"], r["social_hot_during"]
    burst = likes["burst"]

    noise = busiest
    x, kept = ratio(storm.rps, pg.rps), ratio(during.rps, rest.rps)
    out = [
        ("likes: a storm on one chirp vs pgbench running the same statement", f"{fmt_rate(storm.rps)} vs "
         f"{fmt_rate(pg.rps)} /s", f"{at_most(x)}x", f">= {STORM_GOAL:g}x", x >= STORM_GOAL, noise(storm, pg)),
        ("likes: reads of that chirp during the storm vs at rest", f"{fmt_rate(during.rps)} vs "
         f"{fmt_rate(rest.rps)} /s", f"{at_most(kept)}x", f">= {HOT_DURING_GOAL:g}x", kept >= HOT_DURING_GOAL,
         noise(rest, during)),
        (f"notifications: rows its author gets from {burst['likes']:,} likes of one chirp",
         f"{burst['rows']} (updated {burst['updated']:,} times)", "", "1 (grouped)", burst["rows"] == 1,
         noise(r["social_like_burst"])),
    ]
    for tag in ("common", "rare"):
        res = r[f"social_search_{tag}"]
        out.append((f"search: a {tag} word, first page, p99 at {res.connections} connections", fmt_ms(res.p99_ms),
                    "", f"< {SEARCH_P99_GOAL_MS} ms", res.p99_ms < SEARCH_P99_GOAL_MS, noise(res)))
    return out


def section(s: dict, r: dict[str, Result]) -> list[str]:
    likes = s["likes"]
    burst, found = likes["burst"], likes["search"]
    storm, pg = r["social_like_storm"], r["social_pg_like_storm"]
    rest, during = r["social_hot_rest"], r["social_hot_during"]
    users = s["shape"].users
    likes_sql = f"`{shown(social_sql.SQL_DIR / social_sql.LIKES)}`"
    search_sql = f"`{shown(social_sql.SQL_DIR / social_sql.SEARCH)}`"
    per_like = storm.cpu_server_us + storm.cpu_db_us
    busy = (f" ({fmt_rate(storm.rps)} likes/s x {per_like:,.0f} µs of server and PostgreSQL CPU = "
            f"{storm.rps * per_like / 1e6:.2f} s of CPU a second)") if math.isfinite(per_like) else ""
    return [
        "### f. A like storm on one chirp",
        "",
        *case_table(
            row("wrk `GET /api/chirps/{id}`, that chirp, at rest", rest),
            row(f"wrk `PUT` or `DELETE /api/chirps/{{id}}/like` at random, {users:,} users' tokens", storm),
            row(f"pgbench {likes_sql}, one like or unlike per transaction", pg),
            row("wrk, the storm again, in the background", r["social_like_storm_during"]),
            row("wrk `GET /api/chirps/{id}`, that chirp, during the storm", during),
        ),
        f"The storm ran at **{ratio(storm.rps, pg.rps):.2f}x** pgbench running the server's own statement one "
        "like at a time: every like of one chirp updates its one count row, whose lock each transaction holds to "
        "its commit, so pgbench's likes queue behind each other's WAL flushes; the server writes the likes that "
        "arrive together in one statement and one commit, and the statement-level trigger updates the count once "
        f"per group. Reads of the chirp kept **{ratio(during.rps, rest.rps):.2f}x** their rate at rest "
        f"({'PASS' if during.rps >= 0.5 * rest.rps else 'MISS'} against 0.5x): a like does not evict the chirp's cached JSON, "
        "only marks its counts outdated; one read at a time takes them again from the primary while the other "
        "readers get the counts from before it (a liker reads their own like at once). What is left is the CPU: "
        f"the server and PostgreSQL share their CPUs (the pinning above), and the storm alone keeps them busy{busy}, "
        "so two closed loops of 32 connections split them, and the reads get what the storm's PostgreSQL backends "
        "leave. "
        f"After the storm the table held {likes['storm']['likes']:,} likes and `like_count` said so, in the table "
        "and served to an anonymous read at once.",
        "",
        "### g. A burst: every user likes one chirp",
        "",
        *case_table(row("wrk `PUT /api/chirps/{id}/like`, each user once, then again (204, no change)",
                        r["social_like_burst"])),
        f"All {burst['likes']:,} users' likes landed ({burst['requests']:,} requests in the run). The author's "
        f"notifications for them: **{burst['rows']}** row ({burst['actors']:,} likers counted in it), inserted "
        f"{burst['inserted']:,} times and updated {burst['updated']:,} times (PostgreSQL's statistics for "
        "`notifications`): one update per group of likes written together, not one row per like, and one live "
        "event per group on the author's home feed.",
        "",
        "### h. Search over the chirps",
        "",
        *case_table(
            row(f"wrk `GET /api/search/chirps?q={social_likes.COMMON_WORD}` ({found['common']:,} chirps have it)",
                r["social_search_common"]),
            row(f"pgbench {search_sql}, the same word", r["social_pg_search_common"]),
            row(f"wrk `GET /api/search/chirps?q={social_likes.RARE_WORD}` ({found['rare']:,} chirps have it)",
                r["social_search_rare"]),
            row(f"pgbench {search_sql}, the same word", r["social_pg_search_rare"]),
        ),
        f"The first page (limit {social_sql.LIMIT}) of a common word and of a rare one, anonymous. The rare word "
        f"is appended by the bench to {social_likes.RARE_CHIRPS} chirps spread over the data set.",
        "",
    ]
