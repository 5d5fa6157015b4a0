//! Refresh-token rotation with reuse detection, and the sessions (token families) it works
//! in: `Refresh-Token-Rotation: on`, the grace window, reuse, the races between refreshes and
//! revocations, and `GET`/`DELETE /api/users/me/sessions`.

use std::time::Duration;

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    helpers::{Session, TestApp, TestDatabase, assert_timestamp, error_message, eventually, json_body, spawn_app},
    process::RunningServer,
};

const ROTATION: &str = "Refresh-Token-Rotation";
const REUSED: &str = "Refresh token already replaced: its session is revoked, log in again";

async fn rotate(app: &TestApp, refresh_token: &str) -> Response {
    app.post("/api/refresh")
        .bearer_auth(refresh_token)
        .header(ROTATION, "on")
        .send()
        .await
        .unwrap()
}

/// A rotation that must succeed: the new refresh token.
async fn rotated(app: &TestApp, refresh_token: &str) -> String {
    let body = json_body(rotate(app, refresh_token).await, StatusCode::OK).await;
    assert!(body["token"].is_string(), "{body}");
    body["refresh_token"].as_str().unwrap().to_owned()
}

/// Whether the refresh token still gets an access token (without rotating it).
async fn works(app: &TestApp, refresh_token: &str) -> bool {
    let resp = app.refresh(refresh_token).await;
    match resp.status() {
        StatusCode::OK => true,
        status => {
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            error_message(resp, StatusCode::UNAUTHORIZED).await;
            false
        }
    }
}

