//! `devpg`: a private PostgreSQL for harnesses that need a database without a server
//! (the cluster harness's primary and replica, `scripts/sqlx-prepare`, `just clean-db`).
//!
//! ```text
//! devpg run [--data-dir DIR] [--port PORT] [--replica-of URL] [-c NAME=VALUE]... [--ready-file PATH]
//!     Starts a cluster and keeps it until SIGINT or SIGTERM, then stops it. Without
//!     --data-dir it is throwaway: created in the temp dir and deleted on exit, however the
//!     process ends. --port 0 picks an unused port. Once the server accepts connections,
//!     --ready-file gets one JSON line: {"url", "tcp_url", "data_dir", "bin_dir",
//!     "postmaster_pid", "pid"} (the URLs name the `postgres` database).
//! devpg stop --data-dir DIR
//!     Stops the cluster running in DIR, if one is.
//! devpg bin-dir
//!     Prints the directory of PostgreSQL's programs (psql, pgbench, pg_ctl, ...).
//! ```

use std::{path::PathBuf, process::ExitCode};

use devpg::{Cluster, Options};

const USAGE: &str = "usage: devpg run [--data-dir DIR] [--port PORT] [--replica-of URL] [-c NAME=VALUE]... \
                     [--ready-file PATH] | devpg stop --data-dir DIR | devpg bin-dir";

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("devpg: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<String>) -> Result<(), String> {
    let mut args = args.into_iter();
    let command = args.next().ok_or(USAGE)?;
    let mut options = Options::default();
    let mut ready_file: Option<PathBuf> = None;
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value\n{USAGE}"));
        match flag.as_str() {
            "--data-dir" => options.data_dir = Some(value()?.into()),
            "--port" => options.port = Some(value()?.parse().map_err(|_| "--port takes a number".to_owned())?),
            "--replica-of" => options.replica_of = Some(value()?),
            "-c" => options.settings.push(value()?),
            "--ready-file" => ready_file = Some(value()?.into()),
            _ => return Err(format!("unknown argument {flag}\n{USAGE}")),
        }
    }
    match command.as_str() {
        "run" => serve(&options, ready_file),
        "stop" => {
            let dir = options.data_dir.ok_or(USAGE)?;
            devpg::stop_data_dir(&dir).map_err(|err| err.to_string())
        }
        "bin-dir" => {
            let dir = devpg::bin_dir().ok_or(devpg::Error::NoBinaries.to_string())?;
            println!("{}", dir.display());
            Ok(())
        }
        _ => Err(USAGE.to_owned()),
    }
}

fn serve(options: &Options, ready_file: Option<PathBuf>) -> Result<(), String> {
    let cluster = Cluster::start(options).map_err(|err| err.to_string())?;
    if let Some(path) = ready_file {
        let ready = serde_json::json!({
            "url": cluster.url("postgres"),
            "tcp_url": options.port.map(|_| cluster.tcp_url("postgres")),
            "data_dir": cluster.data_dir(),
            "bin_dir": cluster.bin_dir(),
            "postmaster_pid": cluster.postmaster_pid(),
            "pid": std::process::id(),
        });
        devpg::write_ready_file(&path, &ready).map_err(|err| format!("writing {}: {err}", path.display()))?;
    }
    eprintln!(
        "devpg: PostgreSQL at {} (stop with Ctrl-C or SIGTERM)",
        cluster.url("postgres")
    );
    devpg::wait_for_termination();
    cluster.stop().map_err(|err| err.to_string())
}
