"""The per-case sections of BENCHMARKS.md, 1 to 8: each load's table next to its ceiling's, and
what the figures say."""

from __future__ import annotations

from pathlib import Path

from chirpy_harness.report import fmt_ms, fmt_rate, fmt_us, mib, size_text

import queries
from cases import CACHE_MIB, NEWEST, TOKEN_USERS
from loadgen import Result
from report_rows import (
    HEADER, RULE, case_table, cpu_text, metrics_ratio, other_text, per_chirp_us, ratio, row, shown, sql_file,
)
from report_targets import METRICS_GOAL
from seed import CHIRP_ID_SQL, N_AUTHORS


def case_sections(data: dict, args, bin_dir: Path) -> list[str]:
    """Sections 1 to 8, in order."""
    return [
        *healthz_section(data),
        *get_section(data),
        *list_section(data, args),
        *newest_section(data),
        *author_section(data),
        *post_section(data),
        *login_section(data, args, bin_dir),
        *startup_section(data),
        *metrics_section(data),
    ]


def healthz_section(data: dict) -> list[str]:
    """1. The HTTP stack's own ceiling."""
    return [
        "## 1. GET /api/healthz: the HTTP stack's ceiling",
        "",
        HEADER,
        RULE,
        row("wrk `GET /api/healthz`", data["cases"]["healthz"]),
        "",
    ]

def get_section(data: dict) -> list[str]:
    """2. Reads by id: hot, revalidated, cold."""
    r, n = data["cases"], data["n_chirps"]
    hot, cold = data["hot_cache"], data["cold"]
    statuses = r["not_modified"].statuses or {}
    answers = ", ".join(f"{count:,} × {status}" for status, count in sorted(statuses.items()))
    hot_peak = r["get_hot"].rss_peak
    sample = data["etag_sample"]
    sampled = f"all {n:,} chirps" if sample >= n else f"{sample:,} chirps, spread evenly over the {n:,}"
    return [
        f"## 2. GET /api/chirps/{{id}} (random ids over {n:,} chirps): hot, revalidated, cold, vs pgbench",
        "",
        *case_table(
            row("wrk `GET /api/chirps/{id}`, hot: every chirp cached first", r["get_hot"]),
            row("wrk, with `If-None-Match: <its ETag>` (304, no body)", r["not_modified"]),
            row("wrk, cold: a second server with `CHIRP_CACHE_MIB=0`", r["get_cold"]),
            row(f"pgbench {sql_file(queries.GET_CHIRP)}", r["pg_get_chirp"]),
            row("wrk, cold, one connection", r["get_cold_1"]),
            row("pgbench, the same select, one client", r["pg_get_chirp_1"]),
        ),
        f"Hot: **{ratio(r['get_hot'].rps, r['pg_get_chirp'].rps):.2f}x** pgbench and "
        f"**{ratio(r['get_hot'].rps, r['healthz'].rps):.2f}x** `/api/healthz`. Before it, a warm-up asks for every "
        f"chirp in turn until a pass needs the database for almost none of its reads; during the case the server "
        f"counted {hot.hits:,.0f} cache hits and {hot.misses:,.0f} misses (**{hot.hit_ratio:.2%}** hits; from "
        f"`chirpy_cache_hits_total` and `chirpy_cache_misses_total`), and the cache weighed "
        f"{mib(hot.size_bytes)} of its {CACHE_MIB} MiB (`chirpy_cache_size_bytes`: each chirp's JSON and its measured overhead, 336 bytes). "
        f"Peak RSS while warming and reading: {mib(data['storm_rss_peak'])}, idle + "
        f"{mib(data['storm_rss_peak'] - data['idle_rss'])} (in the hot case alone: {mib(hot_peak)}).",
        "",
        f"Revalidation: **{ratio(r['not_modified'].rps, r['healthz'].rps):.2f}x** `/api/healthz`. The ETags of "
        f"{sampled} were read just before; the script counts every answer's status, and any but 304 counts as an "
        f"error: {answers or 'none'}. Counting them makes wrk hand every response's headers to Lua, which is why "
        "its CPU per request is higher here than for the other reads.",
        "",
        f"Cold: **{ratio(r['get_cold'].rps, r['pg_get_chirp'].rps):.2f}x** pgbench; the second server, on the same "
        f"database and CPUs, counted {cold['cache'].misses:,.0f} misses and {cold['cache'].hits:,.0f} hits; its "
        f"RSS peaked at {mib(r['get_cold'].rss_peak)} (idle {mib(cold['idle_rss'])}). pgbench names the row by "
        f"`{CHIRP_ID_SQL.format(n='$1')}` (the seeded ids are made that way, since pgbench variables are "
        "integers): an md5 of a few bytes, well under a microsecond per query.",
        "",
        f"Batching (issue #18): at {r['get_cold'].connections} connections the misses were answered "
        f"{batch_text(cold['batches'])}; at one connection, {batch_text(cold['batches_1'])}, and a lone read "
        f"took **{ratio(r['get_cold_1'].mean_ms, r['pg_get_chirp_1'].mean_ms):.2f}x** pgbench's mean latency at one "
        f"client ({fmt_ms(r['get_cold_1'].mean_ms)} vs {fmt_ms(r['pg_get_chirp_1'].mean_ms)}). From "
        "`chirpy_db_batches_total`, `chirpy_db_batched_requests_total` and `chirpy_db_batch_wait_seconds_total` "
        "(`work=\"chirp_by_id\"`).",
        "",
    ]


