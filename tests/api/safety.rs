//! Blocks and mutes: what a block forbids, what it hides from every read path (in SQL, so
//! pages stay full), across two instances; and what a mute hides, from the muter only.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Session, TestApp, error_message, header, json_body, spawn_app, spawn_app_on};

async fn shield(app: &TestApp, by: &Session, of: Uuid, what: &str, on: bool) -> StatusCode {
    let path = format!("/api/users/{of}/{what}");
    let request = if on { app.put(&path) } else { app.delete(&path) };
    request.bearer_auth(&by.token).send().await.unwrap().status()
}

async fn reply(app: &TestApp, session: &Session, parent: &Value, body: &str) -> reqwest::Response {
    app.post("/api/chirps")
        .bearer_auth(&session.token)
        .json(&json!({"body": body, "reply_to": parent["id"]}))
        .send()
        .await
        .unwrap()
}

async fn set_handle(app: &TestApp, session: &Session, handle: &str) {
    let resp = app
        .client
        .patch(app.url("/api/users/me"))
        .bearer_auth(&session.token)
        .json(&json!({"handle": handle}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

async fn as_viewer(app: &TestApp, viewer: &Session, path: &str) -> (Value, String) {
    let resp = app.get(path).bearer_auth(&viewer.token).send().await.unwrap();
    let link = header(&resp, "link");
    (json_body(resp, StatusCode::OK).await, link)
}

fn ids(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| item[field].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_block_ends_follows_and_forbids_following_replying_and_liking_both_ways() {
    let app = spawn_app().await;
    let users = app.quick_users(2).await;
    let (me, pest) = (&users[0], &users[1]);
    assert_eq!(app.follow(me, pest.user_id, true).await, StatusCode::NO_CONTENT);
    assert_eq!(app.follow(pest, me.user_id, true).await, StatusCode::NO_CONTENT);
    let mine = app.chirp(me, "mine").await;
    let theirs = app.chirp(pest, "theirs").await;

    assert_eq!(
        shield(&app, me, pest.user_id, "block", true).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        shield(&app, me, pest.user_id, "block", true).await,
        StatusCode::NO_CONTENT,
        "again"
    );
    assert_eq!(app.count("follows").await, 0, "both follows ended");
    for (who, other, chirp) in [(pest, me, &mine), (me, pest, &theirs)] {
        assert_eq!(app.follow(who, other.user_id, true).await, StatusCode::FORBIDDEN);
        error_message(reply(&app, who, chirp, "hi").await, StatusCode::FORBIDDEN).await;
        let like = app
            .put(&format!("/api/chirps/{}/like", chirp["id"].as_str().unwrap()))
            .bearer_auth(&who.token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_message(like, StatusCode::FORBIDDEN).await,
            "You cannot do this: one of you blocks the other"
        );
    }
    let resp = app
        .put(&format!("/api/users/{}/block", me.user_id))
        .bearer_auth(&me.token)
        .send()
        .await
        .unwrap();
    error_message(resp, StatusCode::BAD_REQUEST).await;
    assert_eq!(
        shield(&app, me, Uuid::new_v4(), "block", true).await,
        StatusCode::NOT_FOUND
    );

    let (blocks, _) = as_viewer(&app, me, "/api/users/me/blocks").await;
    assert_eq!(ids(&blocks, "user_id"), [pest.user_id.to_string()]);
    assert_eq!(
        shield(&app, me, pest.user_id, "block", false).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.follow(pest, me.user_id, true).await,
        StatusCode::NO_CONTENT,
        "unblocked"
    );
}

/// Each read path leaves a blocked user out for the blocker, on the other instance, with
/// full pages: a page of one is the next user who is not blocked, not an empty page.
#[tokio::test]
async fn blocked_users_vanish_from_every_read_path_on_every_instance() {
    let first = spawn_app().await;
    let second = spawn_app_on(first.database_options(), |_| {}).await;
    let users = first.quick_users(4).await;
    let (me, blocked, friend, other) = (&users[0], &users[1], &users[2], &users[3]);
    set_handle(&first, blocked, "zed_blocked").await;
    set_handle(&first, other, "zed_other").await;
    let root = first.chirp(friend, "zebra root").await;
    let root_id = root["id"].as_str().unwrap().to_owned();
    json_body(
        reply(&first, other, &root, "zebra from other").await,
        StatusCode::CREATED,
    )
    .await;
    json_body(
        reply(&first, blocked, &root, "zebra from blocked").await,
        StatusCode::CREATED,
    )
    .await;
    for user in [other, blocked] {
        let like = first
            .put(&format!("/api/chirps/{root_id}/like"))
            .bearer_auth(&user.token)
            .send()
            .await
            .unwrap();
        assert_eq!(like.status(), StatusCode::NO_CONTENT);
        assert_eq!(first.follow(user, friend.user_id, true).await, StatusCode::NO_CONTENT);
    }
    assert_eq!(first.follow(me, friend.user_id, true).await, StatusCode::NO_CONTENT);

    // Before the block, I see the blocked user everywhere (the control).
    let (likers, _) = as_viewer(&second, me, &format!("/api/chirps/{root_id}/likes?limit=1")).await;
    assert_eq!(
        ids(&likers, "id"),
        [blocked.user_id.to_string()],
        "the newest liker, for now"
    );

    assert_eq!(
        shield(&first, me, blocked.user_id, "block", true).await,
        StatusCode::NO_CONTENT
    );
    let (likers, link) = as_viewer(&second, me, &format!("/api/chirps/{root_id}/likes?limit=1")).await;
    assert_eq!(
        ids(&likers, "id"),
        [other.user_id.to_string()],
        "a full page without them"
    );
    assert!(link.is_empty());
    let (followers, _) = as_viewer(&second, me, &format!("/api/users/{}/followers?limit=1", friend.user_id)).await;
    assert_eq!(ids(&followers, "id").len(), 1);
    assert_ne!(ids(&followers, "id"), [blocked.user_id.to_string()]);
    let (followers, _) = as_viewer(&second, me, &format!("/api/users/{}/followers", friend.user_id)).await;
    assert!(!ids(&followers, "id").contains(&blocked.user_id.to_string()));
    assert_eq!(ids(&followers, "id").len(), 2, "me and the other");
    let (thread, _) = as_viewer(&second, me, &format!("/api/chirps/{root_id}/thread?limit=1")).await;
    assert_eq!(thread["replies"][0]["body"], "zebra from other");
    let (found, _) = as_viewer(&second, me, "/api/search/chirps?q=zebra").await;
    let bodies: Vec<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert!(!bodies.contains(&"zebra from blocked"), "{bodies:?}");
    assert_eq!(bodies.len(), 2);
    let (people, _) = as_viewer(&second, me, "/api/search/users?q=zed").await;
    assert_eq!(ids(&people, "handle"), ["zed_other"]);
    // The blocked user sees none of mine either.
    let mine = first.chirp(me, "zebra mine").await;
    let (found, _) = as_viewer(&second, blocked, "/api/search/chirps?q=zebra").await;
    assert!(!found.as_array().unwrap().iter().any(|c| c["id"] == mine["id"]));
    let thread = second
        .get(&format!("/api/chirps/{}/thread", mine["id"].as_str().unwrap()))
        .bearer_auth(&blocked.token)
        .send()
        .await
        .unwrap();
    error_message(thread, StatusCode::NOT_FOUND).await;
    // Anonymous readers are no one's blocker: they see everyone.
    let (likers, _) = (
        json_body(
            second
                .get(&format!("/api/chirps/{root_id}/likes"))
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await,
        (),
    );
    assert_eq!(likers.as_array().unwrap().len(), 2);
}

/// A mute hides the muted from the muter's home timeline only; the muted sees no change.
#[tokio::test]
async fn a_mute_hides_the_muted_from_my_home_and_they_cannot_tell() {
    let app = spawn_app().await;
    let users = app.quick_users(2).await;
    let (me, loud) = (&users[0], &users[1]);
    assert_eq!(app.follow(me, loud.user_id, true).await, StatusCode::NO_CONTENT);
    assert_eq!(app.follow(loud, me.user_id, true).await, StatusCode::NO_CONTENT);
    let theirs = app.chirp(loud, "so loud").await;
    let mine = app.chirp(me, "quiet").await;
    assert_eq!(app.home(me, 20).await, vec![mine.clone(), theirs.clone()]);
    assert_eq!(
        shield(&app, me, loud.user_id, "mute", true).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.home(me, 20).await, vec![mine.clone()], "muted: gone from my home");
    assert_eq!(
        app.home(loud, 20).await,
        vec![mine.clone(), theirs.clone()],
        "their view is unchanged"
    );
    let profile = app
        .get(&format!("/api/users/{}", loud.user_id))
        .bearer_auth(&me.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_body(profile, StatusCode::OK).await["followed_by_me"],
        true,
        "still followed"
    );
    let (mutes, _) = as_viewer(&app, me, "/api/users/me/mutes").await;
    assert_eq!(ids(&mutes, "user_id"), [loud.user_id.to_string()]);
    assert_eq!(
        shield(&app, me, loud.user_id, "mute", false).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.home(me, 20).await, vec![mine, theirs]);
}
