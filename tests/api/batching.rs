//! Reads by id and posts are answered in batches (`store::batch`): every request keeps its
//! own outcome inside one. To make batches on demand, the tests hold a lock that stops the
//! workers at the database, queue requests behind them, then let go.

use std::{sync::atomic::Ordering, time::Duration};

use chirpy::store::{NewPost, PostOutcome};
use devpg::Cluster;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection, postgres::PgConnectOptions};
use uuid::Uuid;

use crate::helpers::{Session, TestApp, error_message, eventually, json_body, spawn_app, spawn_app_on, spawn_app_with};

/// Holds `lock table chirps` until dropped (committed): posts wait at their insert.
struct ChirpsLocked(PgConnection);

impl ChirpsLocked {
    async fn take(app: &TestApp) -> Self {
        let mut conn = PgConnection::connect_with(&app.database_options()).await.unwrap();
        sqlx::raw_sql("begin; lock table chirps in share mode")
            .execute(&mut conn)
            .await
            .unwrap();
        Self(conn)
    }

    async fn release(mut self) {
        sqlx::raw_sql("commit").execute(&mut self.0).await.unwrap();
    }
}

fn post_stats(app: &TestApp) -> (u64, u64, u64) {
    let [_, (_, posts), ..] = app.state.store.batches();
    (
        posts.batches.load(Ordering::Relaxed),
        posts.requests.load(Ordering::Relaxed),
        posts.abandoned.load(Ordering::Relaxed),
    )
}

fn post(app: &TestApp, session: &Session, body: &str) -> impl Future<Output = reqwest::Response> + use<> {
    let request = app
        .post("/api/chirps")
        .bearer_auth(&session.token)
        .json(&json!({"body": body}));
    async move { request.send().await.unwrap() }
}

/// Both workers taken by a post each, stuck at the lock: whatever comes next queues.
async fn occupy_the_workers(app: &TestApp, session: &Session) -> Vec<tokio::task::JoinHandle<StatusCode>> {
    let mut blockers = Vec::new();
    for n in 0..2 {
        let taken = post_stats(app).0;
        let request = post(app, session, &format!("blocker {n}"));
        blockers.push(tokio::spawn(async move { request.await.status() }));
        assert!(eventually(Duration::from_secs(5), async || post_stats(app).0 > taken).await);
    }
    blockers
}

/// One post whose author was deleted, one that breaks a constraint, among many good ones,
/// all in one group: the good ones are posted, the deleted author's alone is refused (401),
/// and the bad one alone fails (the group, rolled back, is written again post by post).
#[tokio::test]
async fn a_bad_post_among_good_ones_fails_alone() {
    let app = spawn_app().await;
    sqlx::raw_sql("alter table chirps add constraint no_poison check (body <> 'poison')")
        .execute(&app.db)
        .await
        .unwrap();
    let users = app.quick_users(12).await;
    let (gone, poisoner, good) = (&users[0], &users[1], &users[2..]);
    sqlx::query("delete from users where id = $1")
        .bind(gone.user_id)
        .execute(&app.db)
        .await
        .unwrap();

    let lock = ChirpsLocked::take(&app).await;
    let blockers = occupy_the_workers(&app, &good[0]).await;
    let before = post_stats(&app);
    let mut posts = Vec::new();
    for (n, user) in good.iter().enumerate() {
        posts.push(post(&app, user, &format!("good {n}")));
    }
    let (bad, orphan) = (post(&app, poisoner, "poison"), post(&app, gone, "from nobody"));
    let sent = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        lock.release().await;
    };
    let (responses, bad, orphan, ()) = tokio::join!(futures_util::future::join_all(posts), bad, orphan, sent);
    for blocker in blockers {
        assert_eq!(blocker.await.unwrap(), StatusCode::CREATED);
    }
    for resp in responses {
        json_body(resp, StatusCode::CREATED).await;
    }
    error_message(bad, StatusCode::INTERNAL_SERVER_ERROR).await;
    error_message(orphan, StatusCode::UNAUTHORIZED).await;
    let after = post_stats(&app);
    assert!(
        after.1 - before.1 > after.0 - before.0,
        "the queued posts went in groups: {before:?} -> {after:?}"
    );
    let bodies: Vec<String> = sqlx::query_scalar("select body from chirps order by body")
        .fetch_all(&app.db)
        .await
        .unwrap();
    let mut expected: Vec<String> = (0..good.len()).map(|n| format!("good {n}")).collect();
    expected.extend(["blocker 0".to_owned(), "blocker 1".to_owned()]);
    expected.sort();
    assert_eq!(bodies, expected, "each good post once; nothing of the bad ones");
}