def batch_text(b) -> str:
    """How a case's requests were batched, from the server's counters."""
    return (f"in {b.batches:,.0f} statements for {b.requests:,.0f} requests (**{b.mean_size:.1f}** per batch), "
            f"each request waiting {b.mean_wait_us:.0f} µs on average to be taken into one")


def list_section(data: dict, args) -> list[str]:
    """3. The whole list, at each size."""
    r: dict[str, Result] = data["cases"]
    sizes = data["sizes"]
    small, big = sizes[0], sizes[-1]
    per_chirp = per_chirp_us(data)
    out: list[str] = []
    w = out.append
    w("## 3. GET /api/chirps: the whole list, as the table grows")
    w("")
    w("| load | response | conns | req/s | p50 | p99 | peak RSS (start) | errors "
      "| CPU µs/req: server / PostgreSQL / load gen | other | µs per chirp |")
    w("|---|---|---|---|---|---|---|---|---|---|---|")
    for n in sizes:
        res = r[f"list_{n}"]
        w(f"| wrk `GET /api/chirps`, {n:,} chirps | {size_text(data[f'list_bytes_{n}'])} | {res.connections} | "
          f"{fmt_rate(res.rps)} | {fmt_ms(res.p50_ms)} | {fmt_ms(res.p99_ms)} | {mib(res.rss_peak)} "
          f"({mib(res.rss_start)}) | {res.errors} | {cpu_text(res)} | {other_text(res)} | {per_chirp[n]:.2f} |")
    pg = r[f"pg_list_{small}"]
    w(f"| pgbench {sql_file(queries.LIST_CHIRPS)} from the start, {small:,} chirps | | {pg.connections} | "
      f"{fmt_rate(pg.rps)} | {fmt_ms(pg.p50_ms)} | {fmt_ms(pg.p99_ms)} | – | {pg.errors} | "
      f"{cpu_text(pg)} | {other_text(pg)} | {pg.mean_ms * 1000 / pg.connections / small:.2f} |")
    w("")
    growth = r[f"list_{big}"].rss_peak - r[f"list_{big}"].rss_start
    w(f"Ratio at {small}: **{ratio(r[f'list_{small}'].rps, pg.rps):.2f}x** pgbench, whose statement reads the "
      f"feed from its start with a limit of {small + 1}, as the server reads a list that fits one page (one row "
      "more than there are, to learn that none follows). "
      "µs per chirp = mean latency / connections / chirps, the time the machine takes per chirp listed "
      "(Little's law: a closed loop of c connections completes c / mean latency requests per second; unlike "
      "requests counted in the window, this does not drop the long responses still in flight when wrk stops). "
      f"The bigger lists run at {args.list_connections} connections (`--list-connections`): at 32, {big:,}-chirp "
      "responses share the server's CPU 32 ways and each takes longer than a case lasts, so wrk completes "
      "almost none. Before each size, one request checks that the unpaginated list returns every chirp, in "
      "order. CPU/req of the biggest list also carries the responses still in flight when wrk stops. "
      f"RSS growth while serving {big:,}: {mib(growth)} (peak − start); "
      f"peak − idle RSS after start-up: {mib(r[f'list_{big}'].rss_peak - data['idle_rss'])}.")
    w("")
    return out


