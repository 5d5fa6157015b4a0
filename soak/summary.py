"""What the soak prints and writes: the per-step table, memory, shutdown, and the verdict."""

from __future__ import annotations

from collections import Counter

from chirpy_harness.launcher import Server
from chirpy_harness.stats import percentile

from journey import EXPECTED, Stats


def in_mib(kib: int) -> float:
    return kib / 1024


def report(args, server: Server, result: dict, conditions: str) -> tuple[bool, str]:
    """The printed report, and whether the soak passed."""
    stats: Stats = result["stats"]
    lines: list[str] = []
    out = lines.append
    start_rss = result["rss_start_kib"]
    end_rss = result["rss_end_kib"]
    peak_rss = max([start_rss, end_rss] + [kib for _, kib in result["samples"]])
    hwm = result["idle"]["status"]["VmHWM"]
    growth_mib = in_mib(end_rss - start_rss)
    load = result["load_seconds"]

    out("")
    out(f"=== Chirpy soak: {args.clients} clients, {args.duration:g}s ({args.warmup:g}s warm-up), "
        f"{'release' if args.release else 'debug'} build, {server.url}")
    out(f"conditions: {conditions}")
    out("")
    header = f"{'step':<24} {'count':>8} {'errors':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  statuses"
    out(header)
    out("-" * len(header))
    per_step_errors = Counter()
    for (step, _), n in stats.errors.items():
        per_step_errors[step] += n
    for step in list(EXPECTED) + sorted(set(stats.latencies_ms) - set(EXPECTED)):
        values = sorted(stats.latencies_ms.get(step, []))
        if not values and not per_step_errors.get(step):
            continue
        statuses = " ".join(f"{s}:{n}" for s, n in sorted(stats.statuses[step].items(), key=lambda kv: str(kv[0])))
        out(f"{step:<24} {len(values):>8} {per_step_errors.get(step, 0):>7} {percentile(values, 50):>8.1f} "
            f"{percentile(values, 99):>8.1f} {values[-1] if values else float('nan'):>8.1f}  {statuses}")
    every = sorted(v for vs in stats.latencies_ms.values() for v in vs)
    out("-" * len(header))
    out(f"{'all':<24} {stats.total:>8} {stats.error_count:>7} {percentile(every, 50):>8.1f} "
        f"{percentile(every, 99):>8.1f} {every[-1] if every else float('nan'):>8.1f}")
    out("")
    out(f"requests: {stats.total} in {load:.1f}s = {stats.total / load:.0f} req/s "
        f"(after warm-up: {(result['end']['requests'] - result['start']['requests']) / (result['end']['t'] - result['start']['t']):.0f} req/s); "
        f"sign-ups: {result['signups']}" + (f", accounts abandoned after repeated failures: {stats.recoveries}"
                                            if stats.recoveries else ""))
    if stats.errors:
        out("unexpected responses (step, status: count; first example):")
        for (step, what), n in stats.errors.most_common():
            out(f"  {step} {what}: {n}   e.g. {stats.error_examples[(step, what)]!r}")
        seen = {what for (_, what) in stats.errors}
        if "429" in seen:
            out("  NOTE: 429s: login brute-force protection refused correct logins from the soak's clients")
        if "503" in seen:
            out("  NOTE: 503s: the server ran out of database connections (or refused for another reason)")
    out("")
    s, e, idle = result["start"], result["end"], result["idle"]
    out(f"server RSS (VmRSS): before load {in_mib(result['before']['status']['VmRSS']):.1f} MiB; "
        f"start (after {args.warmup:g}s warm-up, lowest of up to 3 readings) {in_mib(start_rss):.1f} MiB; "
        f"end (1 s after the load) {in_mib(end_rss):.1f} MiB; growth {growth_mib:+.1f} MiB (bound {args.rss_bound_mib:g} MiB)")
    out(f"  last reading under load {in_mib(e['status']['VmRSS']):.1f} MiB; peak sampled every second {in_mib(peak_rss):.1f} MiB; "
        f"kernel high-water mark VmHWM {in_mib(hwm):.1f} MiB")
    timeline = " ".join(f"{t:.0f}s:{in_mib(kib):.0f}" for t, kib in result["samples"][:: max(1, len(result["samples"]) // 12)])
    out(f"RSS timeline (MiB): {timeline}")
    out(f"server threads: {s['status']['Threads']} -> {e['status']['Threads']} ({idle['status']['Threads']} idle); "
        f"open fds: before {result['before']['fds']}, after warm-up {s['fds']}, end {e['fds']}, 1 s after load {idle['fds']}; "
        f"server CPU: {idle['cpu'] - result['before']['cpu']:.1f} s over {load:.1f} s of load")

    log_errors = server.errors_in_log()
    log_warns = [line for line in server.log_text().splitlines() if " WARN " in line]
    out(f"server log: {len(log_errors)} ERROR, {len(log_warns)} WARN lines")
    for line in log_errors[:10]:
        out(f"  {line}")
    shutdown = (f"SIGTERM -> exit {server.exit_code} in {server.shutdown_seconds or 0:.1f}s, "
                f"cluster {'stopped' if result['cluster_stopped'] else 'STILL RUNNING'}")
    out(f"shutdown: {shutdown}")

    failures = []
    if stats.server_errors:
        failures.append(f"{stats.server_errors} 5xx responses")
    if stats.error_count:
        failures.append(f"{stats.error_count} unexpected responses")
    if growth_mib > args.rss_bound_mib:
        failures.append(f"RSS grew {growth_mib:.1f} MiB (bound {args.rss_bound_mib:g} MiB)")
    if args.rss_max_mib and in_mib(peak_rss) > args.rss_max_mib:
        failures.append(f"RSS peaked at {in_mib(peak_rss):.1f} MiB (ceiling {args.rss_max_mib:g} MiB)")
    if log_errors:
        failures.append(f"{len(log_errors)} ERROR lines in the server log")
    if server.exit_code != 0:
        failures.append(f"the server exited with {server.exit_code} after SIGTERM")
    if not result['cluster_stopped']:
        failures.append("the server's PostgreSQL cluster is still running")
    out("")
    out(f"soak: {stats.total} requests ({stats.total / load:.0f}/s), {stats.error_count} errors, "
        f"{stats.server_errors} 5xx, RSS start {in_mib(start_rss):.1f} MiB end {in_mib(end_rss):.1f} MiB "
        f"peak {in_mib(peak_rss):.1f} MiB ({growth_mib:+.1f} MiB, bound {args.rss_bound_mib:g})")
    out("soak: PASSED" if not failures else "soak: FAILED: " + "; ".join(failures))
    return not failures, "\n".join(lines)


def summary(args, result: dict, conditions: str, passed: bool) -> dict:
    """report.json: the figures a later run or a CI log can compare."""
    stats: Stats = result["stats"]
    return {
        "clients": args.clients, "duration_s": args.duration, "warmup_s": args.warmup,
        "build": "release" if args.release else "debug", "conditions": conditions,
        "requests": stats.total, "requests_per_s": stats.total / result["load_seconds"],
        "errors": stats.error_count, "server_errors_5xx": stats.server_errors,
        "errors_by_step_status": {f"{s} {w}": n for (s, w), n in stats.errors.items()},
        "rss_mib": {"before_load": in_mib(result["before"]["status"]["VmRSS"]),
                    "start": in_mib(result["rss_start_kib"]), "end": in_mib(result["rss_end_kib"]),
                    "end_under_load": in_mib(result["end"]["status"]["VmRSS"]),
                    "peak_sampled": in_mib(max([kib for _, kib in result["samples"]] or [0])),
                    "vmhwm": in_mib(result["idle"]["status"]["VmHWM"]), "bound_growth": args.rss_bound_mib,
                    "ceiling": args.rss_max_mib or None},
        "latency_ms": {step: {"count": len(v), "p50": percentile(v, 50), "p99": percentile(v, 99)}
                       for step, v in stats.latencies_ms.items()},
        "passed": passed,
    }
