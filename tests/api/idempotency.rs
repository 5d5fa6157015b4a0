//! `Idempotency-Key` on `POST /api/chirps`: a retry never posts twice.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Session, TestApp, error_message, json_body, spawn_app};

async fn post(app: &TestApp, session: &Session, key: Option<&str>, body: &str) -> reqwest::Response {
    let mut request = app
        .post("/api/chirps")
        .bearer_auth(&session.token)
        .json(&json!({"body": body}));
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_retry_with_the_same_key_and_body_gets_the_first_answer_and_posts_nothing() {
    let app = spawn_app().await;
    let session = app.user().await;
    let first = json_body(
        post(&app, &session, Some("key-1"), "once, kerfuffle").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(first["body"], "once, ****");
    for _ in 0..3 {
        let again = json_body(
            post(&app, &session, Some("key-1"), "once, kerfuffle").await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(again, first);
    }
    assert_eq!(app.count("chirps").await, 1);
    // Even once the chirp is deleted, the key still means that request.
    let url = format!("/api/chirps/{}", first["id"].as_str().unwrap());
    app.delete(&url).bearer_auth(&session.token).send().await.unwrap();
    let replayed = json_body(
        post(&app, &session, Some("key-1"), "once, kerfuffle").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(replayed, first);
    assert_eq!(app.count("chirps").await, 0);
}

#[tokio::test]
async fn the_same_key_for_a_different_chirp_is_422() {
    let app = spawn_app().await;
    let session = app.user().await;
    json_body(post(&app, &session, Some("k"), "first").await, StatusCode::CREATED).await;
    let message = error_message(
        post(&app, &session, Some("k"), "second").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(message.contains("Idempotency-Key"), "{message}");
    assert_eq!(app.count("chirps").await, 1);
}

/// Twenty at once with one key: exactly one chirp. The others get that chirp (once it is
/// posted) or 409 (while it is being posted).
#[tokio::test]
async fn concurrent_duplicates_post_exactly_once() {
    let app = spawn_app().await;
    let session = app.user().await;
    let tries = (0..20).map(|_| {
        let request = app
            .post("/api/chirps")
            .bearer_auth(&session.token)
            .header("idempotency-key", "same-every-time")
            .json(&json!({"body": "only one of me"}));
        tokio::spawn(async move { request.send().await.unwrap() })
    });
    let mut posted = Vec::new();
    let mut in_flight = 0;
    for answer in tries.collect::<Vec<_>>() {
        let answer = answer.await.unwrap();
        match answer.status() {
            StatusCode::CREATED => posted.push(json_body(answer, StatusCode::CREATED).await),
            StatusCode::CONFLICT => {
                error_message(answer, StatusCode::CONFLICT).await;
                in_flight += 1;
            }
            other => panic!("unexpected {other}: {}", answer.text().await.unwrap()),
        }
    }
    assert_eq!(app.count("chirps").await, 1);
    assert!(!posted.is_empty());
    assert!(
        posted.iter().all(|chirp| *chirp == posted[0]),
        "every 201 is the same chirp"
    );
    assert_eq!(posted.len() + in_flight, 20);
}

#[tokio::test]
async fn keys_belong_to_one_user() {
    let app = spawn_app().await;
    let (walt, jesse) = (app.user().await, app.user().await);
    let a = json_body(
        post(&app, &walt, Some("shared"), "same words").await,
        StatusCode::CREATED,
    )
    .await;
    let b = json_body(
        post(&app, &jesse, Some("shared"), "same words").await,
        StatusCode::CREATED,
    )
    .await;
    assert_ne!(a["id"], b["id"]);
    assert_eq!(b["user_id"], jesse.user_id.to_string());
    assert_eq!(app.count("chirps").await, 2);
}

#[tokio::test]
async fn a_key_is_forgotten_after_24_hours() {
    let app = spawn_app().await;
    let session = app.user().await;
    json_body(
        post(&app, &session, Some("old"), "yesterday").await,
        StatusCode::CREATED,
    )
    .await;
    sqlx::query("update idempotency_keys set created_at = now() - interval '25 hours'")
        .execute(&app.db)
        .await
        .unwrap();
    let today = json_body(post(&app, &session, Some("old"), "today").await, StatusCode::CREATED).await;
    assert_eq!(today["body"], "today");
    assert_eq!(app.count("chirps").await, 2);
    let again = json_body(post(&app, &session, Some("old"), "today").await, StatusCode::CREATED).await;
    assert_eq!(again, today, "remembered afresh");
}

#[tokio::test]
async fn malformed_keys_are_400_and_no_key_changes_nothing() {
    let app = spawn_app().await;
    let session = app.user().await;
    for bad in [" ", "has space", &"k".repeat(256)] {
        let resp = post(&app, &session, Some(bad), "x").await;
        error_message(resp, StatusCode::BAD_REQUEST).await;
    }
    let resp = app
        .post("/api/chirps")
        .bearer_auth(&session.token)
        .header(
            "idempotency-key",
            reqwest::header::HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap(),
        )
        .json(&json!({"body": "x"}))
        .send()
        .await
        .unwrap();
    error_message(resp, StatusCode::BAD_REQUEST).await;
    assert_eq!(app.count("chirps").await, 0);
    for _ in 0..2 {
        json_body(post(&app, &session, None, "twice").await, StatusCode::CREATED).await;
    }
    assert_eq!(app.count("chirps").await, 2);
}
