"""The cases, in order, on one cluster and one server: seeding as the table grows, each
measured next to its ceiling. `Bench.run` returns what the report needs."""

from __future__ import annotations

import http.client
import re
import statistics
import threading
import time
from pathlib import Path

from chirpy_harness.errors import HarnessError
from chirpy_harness.launcher import Cluster, Server, free_port, start_cluster, start_server
from chirpy_harness.procstat import machine_busy_seconds, rss_bytes

import queries
import seed
import social
from loadgen import LoadGen, Result, run_pinned
from server_metrics import CacheReading, batch_reading, cache_reading
from social_cases import SocialBench

TOKEN_USERS = 16  # users logged in for the POST /api/chirps case
# The server's default CHIRP_CACHE_MIB, set explicitly so the memory target names the same number.
CACHE_MIB = 96
# The newest page of the feed a client asks for: GET /api/chirps?sort=desc&limit=NEWEST.
NEWEST = 100
# Chirps whose ETags are fetched for the If-None-Match case (all of them when fewer).
ETAG_SAMPLE = 10_000
# A warm-up pass is done when it needed the database for at most this share of its reads.
WARM_MISS_SHARE = 0.001
WARM_RUNS = 12
# A case during which other processes kept more than this many cores busy is flagged as noisy.
NOISY_OTHER_CORES = 0.25
# devpg's throwaway clusters trade durability for speed; the bench measures PostgreSQL as it
# is deployed, so an insert waits for its WAL flush, for the server and pgbench alike.
DURABLE = ["fsync=on", "synchronous_commit=on", "full_page_writes=on"]


def log(message: str) -> None:
    print(f"::: bench: {message}", flush=True)


