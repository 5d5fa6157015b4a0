"""The report: the generated region of BENCHMARKS.md (the full run writes it between the
bench:begin and bench:end markers; the hand-written findings outside stay as they are), and the
targets with their verdicts. --quick prints the same text."""

from __future__ import annotations

import math
from pathlib import Path

from chirpy_harness.binaries import ROOT
from chirpy_harness.errors import HarnessError
from chirpy_harness.launcher import SERVER_DEFAULTS
from chirpy_harness.report import REGION_BEGIN, REGION_END, fmt_ms, fmt_rate, fmt_us, mib, replace_region, size_text

import charts
import queries
from cases import CACHE_MIB, NEWEST, NOISY_OTHER_CORES, TOKEN_USERS
from loadgen import Result
from seed import CHIRP_ID_SQL, N_AUTHORS

MIB = 1024 * 1024
FINDINGS = "[Where targets are missed, and why](#where-targets-are-missed-and-why)"
# The charts, beside the report: `docs/bench/` next to BENCHMARKS.md, linked relatively.
CHART_DIR = Path("docs") / "bench"
CHARTS = {"throughput.svg": "Throughput as a share of its ceiling", "latency.svg": "Latency, p50 and p99"}
# Below this share of cache hits, the hot case did not measure what it says.
HOT_HIT_RATIO = 0.99
# Metrics may cost at most this share of throughput (issue #14).
METRICS_GOAL = 0.95


def ratio(x: float, y: float) -> float:
    return x / y if y else math.nan


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def sql_file(name: str) -> str:
    return f"`{shown(queries.SQL_DIR / name)}`"


def cpu_text(res: Result) -> str:
    return f"{fmt_us(res.cpu_server_us)} / {fmt_us(res.cpu_db_us)} / {fmt_us(res.cpu_load_us)}".replace("n/a", "–")


def other_text(res: Result) -> str:
    return "–" if math.isnan(res.other_cpu) else f"{res.other_cpu:.2f}"


def row(label: str, res: Result) -> str:
    rss = mib(res.rss_peak) if res.tool == "wrk" else "–"
    return (
        f"| {label} | {res.connections} | {fmt_rate(res.rps)} | {fmt_ms(res.p50_ms)} | {fmt_ms(res.p99_ms)} "
        f"| {rss} | {res.errors} | {cpu_text(res)} | {other_text(res)} |"
    )


HEADER = "| load | conns | req/s | p50 | p99 | peak RSS | errors | CPU µs/req: server / PostgreSQL / load gen | other |"
RULE = "|---|---|---|---|---|---|---|---|---|"


def case_table(*rows: str) -> list[str]:
    """The usual table of loads, then a blank line."""
    return [HEADER, RULE, *rows, ""]


def problems(data: dict) -> list[str]:
    """What makes the run fail: errors under load, empty cases, ERROR lines in the server's log."""
    out = []
    for res in data["cases"].values():
        if res.errors:
            out.append(f"{res.name}: {res.non_2xx} non-2xx/failed, {res.socket_errors} socket errors")
        if res.requests == 0:
            out.append(f"{res.name}: no request completed")
    hot = data["hot_cache"]
    if not hot.hit_ratio >= HOT_HIT_RATIO:
        out.append(f"get_hot: {hot.hit_ratio:.1%} cache hits ({hot.misses:.0f} misses): the hot case was not hot")
    if data["cold"]["cache"].hits:
        out.append(f"get_cold: {data['cold']['cache'].hits:.0f} cache hits on a server with CHIRP_CACHE_MIB=0")
    out += [f"server log: {line}" for line in data.get("log_errors", [])[:5]]
    return out


def per_chirp_us(data: dict) -> dict[int, float]:
    """Per chirp listed, from Little's law (connections / mean latency = throughput of a closed
    loop): unlike requests / window, it does not undercount when responses take seconds and the
    ones still in flight when wrk stops are dropped."""
    r = data["cases"]
    return {n: r[f"list_{n}"].mean_ms * 1000 / r[f"list_{n}"].connections / n for n in data["sizes"]}


