//! The real `chirpy` binary: configuration errors at startup, and graceful shutdown.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use crate::helpers::TestDatabase;

/// The binary with a clean environment: no `.env` (it runs in a temp dir) and none of
/// the developer's own settings.
fn chirpy() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chirpy"));
    command
        .current_dir(std::env::temp_dir())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("NO_COLOR", "1");
    command
}

#[test]
fn outside_dev_a_missing_secret_stops_startup_naming_it() {
    let base = [
        ("PLATFORM", "prod"),
        ("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none"),
    ];
    for (extra, missing) in [(vec![], "JWT_SECRET"), (vec![("JWT_SECRET", "s")], "POLKA_KEY")] {
        let output = chirpy().envs(base).envs(extra).output().unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(&format!("{missing} must be set")), "{stderr}");
    }
}

#[tokio::test]
async fn sigterm_stops_the_server_gracefully_with_exit_code_0() {
    let database = TestDatabase::create().await;
    let mut child = chirpy()
        .envs([
            ("DATABASE_URL", database.url()),
            ("PLATFORM", "dev"),
            ("PORT", "0"),
            ("RUST_LOG", "info"),
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let started = Instant::now();
    let addr = loop {
        let line = stderr.next().expect("the server exited before listening").unwrap();
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no listening line");
    };

    let health = reqwest::get(format!("http://{addr}/api/healthz")).await.unwrap();
    assert_eq!(health.text().await.unwrap(), "OK");

    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let rest: Vec<String> = stderr.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status}; log: {rest:?}");
    assert!(rest.iter().any(|l| l.contains("shutdown signal received")), "{rest:?}");
    assert!(
        reqwest::get(format!("http://{addr}/api/healthz")).await.is_err(),
        "no longer listening"
    );
}
