//! `GET /api/chirps/stream`: Server-Sent Events of chirps posted and deleted.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    helpers::{FEED_TURN, TestApp, error_message, header, spawn_app_on, spawn_app_with, spawn_feed_app},
    sse::Reader,
};

async fn delete(app: &TestApp, token: &str, chirp: &Value) {
    let url = format!("/api/chirps/{}", chirp["id"].as_str().unwrap());
    let resp = app.delete(&url).bearer_auth(token).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
}

/// Posted through one instance, seen within a second on a stream from the other.
#[tokio::test]
async fn events_arrive_within_a_second_across_instances() {
    let _turn = FEED_TURN.lock().await;
    let first = spawn_feed_app(|_| {}).await;
    let second = spawn_app_on(first.database_options(), |_| {}).await;
    let session = first.user().await;
    let mut reader = Reader::open(&second, "", None).await;
    let chirp = first.chirp(&session, "live, kerfuffle").await;
    let posted_at = Instant::now();
    let event = reader.next(Duration::from_secs(5)).await.expect("the post");
    let took = posted_at.elapsed();
    eprintln!("the post reached the other instance's stream in {took:?}");
    assert!(took < Duration::from_secs(1), "the post took {took:?}");
    assert_eq!(event.kind, "chirp.created");
    assert_eq!(event.data, chirp, "the data is the chirp as stored");
    assert!(!event.id.is_empty());

    delete(&first, &session.token, &chirp).await;
    let event = reader
        .next(Duration::from_secs(1))
        .await
        .expect("the deletion within a second");
    assert_eq!(event.kind, "chirp.deleted");
    assert_eq!(event.data, json!({"id": chirp["id"]}));
}

#[tokio::test]
async fn resuming_with_last_event_id_loses_nothing_and_repeats_nothing() {
    let _turn = FEED_TURN.lock().await;
    let app = spawn_feed_app(|_| {}).await;
    let session = app.user().await;
    let mut reader = Reader::open(&app, "", None).await;
    app.chirp(&session, "seen").await;
    let seen = reader.next(Duration::from_secs(2)).await.unwrap();
    drop(reader);

    let mut missed = Vec::new();
    for n in 0..3 {
        missed.push(app.chirp(&session, &format!("missed {n}")).await);
    }
    delete(&app, &session.token, &missed[0]).await;
    let mut reader = Reader::open(&app, "", Some(&seen.id)).await;
    let mut got = Vec::new();
    while let Some(event) = reader.next(Duration::from_millis(1500)).await {
        got.push(event);
    }
    let kinds: Vec<(&str, &Value)> = got.iter().map(|e| (e.kind.as_str(), &e.data["id"])).collect();
    assert_eq!(
        kinds,
        [
            ("chirp.created", &missed[0]["id"]),
            ("chirp.created", &missed[1]["id"]),
            ("chirp.created", &missed[2]["id"]),
            ("chirp.deleted", &missed[0]["id"]),
        ]
    );
    assert_eq!(
        got[0].data, missed[0],
        "a deleted chirp is still replayed as it was posted"
    );
    let mut ids: Vec<&str> = got.iter().map(|e| e.id.as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 4, "every event has its own id");

    // And from the last of those, only what comes next.
    let mut reader = Reader::open(&app, "", Some(&got[3].id)).await;
    let next = app.chirp(&session, "next").await;
    assert_eq!(reader.next(Duration::from_secs(2)).await.unwrap().data, next);
}

#[tokio::test]
async fn a_stream_can_follow_one_author() {
    let _turn = FEED_TURN.lock().await;
    let app = spawn_feed_app(|_| {}).await;
    let (walt, jesse) = (app.user().await, app.user().await);
    let mut reader = Reader::open(&app, &format!("?author_id={}", jesse.user_id), None).await;
    app.chirp(&walt, "not followed").await;
    let followed = app.chirp(&jesse, "followed").await;
    assert_eq!(reader.next(Duration::from_secs(2)).await.unwrap().data, followed);
    assert_eq!(reader.next(Duration::from_millis(800)).await, None);
}

/// Browsers send an empty `Last-Event-ID` to mean none.
#[tokio::test]
async fn an_empty_last_event_id_means_from_now() {
    let _turn = FEED_TURN.lock().await;
    let app = spawn_feed_app(|_| {}).await;
    let session = app.user().await;
    app.chirp(&session, "before").await;
    let mut reader = Reader::open(&app, "", Some("")).await;
    let after = app.chirp(&session, "after").await;
    assert_eq!(reader.next(Duration::from_secs(2)).await.unwrap().data, after);
}