def at_most(x: float) -> str:
    """`x` to two decimals, cut rather than rounded, so that a ratio just under its goal is
    never shown as the goal itself next to a MISS (1.496 is 1.49, not 1.50)."""
    return "nan" if math.isnan(x) else f"{math.floor(x * 100 + 1e-9) / 100:.2f}"


def metrics_ratio(data: dict, case: str) -> float:
    """Throughput with metrics on over off, summed over the alternating runs."""
    r, runs = data["cases"], data["metrics_cost"][case]
    return ratio(sum(r[n].rps for n in runs["on"]), sum(r[n].rps for n in runs["off"]))


def storm_budget(data: dict) -> float:
    """What the server may hold during random reads over every chirp: idle, the cache, 20 MiB."""
    return data["idle_rss"] + (CACHE_MIB + 20) * MIB


def targets(data: dict) -> list[tuple[str, str, str, str, bool, float]]:
    """(target, measured, ratio, goal, met, how busy the machine was otherwise) per target."""
    r: dict[str, Result] = data["cases"]
    small, mid, big = data["sizes"][0], data["sizes"][-2], data["sizes"][-1]
    per_chirp = per_chirp_us(data)
    growth = r[f"list_{big}"].rss_peak - r[f"list_{big}"].rss_start
    flat = ratio(per_chirp[big], per_chirp[mid])
    login, ceiling = r["login"].rps, data["hash"]["ceiling"]
    storm_p99, rest_p99 = r["reader_storm"].p99_ms, r["reader_rest"].p99_ms

    def noise(*cases: str) -> float:
        values = [r[c].other_cpu for c in cases if not math.isnan(r[c].other_cpu)]
        return max(values, default=0.0)

    def vs(case: str, ceiling_case: str, name: str, goal: float) -> tuple[str, str, str, str, bool, float]:
        x = ratio(r[case].rps, r[ceiling_case].rps)
        return (name, f"{fmt_rate(r[case].rps)} vs {fmt_rate(r[ceiling_case].rps)} /s", f"{at_most(x)}x",
                f">= {goal:g}x", x >= goal, noise(case, ceiling_case))

    def metrics_cost(case: str, name: str) -> tuple[str, str, str, str, bool, float]:
        runs = data["metrics_cost"][case]
        on, off = (sum(r[n].rps for n in runs[k]) / len(runs[k]) for k in ("on", "off"))
        x = metrics_ratio(data, case)
        return (name, f"{fmt_rate(on)} vs {fmt_rate(off)} /s", f"{x:.3f}x", f">= {METRICS_GOAL:g}x",
                x >= METRICS_GOAL, noise(*runs["on"], *runs["off"]))

    list_small, newest = r[f"list_{small}"], r["list_newest"]
    ready_ms = data["ready"]["median_ms"]
    storm_peak, budget = data["storm_rss_peak"], storm_budget(data)
    n = data["n_chirps"]
    # Memory does not care how busy the CPUs are: those targets carry no noise.
    return [
        vs("get_hot", "pg_get_chirp", "GET one chirp, hot (cache hit) vs pgbench select by id", 1.5),
        vs("get_hot", "healthz", "GET one chirp, hot vs `/api/healthz`", 0.5),
        vs("get_cold", "pg_get_chirp", "GET one chirp, cold (`CHIRP_CACHE_MIB=0`) vs pgbench", 0.5),
        vs("not_modified", "healthz", "If-None-Match revalidation (304) vs `/api/healthz`", 0.7),
        vs("list_newest", "pg_list_newest", f"newest {NEWEST} (`?sort=desc&limit={NEWEST}`) vs pgbench", 1.0),
        (f"newest {NEWEST}: p99 at {newest.connections} connections", fmt_ms(newest.p99_ms), "", "< 10 ms",
         newest.p99_ms < 10, noise("list_newest")),
        (f"list of {small}: p99 at {list_small.connections} connections", fmt_ms(list_small.p99_ms), "",
         "< 20 ms", list_small.p99_ms < 20, noise(f"list_{small}")),
        (f"list of {big:,}: RSS growth while serving it", mib(growth), "", "< 32 MiB", growth < 32 * MIB, 0.0),
        (f"list: time per chirp, {mid:,} -> {big:,}", f"{per_chirp[mid]:.2f} -> {per_chirp[big]:.2f} µs",
         f"{flat:.2f}x", "flat (<= 1.25x)", flat <= 1.25, noise(f"list_{mid}", f"list_{big}")),
        vs("post_chirp", "pg_insert", "POST chirp vs pgbench insert", 0.7),
        ("login vs Argon2id ceiling", f"{login:.1f} vs {ceiling:.1f} /s", f"{ratio(login, ceiling):.2f}x",
         ">= 0.9x", ratio(login, ceiling) >= 0.9, max(noise("login"), data["hash"]["other"])),
        ("read p99 during login storm vs at rest", f"{fmt_ms(storm_p99)} vs {fmt_ms(rest_p99)}",
         f"{ratio(storm_p99, rest_p99):.2f}x", "<= 3x", ratio(storm_p99, rest_p99) <= 3,
         noise("login", "reader_rest")),
        ("peak RSS during login storm", mib(r["login"].rss_peak), "", "< 200 MiB",
         r["login"].rss_peak < 200 * MIB, 0.0),
        (f"peak RSS, random reads over {n:,} chirps (cache {CACHE_MIB} MiB)",
         f"{mib(storm_peak)} (idle {mib(data['idle_rss'])})", "",
         f"<= idle + {CACHE_MIB} + 20 MiB = {mib(budget)}", storm_peak <= budget, 0.0),
        ("idle RSS after start-up", mib(data["idle_rss"]), "", "< 20 MiB", data["idle_rss"] < 20 * MIB, 0.0),
        ("start -> first 200 /api/healthz (DB up, median)", fmt_ms(ready_ms), "", "< 200 ms", ready_ms < 200, 0.0),
        metrics_cost("healthz", "`/api/healthz`, metrics on vs off"),
        metrics_cost("get_hot", "GET one chirp (hot), metrics on vs off"),
    ]


