//! Rate limits on every write, shared across instances; a per-address read limit on each;
//! the IETF RateLimit fields; and `RATE_LIMITS=off`.

use chirpy::{
    client_address::TrustedProxies,
    config::Config,
    rate_limits::{Kind, Quota},
};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Session, TestApp, error_message, header, json_body, spawn_app_on, spawn_app_with};

/// Limits on, with `quotas`; every client behind a trusted proxy at 127.0.0.1, so each test
/// names its client in `X-Forwarded-For`.
fn limited(quotas: &[(Kind, u32, u32)]) -> impl Fn(&mut Config) + Clone {
    let quotas = quotas.to_vec();
    move |config: &mut Config| {
        config.rate_limits.on = true;
        for &(kind, requests, seconds) in &quotas {
            config.rate_limits.quotas.insert(kind, Quota { requests, seconds });
        }
        config.trusted_proxies = TrustedProxies::parse("127.0.0.1").unwrap();
    }
}

async fn post(app: &TestApp, session: &Session, client: &str, body: &str) -> reqwest::Response {
    app.post("/api/chirps")
        .bearer_auth(&session.token)
        .header("x-forwarded-for", client)
        .json(&json!({"body": body}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn two_instances_share_one_budget_and_say_where_a_client_stands() {
    let adjust = limited(&[(Kind::Post, 5, 300)]);
    let first = spawn_app_with(adjust.clone()).await;
    let second = spawn_app_on(first.database_options(), adjust).await;
    let me = first.quick_users(1).await.remove(0);
    for n in 0..5 {
        let app = if n % 2 == 0 { &first } else { &second };
        let resp = post(app, &me, "10.0.0.1", &format!("post {n}")).await;
        let (policy, limit) = (header(&resp, "ratelimit-policy"), header(&resp, "ratelimit"));
        json_body(resp, StatusCode::CREATED).await;
        assert!(policy.starts_with("\"post-account\";q=5;w=300"), "{policy}");
        assert!(
            limit.starts_with(&format!("\"post-account\";r={};t=", 4 - n)),
            "{limit}"
        );
    }
    for app in [&first, &second] {
        let resp = post(app, &me, "10.0.0.1", "one too many").await;
        let retry_after: u64 = header(&resp, "retry-after").parse().unwrap();
        assert!((1..=300).contains(&retry_after), "{retry_after}");
        assert!(
            header(&resp, "ratelimit").starts_with("\"post-account\";r=0;"),
            "{}",
            header(&resp, "ratelimit")
        );
        error_message(resp, StatusCode::TOO_MANY_REQUESTS).await;
    }
    assert_eq!(first.count("chirps").await, 5, "nothing refused was written");
}

#[tokio::test]
async fn a_flood_from_one_account_does_not_limit_another() {
    let app = spawn_app_with(limited(&[(Kind::Post, 5, 300), (Kind::Like, 3, 300)])).await;
    let users = app.quick_users(2).await;
    let (flooder, bystander) = (&users[0], &users[1]);
    let mut statuses = Vec::new();
    for n in 0..30 {
        statuses.push(post(&app, flooder, "10.0.0.1", &format!("flood {n}")).await.status());
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 5);
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count(),
        25
    );
    let resp = post(&app, bystander, "10.0.0.2", "still fine").await;
    json_body(resp, StatusCode::CREATED).await;
    // Another kind of write has a budget of its own.
    let chirp: i64 = app.count("chirps").await;
    assert_eq!(chirp, 6);
    let id: uuid::Uuid = sqlx::query_scalar("select id from chirps limit 1")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let like = app
        .put(&format!("/api/chirps/{id}/like"))
        .bearer_auth(&flooder.token)
        .header("x-forwarded-for", "10.0.0.1")
        .send()
        .await
        .unwrap();
    assert_eq!(like.status(), StatusCode::NO_CONTENT);
    assert!(header(&like, "ratelimit-policy").starts_with("\"like-account\";q=3;w=300"));
}

/// A refused sign-up is refused before its password is hashed, and writes nothing.
#[tokio::test]
async fn a_limited_signup_costs_no_argon2_work_and_no_insert() {
    let app = spawn_app_with(|config| {
        limited(&[(Kind::Signup, 3, 3600)])(config);
        config.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    // Argon2 hashes made so far, as the metrics count them.
    let hashes = async || -> u64 {
        let metrics = reqwest::get(app.metrics_url.as_deref().unwrap())
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let line = metrics
            .lines()
            .find(|line| line.starts_with("chirpy_password_hash_duration_seconds_count"))
            .unwrap_or_else(|| panic!("no hash count in:\n{metrics}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    let before = hashes().await;
    let mut created = 0;
    for n in 0..10 {
        let resp = app
            .post("/api/users")
            .header("x-forwarded-for", "10.0.0.9")
            .json(&json!({"email": format!("user{n}@example.com"), "password": "x"}))
            .send()
            .await
            .unwrap();
        match resp.status() {
            StatusCode::CREATED => created += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                assert!(header(&resp, "ratelimit-policy").starts_with("\"signup-address\";q=3;w=3600"));
            }
            other => panic!("{other}"),
        }
    }
    assert_eq!(created, 3);
    assert_eq!(app.count("users").await, 3);
    assert_eq!(
        hashes().await - before,
        3,
        "one Argon2 hash per sign-up let through, none for the others"
    );
    let elsewhere = app
        .post("/api/users")
        .header("x-forwarded-for", "10.0.0.10")
        .json(&json!({"email": "other@example.com", "password": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        elsewhere.status(),
        StatusCode::CREATED,
        "another address has its own budget"
    );
}

/// Reads are limited per address on each instance, without a database write.
#[tokio::test]
async fn reads_are_limited_per_address_without_writing() {
    let app = spawn_app_with(limited(&[(Kind::Read, 4, 60)])).await;
    let read = |client: &'static str| {
        let request = app.get("/api/chirps?limit=1").header("x-forwarded-for", client);
        async move { request.send().await.unwrap() }
    };
    for n in 0..4 {
        let resp = read("10.0.0.1").await;
        assert_eq!(resp.status(), StatusCode::OK, "read {n}");
        assert!(header(&resp, "ratelimit-policy").starts_with("\"read-address\";q=4;w=60"));
    }
    let refused = read("10.0.0.1").await;
    assert!(!header(&refused, "retry-after").is_empty());
    error_message(refused, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(read("10.0.0.2").await.status(), StatusCode::OK);
    assert_eq!(
        app.count("rate_counts").await,
        0,
        "no read reached the database's counts"
    );
    let health = app
        .get("/api/healthz")
        .header("x-forwarded-for", "10.0.0.1")
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK, "health checks are never limited");
}

#[tokio::test]
async fn rate_limits_off_means_no_limit_and_no_fields() {
    let app = spawn_app_with(|config| {
        limited(&[(Kind::Post, 1, 300)])(config);
        config.rate_limits.on = false;
    })
    .await;
    let me = app.quick_users(1).await.remove(0);
    for n in 0..5 {
        let resp = post(&app, &me, "10.0.0.1", &format!("{n}")).await;
        assert!(header(&resp, "ratelimit").is_empty());
        json_body(resp, StatusCode::CREATED).await;
    }
}
