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

# If the postgres user cannot reach the project dir (say, it is under /root), the dev cluster
# lives in a temp dir instead: the server logs that cluster's URL at startup; `psql "<URL>"`.
[doc("Open psql on the dev database while `just run` is up, e.g. `just psql -c 'select 1'`")]
[positional-arguments]
psql *args:
    psql "postgres://postgres@localhost/chirpy?host=$PWD/.data/postgres" "$@"

# Stop the dev PostgreSQL cluster if it is running and delete .data/ (all dev data)
clean-db:
    #!/usr/bin/env bash
    set -euo pipefail
    data="$PWD/.data/postgres"
    if [ -f "$data/PG_VERSION" ]; then
        pg_ctl=$(command -v pg_ctl || ls -d /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -n1 || true)
        as_pg=()
        # PostgreSQL refuses to run as root; the server runs the cluster as `postgres` then.
        if [ "$(id -u)" = 0 ]; then as_pg=(runuser -u postgres --); fi
        if [ -n "$pg_ctl" ] && "${as_pg[@]}" "$pg_ctl" status -D "$data" >/dev/null 2>&1; then
            "${as_pg[@]}" "$pg_ctl" stop --wait -m fast -D "$data"
        fi
    fi
    rm -rf .data
    echo "removed .data/"