def write(output: Path, region: str) -> None:
    """Rewrites the generated region of `output` (a new file is only that region, under a title);
    an existing file without the markers is refused rather than overwritten."""
    output.write_text(with_region(output, region))


def with_region(output: Path, region: str) -> str:
    """`output`'s text with `region` in place; run with an empty region before the bench, it
    finds a file that cannot take the report before ten minutes are spent measuring."""
    document = output.read_text() if output.exists() else f"# Chirpy benchmarks\n\n{REGION_BEGIN}\n{REGION_END}\n"
    try:
        return replace_region(document, region)
    except ValueError as exc:
        raise HarnessError(f"{output}: {exc}: put them around the generated part") from exc


def region(data: dict, info: dict, args, command: str, pinned: str, bin_dir: Path) -> str:
    """The generated markdown, from "Generated by" to the last section."""
    r: dict[str, Result] = data["cases"]
    sizes = data["sizes"]
    small, big = sizes[0], sizes[-1]
    per_chirp = per_chirp_us(data)
    out: list[str] = []
    w = out.append
    w(f"Generated by `{command}` on {info['date']}, from commit {info['commit']}. Every full run rewrites "
      "the text between the `bench:begin` and `bench:end` markers; the findings after them are written by hand.")
    w("")
    w("## How to read this")
    w("")
    w("- Absolute figures drift with the machine and whatever else runs on it; the **ratios** to the ceilings "
      "measured in the same run (pgbench on the same cluster, the Argon2id cost, `/api/healthz`) are the point.")
    w(f"- Load: wrk `-t {args.threads}`, {args.connections} connections, {args.duration:g} s per case "
      f"(after a {args.warmup:g} s warm-up); pgbench `-M prepared -j 2` at the same number of clients, same duration, "
      "against the server's own database, running the server's own statements (the files in "
      f"`{shown(queries.SQL_DIR)}/`). Latencies are wrk's (closed loop: p99 is what a client waited while all "
      "connections were busy).")
    w(f"- CPUs: {pinned}")
    w("- CPU/req: CPU time per request of the server process, of all of PostgreSQL (postmaster, backends, "
      "background workers) and of the load generator, from /proc and rusage over the case. On this machine the "
      "cores are shared, so CPU/req says where the time goes better than requests/s does.")
    w("- *other*: how many cores were busy with anything else during the case (other processes on the machine, "
      "this harness's own Python; from /proc/stat minus the three above). Above ~0.1, the case ran on a busy "
      f"machine and its figures are noise; a target whose cases saw more than {NOISY_OTHER_CORES} is marked "
      "*noisy* (so is the login ceiling when hash-cost's two runs differ by more than 25%): run again on a "
      "quiet machine before believing that verdict.")
    w(f"- The server runs with `CHIRP_CACHE_MIB={CACHE_MIB}` (the default) and `METRICS_ADDR` set (metrics on a port "
      "of their own), as production would, so every case pays for its metrics and the bench reads the cache's "
      "hits and misses from the server itself; section 8 measures what the metrics cost. Request logs are off "
      f"(`RUST_LOG={SERVER_DEFAULTS['RUST_LOG']}`): the one line per request that `RUST_LOG=info` writes cost a "
      "quarter of `/api/healthz`'s throughput when measured.")
    w("- RSS is the server process's VmRSS (PostgreSQL not included), sampled every 100 ms; *peak* is the highest "
      "sample during the case, *start* the value just before it.")
    w("- The cluster is the bench's own (`devpg run`, pinned with the server) with PostgreSQL's durability "
      "defaults (fsync, synchronous commit and full-page writes on), so an insert waits for its WAL flush, "
      "for the server and pgbench alike; the server reaches it through `DATABASE_URL`.")
    w("")
    w("## Machine")
    w("")
    w("| | |")
    w("|---|---|")
    for key in ("cores", "memory", "cpu", "kernel", "rustc", "postgres", "wrk"):
        w(f"| {key} | {info[key]} |")
    build = "`cargo build --release`" if args.profile == "release" else "`cargo build`, debug"
    w(f"| server build | `{shown(bin_dir / 'chirpy')}` ({build}) |")
    w("")
    w("## Targets")
    w("")
    w("| target | measured | ratio | goal | |")
    w("|---|---|---|---|---|")
    for name, measured, rat, goal, ok, other in targets(data):
        flag = f" (noisy: {other:.1f} other cores busy)" if other > NOISY_OTHER_CORES else ""
        w(f"| {name} | {measured} | {rat} | {goal} | {'PASS' if ok else '**MISS**'}{flag} |")
    w("")
    w(f"Why the misses are structural, and what was done about them: {FINDINGS}, below.")
    w("")
    for name, title in CHARTS.items():
        w(f"![{title}]({(CHART_DIR / name).as_posix()})")
        w("")
    w("The bars are each case's throughput over its ceiling's in this run (pgbench, `/api/healthz`, the Argon2id "
      "cost, the same server without metrics), green where it meets its goal (the black tick), red where it "
      "misses; latencies are wrk's (pgbench's for its own rows), on a log scale.")
    w("")
    w("## 1. GET /api/healthz: the HTTP stack's ceiling")
    w("")
    w(HEADER)
    w(RULE)
    w(row("wrk `GET /api/healthz`", r["healthz"]))
    w("")
    out += get_section(data)
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
    out += newest_section(data)
    w(f"## 4. GET /api/chirps?author_id=<random>&sort=desc ({big:,} chirps by {N_AUTHORS:,} authors)")
    w("")
    w(HEADER)
    w(RULE)
    w(row("wrk, a random author per request", r["list_author"]))
    w("")
    w(f"{big:,} chirps by {N_AUTHORS:,} authors: about {big / N_AUTHORS:g} per author, at random.")
    w("")
    w("## 5. POST /api/chirps vs pgbench insert")
    w("")
    w(HEADER)
    w(RULE)
    w(row(f"wrk `POST /api/chirps`, {TOKEN_USERS} users' tokens", r["post_chirp"]))
    w(row(f"pgbench {sql_file(queries.INSERT_CHIRP)}", r["pg_insert"]))
    w("")
    w(f"Ratio: **{ratio(r['post_chirp'].rps, r['pg_insert'].rps):.2f}x** pgbench.")
    w("")
    out += login_section(data, args, bin_dir)
    out += startup_section(data)
    out += metrics_section(data)
    found = problems(data)
    if found:
        out += ["## Problems in this run", "", *(f"- {p}" for p in found), ""]
    return "\n".join(out)


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
    ]


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