/// A group's posts keep their order: in the list (each its own time) and on the live feed.
/// Keyed posts in a group keep their own keys: a repeat in the same group is 409, a replay
/// of an earlier one gets its first response, and a different body under it is 422.
#[tokio::test]
async fn keys_in_a_group_keep_their_own_outcomes() {
    let app = spawn_app().await;
    let users = app.quick_users(2).await;
    let (walt, jesse) = (&users[0], &users[1]);
    let keyed = |session: &Session, key: &str, body: &str| {
        app.post("/api/chirps")
            .bearer_auth(&session.token)
            .header("idempotency-key", key)
            .json(&json!({"body": body}))
            .send()
    };
    let first = json_body(keyed(walt, "k-earlier", "earlier").await.unwrap(), StatusCode::CREATED).await;

    let lock = ChirpsLocked::take(&app).await;
    let blockers = occupy_the_workers(&app, jesse).await;
    let release = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        lock.release().await;
    };
    let (same_key_a, same_key_b, replay, mismatch, other_user, ()) = tokio::join!(
        keyed(walt, "k-new", "new"),
        keyed(walt, "k-new", "new"),
        keyed(walt, "k-earlier", "earlier"),
        keyed(walt, "k-earlier", "something else"),
        keyed(jesse, "k-new", "jesse's own k-new"),
        release,
    );
    for blocker in blockers {
        assert_eq!(blocker.await.unwrap(), StatusCode::CREATED);
    }
    let statuses = [same_key_a.unwrap(), same_key_b.unwrap()].map(|resp| resp.status());
    assert!(
        statuses.contains(&StatusCode::CREATED) && statuses.contains(&StatusCode::CONFLICT),
        "one of the two with the same key posts, the other is told it is in flight: {statuses:?}"
    );
    assert_eq!(json_body(replay.unwrap(), StatusCode::CREATED).await, first);
    error_message(mismatch.unwrap(), StatusCode::UNPROCESSABLE_ENTITY).await;
    json_body(other_user.unwrap(), StatusCode::CREATED).await;
    let news: i64 = sqlx::query_scalar("select count(*) from chirps where body = 'new'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(news, 1, "one chirp for the key");
    let again = keyed(walt, "k-new", "new").await.unwrap();
    assert_eq!(
        json_body(again, StatusCode::CREATED).await["body"],
        "new",
        "remembered in the group"
    );
}

/// A post whose caller is gone before its group is taken is never written; the others are.
#[tokio::test]
async fn a_cancelled_post_is_not_written() {
    let app = spawn_app().await;
    let me = app.quick_users(1).await.remove(0);
    let lock = ChirpsLocked::take(&app).await;
    let blockers = occupy_the_workers(&app, &me).await;
    let store = app.state.store.clone();
    let post = |body: &str| {
        let (store, body) = (store.clone(), body.to_owned());
        tokio::spawn(async move {
            let post = NewPost {
                author: me.user_id,
                body,
                reply_to: None,
                key: None,
            };
            store.post_chirp(post).await
        })
    };
    let (kept, cancelled) = (post("kept"), post("cancelled"));
    tokio::time::sleep(Duration::from_millis(100)).await;
    cancelled.abort();
    assert!(cancelled.await.unwrap_err().is_cancelled());
    lock.release().await;
    assert!(matches!(kept.await.unwrap().unwrap(), PostOutcome::Posted(_)));
    for blocker in blockers {
        assert_eq!(blocker.await.unwrap(), StatusCode::CREATED);
    }
    let bodies: Vec<String> = sqlx::query_scalar("select body from chirps where body not like 'blocker%'")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(bodies, ["kept"]);
    assert_eq!(post_stats(&app).2, 1, "counted as abandoned");
}