class Bench:
    def __init__(self, args, tmp: Path, bin_dir: Path, cpus: tuple[list[int], list[int]] | None):
        self.args = args
        self.tmp = tmp
        self.bin_dir = bin_dir
        self.load_cpus, self.server_cpus = cpus or (None, None)
        self.cluster: Cluster | None = None
        self.server: Server | None = None
        self.extra: Server | None = None  # a second server on the same database, for a while
        self.social: SocialBench | None = None
        self.other_log_errors: list[str] = []

    def stop(self) -> None:
        """Stops whatever still runs (after a failure); the cluster goes with devpg."""
        if self.social is not None:
            self.social.stop()
        for child in (self.extra, self.server, self.cluster):
            if child is not None:
                child.stop()

    def start_server(self, database_url: str, name: str, cache_mib: int = CACHE_MIB, metrics: bool = True,
                     extra_env: dict[str, str] | None = None) -> Server:
        """A server on the bench's database, pinned like the others; with metrics on a port of
        their own (the ready file names it) unless `metrics` is False."""
        env = {"DATABASE_URL": database_url, "PLATFORM": "dev", "CHIRP_CACHE_MIB": str(cache_mib)}
        if metrics:
            env["METRICS_ADDR"] = "127.0.0.1:0"
        env.update(extra_env or {})
        return start_server(self.bin_dir, env=env, throwaway_db=False, cpus=self.server_cpus, run_dir=self.tmp,
                            name=name)

    def stop_extra(self) -> None:
        """Stops the second server, keeping its log's errors for the report."""
        server, self.extra = self.extra, None
        self.other_log_errors += [f"{server.name}: {line}" for line in server.errors_in_log()]
        code = server.stop()
        if code != 0:
            raise HarnessError(f"{server.name} exited with {code}:\n{server.log_tail()}")

    def warm(self, load: LoadGen, n_chirps: int, metrics_url: str | None) -> list[Result]:
        """Asks for every chirp in turn until the cache holds them all: until a run needed the
        database for almost none of its reads (read from the server's metrics), or, without
        metrics, until every chirp was asked for twice."""
        threads = min(self.args.threads, self.args.connections)
        seconds = min(self.args.duration, 5)
        runs: list[Result] = []
        for _ in range(WARM_RUNS):
            before = cache_reading(metrics_url) if metrics_url else None
            res = load.wrk("warm", "/api/chirps/", ["warm.lua"], [str(self.tmp / "ids.txt"), str(threads)],
                           seconds=seconds, warmup=False, record=False)
            if res.errors:
                raise HarnessError(f"warming the cache: {res.non_2xx} non-2xx, {res.socket_errors} socket errors")
            runs.append(res)
            asked = sum(run.requests for run in runs)
            if before is not None:
                during = cache_reading(metrics_url).since(before)
                if asked >= n_chirps and during.misses <= WARM_MISS_SHARE * res.requests:
                    return runs
            elif asked >= 2 * n_chirps:
                return runs
        raise HarnessError(f"the chirp cache is still missing after {asked:,} reads of {n_chirps:,} chirps: "
                           f"does CHIRP_CACHE_MIB={CACHE_MIB} hold them?")

    def cold_reads(self, load: LoadGen, database_url: str) -> dict:
        """2. GET /api/chirps/{id} on a second server, with the cache off (CHIRP_CACHE_MIB=0):
        every read goes to the database, as a miss does."""
        log("2. GET /api/chirps/{id}, random ids, cold: a second server with CHIRP_CACHE_MIB=0")
        self.extra = self.start_server(database_url, "server-nocache", cache_mib=0)
        time.sleep(1.0)
        idle = rss_bytes(self.extra.pid)
        metrics_url = self.extra.ready["metrics_url"]
        before = cache_reading(metrics_url)
        batches = batch_reading(metrics_url, "chirp_by_id")
        cold = load.against(self.extra.pid, self.extra.url)
        cold.wrk("get_cold", "/api/chirps/", ["get_chirp.lua"], [str(self.tmp / "ids.txt")])
        reading = cache_reading(metrics_url).since(before)
        batched = batch_reading(metrics_url, "chirp_by_id").since(batches)
        log("2. the same at one connection: what batching costs a lone request")
        batches = batch_reading(metrics_url, "chirp_by_id")
        cold.wrk("get_cold_1", "/api/chirps/", ["get_chirp.lua"], [str(self.tmp / "ids.txt")],
                 connections=1, threads=1)
        batched_1 = batch_reading(metrics_url, "chirp_by_id").since(batches)
        self.stop_extra()
        return {"idle_rss": idle, "cache": reading, "batches": batched, "batches_1": batched_1}

    def metrics_cost(self, load: LoadGen, database_url: str, n_chirps: int) -> dict:
        """Issue #14: /api/healthz and hot reads by id on this server (metrics on) and on a second
        one without METRICS_ADDR, alternating, the order swapped every round, so drift in the
        machine's speed falls on both alike."""
        log("8. metrics on vs off: a second server without METRICS_ADDR, its cache warmed too")
        self.extra = self.start_server(database_url, "server-nometrics", metrics=False)
        off = load.against(self.extra.pid, self.extra.url)
        self.warm(off, n_chirps, None)
        ids = [str(self.tmp / "ids.txt")]
        loads = {"healthz": ("/api/healthz", [], []), "get_hot": ("/api/chirps/", ["get_chirp.lua"], ids)}
        runs: dict[str, dict[str, list[str]]] = {case: {"on": [], "off": []} for case in loads}
        for n in range(1, self.args.metrics_rounds + 1):
            servers = [("on", load), ("off", off)]
            for case, (path, scripts, script_args) in loads.items():
                for label, gen in servers if n % 2 else reversed(servers):
                    name = f"metrics_{label}_{case}_{n}"
                    log(f"8. round {n}: {case}, metrics {label}")
                    gen.wrk(name, path, scripts, script_args)
                    runs[case][label].append(name)
        self.stop_extra()
        return runs

    def run(self) -> dict:
        """The parts asked for (--only), on one cluster: the core cases (1 to 8) on one server
        and database, then the home timeline's on another of each."""
        log("starting PostgreSQL (devpg run)")
        self.cluster = start_cluster(self.bin_dir, settings=DURABLE, cpus=self.server_cpus, run_dir=self.tmp)
        data = {"parts": self.args.parts, "cases": {}, "pinned": bool(self.server_cpus)}
        if "core" in data["parts"]:
            self.run_core(data)
        if "social" in data["parts"]:
            self.social = SocialBench(self, social.QUICK if self.args.quick else social.FULL, data["cases"])
            data["social"] = self.social.run()
            self.social = None
        code = self.cluster.stop()
        if code != 0:
            raise HarnessError(f"devpg exited with {code}:\n{self.cluster.log_tail()}")
        return data

    def run_core(self, data: dict) -> None:
        """Cases 1 to 8, filling `data`."""
        a = self.args
        log("starting the server on its database")
        seed.Psql(self.cluster.bin_dir, self.cluster.url).run("create database chirpy")
        database_url = self.cluster.database_url("chirpy")
        self.server = self.start_server(database_url, "server")
        server, base = self.server, self.server.url
        metrics_url = server.ready["metrics_url"]
        psql = seed.Psql(self.cluster.bin_dir, database_url)
        load = LoadGen(a, self.tmp, self.load_cpus, server.pid, self.cluster.postmaster_pid, base,
                       self.cluster.bin_dir, database_url, results=data["cases"])
        data["sizes"] = a.sizes
        log(f"server at {base}; PostgreSQL at {database_url}")

        # 7a. Idle RSS: after start-up, before any request.
        time.sleep(1.0)
        data["idle_rss"] = rss_bytes(server.pid)

        log("1. GET /api/healthz")
        load.wrk("healthz", "/api/healthz", [])

        log(f"seeding {seed.N_AUTHORS} users (one Argon2id hash from a sign-up, copied)")
        seed.seed_users(base, psql, self.tmp)

        # 3. The list, as the table grows, next to pgbench's list query at the smallest size.
        have = 0
        for i, size in enumerate(a.sizes):
            log(f"seeding chirps up to {size:,}")
            seed.seed_chirps(psql, have, size)
            have = size
            conns = a.connections if i == 0 else a.list_connections
            data[f"list_bytes_{size}"] = seed.check_list(base, size)
            log(f"3. GET /api/chirps over {size:,} chirps ({conns} connections)")
            load.wrk(f"list_{size}", "/api/chirps", [], connections=conns, timeout_s=60)
            if i == 0:
                log(f"3. pgbench: the list query over {size:,} chirps")
                load.pgbench(f"pg_list_{size}", queries.list_chirps(size))
        n_chirps = data["n_chirps"] = have
        ids = psql.run("select id from chirps").split()
        (self.tmp / "ids.txt").write_text("".join(f"{i}\n" for i in ids))

        log(f"3. GET /api/chirps?sort=desc&limit={NEWEST} over {n_chirps:,} chirps: the newest page")
        data["newest_bytes"] = seed.check_newest(base, NEWEST)
        load.wrk("list_newest", f"/api/chirps?sort=desc&limit={NEWEST}", [])
        log(f"3. pgbench: the newest {NEWEST} (and one more)")
        load.pgbench("pg_list_newest", queries.newest_chirps(NEWEST))

        log(f"4. GET /api/chirps?author_id=...&sort=desc over {n_chirps:,} chirps")
        load.wrk("list_author", "/api/chirps", ["list_author.lua"], [str(self.tmp / "authors.txt")])

        log(f"2. warming the chirp cache: every one of the {n_chirps:,} chirps in turn")
        warm = self.warm(load, n_chirps, metrics_url)
        log("2. GET /api/chirps/{id}, random ids, hot: every read a cache hit")
        before = cache_reading(metrics_url)
        load.wrk("get_hot", "/api/chirps/", ["get_chirp.lua"], [str(self.tmp / "ids.txt")])
        data["hot_cache"] = cache_reading(metrics_url).since(before)
        log("2. pgbench: the same select by id, at 32 clients and at one")
        load.pgbench("pg_get_chirp", queries.get_chirp(n_chirps))
        load.pgbench("pg_get_chirp_1", queries.get_chirp(n_chirps), connections=1)
        sample = ids[:: max(1, len(ids) // ETAG_SAMPLE)][:ETAG_SAMPLE]
        log(f"2. If-None-Match with the current ETag: fetching {len(sample):,} chirps' tags")
        seed.fetch_etags(base, sample, self.tmp / "etags.txt")
        data["etag_sample"] = len(sample)
        log("2. GET /api/chirps/{id} with If-None-Match, random ids of those: 304 and no body")
        load.wrk("not_modified", "/api/chirps/", ["not_modified.lua", "statuses.lua"],
                 [str(self.tmp / "etags.txt")], expect_status=304)
        storm = [*warm, load.results["get_hot"], load.results["not_modified"]]
        data["storm_rss_peak"] = max(res.rss_peak for res in storm)
        data["cold"] = self.cold_reads(load, database_url)
        data["metrics_cost"] = self.metrics_cost(load, database_url, n_chirps)

        log(f"logging in {TOKEN_USERS} users for the POST case")
        (self.tmp / "tokens.txt").write_text("\n".join(seed.log_in(base, TOKEN_USERS)) + "\n")
        psql.run("checkpoint")
        log("5. POST /api/chirps")
        batches = batch_reading(metrics_url, "post")
        load.wrk("post_chirp", "/api/chirps", ["post_chirp.lua"], [str(self.tmp / "tokens.txt")])
        data["post_batches"] = batch_reading(metrics_url, "post").since(batches)
        psql.run("checkpoint")
        log("5. pgbench: the same insert")
        load.pgbench("pg_insert", queries.insert_chirp())
        psql.run("checkpoint")
        log("5. POST /api/chirps at one connection, then pgbench's insert at one client")
        batches = batch_reading(metrics_url, "post")
        load.wrk("post_chirp_1", "/api/chirps", ["post_chirp.lua"], [str(self.tmp / "tokens.txt")],
                 connections=1, threads=1)
        data["post_batches_1"] = batch_reading(metrics_url, "post").since(batches)
        psql.run("checkpoint")
        load.pgbench("pg_insert_1", queries.insert_chirp(), connections=1)

        data["hash"] = self.login_storm(load)

        data["busy_rss"] = rss_bytes(server.pid)
        data["log_errors"] = server.errors_in_log() + self.other_log_errors
        log("stopping the server (SIGTERM)")
        data["exit_code"] = server.stop()
        if data["exit_code"] != 0:
            raise HarnessError(f"the server exited with {data['exit_code']}:\n{server.log_tail()}")

        data["ready"] = self.time_ready(database_url)

    def login_storm(self, load: LoadGen) -> dict:
        """6. Login: the Argon2 ceiling, the paced reader at rest, then during the storm. hash-cost
        runs before and after the storm (the CPU's speed drifts on a shared VM); the ceiling is
        the mean of the two."""
        a = self.args
        hash_before = self.hash_cost()
        reader = dict(
            path="/api/chirps/",
            scripts=["get_chirp.lua", "paced.lua"],
            script_args=[str(self.tmp / "ids.txt"), str(a.reader_pause_ms)],
            connections=a.reader_connections,
            threads=1,
        )
        log(f"6. paced reader at rest ({a.reader_connections} connections, {a.reader_pause_ms} ms pause)")
        load.wrk("reader_rest", seconds=max(1, a.storm_seconds - 2), **reader)
        log(f"6. POST /api/login storm ({a.connections} connections) with the paced reader alongside")
        storm: dict[str, Result] = {}
        errors: list[BaseException] = []

        def read_during_storm() -> None:
            try:
                time.sleep(1.0)  # start inside the storm
                storm["reader"] = load.wrk("reader_storm", seconds=max(1, a.storm_seconds - 2), warmup=False,
                                           record=False, **reader)
            except BaseException as exc:  # noqa: BLE001 - re-raised below
                errors.append(exc)

        thread = threading.Thread(target=read_during_storm)
        thread.start()
        load.wrk("login", "/api/login", ["login.lua"], [str(self.tmp / "emails.txt"), seed.PASSWORD],
                 seconds=a.storm_seconds, timeout_s=30, warmup=False)
        thread.join()
        if errors:
            raise errors[0]
        # The server's and PostgreSQL's CPU in that window is mostly the logins'.
        storm["reader"].cpu_server_us = storm["reader"].cpu_db_us = storm["reader"].other_cpu = float("nan")
        load.results["reader_storm"] = storm["reader"]
        hash_after = self.hash_cost()
        spread = max(hash_before["ms"], hash_after["ms"]) / min(hash_before["ms"], hash_after["ms"])
        return {
            # Two runs more than 25% apart: the CPU's speed changed under us; count it as noise.
            "other": max(hash_before["other"], hash_after["other"], NOISY_OTHER_CORES + 0.01 if spread > 1.25 else 0.0),
            "runs": [hash_before, hash_after],
            "cores": hash_before["cores"],
            "ms": (hash_before["ms"] + hash_after["ms"]) / 2,
            "ceiling": hash_before["cores"] * 2000 / (hash_before["ms"] + hash_after["ms"]),
        }

    def hash_cost(self) -> dict:
        """hash-cost, pinned like the server: the Argon2id ceiling on the server's cores."""
        log(f"6. hash-cost {self.args.hashes}")
        busy0, wall0 = machine_busy_seconds(), time.monotonic()
        code, out, err, cpu = run_pinned([str(self.bin_dir / "hash-cost"), str(self.args.hashes)], self.server_cpus)
        if code != 0:
            raise HarnessError(f"hash-cost failed: {out}{err}")
        busy, wall = machine_busy_seconds() - busy0, time.monotonic() - wall0
        m = re.search(r"([0-9.]+) ms per hash on one core; ceiling ([0-9.]+) logins/s on (\d+) cores", out)
        if not m:
            raise HarnessError(f"cannot read hash-cost's output: {out}")
        return {
            "line": out.strip(),
            "ms": float(m.group(1)),
            "ceiling": float(m.group(2)),
            "cores": int(m.group(3)),
            "other": max(0.0, busy - cpu) / wall if wall else 0.0,
        }

    def time_ready(self, database_url: str) -> dict:
        """7b. Process start -> first 200 from /api/healthz, with the database already up and
        DATABASE_URL pointing at it, as a deployment runs."""
        log(f"7. start-up time with the database up, {self.args.ready_runs} runs")
        times, idle = [], []
        for i in range(self.args.ready_runs):
            # A port chosen here, so that /api/healthz can be polled before the ready file exists.
            port = free_port()
            started = time.perf_counter()
            server = start_server(self.bin_dir, env={"DATABASE_URL": database_url, "PLATFORM": "dev",
                                                     "PORT": str(port)},
                                  throwaway_db=False, cpus=self.server_cpus, run_dir=self.tmp, name=f"ready-{i}",
                                  wait=False)
            try:
                times.append(poll_healthz(port, started, server))
                server.wait_ready()
                time.sleep(0.5)
                idle.append(rss_bytes(server.pid))
            finally:
                code = server.stop()
            if code != 0:
                raise HarnessError(f"server exited with {code}:\n{server.log_tail()}")
        return {
            "times_ms": [t * 1000 for t in times],
            "median_ms": statistics.median(times) * 1000,
            "idle_rss": statistics.median(idle),
        }


def poll_healthz(port: int, started: float, server: Server, timeout: float = 30) -> float:
    """Polls GET /api/healthz every ~2 ms; returns seconds from `started` to the first 200."""
    while time.perf_counter() - started < timeout:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", "/api/healthz")
            if conn.getresponse().status == 200:
                return time.perf_counter() - started
        except OSError:
            pass
        finally:
            conn.close()
        if not server.running():
            code = server.proc.returncode
            raise HarnessError(f"the server exited with {code} before answering:\n{server.log_tail()}")
        time.sleep(0.002)
    raise HarnessError("no 200 from /api/healthz in time")
