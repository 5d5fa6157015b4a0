"""What Chirpy's Python harnesses (bench/, soak/, contract/, the cluster harness) share.

Standard library only, so that a harness without a virtualenv can import it:

- `errors`: HarnessError, what every module raises when a harness cannot go on;
- `binaries`: where chirpy, devpg and hash-cost come from (CHIRPY_BIN_DIR, or a cargo build);
- `child`: a program run in a temp dir, found ready by its --ready-file, stopped with SIGTERM;
- `launcher`: `chirpy serve` and `devpg run` on top of `child`;
- `with_server`: the command line `python3 -m chirpy_harness.with_server -- CMD`;
- `procstat`: RSS, CPU time and children from /proc;
- `cpus`: splitting the CPUs between a load generator and what it measures;
- `stats`: the one percentile;
- `report`: number formatting and the generated region of a markdown file;
- `sqlfile`: a `$n`-parameter SQL file with each parameter replaced;
- `sse`: Server-Sent Events parsed as they arrive, and one stream read over http.client.
"""
