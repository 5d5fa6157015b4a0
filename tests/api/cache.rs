//! The chirp cache and conditional GETs: tags and 304s, answers without the database, and
//! staying right across instances, including when an instance stops hearing changes.

use std::{
    sync::atomic::Ordering,
    time::{Duration, Instant},
};

use chirpy::changes::LISTENER_NAME;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, TestDatabase, eventually, header, json_body, spawn_app_on, spawn_app_with};

/// The default size: the cache on, whatever `CHIRP_CACHE_MIB` the suite runs with.
pub const CACHE_ON: u64 = 64;
/// Every test runs with the cache on and off: off changes no answer.
const SIZES: [u64; 2] = [CACHE_ON, 0];

async fn get(app: &TestApp, path: &str, etag: Option<&str>) -> reqwest::Response {
    let mut request = app.get(path);
    if let Some(etag) = etag {
        request = request.header("if-none-match", etag);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn chirps_and_pages_carry_a_tag_and_revalidate_with_304() {
    for mib in SIZES {
        let app = spawn_app_with(|config| config.chirp_cache_mib = mib).await;
        let session = app.user().await;
        let chirp = app.chirp(&session, "tag me").await;
        app.chirp(&session, "and me").await;
        let url = format!("/api/chirps/{}", chirp["id"].as_str().unwrap());
        for path in [url.as_str(), "/api/chirps", "/api/chirps?sort=desc&limit=1"] {
            let first = get(&app, path, None).await;
            assert_eq!(header(&first, "cache-control"), "no-cache", "{path}");
            let etag = header(&first, "etag");
            let link = header(&first, "link");
            assert!(etag.starts_with('"') && etag.ends_with('"'), "{path}: {etag:?}");
            let body = json_body(first, StatusCode::OK).await;

            let again = get(&app, path, Some(&etag)).await;
            assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path} (cache {mib} MiB)");
            assert_eq!(header(&again, "etag"), etag);
            assert_eq!(header(&again, "cache-control"), "no-cache");
            assert_eq!(header(&again, "link"), link, "{path}: a 304 keeps the next page's link");
            assert!(again.bytes().await.unwrap().is_empty(), "no body with a 304");
            for other in ["W/".to_owned() + &etag, format!("\"nope\", {etag}"), "*".to_owned()] {
                assert_eq!(get(&app, path, Some(&other)).await.status(), StatusCode::NOT_MODIFIED);
            }
            let stale = get(&app, path, Some("\"0000000000000000\"")).await;
            assert_eq!(json_body(stale, StatusCode::OK).await, body, "{path}");
        }
        // A changed feed has a new tag.
        let list = get(&app, "/api/chirps", None).await;
        let before = header(&list, "etag");
        app.chirp(&session, "a third").await;
        let list = get(&app, "/api/chirps", Some(&before)).await;
        assert_ne!(header(&list, "etag"), before);
        assert_eq!(json_body(list, StatusCode::OK).await.as_array().unwrap().len(), 3);
    }
}

/// With no database connection to be had, what the cache holds is still answered (a 304
/// included): those answers never touch the database. The rest waits, then gets 503.
#[tokio::test]
async fn the_cache_answers_without_the_database() {
    let app = spawn_app_with(|config| {
        config.chirp_cache_mib = CACHE_ON;
        config.database.pool.max_connections = 1;
        config.database.pool.acquire_timeout = Duration::from_millis(300);
    })
    .await;
    let session = app.user().await;
    let chirp = app.chirp(&session, "cached").await;
    let url = format!("/api/chirps/{}", chirp["id"].as_str().unwrap());
    let etag = header(&get(&app, &url, None).await, "etag");
    let list = json_body(get(&app, "/api/chirps?sort=desc", None).await, StatusCode::OK).await;

    // The app and the test share the pool: holding its only connection starves the app.
    let held = app.db.acquire().await.unwrap();
    assert_eq!(get(&app, &url, Some(&etag)).await.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(json_body(get(&app, &url, None).await, StatusCode::OK).await, chirp);
    assert_eq!(
        json_body(get(&app, "/api/chirps?sort=desc", None).await, StatusCode::OK).await,
        list
    );
    let uncached = get(&app, "/api/chirps?sort=asc&limit=7", None).await;
    assert_eq!(
        uncached.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "the control: this one needs the database"
    );
    drop(held);
}

async fn two_instances(mib: u64) -> (TestApp, TestApp, TestDatabase) {
    let database = TestDatabase::create().await;
    let first = spawn_app_on(database.options(), |config| config.chirp_cache_mib = mib).await;
    let second = spawn_app_on(database.options(), |config| config.chirp_cache_mib = mib).await;
    for app in [&first, &second] {
        assert!(
            eventually(Duration::from_secs(5), async || app.state.cache.keeps_pages()
                || mib == 0)
            .await,
            "the instance is not listening"
        );
    }
    (first, second, database)
}

#[tokio::test]
async fn a_deletion_is_never_served_by_the_deleting_instance_and_soon_by_no_other() {
    for mib in SIZES {
        let (first, second, _db) = two_instances(mib).await;
        let session = first.user().await;
        let chirp = first.chirp(&session, "soon gone").await;
        let url = format!("/api/chirps/{}", chirp["id"].as_str().unwrap());
        for app in [&first, &second] {
            // Cached on both (twice, so the second read is a hit).
            json_body(get(app, &url, None).await, StatusCode::OK).await;
            json_body(get(app, &url, None).await, StatusCode::OK).await;
        }
        let deleted = first.delete(&url).bearer_auth(&session.token).send().await.unwrap();
        assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
        assert_eq!(get(&first, &url, None).await.status(), StatusCode::NOT_FOUND, "at once");
        let started = Instant::now();
        assert!(
            eventually(Duration::from_secs(2), async || get(&second, &url, None).await.status()
                == StatusCode::NOT_FOUND)
            .await,
            "the other instance still serves a deleted chirp (cache {mib} MiB)"
        );
        eprintln!("deletion seen by the other instance after {:?}", started.elapsed());
        assert_eq!(get(&first, &url, None).await.status(), StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn a_post_on_one_instance_reaches_the_others_cached_pages() {
    for mib in SIZES {
        let (first, second, _db) = two_instances(mib).await;
        let session = first.user().await;
        first.chirp(&session, "one").await;
        let newest = async |app: &TestApp| {
            let page = json_body(get(app, "/api/chirps?sort=desc&limit=10", None).await, StatusCode::OK).await;
            page.as_array()
                .unwrap()
                .iter()
                .map(|c| c["body"].clone())
                .collect::<Vec<Value>>()
        };
        assert_eq!(newest(&second).await, ["one"]);
        assert_eq!(newest(&second).await, ["one"], "now from the cache, if on");
        first.chirp(&session, "two").await;
        assert_eq!(newest(&first).await, ["two", "one"], "the posting instance at once");
        assert!(
            eventually(Duration::from_secs(2), async || newest(&second).await == ["two", "one"]).await,
            "the other instance's page is stale (cache {mib} MiB)"
        );
    }
}

/// Kills every listening session of the database (both instances').
async fn kill_listeners(app: &TestApp) -> i64 {
    sqlx::query_scalar(
        "select count(pg_terminate_backend(pid)) from pg_stat_activity
         where application_name = $1 and datname = current_database()",
    )
    .bind(LISTENER_NAME)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

/// A lost LISTEN session means lost announcements: the cache empties and is bypassed until
/// the instance listens again, so a deletion made meanwhile is never served.
#[tokio::test]
async fn an_instance_that_stops_hearing_changes_stops_trusting_its_cache() {
    let (first, second, _db) = two_instances(64).await;
    let session = first.user().await;
    let chirp = first.chirp(&session, "deleted unheard").await;
    let url = format!("/api/chirps/{}", chirp["id"].as_str().unwrap());
    json_body(get(&second, &url, None).await, StatusCode::OK).await;
    let hits = || second.state.cache.stats.hits.load(Ordering::Relaxed);
    let before = hits();
    json_body(get(&second, &url, None).await, StatusCode::OK).await;
    assert_eq!(
        hits(),
        before + 2,
        "the chirp and its counts, cached on the second instance"
    );

    assert_eq!(kill_listeners(&first).await, 2);
    assert!(
        eventually(Duration::from_secs(1), async || !second.state.cache.keeps_pages()).await,
        "the lost session went unnoticed"
    );
    // Gone before the instances listen again (they wait half a second): unheard.
    let deleted = first.delete(&url).bearer_auth(&session.token).send().await.unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let before = hits();
    assert_eq!(get(&second, &url, None).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(hits(), before, "the cache was not used while it could not hear");

    // Listening again, it caches afresh.
    assert!(eventually(Duration::from_secs(5), async || second.state.cache.keeps_pages()).await);
    let other = first.chirp(&session, "after").await;
    let url = format!("/api/chirps/{}", other["id"].as_str().unwrap());
    json_body(get(&second, &url, None).await, StatusCode::OK).await;
    let before = hits();
    json_body(get(&second, &url, None).await, StatusCode::OK).await;
    assert_eq!(hits(), before + 2, "trusted again: the chirp and its counts");
}
