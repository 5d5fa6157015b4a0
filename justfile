# Chirpy's everyday commands. Install `just` with `pip install rust-just`.

set shell := ["bash", "-euo", "pipefail", "-c"]

# List the recipes
default:
    @just --list

# Run the server (without DATABASE_URL it starts its own PostgreSQL under .data/postgres)
run:
    cargo run

# Run the tests, e.g. `just test chirps` (each test gets a fresh database)
test *args:
    cargo test {{ args }}

# Unit tests of the harnesses' shared Python package (harness/chirpy_harness)
test-harness:
    python3 -m unittest discover -s harness

# Check formatting and lints, as CI does
check:
    cargo fmt --check
    cargo clippy --all-targets -- -D warnings

# Regenerate the committed spec openapi/openapi.yaml from the code
openapi:
    cargo run --quiet -- openapi > openapi/openapi.yaml.tmp || { rm -f openapi/openapi.yaml.tmp; exit 1; }
    mv openapi/openapi.yaml.tmp openapi/openapi.yaml

# Regenerate .sqlx/ (offline query data) after changing any SQL
prepare:
    scripts/sqlx-prepare

# Fail if .sqlx/ is out of date with the SQL in the code
prepare-check:
    scripts/sqlx-prepare --check

# Prove the spec true: generated Python and TypeScript clients run the user journey, then schemathesis
contract:
    contract/run

# Options: --release, --clients N (32), --duration S (60), --rss-bound-mib M (32: growth), --rss-max-mib M (a ceiling); `just soak --help`.
# Like bench, contract and e2e, it takes prebuilt binaries from CHIRPY_BIN_DIR when that is set.
[doc("Soak test: concurrent clients run the mixed journey on loopback; fails on any 5xx, unexpected status or RSS growth")]
[positional-arguments]
soak *args:
    soak/run "$@"

# Options: --quick (CI smoke: debug build, seconds, prints only), --no-pin, --duration S; `just bench --help`
[doc("Benchmarks: a release build on its own PostgreSQL, each case next to its ceiling (wrk, pgbench, Argon2); writes BENCHMARKS.md and docs/bench/*.svg")]
[positional-arguments]
bench *args:
    bench/run "$@"

# If the postgres user cannot reach the project dir (say, it is under /root), the dev cluster
# lives in a temp dir instead: the server logs that cluster's URL at startup; `psql "<URL>"`.
[doc("Open psql on the dev database while `just run` is up, e.g. `just psql -c 'select 1'`")]
[positional-arguments]
psql *args:
    "$(cargo run --quiet -p devpg -- bin-dir)/psql" "postgres://postgres@localhost/chirpy?host=$PWD/.data/postgres" "$@"

# Stop the dev PostgreSQL cluster if it is running and delete .data/ (all dev data)
clean-db:
    cargo run --quiet -p devpg -- stop --data-dir .data/postgres
    rm -rf .data
    @echo "removed .data/"

# Needs node (20+) and Debian's chromium at /usr/bin/chromium. Screenshots go to e2e/screenshots/;
# `UPDATE_DOCS_SCREENSHOTS=1 just e2e` also refreshes docs/screenshot-{desktop,mobile}.png.
[doc("Browser tests of the web app (static/) in headless Chromium, against a live server")]
e2e:
    #!/usr/bin/env bash
    set -euo pipefail
    # npm ci again when package-lock.json is newer than the last install.
    if [ ! -f e2e/node_modules/.package-lock.json ] || [ e2e/package-lock.json -nt e2e/node_modules/.package-lock.json ]; then
        npm ci --prefix e2e --no-audit --no-fund --loglevel=error
    fi
    # Built once here (unless CHIRPY_BIN_DIR names prebuilt binaries), so that every test file
    # runs this same binary.
    if [ -z "${CHIRPY_BIN_DIR:-}" ]; then cargo build --quiet; fi
    CHIRPY_E2E_SKIP_BUILD=1 npm test --prefix e2e

# Needs PostgreSQL's server, pgbouncer and haproxy (apt-get install postgresql pgbouncer haproxy).
# Options: --port PORT (haproxy's; default a free one), --env NAME=VALUE (both instances), --pool-mode session
# (diagnosis only: tells transaction pooling's failures from others).
[doc("A local cluster on loopback: PostgreSQL primary and streaming replica, PgBouncer, two instances behind haproxy; Ctrl-C stops it")]
[positional-arguments]
cluster *args:
    PYTHONPATH=$PWD/harness python3 -m chirpy_harness.cluster "$@"

# Options: --only 1,5 (some checks), --env NAME=VALUE, --pool-mode session. Logs: target/cluster/logs.
[doc("Cluster tests through haproxy: journeys, shared state, read-your-writes, a killed instance, a stopped replica")]
[positional-arguments]
cluster-test *args:
    PYTHONPATH=$PWD/harness python3 -m chirpy_harness.cluster_test "$@"

# Needs Debian's prometheus package (prometheus and promtool).
[doc("A real Prometheus scrapes a running Chirpy under load; promtool checks the exposition, ops/prometheus/ and the queries in docs/operating.md")]
prometheus-test:
    PYTHONPATH=$PWD/harness python3 -m chirpy_harness.prometheus_test

# Options: --duration S (10), --connections N (16), --no-write, --env NAME=VALUE, --pool-mode session.
# Needs wrk (apt-get install wrk).
[doc("The replica's share of chirp reads under read load through the cluster; writes BENCHMARKS.md's cluster section")]
[positional-arguments]
cluster-bench *args:
    PYTHONPATH=$PWD/harness python3 -m chirpy_harness.cluster_bench "$@"