def newest_section(data: dict) -> list[str]:
    """3b. The newest page, which the cache keeps until the next post."""
    r = data["cases"]
    return [
        f"### The newest {NEWEST}: `GET /api/chirps?sort=desc&limit={NEWEST}` over {data['n_chirps']:,} chirps",
        "",
        *case_table(
            row(f"wrk `GET /api/chirps?sort=desc&limit={NEWEST}` ({size_text(data['newest_bytes'])})",
                r["list_newest"]),
            row(f"pgbench {sql_file(queries.NEWEST_CHIRPS)}, limit {NEWEST + 1}", r["pg_list_newest"]),
        ),
        f"Ratio: **{ratio(r['list_newest'].rps, r['pg_list_newest'].rps):.2f}x** pgbench, which reads the page as "
        f"the server does: after every chirp, newest first, {NEWEST + 1} rows (one more, to learn whether a next "
        "page follows). The server keeps that page's JSON in its cache until a chirp is posted or deleted.",
        "",
    ]

def author_section(data: dict) -> list[str]:
    """4. One author's chirps."""
    big = data["sizes"][-1]
    return [
        f"## 4. GET /api/chirps?author_id=<random>&sort=desc ({big:,} chirps by {N_AUTHORS:,} authors)",
        "",
        HEADER,
        RULE,
        row("wrk, a random author per request", data["cases"]["list_author"]),
        "",
        f"{big:,} chirps by {N_AUTHORS:,} authors: about {big / N_AUTHORS:g} per author, at random.",
        "",
    ]


def post_section(data: dict) -> list[str]:
    """5. Posting, next to pgbench's insert."""
    r = data["cases"]
    return [
        "## 5. POST /api/chirps vs pgbench insert",
        "",
        HEADER,
        RULE,
        row(f"wrk `POST /api/chirps`, {TOKEN_USERS} users' tokens", r["post_chirp"]),
        row(f"pgbench {sql_file(queries.INSERT_CHIRP)}", r["pg_insert"]),
        row("wrk `POST /api/chirps`, one connection", r["post_chirp_1"]),
        row("pgbench, the same insert, one client", r["pg_insert_1"]),
        "",
        f"Ratio: **{ratio(r['post_chirp'].rps, r['pg_insert'].rps):.2f}x** pgbench. The posts were group-committed "
        f"{batch_text(data['post_batches'])} (`work=\"post\"`): one transaction and one WAL flush per group, "
        "where pgbench flushes once per insert. At one connection, "
        f"{batch_text(data['post_batches_1'])}, and a post took "
        f"**{ratio(r['post_chirp_1'].mean_ms, r['pg_insert_1'].mean_ms):.2f}x** pgbench's mean latency at one client "
        f"({fmt_ms(r['post_chirp_1'].mean_ms)} vs {fmt_ms(r['pg_insert_1'].mean_ms)}).",
        "",
    ]


