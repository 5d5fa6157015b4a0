//! Hostile clients below HTTP: connections that never finish their headers, flooding past
//! the file limit, and requests hyper itself cannot parse.

use std::{
    process::Command,
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::{
    helpers::{raw_request, spawn_app},
    process::{RunningServer, chirpy},
};

/// VmRSS of `pid`, in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap();
    kib * 1024
}

/// CPU seconds `pid` has used (user + system).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

async fn healthz(addr: &str) -> Duration {
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /api/healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response);
    assert!(
        response.starts_with("HTTP/1.1 200") && response.ends_with("OK"),
        "{response}"
    );
    started.elapsed()
}

/// More half-sent requests than the server has files for, on a server limited to 1,024:
/// a normal client is still answered throughout, the server does not spin, every slow
/// connection is closed by the header deadline, and the memory they took is given back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_header_flood_past_the_file_limit_locks_nobody_out() {
    const SLOW: usize = 1_200;
    chirpy::os::raise_file_limit(); // for this test's own 1,200 sockets
    let mut command = Command::new("prlimit");
    command
        .arg("--nofile=1024:1024")
        .arg("--")
        .arg(chirpy().get_program())
        .args(["serve", "--throwaway-db"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .envs([("PORT", "0"), ("HEADER_TIMEOUT_SECS", "3"), ("RUST_LOG", "warn")])
        .current_dir(std::env::temp_dir());
    let server = RunningServer::launch(command);
    let (pid, addr) = (server.child.id(), server.base.trim_start_matches("http://").to_owned());
    for _ in 0..20 {
        healthz(&addr).await;
    }
    let idle_rss = rss(pid);

    let opened = Instant::now();
    let mut slow = Vec::with_capacity(SLOW);
    let mut answered = Vec::new();
    for n in 0..SLOW {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        stream
            .write_all(b"GET /api/healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        slow.push(stream);
        if n % 100 == 0 {
            answered.push(healthz(&addr).await);
        }
    }
    let cpu_before = cpu_seconds(pid);
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        answered.push(healthz(&addr).await);
    }
    let spun = cpu_seconds(pid) - cpu_before;
    answered.sort();
    let slowest = *answered.last().unwrap();
    eprintln!(
        "{SLOW} slow connections opened in {:?}; {} normal requests answered, slowest {slowest:?}, \
         median {:?}; server CPU while holding them: {spun:.2} s in ~1 s",
        opened.elapsed(),
        answered.len(),
        answered[answered.len() / 2]
    );
    assert!(slowest < Duration::from_secs(1), "a normal client waited {slowest:?}");
    assert!(spun < 0.3, "the server spun: {spun:.2} CPU seconds in about one");

    // Every slow connection ends: made room for a newcomer, or past the header deadline.
    let mut closed = 0;
    for mut stream in slow {
        let mut buf = [0u8; 64];
        match tokio::time::timeout(Duration::from_secs(6), stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => closed += 1,
            Ok(Ok(n)) => panic!(
                "a slow connection got an answer: {:?}",
                String::from_utf8_lossy(&buf[..n])
            ),
            Err(_) => {}
        }
    }
    assert_eq!(closed, SLOW, "every slow connection is closed");
    // Memory comes back once they have gone (a sweep hands it back within a second).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    healthz(&addr).await;
    let after_rss = rss(pid);
    eprintln!(
        "RSS idle {:.1} MiB, after the flood {:.1} MiB",
        idle_rss as f64 / 1048576.0,
        after_rss as f64 / 1048576.0
    );
    assert!(
        after_rss < idle_rss + 8 * 1024 * 1024,
        "RSS {after_rss} after the flood, {idle_rss} before"
    );
}

/// Requests hyper refuses before any of our code runs still get the JSON error body (and
/// `nosniff`) every other error has.
#[tokio::test]
async fn what_hyper_cannot_parse_is_answered_in_json() {
    let app = spawn_app().await;
    let many_headers: String = (0..120).map(|n| format!("X-Header-{n}: v\r\n")).collect();
    let cases = [
        (
            format!("GET /api/healthz HTTP/1.1\r\nHost: x\r\n{many_headers}\r\n"),
            431,
            "Request headers are too large",
        ),
        (
            format!(
                "GET /api/healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
                "a".repeat(500_000)
            ),
            431,
            "Request headers are too large",
        ),
        (
            format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(110_000)),
            414,
            "Request URI is too long",
        ),
        (
            "POST /api/users HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n".to_owned(),
            400,
            "Malformed HTTP request",
        ),
        (
            "POST /api/users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_owned(),
            400,
            "Malformed request body",
        ),
    ];
    for (request, status, message) in cases {
        let (got, response) = raw_request(&app, request.as_bytes()).await;
        let shown = &response[..response.len().min(300)];
        assert_eq!(got, status, "{shown}");
        let lower = response.to_ascii_lowercase();
        assert!(
            lower.contains("content-type: application/json; charset=utf-8"),
            "{shown}"
        );
        assert!(lower.contains("x-content-type-options: nosniff"), "{shown}");
        assert!(response.ends_with(&format!(r#"{{"error":"{message}"}}"#)), "{shown}");
    }
}
