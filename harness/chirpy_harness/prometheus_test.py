"""`just prometheus-test`: a real Prometheus (Debian's `prometheus` package) scrapes a running
Chirpy and records its request counters going up under a short load.

What it proves:
1. `promtool check metrics` accepts what `/metrics` serves;
2. `ops/prometheus/prometheus.yml` and `alerts.yml` pass `promtool check config`, and
   Prometheus runs with them (the target and intervals swapped for the test's own);
3. after a load of known size, Prometheus has scraped exactly that many healthz requests,
   and every rate, latency and pool series the queries in docs/operating.md use;
4. each PromQL query in docs/operating.md (its ```promql blocks) and each alerting rule evaluates
   without error against those scraped series.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from .binaries import ROOT, bin_dir
from .cluster_children import Daemon
from .errors import HarnessError
from .launcher import free_port, start_server

OPS = ROOT / "ops" / "prometheus"
# Where the example queries are published, each in a ```promql block.
QUERIES_DOC = ROOT / "docs" / "operating.md"
EXAMPLE_TARGET = "127.0.0.1:9464"
# Short, so that the whole test takes seconds.
SCRAPE = "1s"
HEALTHZ_REQUESTS = 300
SIGNUPS = 4


def step(message: str) -> None:
    print(f"::: prometheus-test: {message}", flush=True)


def need(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        raise HarnessError(f"{program} not found: apt-get install prometheus")
    return path


def http(method: str, url: str, body: dict | None = None, token: str | None = None) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def promtool(*args: str, stdin: bytes | None = None) -> None:
    done = subprocess.run([need("promtool"), *args], input=stdin, capture_output=True)
    if done.returncode != 0:
        raise HarnessError(f"promtool {' '.join(args)} failed:\n{done.stdout.decode()}{done.stderr.decode()}")


def doc_queries(doc: str) -> list[str]:
    """The example queries of a markdown page: every ```promql block."""
    return [block.strip() for block in re.findall(r"```promql\n(.*?)```", doc, re.S)]


def scrape_config(example: str, target: str) -> str:
    """The example scrape configuration with the test's target and a short interval."""
    if EXAMPLE_TARGET not in example or "scrape_interval: 15s" not in example:
        raise HarnessError(f"{OPS / 'prometheus.yml'} no longer has the target and interval this test replaces")
    return (
        example.replace(EXAMPLE_TARGET, target)
        .replace("scrape_interval: 15s", f"scrape_interval: {SCRAPE}")
        .replace("evaluation_interval: 15s", f"evaluation_interval: {SCRAPE}")
    )


class Prometheus:
    def __init__(self, url: str):
        self.url = url

    def api(self, path: str, **params: str) -> dict:
        query = urllib.parse.urlencode(params)
        status, body = http("GET", f"{self.url}/api/v1/{path}?{query}")
        try:
            answer = json.loads(body)
        except ValueError:
            # Before its storage is open, Prometheus answers 503 in plain text.
            raise HarnessError(f"Prometheus {path} {params}: {status} {body[:200]!r}") from None
        if status != 200 or answer.get("status") != "success":
            raise HarnessError(f"Prometheus {path} {params}: {status} {answer}")
        return answer["data"]

    def query(self, promql: str) -> list[dict]:
        return self.api("query", query=promql)["result"]

    def value(self, promql: str) -> float | None:
        result = self.query(promql)
        return float(result[0]["value"][1]) if result else None

    def wait_for(self, what: str, check, timeout: float = 30):
        """`check()`'s first true answer; errors count as not yet (Prometheus starting)."""
        deadline = time.monotonic() + timeout
        last_error = None
        while True:
            try:
                outcome = check()
                if outcome:
                    return outcome
            except HarnessError as err:
                last_error = err
            if time.monotonic() > deadline:
                raise HarnessError(f"Prometheus: {what} not seen within {timeout:g}s (last error: {last_error})")
            time.sleep(0.25)


def load(base: str) -> None:
    """HEALTHZ_REQUESTS health checks from four threads, and a few users who sign up, log in,
    post and read, so that the login, chirp, pool and hashing series all move."""
    failures: list[str] = []

    def health(n: int) -> None:
        for _ in range(n):
            status, _ = http("GET", f"{base}/api/healthz")
            if status != 200:
                failures.append(f"healthz {status}")

    threads = [threading.Thread(target=health, args=(HEALTHZ_REQUESTS // 4,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for n in range(SIGNUPS):
        user = {"email": f"prom-{n}@example.com", "password": "scraped-password"}
        for method, path, expect in (("POST", "/api/users", 201), ("POST", "/api/login", 200)):
            status, body = http(method, f"{base}{path}", user)
            if status != expect:
                failures.append(f"{path} {status} {body[:200]!r}")
        token = json.loads(body)["token"]
        status, body = http("POST", f"{base}/api/chirps", {"body": f"chirp {n}"}, token)
        if status != 201:
            failures.append(f"post {status}")
        else:
            chirp = json.loads(body)["id"]
            for _ in range(3):
                http("GET", f"{base}/api/chirps/{chirp}")
        http("GET", f"{base}/api/chirps")
    for thread in threads:
        thread.join()
    if failures:
        raise HarnessError(f"the load failed: {failures[:5]}")


def run(bins: Path, work: Path) -> None:
    need("prometheus")
    step("promtool check config and rules")
    promtool("check", "config", str(OPS / "prometheus.yml"))
    promtool("check", "rules", str(OPS / "alerts.yml"))
    queries = doc_queries(QUERIES_DOC.read_text())
    if len(queries) < 3:
        shown = QUERIES_DOC.relative_to(ROOT)
        raise HarnessError(f"{shown} has {len(queries)} ```promql examples; expected at least 3")

    step("chirpy with METRICS_ADDR")
    metrics_port = free_port()
    (work / "chirpy").mkdir()
    server = start_server(bins, env={"METRICS_ADDR": f"127.0.0.1:{metrics_port}"}, run_dir=work / "chirpy")
    try:
        metrics_url = server.ready.get("metrics_url")
        if metrics_url != f"http://127.0.0.1:{metrics_port}/metrics":
            raise HarnessError(f"the ready file's metrics_url is {metrics_url!r}")
        status, exposition = http("GET", metrics_url)
        if status != 200:
            raise HarnessError(f"GET {metrics_url}: {status}")
        step("promtool check metrics")
        promtool("check", "metrics", stdin=exposition)

        step("prometheus")
        prom_dir = work / "prometheus"
        prom_dir.mkdir()
        config = prom_dir / "prometheus.yml"
        config.write_text(scrape_config((OPS / "prometheus.yml").read_text(), f"127.0.0.1:{metrics_port}"))
        shutil.copy(OPS / "alerts.yml", prom_dir / "alerts.yml")
        port = free_port()
        prometheus = Daemon(
            "prometheus",
            [
                need("prometheus"),
                f"--config.file={config}",
                f"--storage.tsdb.path={prom_dir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            prom_dir,
            port,
            signal.SIGTERM,
        ).start()
        try:
            prometheus.wait_ready()
            check(Prometheus(f"http://127.0.0.1:{port}"), server.url, queries)
        finally:
            prometheus.stop()
    finally:
        server.stop()
        errors = server.errors_in_log()
        if errors:
            raise HarnessError(f"the server logged errors: {errors[:5]}")


def check(prom: Prometheus, base: str, queries: list[str]) -> None:
    prom.wait_for("the chirpy target up", lambda: prom.value('up{job="chirpy"}') == 1.0)
    healthz = 'sum(chirpy_http_requests_total{operation="healthz"})'
    before = prom.value(healthz)
    if before is not None:
        raise HarnessError(f"{before:g} healthz requests counted before any was sent")
    # One first, seen scraped: rate() needs a sample from before the load (Prometheus does
    # not assume a new series started at 0).
    http("GET", f"{base}/api/healthz")
    prom.wait_for("the first healthz request", lambda: prom.value(healthz) == 1)

    step(f"load: {HEALTHZ_REQUESTS} health checks, {SIGNUPS} users signing up, posting, reading")
    load(base)
    sent = HEALTHZ_REQUESTS + 1
    prom.wait_for(f"{sent} healthz requests", lambda: prom.value(healthz) == sent)
    print(f"Prometheus scraped {sent} healthz requests, as sent", flush=True)
    for series in (
        'rate(chirpy_http_requests_total{operation="healthz"}[1m]) > 0',
        'chirpy_http_requests_total{operation="login",status="200"}',
        'chirpy_http_requests_total{operation="createChirp",status="201"}',
        'chirpy_http_request_duration_seconds_count{operation="getChirp"}',
        "chirpy_cache_hits_total > 0",
        "chirpy_password_hash_duration_seconds_count > 0",
        'chirpy_db_pool_max_connections{pool="primary"}',
        "chirpy_db_up == 1",
        "chirpy_build_info",
    ):
        prom.wait_for(series, lambda series=series: prom.query(series))

    step(f"{len(queries)} queries from {QUERIES_DOC.name}")
    # Give rate() windows a second scrape after the load.
    time.sleep(2)
    for promql in queries:
        result = prom.query(promql)
        if not result:
            raise HarnessError(f"a query in {QUERIES_DOC.name} returned nothing:\n{promql}")
        print(f"  ok ({len(result)} series): {' '.join(promql.split())[:100]}", flush=True)

    step("alerting rules")

    def evaluated() -> list[dict] | None:
        rules = [rule for group in prom.api("rules")["groups"] for rule in group["rules"]]
        return rules if rules and all(rule.get("lastEvaluation", "").startswith("2") for rule in rules) else None

    rules = prom.wait_for("every rule evaluated", evaluated)
    broken = [f"{rule['name']}: {rule.get('lastError')}" for rule in rules if rule.get("health") != "ok"]
    if broken:
        raise HarnessError(f"rules that failed to evaluate: {broken}")
    firing = [rule["name"] for rule in rules if rule.get("state") == "firing"]
    if firing:
        raise HarnessError(f"alerts firing on a healthy instance: {firing}")
    print(f"  {len(rules)} rules evaluate cleanly, none firing", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    bins = bin_dir()
    with tempfile.TemporaryDirectory(prefix="chirpy-prometheus-") as work:
        try:
            run(bins, Path(work))
        except HarnessError as err:
            print(f"::: prometheus-test: FAILED: {err}", file=sys.stderr, flush=True)
            return 1
    step("passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