/// Reads by id in one batch: each gets its own chirp or its own 404.
#[tokio::test]
async fn reads_in_a_batch_each_get_their_own_answer() {
    let app = spawn_app_with(|config| config.chirp_cache_mib = 0).await;
    let me = app.quick_users(1).await.remove(0);
    let mut chirps = Vec::new();
    for n in 0..20 {
        chirps.push(app.chirp(&me, &format!("chirp {n}")).await);
    }
    let reads = chirps.iter().flat_map(|chirp| {
        let id = chirp["id"].as_str().unwrap().to_owned();
        [id.clone(), Uuid::new_v4().to_string(), id]
    });
    let answers = futures_util::future::join_all(reads.map(|id| {
        let request = app.get(&format!("/api/chirps/{id}"));
        async move { (id, request.send().await.unwrap()) }
    }))
    .await;
    let mut found = 0;
    for (id, resp) in answers {
        if resp.status() == StatusCode::NOT_FOUND {
            assert!(!chirps.iter().any(|chirp| chirp["id"] == id.as_str()));
        } else {
            assert_eq!(json_body(resp, StatusCode::OK).await["id"], id.as_str());
            found += 1;
        }
    }
    assert_eq!(found, 40);
    let [(_, reads), ..] = app.state.store.batches();
    let (batches, requests) = (
        reads.batches.load(Ordering::Relaxed),
        reads.requests.load(Ordering::Relaxed),
    );
    assert_eq!(requests, 60);
    eprintln!("60 concurrent reads by id took {batches} batches");
}

/// The database stops in the middle of a storm of posts, and starts again: every post that
/// was answered 201 is there, and no post is there twice.
#[tokio::test]
async fn an_outage_mid_batch_loses_nothing_acknowledged_and_doubles_nothing() {
    let mut cluster = Cluster::throwaway().expect("a cluster to break");
    let server: PgConnectOptions = cluster.url("postgres").parse().unwrap();
    chirpy::store::create_database_if_missing(&server, "chirpy")
        .await
        .unwrap();
    let app = spawn_app_on(server.database("chirpy"), |_| {}).await;
    let users = app.quick_users(8).await;
    let stop = std::sync::atomic::AtomicBool::new(false);
    let posters = users.iter().enumerate().map(|(n, user)| {
        let (app, stop) = (&app, &stop);
        async move {
            let mut acknowledged = Vec::new();
            let mut sent = 0;
            while !stop.load(Ordering::Relaxed) {
                let body = format!("{n}-{sent}");
                sent += 1;
                let resp = post(app, user, &body).await;
                match resp.status() {
                    StatusCode::CREATED => acknowledged.push(body),
                    StatusCode::SERVICE_UNAVAILABLE => tokio::time::sleep(Duration::from_millis(20)).await,
                    other => panic!("{body}: {other} {}", resp.text().await.unwrap()),
                }
            }
            acknowledged
        }
    });
    let outage = async {
        tokio::time::sleep(Duration::from_millis(700)).await;
        cluster.stop().unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        cluster.start_again().unwrap();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        stop.store(true, Ordering::Relaxed);
    };
    let (acknowledged, ()) = tokio::join!(futures_util::future::join_all(posters), outage);
    let acknowledged: Vec<String> = acknowledged.into_iter().flatten().collect();
    let stored: Vec<(String, i64)> = sqlx::query_as("select body, count(*) from chirps group by body")
        .fetch_all(&app.db)
        .await
        .unwrap();
    let doubled: Vec<&(String, i64)> = stored.iter().filter(|(_, n)| *n > 1).collect();
    assert!(doubled.is_empty(), "posted twice: {doubled:?}");
    let stored: std::collections::HashSet<&str> = stored.iter().map(|(body, _)| body.as_str()).collect();
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|body| !stored.contains(body.as_str()))
        .collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    assert!(acknowledged.len() > 20, "the storm posted: {}", acknowledged.len());
    let after: Value = json_body(post(&app, &users[0], "after").await, StatusCode::CREATED).await;
    assert_eq!(after["body"], "after");
}
