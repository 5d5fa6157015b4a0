"""The home timeline's cases, on the social data set (social.py) in a database of its own, with
a server of its own on it:

  a. the first page (limit 20) for random users, wrk at 32 connections, next to pgbench running
     the naive query and the server's statement (and the walk-first candidate) for random users
  b. the first page for the users who follow 5,000 accounts, the same three ways
  c. the account everyone follows posts at a steady rate (wrk, one connection, paced) while wrk
     reads timelines: its POST p99, and the reads' p99 next to the same reads at rest just before
  d. the candidates at the SQL level, with pgbench on the same data: a home inbox per user
     (fan-out on write) and the hybrid (inboxes, but the most-followed accounts pulled at read
     time), filled for a sample of users; their reads, what a post costs them (the celebrity's,
     a median author's: latency and WAL), a follow's backfill, their storage, and reads while
     the celebrity posts, next to the server's statement while it posts without fan-out
  f, g, h. likes, notifications and search (social_likes.py)
  e. the statements of a, on a copy of the data set whose authors' activity is independent of
     their popularity: how much the verdict owes to followed accounts writing more

Before measuring, every candidate's first page is checked against the naive query's for a
sample of readers, and the server's (over HTTP) too.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from dataclasses import replace
from pathlib import Path

from chirpy_harness.errors import HarnessError
from chirpy_harness.launcher import Server
from chirpy_harness.procstat import rss_bytes

import social
import social_http
import social_likes
import social_sql
from loadgen import LoadGen, Result
from seed import USER_ID_SQL, Psql

HOME = f"/api/timelines/home?limit={social_sql.LIMIT}"
# Readers whose first page every candidate must get exactly as the naive query does, besides
# the celebrity, the median user and the heavy followers.
CHECKED_READERS = 12


def log(message: str) -> None:
    print(f"::: bench: {message}", flush=True)


class SocialBench:
    """Runs the cases on a `Bench`'s cluster, recording each load in `results`."""

    def __init__(self, bench, shape: social.Shape, results: dict[str, Result]):
        self.bench, self.args, self.tmp, self.shape = bench, bench.args, bench.tmp, shape
        self.results = results
        self.server: Server | None = None

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    def run(self) -> dict:
        b, shape = self.bench, self.shape
        Psql(b.cluster.bin_dir, b.cluster.url).run(f"create database {social.DATABASE}")
        url = b.cluster.database_url(social.DATABASE)
        log(f"social: a server on its own database ({social.DATABASE}), with the bench's JWT_SECRET")
        self.server = b.start_server(url, "server-social", extra_env={"JWT_SECRET": social_http.JWT_SECRET})
        server = self.server
        time.sleep(1.0)
        idle_rss = rss_bytes(server.pid)
        psql = self.psql = Psql(b.cluster.bin_dir, url)
        log(f"social: seeding {shape.users:,} users, {shape.chirps:,} chirps and their follows with SQL")
        data: dict = {"shape": shape, "celebrity_rate": self.args.celebrity_rate, "idle_rss": idle_rss,
                      "seed": social.load(server.url, psql, shape, log)}
        degrees = data["seed"].pop("degrees")
        log("social: the candidates' tables and functions (bench/sql/)")
        psql.run(social_sql.schema())
        heavy = social.heavy_users(shape, degrees)
        median = social.median_user(degrees)
        data.update(heavy=heavy, median_user=median, median_following=social.following_counts(degrees)[median - 1])
        log(f"social: seeded in {data['seed']['seconds']:.0f}s; {len(heavy)} users follow {shape.most_following:,}")

        files = {name: self.tmp / f"social_{name}.txt" for name in ("all", "heavy", "celebrity")}
        social_http.write_tokens(files["all"], list(range(1, shape.users + 1)))
        social_http.write_tokens(files["heavy"], heavy)
        social_http.write_tokens(files["celebrity"], [1])
        self.check_token(server.url, files["celebrity"])
        checked = self.readers_to_check(heavy, median)
        data["checked_http"] = self.check_http(server.url, checked)
        data["follow_then_read"] = self.follow_then_read(server.url)

        load = LoadGen(self.args, self.tmp, b.load_cpus, server.pid, b.cluster.postmaster_pid, server.url,
                       b.cluster.bin_dir, url, results=self.results)
        data["explain"] = self.explain(median, heavy[0])
        self.first_pages(load, files, heavy)
        data["post_rate"] = self.celebrity_posts(load, files)
        data["likes"] = social_likes.LikesAndSearch(load, psql, server, shape, files["all"], self.tmp,
                                                    concurrently).run()
        data["candidates"] = self.candidates(load, checked)
        data["log_errors"] = server.errors_in_log()
        log("social: stopping its server (SIGTERM)")
        code, self.server = server.stop(), None
        if code != 0:
            raise HarnessError(f"server-social exited with {code}:\n{server.log_tail()}")
        data["independent"] = self.independent(load)
        return data

    def independent(self, load: LoadGen) -> dict:
        """e. The same statements on a copy of the data set whose authors' activity is
        independent of their popularity (social.reauthor), for random users."""
        b = self.bench
        name = f"{social.DATABASE}_independent"
        log(f"social: a copy ({name}) whose chirps' authors are independent of popularity")
        copy_database(Psql(b.cluster.bin_dir, b.cluster.url), social.DATABASE, name)
        url = b.cluster.database_url(name)
        psql = Psql(b.cluster.bin_dir, url)
        psql.run("drop table bench_home_inbox, bench_home_inbox_hybrid, bench_hybrid_pulled")
        out = social.reauthor(psql, self.shape, log)
        other = replace(load, database_url=url)
        readers = social_sql.Readers.random(self.shape.users)
        for kind, script in (("naive", social_sql.naive_page), ("server", social_sql.server_page),
                             ("walk_first", social_sql.walk_first_page)):
            log(f"social: pgbench, the {kind} page for random users, authors independent of popularity")
            other.pgbench(f"social_pg_{kind}_independent", script(readers))
        return out

    def check_token(self, base_url: str, path: Path) -> None:
        """A minted token must get its user in: GET /api/users/me as the celebrity."""
        token = path.read_text().split()[0]
        status, me = social_http.get_json(base_url, "/api/users/me", token)
        if status != 200 or not isinstance(me, dict) or me.get("id") != social.user_id(1):
            raise HarnessError(f"a minted access token got {status} {me} from /api/users/me: does the server "
                               "still sign HS256 with JWT_SECRET, iss chirpy-access?")

    def readers_to_check(self, heavy: list[int], median: int) -> list[int]:
        step = max(1, self.shape.users // CHECKED_READERS)
        # Multiples of SAMPLE_STEP, so that the inbox candidates can be checked for them too.
        spread = [n - n % social_sql.SAMPLE_STEP or social_sql.SAMPLE_STEP for n in range(step, self.shape.users, step)]
        return sorted({1, median, *heavy[:3], *spread})

    def naive_ids(self, n: int) -> list[str]:
        sql = social_sql.page_statement("naive", USER_ID_SQL.format(n=str(n)))
        return self.psql.run(f"select id from ({sql.rstrip(';')}) page limit {social_sql.LIMIT};").split()

    def check_http(self, base_url: str, readers: list[int]) -> int:
        """Each reader's first page over HTTP must be the naive query's, in order."""
        issued = int(time.time())
        for n in readers:
            token = social_http.mint_access_token(social_http.JWT_SECRET, social.user_id(n), issued)
            status, page = social_http.get_json(base_url, HOME, token)
            got = [c["id"] for c in page] if status == 200 and isinstance(page, list) else None
            want = self.naive_ids(n)
            if got != want:
                raise HarnessError(f"GET {HOME} for user {n}: {status}, {got and len(got)} chirps differing from "
                                   f"the naive query's {len(want)}")
        log(f"social: {len(readers)} readers' first pages over HTTP equal the naive query's")
        return len(readers)

    def check_sql(self, kinds: list[str], readers: list[int]) -> int:
        for kind in kinds:
            for n in readers:
                sql = social_sql.page_statement(kind, USER_ID_SQL.format(n=str(n)))
                got = self.psql.run(f"select id from ({sql.rstrip(';')}) page limit {social_sql.LIMIT};").split()
                if got != self.naive_ids(n):
                    raise HarnessError(f"social: the {kind} candidate's first page for user {n} differs from the "
                                       "naive query's")
        log(f"social: {', '.join(kinds)}: {len(readers)} readers' first pages equal the naive query's")
        return len(readers)

    def explain(self, median: int, heavy: int) -> dict:
        """The server's statement for a median reader and a heavy one, with auto_explain showing
        the statements inside home_timeline (after warming the plan cache as pgbench's prepared
        statements would), and the naive query's plan for the median reader."""
        out = {}
        for label, n in (("median", median), ("heavy", heavy)):
            statement = social_sql.page_statement("server", USER_ID_SQL.format(n=str(n)))
            out[label] = auto_explain(self.bench.cluster.bin_dir, self.psql, statement)
            naive = social_sql.page_statement("naive", USER_ID_SQL.format(n=str(n)))
            out[f"{label}_naive"] = self.psql.run(f"explain (analyze, buffers, costs off) {naive}")
        return out

    def first_pages(self, load: LoadGen, files: dict[str, Path], heavy: list[int]) -> None:
        """a and b: the first page over HTTP and the statements beside it."""
        users = self.shape.users
        for tag, readers, tokens in (("", social_sql.Readers.random(users), files["all"]),
                                     ("_heavy", social_sql.Readers.among(heavy, "the heavy followers"),
                                      files["heavy"])):
            who = "random users" if not tag else f"the {len(heavy)} users following {self.shape.most_following:,}"
            log(f"social: GET {HOME} for {who}")
            load.wrk(f"social_home{tag}", HOME, ["home.lua"], [str(tokens)])
            for kind, script in (("naive", social_sql.naive_page), ("server", social_sql.server_page),
                                 ("walk_first", social_sql.walk_first_page)):
                log(f"social: pgbench, the {kind} page for {who}")
                load.pgbench(f"social_pg_{kind}{tag}", script(readers))

    def follow_then_read(self, base_url: str, pairs: int = 20) -> dict:
        """c': an account the reader does not follow posts (over HTTP), then the reader follows
        it and reads their first page at once: the page must lead with that chirp and equal the
        naive query's after the follow, row for row. The follow is undone after. Returns the
        pairs checked and the follow-plus-read times."""
        issued = int(time.time())
        seconds = []
        for k in range(pairs):
            reader = 2 + (k * 487) % (self.shape.users - 1)
            reader_id = USER_ID_SQL.format(n=str(reader))
            followee = self.psql.scalar(
                f"select u.id from users u where u.id <> {reader_id} and not exists (select 1 from follows f "
                f"where f.follower_id = {reader_id} and f.followee_id = u.id) order by u.id limit 1 offset {k}")
            token = social_http.mint_access_token(social_http.JWT_SECRET, social.user_id(reader), issued)
            poster = social_http.mint_access_token(social_http.JWT_SECRET, followee, issued)
            status, chirp = social_http.send(base_url, "POST", "/api/chirps", poster,
                                             {"body": f"follow me, reader {reader}"})
            if status != 201 or not isinstance(chirp, dict):
                raise HarnessError(f"social: {followee} could not post ({status})")
            started = time.monotonic()
            followed, _ = social_http.send(base_url, "PUT", f"/api/users/{followee}/follow", token)
            status, page = social_http.get_json(base_url, HOME, token)
            seconds.append(time.monotonic() - started)
            got = [c["id"] for c in page] if status == 200 and isinstance(page, list) else None
            want = self.naive_ids(reader)
            if followed != 204 or not got or got[0] != chirp["id"] or got != want:
                raise HarnessError(f"social: user {reader} followed {followee} ({followed}) and read {status}: "
                                   f"the page does not lead with the followee's new chirp {chirp['id']} "
                                   f"(got {got[:3] if got else got}) or is not the naive query's "
                                   f"({want[:3]}...)")
            if social_http.send(base_url, "DELETE", f"/api/users/{followee}/follow", token)[0] != 204:
                raise HarnessError(f"social: user {reader} could not unfollow {followee}")
        seconds.sort()
        log(f"social: {pairs} posts, then follows and reads: each page led with the followee's new chirp")
        return {"pairs": pairs, "p50_ms": seconds[len(seconds) // 2] * 1000, "max_ms": seconds[-1] * 1000}

    def celebrity_posts(self, load: LoadGen, files: dict[str, Path]) -> float:
        """c: reads at rest, then the same reads while the celebrity posts steadily."""
        a = self.args
        pause = max(1, round(1000 / a.celebrity_rate))
        log(f"social: GET {HOME} at rest, then while the celebrity posts (1 connection, {pause} ms pause)")
        load.wrk("social_home_rest", HOME, ["home.lua"], [str(files["all"])])

        def posts() -> None:
            load.wrk("social_celebrity_post", "/api/chirps", ["post_chirp.lua", "paced.lua"],
                     [str(files["celebrity"]), str(pause)], connections=1, threads=1,
                     seconds=a.duration + 2, warmup=False)

        concurrently(posts, lambda: load.wrk("social_home_during", HOME, ["home.lua"], [str(files["all"])],
                                             warmup=False))
        post = self.results["social_celebrity_post"]
        # Its server and PostgreSQL CPU in that window is mostly the reads'.
        post.cpu_server_us = post.cpu_db_us = float("nan")
        return post.rps

    def candidates(self, load: LoadGen, checked: list[int]) -> dict:
        """d: fan-out on write and the hybrid, prototyped in SQL, next to the server's design."""
        psql, users, a = self.psql, self.shape.users, self.args
        out: dict = {}
        log("social: the inboxes of a sample")
        started = time.monotonic()
        psql.run(social_sql.fill(users))
        out["fill_seconds"] = time.monotonic() - started
        sampled = [n for n in checked if n % social_sql.SAMPLE_STEP == 0]
        out["checked_sql"] = {"walk_first": self.check_sql(["walk_first"], checked),
                              "inboxes": self.check_sql(["inbox", "hybrid"], sampled)}
        out["storage"] = self.storage()
        out["pulled"] = int(psql.scalar("select count(*) from bench_hybrid_pulled"))
        sample = social_sql.Readers.sample(users)
        for kind, script in (("inbox", social_sql.inbox_page), ("hybrid", social_sql.hybrid_page)):
            log(f"social: pgbench, the {kind} page for {sample.label}")
            load.pgbench(f"social_pg_{kind}", script(sample))

        median_author = int(psql.scalar(f"""
            select n from generate_series(2, {users}) n join users u on u.id = {USER_ID_SQL.format(n="n")}
            order by abs(u.followers_count - (select percentile_disc(0.5) within group (order by followers_count)
                                              from users)), n limit 1"""))
        out["median_author"] = median_author
        out["followers"] = {who: int(psql.scalar(f"select followers_count from users where id = "
                                                  f"{USER_ID_SQL.format(n=str(n))}"))
                            for who, n in (("celebrity", 1), ("median", median_author))}
        out["wal"] = {}
        for who, author in (("celebrity", 1), ("median", median_author)):
            for fan_out in (False, True):
                name = f"social_pg_post_{who}_{'fanout' if fan_out else 'plain'}"
                log(f"social: pgbench, {who} author's posts {'with' if fan_out else 'without'} fan-out, one client")
                out["wal"][name] = self.wal_per_tx(lambda: load.pgbench(name, social_sql.post(fan_out, author),
                                                                         connections=1))
        log(f"social: pgbench, a follow's backfill of {social_sql.INBOX_KEEP} chirps, one client")
        out["wal"]["social_pg_backfill"] = self.wal_per_tx(
            lambda: load.pgbench("social_pg_backfill", social_sql.backfill(users), connections=1))

        readers = social_sql.Readers.random(users)
        for kind, page, fan_out in (("server", social_sql.server_page(readers), False),
                                    ("inbox", social_sql.inbox_page(sample), True)):
            log(f"social: pgbench, the {kind} page at rest, then while the celebrity posts "
                f"({'with' if fan_out else 'without'} fan-out)")
            load.pgbench(f"social_pg_{kind}_rest", page)
            concurrently(
                lambda: load.pgbench(f"social_pg_post_during_{kind}", social_sql.post(fan_out, 1), connections=1,
                                     rate=a.celebrity_rate, seconds=a.warmup + a.duration + 2, warmup=False),
                lambda: load.pgbench(f"social_pg_{kind}_during", page))
            self.results[f"social_pg_post_during_{kind}"].cpu_db_us = float("nan")
        return out

    def wal_per_tx(self, run) -> float:
        """WAL bytes written per transaction of `run()` (a pgbench run), from the WAL position
        before and after; whatever else wrote WAL meanwhile (little: the server is idle) counts."""
        lsn = "select pg_current_wal_lsn()"
        before = self.psql.scalar(lsn)
        result: Result = run()
        written = float(self.psql.scalar(f"select pg_wal_lsn_diff(pg_current_wal_lsn(), '{before}')"))
        return written / result.requests if result.requests else float("nan")

    def storage(self) -> dict:
        """Rows and bytes (table and indexes) of the inboxes, per row and per sampled reader."""
        out = {}
        for table in ("bench_home_inbox", "bench_home_inbox_hybrid", "chirps", "follows"):
            rows, size, readers = self.psql.run(
                f"select count(*), pg_total_relation_size('{table}'), "
                f"{'count(distinct user_id)' if 'inbox' in table else '0'} from {table}").strip().split("|")
            out[table] = {"rows": int(rows), "bytes": int(size), "readers": int(readers)}
        return out


def copy_database(psql: Psql, source: str, name: str, attempts: int = 10) -> None:
    """`create database name template source`, which needs nobody else connected to the source:
    the bench's own clients are gone by now, but autovacuum may be working there, so its
    workers are ended first, and the copy tried again if one came back."""
    for attempt in range(attempts):
        psql.run(f"select pg_terminate_backend(pid) from pg_stat_activity "
                 f"where datname = '{source}' and pid <> pg_backend_pid()")
        try:
            psql.run(f"create database {name} template {source}")
            return
        except HarnessError as exc:
            if "being accessed by other users" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.5)


def concurrently(background, foreground):
    """Runs `background()` on a thread, starts `foreground()` 1 s later and returns its result
    once both are done; either's exception is raised."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            background()
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        time.sleep(1.0)
        result = foreground()
    finally:
        thread.join()
    if errors:
        raise errors[0]
    return result


AUTO_EXPLAIN = """
load 'auto_explain';
set auto_explain.log_analyze = on;
set auto_explain.log_buffers = on;
set auto_explain.log_timing = off;
set auto_explain.log_nested_statements = on;
set auto_explain.log_min_duration = -1;
"""


def auto_explain(bin_dir: Path, psql: Psql, statement: str, warm: int = 8) -> str:
    """The plans, with buffers, of `statement` and of every statement it runs inside functions,
    from auto_explain (timing off, so that the instrumentation costs little), after `warm` runs
    that fill the session's plan cache."""
    sql = (AUTO_EXPLAIN + f"{statement}\n" * warm
           + "set client_min_messages = log;\nset auto_explain.log_min_duration = 0;\n" + statement + "\n")
    out = subprocess.run(psql.cmd, input=sql, capture_output=True, text=True)
    if out.returncode != 0:
        raise HarnessError(f"auto_explain failed: {out.stderr.strip()[:500]}")
    return explain_text(out.stderr)


def explain_text(log_lines: str) -> str:
    """auto_explain's LOG messages, without their LOG prefixes, one plan after another."""
    text = re.sub(r"^(?:psql:[^:\n]*:\d+: )?LOG:\s+", "", log_lines, flags=re.M)
    return text.strip()