def chart_files(data: dict) -> dict[str, str]:
    """The charts' SVG, by file name (see CHARTS)."""
    r: dict[str, Result] = data["cases"]
    small = data["sizes"][0]
    hash_ceiling = data["hash"]["ceiling"]

    def share(case: str, ceiling: str, label: str, goal: float | None = None) -> charts.Ratio:
        return charts.Ratio(label, ratio(r[case].rps, r[ceiling].rps), goal)

    ratios = [
        share("get_hot", "pg_get_chirp", "GET chirp, hot ÷ pgbench by id", 1.5),
        share("get_hot", "healthz", "GET chirp, hot ÷ /api/healthz", 0.5),
        share("get_cold", "pg_get_chirp", "GET chirp, cold ÷ pgbench by id", 0.5),
        share("not_modified", "healthz", "304 revalidation ÷ /api/healthz", 0.7),
        share("list_newest", "pg_list_newest", f"newest {NEWEST} ÷ pgbench", 1.0),
        share(f"list_{small}", f"pg_list_{small}", f"list of {small} (whole) ÷ pgbench"),
        share("post_chirp", "pg_insert", "POST chirp ÷ pgbench insert", 0.7),
        charts.Ratio("login ÷ Argon2id ceiling", ratio(r["login"].rps, hash_ceiling), 0.9),
        charts.Ratio("/api/healthz, metrics on ÷ off", metrics_ratio(data, "healthz"), METRICS_GOAL),
        charts.Ratio("GET chirp hot, metrics on ÷ off", metrics_ratio(data, "get_hot"), METRICS_GOAL),
    ]
    latency_cases = [
        ("healthz", "/api/healthz"),
        ("get_hot", "GET chirp, hot"),
        ("not_modified", "GET chirp, 304"),
        ("get_cold", "GET chirp, cold"),
        ("pg_get_chirp", "pgbench by id"),
        ("list_newest", f"newest {NEWEST}"),
        ("pg_list_newest", f"pgbench newest {NEWEST}"),
        *((f"list_{n}", f"list of {n:,}") for n in data["sizes"]),
        (f"pg_list_{small}", f"pgbench list of {small}"),
        ("list_author", "one author's chirps"),
        ("post_chirp", "POST chirp"),
        ("pg_insert", "pgbench insert"),
        ("login", "POST login"),
        ("reader_rest", "paced reader, at rest"),
        ("reader_storm", "paced reader, login storm"),
    ]
    latencies = [charts.Latency(label, r[case].p50_ms, r[case].p99_ms) for case, label in latency_cases]
    conns = data["cases"]["healthz"].connections
    return {
        "throughput.svg": charts.ratio_chart(ratios, f"Chirpy: throughput ÷ its ceiling, same run ({conns} conns)",
                                             "requests/s ÷ the ceiling's (1x: as fast as the ceiling)"),
        "latency.svg": charts.latency_chart(latencies, "Chirpy: latency per case (wrk; pgbench for its rows)"),
    }


def write_charts(output: Path, files: dict[str, str]) -> None:
    """Writes the charts to CHART_DIR beside `output`."""
    folder = output.parent / CHART_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for name, svg in files.items():
        (folder / name).write_text(svg)


def login_section(data: dict, args, bin_dir: Path) -> list[str]:
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