def login_section(data: dict, args, bin_dir: Path) -> list[str]:
    """6. Logins next to the Argon2id ceiling, and a paced reader during the storm."""
    r, h = data["cases"], data["hash"]
    login, ceiling = r["login"].rps, h["ceiling"]
    storm_p99, rest_p99 = r["reader_storm"].p99_ms, r["reader_rest"].p99_ms
    return [
        "## 6. POST /api/login vs the Argon2id ceiling, and reads during the storm",
        "",
        HEADER,
        RULE,
        row(f"wrk `POST /api/login` (right passwords, {N_AUTHORS:,} users)", r["login"]),
        row("paced reader `GET /api/chirps/{id}` at rest", r["reader_rest"]),
        row("paced reader `GET /api/chirps/{id}` during the storm", r["reader_storm"]),
        "",
        f"`{shown(bin_dir / 'hash-cost')} {args.hashes}`{' (pinned like the server)' if data['pinned'] else ''}, "
        f"before and after the storm: `{h['runs'][0]['line']}`; then `{h['runs'][1]['line']}`. Ceiling: "
        f"{h['cores']} core{'s' if h['cores'] > 1 else ''} / {h['ms']:.2f} ms (their mean) = {ceiling:.1f} logins/s. "
        f"Login: **{ratio(login, ceiling):.2f}x** that ceiling. "
        "(The ceiling counts the hash alone; the rest of a login, its queries and PostgreSQL's share of the same "
        "CPUs, comes out of it: see the CPU/req column.) "
        f"The paced reader is {args.reader_connections} connections pausing {args.reader_pause_ms} ms after each "
        f"response (wrk's latency excludes the pause), first alone, then started 1 s into the storm; p99 during/at "
        f"rest: **{ratio(storm_p99, rest_p99):.2f}x**.",
        "",
    ]


def startup_section(data: dict) -> list[str]:
    """7. Memory at rest, and the time from start to serving."""
    ready = data["ready"]
    return [
        "## 7. Idle RSS and start-up",
        "",
        "| | |",
        "|---|---|",
        f"| idle RSS, 1 s after start-up, before any request | {mib(data['idle_rss'])} |",
        f"| idle RSS of a fresh process after one `/api/healthz` (median of the start-up runs) | "
        f"{mib(ready['idle_rss'])} |",
        f"| RSS at the end of the run (after every case) | {mib(data['busy_rss'])} |",
        f"| start -> first 200 from `/api/healthz`, median of {len(ready['times_ms'])} | "
        f"{fmt_ms(ready['median_ms'])} |",
        f"| the runs | {', '.join(f'{t:.0f}' for t in ready['times_ms'])} ms |",
        "",
        "Start-up is timed from spawning the process to the first 200, polling every ~2 ms, with the cluster "
        "already running and `DATABASE_URL` pointing at it, as a deployment runs: connecting, checking the "
        "migrations (already applied), binding, serving.",
        "",
    ]

def metrics_section(data: dict) -> list[str]:
    """8. Issue #14: what the metrics cost."""
    r = data["cases"]
    out = [
        "## 8. Metrics on vs off",
        "",
        "The same loads on this server (`METRICS_ADDR` set) and on a second one without it, on the same database "
        "and CPUs with its cache warmed the same way, alternating, the order swapped every round so that drift in "
        "the machine's speed falls on both alike.",
        "",
        "| load | round | metrics on req/s | off req/s | on / off | CPU µs/req on | off | other |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for case, runs in data["metrics_cost"].items():
        for i, (on, off) in enumerate(zip(runs["on"], runs["off"]), start=1):
            a, b = r[on], r[off]
            out.append(f"| {LOADS[case]} | {i} | {fmt_rate(a.rps)} | {fmt_rate(b.rps)} | {ratio(a.rps, b.rps):.3f}x "
                       f"| {fmt_us(a.cpu_server_us)} | {fmt_us(b.cpu_server_us)} "
                       f"| {other_text(a)} / {other_text(b)} |")
    summary = "; ".join(f"{LOADS[case]} **{metrics_ratio(data, case):.3f}x**" for case in data["metrics_cost"])
    out += ["", f"With metrics over without, all rounds together: {summary} (goal: >= {METRICS_GOAL:g}x).", ""]
    return out


LOADS = {"healthz": "`GET /api/healthz`", "get_hot": "`GET /api/chirps/{id}`, hot"}
