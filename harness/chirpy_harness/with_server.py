"""Runs a command against a Chirpy server on a throwaway PostgreSQL.

    python3 -m chirpy_harness.with_server [--release] [--env NAME=VALUE]... [--fail-on-error-log]
        [--log PATH] -- CMD ARGS...

Starts `chirpy serve --throwaway-db` (binaries from CHIRPY_BIN_DIR, else built), runs CMD with
CHIRPY_URL (http://127.0.0.1:PORT) and CHIRPY_DATABASE_URL in its environment, then stops
the server with SIGTERM. Exit status: CMD's if it failed; else 1 if the server did not exit 0
or, with --fail-on-error-log, logged an ERROR line; else 0.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .binaries import bin_dir
from .errors import HarnessError
from .launcher import start_server


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python3 -m chirpy_harness.with_server",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("--release", action="store_true", help="the release build (without CHIRPY_BIN_DIR)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="for the server")
    parser.add_argument("--fail-on-error-log", action="store_true", help="fail if the server logged ERROR")
    parser.add_argument("--log", type=Path, help="copy the server's log here afterwards")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- CMD ARGS...")
    args = parser.parse_args(argv)
    if args.command[:1] == ["--"]:
        args.command = args.command[1:]
    if not args.command:
        parser.error("no command to run (after --)")
    env = {}
    for item in args.env:
        name, sep, value = item.partition("=")
        if not sep or not name:
            parser.error(f"--env wants NAME=VALUE, not {item!r}")
        env[name] = value
    args.env = env
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        programs = bin_dir("release" if args.release else "debug")
        server = start_server(programs, env=args.env)
    except HarnessError as exc:
        print(f"with_server: {exc}", file=sys.stderr)
        return 1
    with server:
        print(f"with_server: server at {server.url} (pid {server.pid})", file=sys.stderr, flush=True)
        env = dict(os.environ, CHIRPY_URL=server.url, CHIRPY_DATABASE_URL=server.database or "")
        try:
            status = subprocess.run(args.command, env=env).returncode
            if status < 0:
                status = 128 - status  # killed by a signal, as a shell reports it
        except OSError as exc:
            print(f"with_server: cannot run {args.command[0]}: {exc.strerror}", file=sys.stderr)
            status = 127
        code = server.stop()
        errors, tail = server.errors_in_log(), server.log_tail()
        if args.log:
            args.log.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(server.log_path, args.log)
    if status != 0:
        print(f"with_server: {args.command[0]} failed (exit {status})", file=sys.stderr)
        return status
    if code != 0:
        print(f"with_server: the server exited with {code} on SIGTERM:\n{tail}", file=sys.stderr)
        return 1
    if args.fail_on_error_log and errors:
        print("with_server: the server logged errors:\n" + "\n".join(errors), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
