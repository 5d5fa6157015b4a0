//! Brute force, hostile input, limits and security headers.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{error_message, header, json_body, raw_request, spawn_app, spawn_app_with};

#[tokio::test]
async fn repeated_failures_lock_an_email_with_429_but_not_other_users() {
    let app = spawn_app_with(|config| config.login_throttle.max_failures_per_email = 3).await;
    let victim = app.user().await;
    let bystander = app.user().await;
    let attempt = |email: &str, password: &str| {
        app.post("/api/login")
            .json(&json!({"email": email, "password": password}))
            .send()
    };
    for _ in 0..3 {
        error_message(attempt(&victim.email, "guess").await.unwrap(), StatusCode::UNAUTHORIZED).await;
    }
    for password in ["guess", victim.password.as_str()] {
        let resp = attempt(&victim.email.to_uppercase(), password).await.unwrap();
        let wait: u64 = header(&resp, "retry-after").parse().expect("Retry-After in seconds");
        assert!((1..=900).contains(&wait), "{wait}");
        let message = error_message(resp, StatusCode::TOO_MANY_REQUESTS).await;
        assert_eq!(message, "Too many failed login attempts; try again later");
    }
    json_body(
        attempt(&bystander.email, &bystander.password).await.unwrap(),
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn concurrent_guesses_cannot_slip_past_the_limit() {
    let app = spawn_app_with(|config| config.login_throttle.max_failures_per_email = 5).await;
    let victim = app.user().await;
    let guesses = (0..30).map(|n| {
        let body = json!({"email": victim.email, "password": format!("guess {n}")});
        app.post("/api/login").json(&body).send()
    });
    let statuses: Vec<StatusCode> = futures_util::future::join_all(guesses)
        .await
        .into_iter()
        .map(|r| r.unwrap().status())
        .collect();
    let checked = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((checked, refused), (5, 25), "{statuses:?}");
}

#[tokio::test]
async fn every_spelling_that_reaches_an_account_shares_its_count() {
    let app = spawn_app_with(|config| config.login_throttle.max_failures_per_email = 3).await;
    app.signup("victim@example.com", "right").await;
    // `İ` is not `i` in any case (it folds to `i` and a combining dot): it reached this
    // account only through some databases' lower(), and is another address now, with a
    // count of its own.
    let other = app
        .post("/api/login")
        .json(&json!({"email": "vİctim@example.com", "password": "right"}));
    error_message(other.send().await.unwrap(), StatusCode::UNAUTHORIZED).await;
    for email in ["victim@example.com", "VICTIM@example.com", "Victim@Example.COM"] {
        let resp = app
            .post("/api/login")
            .json(&json!({"email": email, "password": "wrong"}))
            .send()
            .await
            .unwrap();
        error_message(resp, StatusCode::UNAUTHORIZED).await;
    }
    let resp = app
        .post("/api/login")
        .json(&json!({"email": "victim@example.com", "password": "right"}));
    error_message(resp.send().await.unwrap(), StatusCode::TOO_MANY_REQUESTS).await;
}

/// Once an in-memory tracker of 100,000 keys could be flushed by logins for made-up emails
/// (cheap: an empty password skips the hash) from many addresses, unlocking the account.
/// The counts are rows now: nothing other traffic does removes a lock.
#[tokio::test]
async fn a_locked_account_stays_locked_through_a_flood_of_other_keys() {
    let app = spawn_app().await;
    let victim = app.user().await;
    let login = |client: &reqwest::Client, email: &str, password: &str| {
        client
            .post(app.url("/api/login"))
            .json(&json!({"email": email, "password": password}))
            .send()
    };
    for _ in 0..5 {
        let resp = login(&app.client, &victim.email, "guess").await.unwrap();
        error_message(resp, StatusCode::UNAUTHORIZED).await;
    }
    // 20 loopback addresses (all of 127/8 is this machine), 45 made-up emails each: under
    // every address's limit. (`throttle::a_lock_outlives_a_flood...` floods 101,000 keys.)
    let floods = (1..=20u8).map(|n| {
        let client = reqwest::Client::builder()
            .local_address(std::net::IpAddr::from([127, 0, 7, n]))
            .build()
            .unwrap();
        let url = app.url("/api/login");
        tokio::spawn(async move {
            for k in 0..45 {
                let body = json!({"email": format!("flood-{n}-{k}@example.com"), "password": ""});
                let resp = client.post(&url).json(&body).send().await.unwrap();
                assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
            }
        })
    });
    for flood in floods.collect::<Vec<_>>() {
        flood.await.unwrap();
    }
    let resp = login(&app.client, &victim.email, &victim.password).await.unwrap();
    error_message(resp, StatusCode::TOO_MANY_REQUESTS).await;
}

#[tokio::test]
async fn repeated_failures_from_one_address_lock_that_address() {
    let app = spawn_app_with(|config| config.login_throttle.max_failures_per_address = 4).await;
    let user = app.user().await;
    for n in 0..4 {
        let resp = app
            .post("/api/login")
            .json(&json!({"email": format!("nobody{n}@example.com"), "password": "x"}));
        error_message(resp.send().await.unwrap(), StatusCode::UNAUTHORIZED).await;
    }
    let resp = app
        .post("/api/login")
        .json(&json!({"email": user.email, "password": user.password}))
        .send()
        .await;
    error_message(resp.unwrap(), StatusCode::TOO_MANY_REQUESTS).await;
}

/// Not a speed target: a check that an unknown email is not answered noticeably faster
/// than a wrong password (it would be about 30x faster without the dummy hash). The two
/// kinds alternate, so both see the same load on a busy machine.
#[tokio::test]
async fn an_unknown_email_takes_as_long_as_a_wrong_password() {
    let app = spawn_app_with(|config| config.login_throttle.max_failures_per_email = 1000).await;
    let user = app.user().await;
    let time = |email: &str| {
        let request = app
            .post("/api/login")
            .json(&json!({"email": email, "password": "wrong"}))
            .send();
        async move {
            let started = Instant::now();
            assert_eq!(request.await.unwrap().status(), StatusCode::UNAUTHORIZED);
            started.elapsed()
        }
    };
    let (mut wrong_password, mut unknown_email) = (Vec::new(), Vec::new());
    for _ in 0..9 {
        wrong_password.push(time(&user.email).await);
        unknown_email.push(time("nobody-at-all@example.com").await);
    }
    wrong_password.sort();
    unknown_email.sort();
    let (wrong_password, unknown_email) = (wrong_password[4], unknown_email[4]);
    assert!(
        unknown_email * 3 > wrong_password,
        "unknown email {unknown_email:?} vs wrong password {wrong_password:?}"
    );
}

#[tokio::test]
async fn every_response_says_nosniff_and_the_web_app_gets_a_strict_policy() {
    let app = spawn_app().await;
    for path in [
        "/api/healthz",
        "/api/chirps",
        "/api/nope",
        "/openapi.json",
        "/app/",
        "/app/missing",
    ] {
        let resp = app.get(path).send().await.unwrap();
        assert_eq!(header(&resp, "x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header(&resp, "server"), "", "{path}: no server banner");
    }
    let resp = app.get("/app/").send().await.unwrap();
    let csp = header(&resp, "content-security-policy");
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
    assert_eq!(header(&resp, "x-frame-options"), "DENY");
    let api = app.get("/api/healthz").send().await.unwrap();
    assert_eq!(
        header(&api, "content-security-policy"),
        "",
        "the policy is the web app's"
    );
}

#[tokio::test]
async fn oversized_headers_get_431() {
    let app = spawn_app().await;
    let resp = app
        .get("/api/chirps")
        .header("x-padding", "a".repeat(20 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_message(resp, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE).await,
        "Request headers are too large"
    );
    let resp = app
        .get("/api/chirps")
        .header("x-padding", "a".repeat(8 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "within the limit");
}

#[tokio::test]
async fn a_request_over_its_time_limit_gets_503_with_retry_after() {
    let app = spawn_app_with(|config| config.limits.request_timeout = Duration::from_millis(1)).await;
    // Hashing a password alone takes longer than a millisecond.
    let resp = app
        .post("/api/users")
        .json(&json!({"email": "slow@example.com", "password": "pw"}))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&resp, "retry-after"), "1");
    let message = error_message(resp, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(message, "The request took too long; try again shortly");
}

#[tokio::test]
async fn hostile_bodies_get_clean_4xx() {
    let app = spawn_app().await;
    let session = app.user().await;
    let nested = format!("{}{}", "[".repeat(30_000), "]".repeat(30_000));
    let deep_object = format!("{}1{}", r#"{"body":"#.repeat(5_000), "}".repeat(5_000));
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("deep array nesting", nested.into_bytes()),
        ("deep object nesting", deep_object.into_bytes()),
        ("invalid UTF-8", b"{\"body\": \"\xff\xfe\"}".to_vec()),
        ("lone surrogate", br#"{"body": "\udc00"}"#.to_vec()),
        ("huge number", br#"{"body": 1e999999}"#.to_vec()),
        ("trailing garbage", br#"{"body": "x"} trailing"#.to_vec()),
        ("a string where an object goes", br#""just a string""#.to_vec()),
    ];
    for (what, body) in bodies {
        let resp = app
            .post_raw_json("/api/chirps", body)
            .bearer_auth(&session.token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{what}");
        error_message(resp, StatusCode::BAD_REQUEST).await;
    }
    let resp = app
        .post("/api/chirps")
        .bearer_auth(&session.token)
        .header("content-type", "text/plain")
        .body("hi");
    error_message(resp.send().await.unwrap(), StatusCode::BAD_REQUEST).await;
    let huge = json!({"email": "big@example.com", "password": "pw", "expires_in_seconds": 1e300});
    error_message(
        app.post("/api/login").json(&huge).send().await.unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    let unknown_fields =
        json!({"body": "extra fields are ignored", "user_id": "00000000-0000-0000-0000-000000000000", "admin": true});
    let chirp = json_body(
        app.post("/api/chirps")
            .bearer_auth(&session.token)
            .json(&unknown_fields)
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        chirp["user_id"],
        session.user_id.to_string(),
        "a client cannot choose the author"
    );
    assert_eq!(app.count("chirps").await, 1);
}

#[tokio::test]
async fn a_request_line_with_invalid_bytes_is_refused_cleanly() {
    let app = spawn_app().await;
    let (status, response) = raw_request(
        &app,
        b"GET /api/chirps?author_id=%ff%fe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, 400, "{response}");
    let (status, _) = raw_request(&app, b"GET /app/%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
    assert!((400..500).contains(&status), "{status}");
}

/// Most clients (Python's http.client among them) send the whole body before they read
/// the answer. A server that closes on a too-large body while it is still arriving gives
/// them a broken pipe instead of the 413; the rest of the body is read and thrown away.
#[tokio::test]
async fn a_client_that_sends_a_whole_oversized_body_first_reads_the_413() {
    let app = spawn_app().await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    for size in [2 * 1024 * 1024, 20 * 1024 * 1024] {
        let addr = addr.clone();
        let response = tokio::task::spawn_blocking(move || {
            use std::io::{Read, Write};
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            let head = format!(
                "POST /api/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
            );
            stream.write_all(head.as_bytes()).unwrap();
            stream.write_all(&vec![b'a'; size]).expect("the whole body is taken");
            // Until the JSON body has arrived: head and body may come in separate reads.
            stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut response = Vec::new();
            let mut chunk = [0u8; 4096];
            while !response.ends_with(b"}") {
                match stream.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => response.extend_from_slice(&chunk[..n]),
                }
            }
            String::from_utf8_lossy(&response).into_owned()
        })
        .await
        .unwrap();
        assert!(response.starts_with("HTTP/1.1 413"), "{size}: {response}");
        assert!(
            response.ends_with(r#"{"error":"Request body is too large"}"#),
            "{response}"
        );
    }
}

/// Cleartext HTTP/2 with prior knowledge (what proxies such as haproxy can speak to a
/// backend) is served, with the same limits: an oversized body is a clean 413 there too.
#[tokio::test]
async fn cleartext_http2_is_served_with_the_same_limits() {
    let app = spawn_app().await;
    let h2 = reqwest::Client::builder().http2_prior_knowledge().build().unwrap();
    let health = h2.get(app.url("/api/healthz")).send().await.unwrap();
    assert_eq!(health.version(), reqwest::Version::HTTP_2);
    assert_eq!(health.text().await.unwrap(), "OK");
    let big = format!(r#"{{"email": "{}", "password": "x"}}"#, "a".repeat(2 * 1024 * 1024));
    let resp = h2
        .post(app.url("/api/users"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .expect("a 413, not a stream error");
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    assert_eq!(header(&resp, "x-content-type-options"), "nosniff");
    error_message(resp, StatusCode::PAYLOAD_TOO_LARGE).await;
}
