"""Likes, notifications and search on the social data set, with the social part's server
(issues #19 and #21):

  f. a like storm on one chirp: 32 connections liking and unliking it at random as random
     users, next to pgbench running the server's like statement the same way; then reads of
     that chirp at rest and while the storm goes on; then the count checked against the likes
  g. a burst: every one of the 10,000 users likes another chirp once; how many notification
     rows that wrote and updated, and how many its author sees
  h. search over the 1,000,000 chirps: a common word and a rare one (the bench adds it to a few
     chirps), first page, 32 connections, next to pgbench running the server's statement
"""

from __future__ import annotations

import time
from pathlib import Path

from chirpy_harness.errors import HarnessError

import social
import social_http
import social_sql
from loadgen import LoadGen
from seed import CHIRP_ID_SQL, Psql

# The chirps liked: number 1 in the storm, number 2 in the burst (both by seeded authors).
STORM_CHIRP, BURST_CHIRP = 1, 2
# Every seeded body is drawn from seed.WORDS, so `coffee` is in about a fifth of the chirps;
# RARE_WORD is in none until the bench appends it to RARE_CHIRPS of them, spread over the years.
COMMON_WORD, RARE_WORD, RARE_CHIRPS = "coffee", "zephyr", 20


def log(message: str) -> None:
    print(f"::: bench: {message}", flush=True)


def chirp_id(psql: Psql, n: int) -> str:
    found = psql.scalar(f"select id from chirps where id = {CHIRP_ID_SQL.format(n=str(n))}")
    if not found:
        raise HarnessError(f"social: chirp number {n} is not in the data set")
    return found


class LikesAndSearch:
    """Runs f, g and h on the social part's server; `run` returns what the report needs."""

    def __init__(self, load: LoadGen, psql: Psql, server, shape: social.Shape, tokens: Path, tmp: Path,
                 concurrently):
        self.load, self.psql, self.server, self.shape, self.tokens, self.tmp = load, psql, server, shape, tokens, tmp
        self.concurrently = concurrently

    def run(self) -> dict:
        return {"storm": self.storm(), "burst": self.burst(), "search": self.search()}

    def like_count(self, chirp: str) -> tuple[int, int]:
        """The chirp's like_count and the number of its likes, on the primary."""
        shown, counted = self.psql.scalar(
            f"select like_count, (select count(*) from likes where chirp_id = '{chirp}') from chirps "
            f"where id = '{chirp}'").split("|")
        return int(shown), int(counted)

    def served_count(self, chirp: str) -> int:
        status, body = social_http.get_json(self.server.url, f"/api/chirps/{chirp}")
        if status != 200 or not isinstance(body, dict):
            raise HarnessError(f"GET /api/chirps/{chirp}: {status}")
        return int(body["like_count"])

    def storm(self) -> dict:
        """f: likes and unlikes at random on one chirp, by wrk and by pgbench, and reads of it."""
        load, users = self.load, self.shape.users
        chirp = chirp_id(self.psql, STORM_CHIRP)
        ids = self.tmp / "social_storm_chirp.txt"
        ids.write_text(chirp + "\n")
        log(f"social: GET /api/chirps/{{id}} of one chirp at rest, then a like storm on it ({users:,} users)")
        load.wrk("social_hot_rest", "/api/chirps/", ["get_chirp.lua"], [str(ids)])
        load.wrk("social_like_storm", "/api/chirps/", ["like_storm.lua"], [str(self.tokens), chirp])
        log("social: pgbench, the server's like statement, liking or unliking at random")
        load.pgbench("social_pg_like_storm", social_sql.like_toggle(STORM_CHIRP, users))
        log("social: the same reads while the storm goes on")
        self.concurrently(
            lambda: load.wrk("social_like_storm_during", "/api/chirps/", ["like_storm.lua"],
                             [str(self.tokens), chirp], seconds=load.args.duration + 2, warmup=False),
            lambda: load.wrk("social_hot_during", "/api/chirps/", ["get_chirp.lua"], [str(ids)], warmup=False))
        # At once: a read after the storm is after every like's announcement, so not one behind.
        shown, counted = self.like_count(chirp)
        served = self.served_count(chirp)
        if not shown == counted == served:
            raise HarnessError(f"social: after the storm, chirp {chirp} has {counted} likes but like_count {shown} "
                               f"in the table and {served} served")
        log(f"social: after the storm, {counted:,} likes, and like_count says so in the table and when served")
        return {"likes": counted}

    def notification_writes(self) -> tuple[int, int]:
        """Rows inserted into and updated in `notifications` so far, from the statistics
        (flushed by the backends within a second of each transaction; waited for)."""
        time.sleep(1.5)
        ins, upd = self.psql.scalar(
            "select n_tup_ins, n_tup_upd from pg_stat_user_tables where relname = 'notifications'").split("|")
        return int(ins), int(upd)

    def burst(self) -> dict:
        """g: one like per user on one chirp, as fast as 32 connections go; the notifications."""
        load, users = self.load, self.shape.users
        chirp = chirp_id(self.psql, BURST_CHIRP)
        author = self.psql.scalar(f"select user_id from chirps where id = '{chirp}'")
        inserted, updated = self.notification_writes()
        log(f"social: a burst: each of the {users:,} users likes one chirp once")
        result = load.wrk("social_like_burst", "/api/chirps/", ["like_burst.lua"],
                          [str(self.tokens), chirp, str(min(load.args.threads, load.args.connections))],
                          warmup=False)
        after_ins, after_upd = self.notification_writes()
        shown, counted = self.like_count(chirp)
        rows, actors = self.psql.scalar(
            f"select count(*), coalesce(sum(actors), 0) from notifications where recipient_id = '{author}' "
            f"and kind = 'like' and chirp_id = '{chirp}'").split("|")
        if counted != users or shown != counted:
            raise HarnessError(f"social: the burst left {counted:,} likes (like_count {shown:,}) of {users:,} users: "
                               f"wrk sent {result.requests:,} requests")
        return {"likes": counted, "requests": result.requests, "inserted": after_ins - inserted,
                "updated": after_upd - updated, "rows": int(rows), "actors": int(actors)}

    def search(self) -> dict:
        """h: the first page of a common word and of a rare one, over HTTP and in pgbench."""
        load, psql = self.load, self.psql
        step = self.shape.chirps // RARE_CHIRPS
        psql.run(f"update chirps set body = left(body, 130) || ' {RARE_WORD}' "
                 f"where id in (select {CHIRP_ID_SQL.format(n='n')} from generate_series({step}, "
                 f"{self.shape.chirps}, {step}) n)")
        psql.run("analyze chirps")
        out = {}
        for tag, word in (("common", COMMON_WORD), ("rare", RARE_WORD)):
            out[tag] = int(psql.scalar(f"select count(*) from chirps where search @@ plainto_tsquery('simple', "
                                       f"'{word}')"))
            path = f"/api/search/chirps?q={word}&limit={social_sql.LIMIT}"
            status, page = social_http.get_json(self.server.url, path)
            if status != 200 or not isinstance(page, list) or len(page) != min(social_sql.LIMIT, out[tag]):
                raise HarnessError(f"GET {path}: {status}, {page if status != 200 else len(page)} chirps")
            log(f"social: GET {path} ({out[tag]:,} chirps have it)")
            load.wrk(f"social_search_{tag}", path, [])
            log(f"social: pgbench, the server's search statement for {word!r}")
            load.pgbench(f"social_pg_search_{tag}", social_sql.search(word))
        return out
