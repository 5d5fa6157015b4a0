"""The report: the generated region of BENCHMARKS.md (the full run writes it between the
bench:begin and bench:end markers; the hand-written findings outside stay as they are), and the
targets with their verdicts. --quick prints the same text."""

from __future__ import annotations

import math
from pathlib import Path

from chirpy_harness.binaries import ROOT
from chirpy_harness.errors import HarnessError
from chirpy_harness.report import REGION_BEGIN, REGION_END, fmt_ms, fmt_rate, fmt_us, mib, replace_region, size_text

import queries
from cases import NOISY_OTHER_CORES, TOKEN_USERS
from loadgen import Result
from seed import CHIRP_ID_SQL, N_AUTHORS

MIB = 1024 * 1024
FINDINGS = "[Where targets are missed, and why](#where-targets-are-missed-and-why)"


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


def problems(data: dict) -> list[str]:
    """What makes the run fail: errors under load, empty cases, ERROR lines in the server's log."""
    out = []
    for res in data["cases"].values():
        if res.errors:
            out.append(f"{res.name}: {res.non_2xx} non-2xx/failed, {res.socket_errors} socket errors")
        if res.requests == 0:
            out.append(f"{res.name}: no request completed")
    out += [f"server log: {line}" for line in data.get("log_errors", [])[:5]]
    return out


def per_chirp_us(data: dict) -> dict[int, float]:
    """Per chirp listed, from Little's law (connections / mean latency = throughput of a closed
    loop): unlike requests / window, it does not undercount when responses take seconds and the
    ones still in flight when wrk stops are dropped."""
    r = data["cases"]
    return {n: r[f"list_{n}"].mean_ms * 1000 / r[f"list_{n}"].connections / n for n in data["sizes"]}


def targets(data: dict) -> list[tuple[str, str, str, str, bool, float]]:
    """(target, measured, ratio, goal, met, how busy the machine was otherwise) per target."""
    r: dict[str, Result] = data["cases"]
    small, mid, big = data["sizes"][0], data["sizes"][-2], data["sizes"][-1]
    per_chirp = per_chirp_us(data)
    growth = r[f"list_{big}"].rss_peak - r[f"list_{big}"].rss_start
    flat = ratio(per_chirp[big], per_chirp[mid])
    login, ceiling = r["login"].rps, data["hash"]["ceiling"]
    storm_p99, rest_p99 = r["reader_storm"].p99_ms, r["reader_rest"].p99_ms
    get_ratio = ratio(r["get_chirp"].rps, r["pg_get_chirp"].rps)
    list_ratio = ratio(r[f"list_{small}"].rps, r[f"pg_list_{small}"].rps)
    post_ratio = ratio(r["post_chirp"].rps, r["pg_insert"].rps)

    def noise(*cases: str) -> float:
        values = [r[c].other_cpu for c in cases if not math.isnan(r[c].other_cpu)]
        return max(values, default=0.0)

    list_small = r[f"list_{small}"]
    ready_ms = data["ready"]["median_ms"]
    # Memory does not care how busy the CPUs are: those targets carry no noise.
    return [
        ("GET one chirp vs pgbench", f"{fmt_rate(r['get_chirp'].rps)} vs {fmt_rate(r['pg_get_chirp'].rps)} /s",
         f"{get_ratio:.2f}x", ">= 0.7x", get_ratio >= 0.7, noise("get_chirp", "pg_get_chirp")),
        (f"list of {small} vs pgbench", f"{fmt_rate(list_small.rps)} vs {fmt_rate(r[f'pg_list_{small}'].rps)} /s",
         f"{list_ratio:.2f}x", ">= 0.6x", list_ratio >= 0.6, noise(f"list_{small}", f"pg_list_{small}")),
        (f"list of {small}: p99 at {list_small.connections} connections", fmt_ms(list_small.p99_ms), "",
         "< 20 ms", list_small.p99_ms < 20, noise(f"list_{small}")),
        (f"list of {big:,}: RSS growth while serving it", mib(growth), "", "< 32 MiB", growth < 32 * MIB, 0.0),
        (f"list: time per chirp, {mid:,} -> {big:,}", f"{per_chirp[mid]:.2f} -> {per_chirp[big]:.2f} µs",
         f"{flat:.2f}x", "flat (<= 1.25x)", flat <= 1.25, noise(f"list_{mid}", f"list_{big}")),
        ("POST chirp vs pgbench insert", f"{fmt_rate(r['post_chirp'].rps)} vs {fmt_rate(r['pg_insert'].rps)} /s",
         f"{post_ratio:.2f}x", ">= 0.6x", post_ratio >= 0.6, noise("post_chirp", "pg_insert")),
        ("login vs Argon2id ceiling", f"{login:.1f} vs {ceiling:.1f} /s", f"{ratio(login, ceiling):.2f}x",
         ">= 0.9x", ratio(login, ceiling) >= 0.9, max(noise("login"), data["hash"]["other"])),
        ("read p99 during login storm vs at rest", f"{fmt_ms(storm_p99)} vs {fmt_ms(rest_p99)}",
         f"{ratio(storm_p99, rest_p99):.2f}x", "<= 3x", ratio(storm_p99, rest_p99) <= 3,
         noise("login", "reader_rest")),
        ("peak RSS during login storm", mib(r["login"].rss_peak), "", "< 200 MiB",
         r["login"].rss_peak < 200 * MIB, 0.0),
        ("idle RSS after start-up", mib(data["idle_rss"]), "", "< 20 MiB", data["idle_rss"] < 20 * MIB, 0.0),
        ("start -> first 200 /api/healthz (DB up, median)", fmt_ms(ready_ms), "", "< 200 ms", ready_ms < 200, 0.0),
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
    w("## 1. GET /api/healthz: the HTTP stack's ceiling")
    w("")
    w(HEADER)
    w(RULE)
    w(row("wrk `GET /api/healthz`", r["healthz"]))
    w("")
    w(f"## 2. GET /api/chirps/{{id}} (random ids over {big:,} chirps) vs pgbench")
    w("")
    w(HEADER)
    w(RULE)
    w(row("wrk `GET /api/chirps/{id}`", r["get_chirp"]))
    w(row(f"pgbench {sql_file(queries.GET_CHIRP)}", r["pg_get_chirp"]))
    w("")
    w(f"Ratio: **{ratio(r['get_chirp'].rps, r['pg_get_chirp'].rps):.2f}x** pgbench; "
      f"{ratio(r['get_chirp'].rps, r['healthz'].rps):.2f}x the `/api/healthz` ceiling. pgbench names the row by "
      f"`{CHIRP_ID_SQL.format(n='$1')}` (the seeded ids are made that way, since pgbench variables are integers): "
      "an md5 of a few bytes, well under a microsecond per query.")
    w("")
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
    found = problems(data)
    if found:
        out += ["## Problems in this run", "", *(f"- {p}" for p in found), ""]
    return "\n".join(out)


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