fn sha256(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Moves the token's replacement `seconds` into the past, as if that much time had passed.
async fn replaced_ago(app: &TestApp, refresh_token: &str, seconds: i32) {
    let updated = sqlx::query(
        "update refresh_tokens set replaced_at = replaced_at - make_interval(secs => $2) where token_hash = $1",
    )
    .bind(sha256(refresh_token))
    .bind(seconds)
    .execute(&app.db)
    .await
    .unwrap();
    assert_eq!(updated.rows_affected(), 1);
}

async fn sessions(app: &TestApp, access_token: &str) -> Vec<Value> {
    let resp = app
        .get("/api/users/me/sessions")
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    json_body(resp, StatusCode::OK).await.as_array().unwrap().clone()
}

async fn login_as(app: &TestApp, session: &Session, user_agent: Option<&str>) -> Value {
    let mut request = app
        .post("/api/login")
        .json(&json!({"email": session.email, "password": session.password}));
    if let Some(user_agent) = user_agent {
        request = request.header("user-agent", user_agent);
    }
    json_body(request.send().await.unwrap(), StatusCode::OK).await
}

/// Waits until `n` of this database's backends wait for a lock.
async fn lock_waiters(app: &TestApp, n: i64) {
    let waiting = eventually(Duration::from_secs(10), async || {
        let count: i64 = sqlx::query_scalar(
            "select count(*) from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
        )
        .fetch_one(&app.db)
        .await
        .unwrap();
        count >= n
    })
    .await;
    assert!(waiting, "{n} requests waiting for a lock");
}

#[tokio::test]
async fn without_rotation_a_refresh_is_exactly_as_before() {
    let app = spawn_app().await;
    let session = app.user().await;
    for rotation in [None, Some("off")] {
        for _ in 0..2 {
            let mut request = app.post("/api/refresh").bearer_auth(&session.refresh_token);
            if let Some(rotation) = rotation {
                request = request.header(ROTATION, rotation);
            }
            let body = json_body(request.send().await.unwrap(), StatusCode::OK).await;
            assert_eq!(body.as_object().unwrap().len(), 1, "only the access token: {body}");
            assert!(body["token"].is_string());
        }
    }
    assert_eq!(app.count("refresh_tokens").await, 1, "nothing rotated");
    assert!(works(&app, &session.refresh_token).await);
}

#[tokio::test]
async fn a_rotation_header_other_than_on_or_off_is_400_and_rotates_nothing() {
    let app = spawn_app().await;
    let session = app.user().await;
    for value in ["ON", "true", "1", "", "on, off"] {
        let resp = app
            .post("/api/refresh")
            .bearer_auth(&session.refresh_token)
            .header(ROTATION, value)
            .send()
            .await
            .unwrap();
        error_message(resp, StatusCode::BAD_REQUEST).await;
    }
    assert_eq!(app.count("refresh_tokens").await, 1);
    assert!(works(&app, &session.refresh_token).await);
}

#[tokio::test]
async fn rotation_replaces_the_token_and_the_old_one_works_only_within_the_grace_window() {
    let app = spawn_app().await;
    let session = app.user().await;
    let first = session.refresh_token.clone();
    let second = rotated(&app, &first).await;
    assert_ne!(second, first);
    assert!(
        second.len() == 64 && second.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{second}"
    );
    // The access token that came with it works.
    let body = json_body(rotate(&app, &second).await, StatusCode::OK).await;
    let third = body["refresh_token"].as_str().unwrap().to_owned();
    let resp = app
        .get("/api/users/me")
        .bearer_auth(body["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    json_body(resp, StatusCode::OK).await;

    // Within the grace window a replaced token still works: a retry of the rotation gets the
    // same successor again, and nothing new is made.
    assert_eq!(rotated(&app, &second).await, third, "a retry gets the same successor");
    assert!(works(&app, &second).await);
    assert_eq!(app.count("refresh_tokens").await, 3);
    assert_eq!(app.count("sessions").await, 1, "one login, one session");

    // After it, the replaced token is a reused one: 401, and the whole session goes.
    replaced_ago(&app, &second, 31).await;
    let resp = rotate(&app, &second).await;
    assert_eq!(error_message(resp, StatusCode::UNAUTHORIZED).await, REUSED);
    for token in [&first, &second, &third] {
        assert!(!works(&app, token).await, "every token of the session is revoked");
    }
    assert!(sessions(&app, &session.token).await.is_empty());
    let revoked: i64 = sqlx::query_scalar("select count(*) from refresh_tokens where revoked_at is not null")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(
        revoked, 3,
        "revoked token by token too, for the previous release's instances"
    );
}

#[tokio::test]
async fn reuse_outside_the_window_revokes_only_that_session() {
    let app = spawn_app().await;
    let session = app.user().await;
    let other_device = app.login(&session.email, &session.password).await;
    let bystander = app.user().await;
    let next = rotated(&app, &session.refresh_token).await;
    replaced_ago(&app, &session.refresh_token, 3600).await;
    // Reused without asking for rotation: detected all the same.
    let resp = app.refresh(&session.refresh_token).await;
    assert_eq!(error_message(resp, StatusCode::UNAUTHORIZED).await, REUSED);
    assert!(!works(&app, &next).await);
    assert!(works(&app, &other_device.refresh_token).await);
    assert!(works(&app, &bystander.refresh_token).await);
    // Presented again, it is merely refused: the session is gone already.
    let resp = app.refresh(&session.refresh_token).await;
    assert_ne!(error_message(resp, StatusCode::UNAUTHORIZED).await, REUSED);
}

#[tokio::test]
async fn reuse_is_logged_as_a_warning_with_the_user_and_family_and_never_a_token() {
    let database = TestDatabase::create().await;
    let server = RunningServer::start(&database, &[("LOG_FORMAT", "json")]);
    let client = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", server.base);
    let credentials = json!({"email": "reused@example.com", "password": "secret-pw"});
    let resp = client.post(url("/api/users")).json(&credentials).send().await.unwrap();
    let user = json_body(resp, StatusCode::CREATED).await;
    let resp = client.post(url("/api/login")).json(&credentials).send().await.unwrap();
    let first = json_body(resp, StatusCode::OK).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = client
        .post(url("/api/refresh"))
        .bearer_auth(&first)
        .header(ROTATION, "on")
        .send()
        .await
        .unwrap();
    let second = json_body(resp, StatusCode::OK).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let db = sqlx::PgPool::connect_with(database.options()).await.unwrap();
    sqlx::query("update refresh_tokens set replaced_at = replaced_at - interval '1 minute' where token_hash = $1")
        .bind(sha256(&first))
        .execute(&db)
        .await
        .unwrap();
    let family: Uuid = sqlx::query_scalar("select session_id from refresh_tokens where token_hash = $1")
        .bind(sha256(&first))
        .fetch_one(&db)
        .await
        .unwrap();
    let resp = client
        .post(url("/api/refresh"))
        .bearer_auth(&first)
        .send()
        .await
        .unwrap();
    assert_eq!(error_message(resp, StatusCode::UNAUTHORIZED).await, REUSED);

    let warning = || {
        server.log_lines().into_iter().find_map(|line| {
            let entry: Value = serde_json::from_str(&line).ok()?;
            (entry["message"] == "refresh token reuse: family revoked").then_some(entry)
        })
    };
    assert!(eventually(Duration::from_secs(5), async || warning().is_some()).await);
    let warning = warning().unwrap();
    assert_eq!(warning["level"], "WARN", "{warning}");
    assert_eq!(warning["user_id"], user["id"], "{warning}");
    assert_eq!(warning["family_id"], family.to_string(), "{warning}");
    for line in server.log_lines() {
        for token in [&first, &second] {
            assert!(!line.contains(token.as_str()), "a refresh token in the log: {line}");
        }
    }
}

#[tokio::test]
async fn concurrent_rotations_with_one_token_replace_it_once_and_all_get_its_successor() {
    let app = spawn_app().await;
    let session = app.user().await;
    let answers = futures_util::future::join_all((0..8).map(|_| rotate(&app, &session.refresh_token))).await;
    let mut successors = Vec::new();
    for resp in answers {
        let body = json_body(resp, StatusCode::OK).await;
        successors.push(body["refresh_token"].as_str().unwrap().to_owned());
    }
    assert!(successors.iter().all(|s| *s == successors[0]), "{successors:?}");
    assert_eq!(app.count("refresh_tokens").await, 2, "replaced once");
    let next = rotated(&app, &successors[0]).await;
    assert!(works(&app, &next).await);
    assert_eq!(sessions(&app, &session.token).await.len(), 1);

    // And plain refreshes racing a rotation all succeed too.
    let plain = futures_util::future::join_all((0..4).map(|_| app.refresh(&next)));
    let (plain, rotation) = tokio::join!(plain, rotate(&app, &next));
    for resp in plain {
        json_body(resp, StatusCode::OK).await;
    }
    json_body(rotation, StatusCode::OK).await;
}

/// Holds a lock on the row of `refresh_token` until the transaction ends, so that whatever
/// writes that row next waits.
async fn lock_token(app: &TestApp, refresh_token: &str) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut tx = app.db.begin().await.unwrap();
    sqlx::query("select 1 from refresh_tokens where token_hash = $1 for update")
        .bind(sha256(refresh_token))
        .execute(&mut *tx)
        .await
        .unwrap();
    tx
}

#[tokio::test]
async fn a_session_revoked_while_a_rotation_commits_loses_the_successor_too() {
    let app = spawn_app().await;
    let session = app.user().await;
    let id = sessions(&app, &session.token).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The rotation holds the session's lock and waits to mark the old token replaced; the
    // revocation waits for the session's lock.
    let held = lock_token(&app, &session.refresh_token).await;
    let rotation = tokio::spawn({
        let request = app
            .post("/api/refresh")
            .bearer_auth(&session.refresh_token)
            .header(ROTATION, "on");
        async move { request.send().await.unwrap() }
    });
    lock_waiters(&app, 1).await;
    let revocation = tokio::spawn({
        let request = app
            .delete(&format!("/api/users/me/sessions/{id}"))
            .bearer_auth(&session.token);
        async move { request.send().await.unwrap() }
    });
    lock_waiters(&app, 2).await;
    held.rollback().await.unwrap();

    let body = json_body(rotation.await.unwrap(), StatusCode::OK).await;
    let successor = body["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(revocation.await.unwrap().status(), StatusCode::NO_CONTENT);
    assert!(
        !works(&app, &successor).await,
        "the successor committed meanwhile is revoked too"
    );
    assert!(!works(&app, &session.refresh_token).await);
    assert!(sessions(&app, &session.token).await.is_empty());
}

#[tokio::test]
async fn a_rotation_that_waited_for_a_revocation_is_refused() {
    let app = spawn_app().await;
    let session = app.user().await;
    // The revocation holds the session's lock and waits to revoke the token; the rotation
    // waits for the session's lock.
    let held = lock_token(&app, &session.refresh_token).await;
    let revocation = tokio::spawn({
        let request = app.post("/api/revoke").bearer_auth(&session.refresh_token);
        async move { request.send().await.unwrap() }
    });
    lock_waiters(&app, 1).await;
    let rotation = tokio::spawn({
        let request = app
            .post("/api/refresh")
            .bearer_auth(&session.refresh_token)
            .header(ROTATION, "on");
        async move { request.send().await.unwrap() }
    });
    lock_waiters(&app, 2).await;
    held.rollback().await.unwrap();

    assert_eq!(revocation.await.unwrap().status(), StatusCode::NO_CONTENT);
    error_message(rotation.await.unwrap(), StatusCode::UNAUTHORIZED).await;
    assert_eq!(app.count("refresh_tokens").await, 1, "nothing rotated");
    assert!(!works(&app, &session.refresh_token).await);
}

#[tokio::test]
async fn however_a_revocation_and_rotations_interleave_no_token_of_the_session_survives() {
    let app = spawn_app().await;
    let user = app.user().await;
    for round in 0..10 {
        let session = app.login(&user.email, &user.password).await;
        let rotations = futures_util::future::join_all((0..3).map(|_| rotate(&app, &session.refresh_token)));
        let (answers, revoked) = if round % 2 == 0 {
            tokio::join!(rotations, app.revoke(&session.refresh_token))
        } else {
            let everywhere = async {
                app.delete("/api/users/me/sessions")
                    .bearer_auth(&session.token)
                    .send()
                    .await
                    .unwrap()
            };
            tokio::join!(rotations, everywhere)
        };
        assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
        for resp in answers {
            if resp.status() == StatusCode::OK {
                let body = json_body(resp, StatusCode::OK).await;
                let successor = body["refresh_token"].as_str().unwrap();
                assert!(!works(&app, successor).await, "round {round}: a successor survived");
            } else {
                error_message(resp, StatusCode::UNAUTHORIZED).await;
            }
        }
        assert!(!works(&app, &session.refresh_token).await);
    }
    assert!(sessions(&app, &user.token).await.is_empty());
}

#[tokio::test]
async fn sessions_list_the_callers_live_logins_with_their_user_agents() {
    let app = spawn_app().await;
    let user = app.user().await; // logged in without a User-Agent header
    let phone = login_as(&app, &user, Some("Chirpy/1.0 (iPhone)")).await;
    let long = format!("Mozilla/5.0 {}", "x".repeat(400));
    login_as(&app, &user, Some(&long)).await;
    let stranger = app.user().await;

    let listed = sessions(&app, phone["token"].as_str().unwrap()).await;
    assert_eq!(listed.len(), 3, "{listed:?}");
    // Most recently used first.
    assert_eq!(listed[0]["user_agent"].as_str().unwrap().chars().count(), 256);
    assert!(long.starts_with(listed[0]["user_agent"].as_str().unwrap()));
    assert_eq!(listed[1]["user_agent"], "Chirpy/1.0 (iPhone)");
    assert!(listed[2]["user_agent"].is_null());
    let current: Vec<bool> = listed.iter().map(|s| s["current"].as_bool().unwrap()).collect();
    assert_eq!(current, [false, true, false], "the phone's access token asked");
    for session in &listed {
        assert_eq!(session.as_object().unwrap().len(), 6, "{session}");
        Uuid::parse_str(session["id"].as_str().unwrap()).unwrap();
        for field in ["created_at", "last_used_at", "expires_at"] {
            assert_timestamp(&session[field]);
        }
    }
    let ids: Vec<&str> = listed.iter().map(|s| s["id"].as_str().unwrap()).collect();

    // A refresh moves its session to the top; a rotation keeps it one session, and the access
    // token it gives still marks it as current.
    let first_used = listed[2]["last_used_at"].clone();
    let next = rotated(&app, &user.refresh_token).await;
    let body = json_body(app.refresh(&next).await, StatusCode::OK).await;
    let listed = sessions(&app, body["token"].as_str().unwrap()).await;
    let order: Vec<&str> = listed.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(order, [ids[2], ids[0], ids[1]]);
    assert!(listed[0]["current"].as_bool().unwrap());
    assert!(listed[0]["last_used_at"].as_str() > first_used.as_str());

    // Nobody sees another's sessions, and an access token made outside any session (such as
    // one from before sessions) marks none.
    let theirs = sessions(&app, &stranger.token).await;
    assert_eq!(theirs.len(), 1);
    assert!(!ids.contains(&theirs[0]["id"].as_str().unwrap()));
    let sessionless = app.state.access_tokens.issue(user.user_id).unwrap();
    let listed = sessions(&app, &sessionless).await;
    assert!(listed.iter().all(|s| s["current"] == false));

    let resp = app.get("/api/users/me/sessions").send().await.unwrap();
    error_message(resp, StatusCode::UNAUTHORIZED).await;
    let resp = app
        .get("/api/users/me/sessions")
        .bearer_auth(&user.refresh_token)
        .send()
        .await
        .unwrap();
    error_message(resp, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn deleting_a_session_logs_out_that_one_only() {
    let app = spawn_app().await;
    let user = app.user().await;
    let other = app.login(&user.email, &user.password).await;
    let stranger = app.user().await;
    let next = rotated(&app, &user.refresh_token).await;
    let mine = sessions(&app, &user.token).await;
    let current = mine.iter().find(|s| s["current"] == true).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Someone else's session, or none at all, is 404 and changes nothing.
    let theirs = sessions(&app, &stranger.token).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for id in [theirs.as_str(), &Uuid::new_v4().to_string()] {
        let resp = app
            .delete(&format!("/api/users/me/sessions/{id}"))
            .bearer_auth(&user.token)
            .send()
            .await
            .unwrap();
        error_message(resp, StatusCode::NOT_FOUND).await;
    }
    assert!(works(&app, &stranger.refresh_token).await);
    let resp = app
        .delete("/api/users/me/sessions/not-a-uuid")
        .bearer_auth(&user.token)
        .send()
        .await
        .unwrap();
    error_message(resp, StatusCode::BAD_REQUEST).await;
    let resp = app
        .delete(&format!("/api/users/me/sessions/{current}"))
        .send()
        .await
        .unwrap();
    error_message(resp, StatusCode::UNAUTHORIZED).await;

    for _ in 0..2 {
        let resp = app
            .delete(&format!("/api/users/me/sessions/{current}"))
            .bearer_auth(&user.token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NO_CONTENT, "and harmless to repeat");
        assert!(resp.bytes().await.unwrap().is_empty());
    }
    assert!(!works(&app, &next).await);
    assert!(!works(&app, &user.refresh_token).await);
    assert!(works(&app, &other.refresh_token).await);
    let left = sessions(&app, &user.token).await;
    assert_eq!(left.len(), 1);
    assert_ne!(left[0]["id"], current.as_str());
}

#[tokio::test]
async fn logging_out_everywhere_ends_every_session_of_the_caller() {
    let app = spawn_app().await;
    let user = app.user().await;
    let other = app.login(&user.email, &user.password).await;
    let stranger = app.user().await;
    let next = rotated(&app, &other.refresh_token).await;
    let resp = app
        .delete("/api/users/me/sessions")
        .bearer_auth(&user.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    for token in [&user.refresh_token, &other.refresh_token, &next] {
        assert!(!works(&app, token).await);
    }
    assert!(sessions(&app, &user.token).await.is_empty());
    assert!(works(&app, &stranger.refresh_token).await);
    // Access tokens cannot be recalled: they work until they expire.
    let resp = app.get("/api/users/me").bearer_auth(&user.token).send().await.unwrap();
    json_body(resp, StatusCode::OK).await;
    let resp = app.delete("/api/users/me/sessions").send().await.unwrap();
    error_message(resp, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn a_password_change_ends_every_session_rotated_ones_included() {
    let app = spawn_app().await;
    let user = app.user().await;
    let next = rotated(&app, &user.refresh_token).await;
    let resp = app
        .update_user(&user.token, &json!({"email": user.email, "password": "a new one"}))
        .await;
    json_body(resp, StatusCode::OK).await;
    assert!(!works(&app, &next).await);
    assert!(!works(&app, &user.refresh_token).await);
    assert!(sessions(&app, &user.token).await.is_empty());
}

#[tokio::test]
async fn a_token_stored_without_a_session_starts_one_of_its_own() {
    // As an instance of the previous release stores one during a rolling deploy.
    let app = spawn_app().await;
    let user = app.user().await;
    let token = "0123456789abcdef".repeat(4);
    sqlx::query(
        "insert into refresh_tokens (token_hash, user_id, expires_at) values ($1, $2, now() + interval '60 days')",
    )
    .bind(sha256(&token))
    .bind(user.user_id)
    .execute(&app.db)
    .await
    .unwrap();
    assert_eq!(sessions(&app, &user.token).await.len(), 2);
    let next = rotated(&app, &token).await;
    assert!(works(&app, &next).await);
    assert_eq!(sessions(&app, &user.token).await.len(), 2);
}

/// Housekeeping deletes tokens past their expiry, and the sessions left with none; a live
/// session stays, replaced tokens and all.
#[tokio::test]
async fn expired_tokens_and_their_empty_sessions_are_swept() {
    let app = crate::helpers::spawn_app().await;
    let live = app.user().await;
    let gone = app.user().await;
    sqlx::query("update refresh_tokens set expires_at = now() - interval '1 hour' where user_id = $1;")
        .bind(gone.user_id)
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query("update sessions set created_at = now() - interval '2 days' where user_id = $1")
        .bind(gone.user_id)
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(app.state.store.delete_expired_sessions().await.unwrap(), 1);
    let left: Vec<uuid::Uuid> = sqlx::query_scalar("select user_id from sessions")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(left, [live.user_id]);
    assert_eq!(app.refresh(&live.refresh_token).await.status(), reqwest::StatusCode::OK);
}
