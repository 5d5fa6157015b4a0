//! What an operator sees: request ids, trace context, JSON log lines and Prometheus
//! metrics.

use std::{collections::BTreeSet, time::Duration};

use reqwest::{StatusCode, header::HeaderValue};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    helpers::{TestApp, TestDatabase, eventually, header, json_body, raw_request, spawn_app, spawn_app_with},
    process::RunningServer,
};

const REQUEST_ID: &str = "x-request-id";

/// An app with metrics on, on a port of their own.
async fn app_with_metrics() -> TestApp {
    spawn_app_with(|config| config.metrics_addr = Some("127.0.0.1:0".parse().unwrap())).await
}

async fn scrape(app: &TestApp) -> String {
    let url = app.metrics_url.as_deref().expect("metrics on");
    let resp = app.client.get(url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        header(&resp, "content-type"),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    resp.text().await.unwrap()
}

/// The value of the sample `name{labels}` (exactly as written), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn is_generated_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[tokio::test]
async fn a_well_formed_request_id_is_echoed_on_every_response() {
    let app = spawn_app().await;
    let missing = format!("/api/chirps/{}", Uuid::new_v4());
    let cases = [
        (app.get("/api/healthz"), StatusCode::OK),
        (app.get(&missing), StatusCode::NOT_FOUND),
        (app.get("/api/chirps/not-a-uuid"), StatusCode::BAD_REQUEST),
        (app.post_raw_json("/api/users", "{not json"), StatusCode::BAD_REQUEST),
        (app.delete(&missing), StatusCode::UNAUTHORIZED),
        (app.get("/no/such/route"), StatusCode::NOT_FOUND),
        (app.put("/api/healthz"), StatusCode::METHOD_NOT_ALLOWED),
        (app.get("/app/"), StatusCode::OK),
        (app.get("/openapi.json"), StatusCode::OK),
    ];
    for (n, (request, status)) in cases.into_iter().enumerate() {
        let id = format!("client-{n}.trace:abc/XYZ_~{}", "z".repeat(n));
        let resp = request.header(REQUEST_ID, &id).send().await.unwrap();
        assert_eq!(resp.status(), status, "{:?}", resp.url());
        assert_eq!(header(&resp, REQUEST_ID), id, "{:?}", resp.url());
    }
    let longest = "a".repeat(128);
    let resp = app
        .get("/api/healthz")
        .header(REQUEST_ID, &longest)
        .send()
        .await
        .unwrap();
    assert_eq!(header(&resp, REQUEST_ID), longest);
}

#[tokio::test]
async fn a_missing_or_hostile_request_id_is_replaced_by_a_fresh_one() {
    let app = spawn_app().await;
    let mut seen = BTreeSet::new();
    for _ in 0..2 {
        let resp = app.get("/api/healthz").send().await.unwrap();
        let id = header(&resp, REQUEST_ID);
        assert!(is_generated_id(&id), "{id}");
        seen.insert(id);
    }
    assert_eq!(seen.len(), 2, "each request gets its own id");

    let hostile: [&[u8]; 5] = [&[b'a'; 129], b"two words", b"tab\there", "caf\u{e9}".as_bytes(), b""];
    for sent in hostile {
        let resp = app
            .get("/api/healthz")
            .header(REQUEST_ID, HeaderValue::from_bytes(sent).unwrap())
            .send()
            .await
            .unwrap();
        let id = header(&resp, REQUEST_ID);
        assert!(
            is_generated_id(&id),
            "{:?} answered with {id:?}",
            String::from_utf8_lossy(sent)
        );
    }

    // Bytes an HTTP client refuses to send, and one header line forging another.
    let (status, text) = raw_request(
        &app,
        b"GET /api/healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: evil\x01id\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, 400, "{text}");
    assert!(text.to_ascii_lowercase().contains("x-request-id: "), "{text}");
    assert!(!text.contains("evil"), "{text}");
}

#[tokio::test]
async fn metrics_are_served_on_their_own_listener_with_bounded_labels() {
    let app = app_with_metrics().await;
    let api_port = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(api_port.status(), StatusCode::NOT_FOUND, "never on the API's port");

    let missing = Uuid::new_v4();
    for _ in 0..2 {
        let resp = app.get(&format!("/api/chirps/{missing}")).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    }
    app.get("/api/healthz").send().await.unwrap();
    app.get("/app/").send().await.unwrap();
    app.get(&format!("/nowhere/{missing}")).send().await.unwrap();
    app.post_raw_json("/api/chirps", "{").send().await.unwrap();
    // Its LISTEN session comes up in the background.
    assert!(eventually(Duration::from_secs(10), async || app.state.cache.trusted()).await);
    let text = scrape(&app).await;

    for (series, value) in [
        (
            r#"chirpy_http_requests_total{operation="getChirp",method="GET",status="404"}"#,
            2.0,
        ),
        (
            r#"chirpy_http_requests_total{operation="healthz",method="GET",status="200"}"#,
            1.0,
        ),
        (
            r#"chirpy_http_requests_total{operation="webApp",method="GET",status="200"}"#,
            1.0,
        ),
        // `/metrics` on the API's port, and `/nowhere/…`.
        (
            r#"chirpy_http_requests_total{operation="unmatched",method="GET",status="404"}"#,
            2.0,
        ),
        (
            r#"chirpy_http_requests_total{operation="createChirp",method="POST",status="401"}"#,
            1.0,
        ),
        (
            r#"chirpy_http_request_duration_seconds_count{operation="getChirp"}"#,
            2.0,
        ),
        (r#"chirpy_db_pool_max_connections{pool="primary"}"#, 10.0),
        (r#"chirpy_db_pool_acquire_timeouts_total{pool="primary"}"#, 0.0),
        ("chirpy_db_up", 1.0),
        ("chirpy_listening", 1.0),
        ("chirpy_event_streams_open", 0.0),
        ("chirpy_event_streams_max", 1000.0),
        ("chirpy_password_hash_queued", 0.0),
        ("chirpy_password_hash_abandoned_total", 0.0),
        ("chirpy_login_throttled_total", 0.0),
        ("chirpy_http_requests_in_flight", 0.0),
    ] {
        assert_eq!(sample(&text, series), Some(value), "{series} in:\n{text}");
    }
    for name in [
        "chirpy_http_connections_open ",
        "chirpy_http_connections_max ",
        "chirpy_db_pool_connections{pool=\"primary\"} ",
        "chirpy_db_pool_idle_connections{pool=\"primary\"} ",
        // Background work may be waiting for a connection at any moment.
        "chirpy_db_pool_waiting{pool=\"primary\"} ",
        "chirpy_cache_hits_total ",
        "chirpy_cache_misses_total ",
        "chirpy_cache_evictions_total ",
        "chirpy_cache_size_bytes ",
        "chirpy_password_hash_duration_seconds_count ",
        &format!("chirpy_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION")),
    ] {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
    assert!(!text.contains("db_replica_usable"), "no replica, no replica metric");
    // Labels name operations, never paths or ids.
    assert!(!text.contains(&missing.to_string()), "{text}");
    assert!(!text.contains("/api/"), "{text}");
}

#[tokio::test]
async fn the_metrics_follow_the_pool_the_throttle_the_cache_and_the_hashing() {
    let app = spawn_app_with(|config| {
        config.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
        config.chirp_cache_mib = crate::cache::CACHE_ON;
        config.database.pool.max_connections = 1;
        config.database.pool.acquire_timeout = Duration::from_millis(200);
        config.login_throttle.max_failures_per_email = 1;
    })
    .await;
    let session = app.user().await;
    let chirp = app.chirp(&session, "counted").await;
    let path = format!("/api/chirps/{}", chirp["id"].as_str().unwrap());
    for _ in 0..3 {
        json_body(app.get(&path).send().await.unwrap(), StatusCode::OK).await;
    }
    for _ in 0..2 {
        app.post("/api/login")
            .json(&serde_json::json!({"email": session.email, "password": "wrong"}))
            .send()
            .await
            .unwrap();
    }
    // Holding the pool's only connection: the next query's wait runs out.
    let held = app.db.acquire().await.unwrap();
    let resp = app.get("/api/chirps").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    drop(held);
    let stream = app.get("/api/chirps/stream").send().await.unwrap();
    assert_eq!(stream.status(), StatusCode::OK);

    let text = scrape(&app).await;
    drop(stream);
    let value = |series: &str| sample(&text, series).unwrap_or_else(|| panic!("{series} missing from:\n{text}"));
    assert_eq!(value(r#"chirpy_db_pool_acquire_timeouts_total{pool="primary"}"#), 1.0);
    assert_eq!(value("chirpy_login_throttled_total"), 1.0);
    assert_eq!(
        value(r#"chirpy_http_requests_total{operation="login",method="POST",status="429"}"#),
        1.0
    );
    assert_eq!(
        value(r#"chirpy_http_requests_total{operation="listChirps",method="GET",status="503"}"#),
        1.0
    );
    assert_eq!(value("chirpy_event_streams_open"), 1.0);
    assert!(value("chirpy_cache_hits_total") >= 2.0, "{text}");
    assert!(value("chirpy_cache_size_bytes") > 0.0, "{text}");
    // Signing up hashed one password, logging in verified another, the failed logins two more.
    assert!(value("chirpy_password_hash_duration_seconds_count") >= 3.0, "{text}");
}

#[tokio::test]
async fn promtool_accepts_the_exposition() {
    let Ok(status) = std::process::Command::new("promtool").arg("--version").output() else {
        eprintln!("promtool is not installed (Debian: prometheus); `just prometheus-test` checks it in CI");
        return;
    };
    assert!(status.status.success());
    let app = app_with_metrics().await;
    app.get("/api/healthz").send().await.unwrap();
    app.user().await;
    let text = scrape(&app).await;
    let output = with_stdin(
        std::process::Command::new("promtool").args(["check", "metrics"]),
        text.as_bytes(),
    );
    assert!(
        output.status.success(),
        "promtool: {}\n{text}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs `command` with `input` on its stdin.
fn with_stdin(command: &mut std::process::Command, input: &[u8]) -> std::process::Output {
    use std::{io::Write, process::Stdio};
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Dropped at once, so the program sees the end of its input.
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn json_logs_carry_the_request_and_its_trace_and_no_token() {
    let database = TestDatabase::create().await;
    let server = RunningServer::start(&database, &[("LOG_FORMAT", "json"), ("METRICS_ADDR", "127.0.0.1:0")]);
    let client = reqwest::Client::new();
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let signup = client
        .post(format!("{}/api/users", server.base))
        .json(&serde_json::json!({"email": "logged@example.com", "password": "secret-pw"}))
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), StatusCode::CREATED);
    let login = client
        .post(format!("{}/api/login", server.base))
        .json(&serde_json::json!({"email": "logged@example.com", "password": "secret-pw"}))
        .send()
        .await
        .unwrap();
    let tokens: Value = login.json().await.unwrap();
    let token = tokens["token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let me = client
        .get(format!("{}/api/users/me", server.base))
        .bearer_auth(&token)
        .header(REQUEST_ID, "json-log-test")
        .header("traceparent", format!("00-{trace}-00f067aa0ba902b7-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let malformed = client
        .get(format!("{}/api/healthz", server.base))
        .header(REQUEST_ID, "bad-trace")
        .header("traceparent", "00-nonsense")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::OK, "a malformed traceparent is ignored");
    assert!(server.metrics_url.is_some(), "the ready file names the metrics URL");

    // The answered line is written just after the response: give it a moment.
    let answered = |id: &str| {
        server.log_lines().into_iter().find_map(|line| {
            let entry: Value = serde_json::from_str(&line).ok()?;
            (entry["request_id"] == id && entry["message"] == "answered").then_some(entry)
        })
    };
    let mut waited = Duration::ZERO;
    while (answered("json-log-test").is_none() || answered("bad-trace").is_none()) && waited < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    }
    let line = answered("json-log-test").expect("an answered line for the request");
    assert_eq!(line["trace_id"], trace, "{line}");
    assert_eq!(line["operation"], "getMe", "{line}");
    assert_eq!(line["method"], "GET", "{line}");
    assert_eq!(line["path"], "/api/users/me", "{line}");
    assert_eq!(line["client"], "127.0.0.1", "{line}");
    assert_eq!(line["status"], 200, "{line}");
    assert_eq!(line["level"], "INFO", "{line}");
    assert!(line["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{line}");
    assert!(line["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')), "{line}");
    let fresh = answered("bad-trace").expect("an answered line for the malformed traceparent");
    let fresh_trace = fresh["trace_id"].as_str().unwrap();
    assert!(is_generated_id(fresh_trace) && fresh_trace != trace, "{fresh}");

    let lines = server.log_lines();
    assert!(lines.len() > 5, "{lines:?}");
    for line in &lines {
        let entry: Value = serde_json::from_str(line).unwrap_or_else(|err| panic!("{err}: {line}"));
        assert!(entry["message"].is_string() && entry["level"].is_string(), "{line}");
        for secret in [token.as_str(), refresh.as_str(), "secret-pw"] {
            assert!(!line.contains(secret), "a secret in the log: {line}");
        }
    }
}
