//! Notifications: written with the action that causes them and gone with its undoing,
//! likes grouped per chirp, never from blocked or muted accounts, read markers shared by
//! devices, and pushed on the live home feed.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    helpers::{FEED_TURN, Session, TestApp, error_message, json_body, spawn_app, spawn_feed_app},
    sse::Reader,
};

async fn notifications(app: &TestApp, session: &Session, query: &str) -> Value {
    let resp = app
        .get(&format!("/api/notifications{query}"))
        .bearer_auth(&session.token)
        .send()
        .await
        .unwrap();
    json_body(resp, StatusCode::OK).await
}

fn kinds(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|n| n["type"].as_str().unwrap().to_owned())
        .collect()
}

async fn like(app: &TestApp, session: &Session, chirp: &Value, liked: bool) {
    let path = format!("/api/chirps/{}/like", chirp["id"].as_str().unwrap());
    let request = if liked { app.put(&path) } else { app.delete(&path) };
    assert_eq!(
        request.bearer_auth(&session.token).send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
}

async fn unread(app: &TestApp, session: &Session) -> i64 {
    let resp = app
        .get("/api/notifications/unread_count")
        .bearer_auth(&session.token)
        .send()
        .await
        .unwrap();
    json_body(resp, StatusCode::OK).await["count"].as_i64().unwrap()
}

#[tokio::test]
async fn follows_replies_mentions_and_likes_notify_and_their_undoing_takes_it_back() {
    let app = spawn_app().await;
    let users = app.quick_users(2).await;
    let (walt, jesse) = (&users[0], &users[1]);
    let resp = app
        .client
        .patch(app.url("/api/users/me"))
        .bearer_auth(&walt.token)
        .json(&json!({"handle": "Heisenberg"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let root = app.chirp(walt, "say my name").await;

    assert_eq!(app.follow(jesse, walt.user_id, true).await, StatusCode::NO_CONTENT);
    let resp = app
        .post("/api/chirps")
        .bearer_auth(&jesse.token)
        .json(&json!({"body": "yo @heisenberg, science!", "reply_to": root["id"]}))
        .send()
        .await
        .unwrap();
    let answer = json_body(resp, StatusCode::CREATED).await;
    like(&app, jesse, &root, true).await;
    let list = notifications(&app, walt, "").await;
    assert_eq!(kinds(&list), ["like", "mention", "reply", "follow"], "newest first");
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|n| n["actor_id"] == jesse.user_id.to_string())
    );
    assert_eq!(list[1]["chirp_id"], answer["id"], "the mentioning chirp");
    assert_eq!(list[3]["chirp_id"], Value::Null);
    assert_eq!(
        notifications(&app, jesse, "").await,
        json!([]),
        "one's own actions tell oneself nothing"
    );
    assert_eq!(
        kinds(&notifications(&app, walt, "?types[]=follow&types[]=like").await),
        ["like", "follow"]
    );
    let resp = app
        .get("/api/notifications?types[]=nonsense")
        .bearer_auth(&walt.token)
        .send()
        .await
        .unwrap();
    error_message(resp, StatusCode::BAD_REQUEST).await;

    // Read on one device, the count is read on all; a marker never moves back.
    assert_eq!(unread(&app, walt).await, 4);
    let newest = list[0]["id"].as_str().unwrap().to_owned();
    let second = list[1]["id"].as_str().unwrap().to_owned();
    for (last_read, expected) in [(second.as_str(), 1), (newest.as_str(), 0), (second.as_str(), 0)] {
        let resp = app
            .put("/api/markers/notifications")
            .bearer_auth(&walt.token)
            .json(&json!({"last_read_id": last_read}))
            .send()
            .await
            .unwrap();
        json_body(resp, StatusCode::OK).await;
        assert_eq!(unread(&app, walt).await, expected, "after marking {last_read}");
    }
    let marker = app
        .get("/api/markers/notifications")
        .bearer_auth(&walt.token)
        .send()
        .await
        .unwrap();
    assert_eq!(json_body(marker, StatusCode::OK).await["last_read_id"], newest.as_str());

    // Undone, they go.
    like(&app, jesse, &root, false).await;
    app.delete(&format!("/api/chirps/{}", answer["id"].as_str().unwrap()))
        .bearer_auth(&jesse.token)
        .send()
        .await
        .unwrap();
    assert_eq!(app.follow(jesse, walt.user_id, false).await, StatusCode::NO_CONTENT);
    assert_eq!(notifications(&app, walt, "").await, json!([]));
}

/// 60 people like one chirp, in groups of whatever arrives together: one notification,
/// counting them all, unread again after each new like.
#[tokio::test]
async fn a_burst_of_likes_is_one_notification() {
    let app = spawn_app().await;
    let users = app.quick_users(61).await;
    let (author, fans) = (&users[0], &users[1..]);
    let chirp = app.chirp(author, "liked by many").await;
    futures_util::future::join_all(fans.iter().map(|fan| like(&app, fan, &chirp, true))).await;
    let list = notifications(&app, author, "").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(
        (&list[0]["type"], &list[0]["actors_count"]),
        (&json!("like"), &json!(60))
    );
    let rows: i64 = sqlx::query_scalar("select count(*) from notifications")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(rows, 1, "one row, not 60");
    let read = list[0]["id"].as_str().unwrap().to_owned();
    app.put("/api/markers/notifications")
        .bearer_auth(&author.token)
        .json(&json!({"last_read_id": read}))
        .send()
        .await
        .unwrap();
    assert_eq!(unread(&app, author).await, 0);
    like(&app, &fans[0], &chirp, false).await;
    like(&app, &fans[0], &chirp, true).await;
    assert_eq!(unread(&app, author).await, 1, "a new like: unread again, on top");
    assert_eq!(notifications(&app, author, "").await[0]["actors_count"], 60);
}

#[tokio::test]
async fn blocked_and_muted_accounts_never_notify() {
    let app = spawn_app().await;
    let users = app.quick_users(3).await;
    let (me, blocked, muted) = (&users[0], &users[1], &users[2]);
    let mine = app.chirp(me, "mine").await;
    for (user, what) in [(blocked, "block"), (muted, "mute")] {
        let resp = app
            .put(&format!("/api/users/{}/{what}", user.user_id))
            .bearer_auth(&me.token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    }
    assert_eq!(app.follow(muted, me.user_id, true).await, StatusCode::NO_CONTENT);
    like(&app, muted, &mine, true).await;
    assert_eq!(app.follow(blocked, me.user_id, true).await, StatusCode::FORBIDDEN);
    assert_eq!(notifications(&app, me, "").await, json!([]));
    assert_eq!(unread(&app, me).await, 0);
}

#[tokio::test]
async fn notifications_arrive_on_the_live_home_feed() {
    let _turn = FEED_TURN.lock().await;
    let app = spawn_feed_app(|_| {}).await;
    let users = app.quick_users(2).await;
    let (me, fan) = (&users[0], &users[1]);
    let mut feed = Reader::home(&app, &me.token, None).await;
    assert_eq!(app.follow(fan, me.user_id, true).await, StatusCode::NO_CONTENT);
    let event = feed.next(Duration::from_secs(3)).await.expect("a notification");
    assert_eq!(event.kind, "notification");
    assert_eq!(
        (&event.data["type"], &event.data["actor_id"]),
        (&json!("follow"), &json!(fan.user_id))
    );
    let listed = notifications(&app, me, "").await;
    assert_eq!(event.data["id"], listed[0]["id"]);
    error_message(
        app.get("/api/notifications").send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
}
