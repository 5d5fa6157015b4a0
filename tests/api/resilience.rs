//! Faults: the database going away and coming back, and two instances migrating at once.

use std::time::{Duration, Instant};

use chirpy::store as db;
use devpg::Cluster;
use reqwest::StatusCode;
use sqlx::postgres::PgConnectOptions;

use crate::helpers::{TestDatabase, error_message, header, json_body, spawn_app_on};

/// A cluster of its own, since this test stops it.
#[tokio::test]
async fn a_database_outage_gives_fast_503s_and_the_server_recovers_by_itself() {
    let mut cluster = Cluster::throwaway().expect("a cluster to break");
    let server: PgConnectOptions = cluster.url("postgres").parse().unwrap();
    db::create_database_if_missing(&server, "chirpy").await.unwrap();
    let app = spawn_app_on(server.database("chirpy"), |config| {
        config.database.pool.acquire_timeout = Duration::from_millis(300);
    })
    .await;
    let session = app.user().await;
    let chirp = app.chirp(&session, "before the outage").await;
    assert_eq!(app.get("/api/readyz").send().await.unwrap().text().await.unwrap(), "OK");

    cluster.stop().unwrap();

    for (method, path) in [("GET", "/api/chirps"), ("GET", "/api/readyz")] {
        let started = Instant::now();
        let resp = app
            .client
            .request(method.parse().unwrap(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(header(&resp, "retry-after"), "1", "{path}");
        error_message(resp, StatusCode::SERVICE_UNAVAILABLE).await;
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{path} must fail fast: {:?}",
            started.elapsed()
        );
    }
    let resp = app
        .post("/api/chirps")
        .bearer_auth(&session.token)
        .json(&serde_json::json!({"body": "lost?"}))
        .send()
        .await;
    error_message(resp.unwrap(), StatusCode::SERVICE_UNAVAILABLE).await;
    let resp = app
        .post("/api/login")
        .json(&serde_json::json!({"email": session.email, "password": session.password}));
    error_message(resp.send().await.unwrap(), StatusCode::SERVICE_UNAVAILABLE).await;
    let health = app.get("/api/healthz").send().await.unwrap();
    assert_eq!(
        (health.status(), health.text().await.unwrap().as_str()),
        (StatusCode::OK, "OK"),
        "liveness stays up"
    );

    cluster.start_again().unwrap();

    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let resp = app.get("/api/readyz").send().await.unwrap();
        if resp.status() == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "no recovery within 15 s: {}", resp.status());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let chirps = json_body(app.get("/api/chirps").send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(chirps, serde_json::json!([chirp]), "nothing lost, nothing half-written");
    app.chirp(&session, "after the outage").await;
}

/// With the default 2 s acquire timeout: once the database is known to be down (a failed
/// query or the background check tells), every request that needs it is a 503 in
/// milliseconds, not after the timeout; and when it is back, so is the service.
#[tokio::test]
async fn once_the_database_is_known_down_requests_fail_fast() {
    let mut cluster = Cluster::throwaway().expect("a cluster to break");
    let server: PgConnectOptions = cluster.url("postgres").parse().unwrap();
    db::create_database_if_missing(&server, "chirpy").await.unwrap();
    let app = spawn_app_on(server.database("chirpy"), |config| config.chirp_cache_mib = 0).await;
    assert_eq!(app.get("/api/readyz").send().await.unwrap().status(), StatusCode::OK);

    cluster.stop().unwrap();
    // The first to find out may wait; then it is known.
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.get("/api/readyz").send().await.unwrap().status() != StatusCode::SERVICE_UNAVAILABLE {
        assert!(Instant::now() < deadline, "the outage went unnoticed");
    }
    for path in ["/api/readyz", "/api/chirps", "/api/chirps?limit=5", "/admin/metrics"] {
        for _ in 0..3 {
            let started = Instant::now();
            let resp = app.get(path).send().await.unwrap();
            let took = started.elapsed();
            assert_eq!(header(&resp, "retry-after"), "1", "{path}");
            error_message(resp, StatusCode::SERVICE_UNAVAILABLE).await;
            assert!(took < Duration::from_millis(200), "{path} took {took:?} to fail");
        }
    }

    cluster.start_again().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.get("/api/readyz").send().await.unwrap().status() != StatusCode::OK {
        assert!(Instant::now() < deadline, "no recovery within 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    json_body(app.get("/api/chirps").send().await.unwrap(), StatusCode::OK).await;
}

#[tokio::test]
async fn two_instances_can_migrate_the_same_database_at_once() {
    let database = TestDatabase::create().await;
    let pool = crate::helpers::test_config().database.pool;
    let (first, second) = (
        db::Store::open(&db::Databases::single(database.options(), pool)),
        db::Store::open(&db::Databases::single(database.options(), pool)),
    );
    let (a, b) = tokio::join!(first.migrate(), second.migrate());
    let first = first.pool();
    a.expect("first instance");
    b.expect("second instance");
    let applied: i64 = sqlx::query_scalar("select count(*) from _sqlx_migrations where success")
        .fetch_one(first)
        .await
        .unwrap();
    assert_eq!(applied as usize, db::MIGRATOR.iter().count());
    let tables: i64 = sqlx::query_scalar(
        "select count(*) from information_schema.tables where table_name in ('users', 'chirps', 'refresh_tokens')",
    )
    .fetch_one(first)
    .await
    .unwrap();
    assert_eq!(tables, 3);
}

/// The deterministic twin of the kill -9 test: when revoking the refresh tokens fails, the
/// password change it belongs to is rolled back too.
#[tokio::test]
async fn a_failure_inside_a_password_change_rolls_all_of_it_back() {
    let app = crate::helpers::spawn_app().await;
    let session = app.user().await;
    sqlx::raw_sql(
        "create function refuse() returns trigger language plpgsql as $$ begin raise exception 'injected'; end $$;
         create trigger refuse_revocation before update on refresh_tokens for each row execute function refuse();",
    )
    .execute(&app.db)
    .await
    .unwrap();

    let change = serde_json::json!({"email": "changed@example.com", "password": "changed"});
    let resp = app.update_user(&session.token, &change).await;
    let id = header(&resp, "x-request-id");
    assert_eq!(
        error_message(resp, StatusCode::INTERNAL_SERVER_ERROR).await,
        format!("Internal server error (request id {id})")
    );

    let email: String = sqlx::query_scalar("select email from users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(email, session.email, "the email change was rolled back");
    app.login(&session.email, &session.password).await;
}

#[tokio::test]
async fn an_exhausted_pool_answers_503_with_retry_after_instead_of_waiting() {
    let app = crate::helpers::spawn_app_with(|config| {
        config.database.pool.max_connections = 1;
        config.database.pool.acquire_timeout = Duration::from_millis(200);
    })
    .await;
    // The app and the test share the pool: holding its only connection starves the app.
    let held = app.db.acquire().await.unwrap();
    let started = Instant::now();
    let resp = app.get("/api/chirps").send().await.unwrap();
    assert_eq!(header(&resp, "retry-after"), "1");
    error_message(resp, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    drop(held);
    json_body(app.get("/api/chirps").send().await.unwrap(), StatusCode::OK).await;
}