#[tokio::test]
async fn malformed_parameters_are_400() {
    let app = spawn_app_with(|_| {}).await;
    let resp = app.get("/api/chirps/stream?author_id=nope").send().await.unwrap();
    error_message(resp, StatusCode::BAD_REQUEST).await;
    for id in ["nope", "1-", "-1-2"] {
        let resp = app
            .get("/api/chirps/stream")
            .header("last-event-id", id)
            .send()
            .await
            .unwrap();
        error_message(resp, StatusCode::BAD_REQUEST).await;
    }
}

/// A client that goes away is noticed at the next write at the latest (a heartbeat, every
/// second here), and its place freed.
#[tokio::test]
async fn past_the_cap_a_stream_is_503_and_a_closed_one_frees_its_place() {
    let app = spawn_app_with(|config| {
        config.max_event_streams = 2;
        config.stream_heartbeat = Duration::from_secs(1);
    })
    .await;
    let first = Reader::open(&app, "", None).await;
    let _second = Reader::open(&app, "", None).await;
    let resp = app.get("/api/chirps/stream").send().await.unwrap();
    assert_eq!(header(&resp, "retry-after"), "1");
    error_message(resp, StatusCode::SERVICE_UNAVAILABLE).await;
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let resp = app.get("/api/chirps/stream").send().await.unwrap();
        if resp.status() == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "the closed stream's place was not freed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_quiet_stream_gets_heartbeats() {
    let app = spawn_app_with(|config| config.stream_heartbeat = Duration::from_secs(1)).await;
    let mut reader = Reader::open(&app, "", None).await;
    assert_eq!(reader.next(Duration::from_millis(2500)).await, None);
    assert!(reader.comments >= 2, "{} comment lines in 2.5 s", reader.comments);
}

/// A client that opens a stream and never reads: once the server's writes to it have been
/// stuck for WRITE_TIMEOUT_SECS it is cut off, its place freed, and the server's memory
/// stays flat however much it was sent meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_never_reads_is_cut_off_with_memory_flat() {
    use tokio::io::AsyncWriteExt;

    // A cluster of its own: the feed waits for every older write transaction of its cluster
    // to end, and this one's 20,000-row insert would hold up the other tests' feeds.
    let cluster = devpg::Cluster::throwaway().unwrap();
    let server_options: sqlx::postgres::PgConnectOptions = cluster.url("postgres").parse().unwrap();
    chirpy::store::create_database_if_missing(&server_options, "chirpy")
        .await
        .unwrap();
    let mut command = crate::process::chirpy();
    command.arg("serve").envs([
        ("DATABASE_URL", cluster.url("chirpy").as_str()),
        ("PLATFORM", "dev"),
        ("PORT", "0"),
        ("WRITE_TIMEOUT_SECS", "2"),
        ("MAX_EVENT_STREAMS", "1"),
        ("RUST_LOG", "warn"),
    ]);
    let server = crate::process::RunningServer::launch(command);
    let pid = server.child.id();
    let rss = || {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        kib * 1024
    };
    let client = reqwest::Client::new();
    let stream_status = async || {
        client
            .get(format!("{}/api/chirps/stream", server.base))
            .send()
            .await
            .unwrap()
            .status()
    };
    let before = rss();

    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut silent = socket
        .connect(server.base.trim_start_matches("http://").parse().unwrap())
        .await
        .unwrap();
    silent
        .write_all(b"GET /api/chirps/stream HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        stream_status().await,
        StatusCode::SERVICE_UNAVAILABLE,
        "the silent reader holds the only place"
    );

    // Thousands of events at once, far more than the connection can hold.
    let pool = sqlx::PgPool::connect_with(server_options.database("chirpy"))
        .await
        .unwrap();
    sqlx::query("insert into users (email, hashed_password) values ('flood@example.com', 'x')")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "insert into chirps (body, user_id)
         select repeat('chirp ', 20) || n, (select id from users) from generate_series(1, 20000) n",
    )
    .execute(&pool)
    .await
    .unwrap();

    let deadline = Instant::now() + Duration::from_secs(15);
    while stream_status().await != StatusCode::OK {
        assert!(Instant::now() < deadline, "the silent reader was never cut off");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let after = rss();
    eprintln!(
        "RSS {:.1} MiB before, {:.1} MiB after",
        before as f64 / 1048576.0,
        after as f64 / 1048576.0
    );
    assert!(after < before + 20 * 1024 * 1024, "RSS grew from {before} to {after}");
    drop(silent);
}
