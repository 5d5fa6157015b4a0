//! Likes: `PUT`/`DELETE /api/chirps/{chirpID}/like`, `like_count` exact under a storm and
//! never stale after one's own like (cached or not, on any instance), and the list of likers.

use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{Session, TestApp, error_message, header, json_body, spawn_app, spawn_app_on, spawn_app_with};

async fn like(app: &TestApp, session: &Session, chirp: &str, liked: bool) -> StatusCode {
    let path = format!("/api/chirps/{chirp}/like");
    let request = if liked { app.put(&path) } else { app.delete(&path) };
    request.bearer_auth(&session.token).send().await.unwrap().status()
}

async fn read(app: &TestApp, chirp: &str) -> (Value, String) {
    let resp = app.get(&format!("/api/chirps/{chirp}")).send().await.unwrap();
    let etag = header(&resp, "etag");
    (json_body(resp, StatusCode::OK).await, etag)
}

#[tokio::test]
async fn likes_are_idempotent_and_counted_at_once_where_they_are_cached() {
    let app = spawn_app().await;
    let users = app.quick_users(3).await;
    let chirp = app.chirp(&users[0], "like me").await;
    let id = chirp["id"].as_str().unwrap();
    let (before, etag) = read(&app, id).await;
    let page = |app: &TestApp| {
        let request = app.get("/api/chirps?sort=desc&limit=10");
        async move { json_body(request.send().await.unwrap(), StatusCode::OK).await }
    };
    assert_eq!(page(&app).await[0]["like_count"], 0);
    for _ in 0..2 {
        assert_eq!(like(&app, &users[1], id, true).await, StatusCode::NO_CONTENT);
    }
    let (after, new_etag) = read(&app, id).await;
    assert_eq!(
        (before["like_count"].clone(), after["like_count"].clone()),
        (0.into(), 1.into())
    );
    assert_ne!(etag, new_etag, "a new count, a new tag");
    let revalidated = app
        .get(&format!("/api/chirps/{id}"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), StatusCode::OK, "the old tag is stale");
    assert_eq!(page(&app).await[0]["like_count"], 1, "the cached page too");
    assert_eq!(like(&app, &users[2], id, true).await, StatusCode::NO_CONTENT);
    assert_eq!(like(&app, &users[1], id, false).await, StatusCode::NO_CONTENT);
    assert_eq!(
        like(&app, &users[1], id, false).await,
        StatusCode::NO_CONTENT,
        "unliked twice"
    );
    assert_eq!(read(&app, id).await.0["like_count"], 1);

    let nobody = Uuid::new_v4().to_string();
    for liked in [true, false] {
        assert_eq!(like(&app, &users[1], &nobody, liked).await, StatusCode::NOT_FOUND);
    }
    let resp = app.put(&format!("/api/chirps/{id}/like")).send().await.unwrap();
    error_message(resp, StatusCode::UNAUTHORIZED).await;

    let resp = app.get(&format!("/api/chirps/{id}/likes")).send().await.unwrap();
    let likers = json_body(resp, StatusCode::OK).await;
    assert_eq!(likers.as_array().unwrap().len(), 1);
    assert_eq!(likers[0]["id"], users[2].user_id.to_string());
    let resp = app.get(&format!("/api/chirps/{nobody}/likes")).send().await.unwrap();
    error_message(resp, StatusCode::NOT_FOUND).await;
}

/// 1,000 users like one chirp at once, then a storm of like/unlike pairs: the count is
/// exactly the likes table's, through the API on two instances (one with its cache warm).
#[tokio::test]
async fn a_storm_of_likes_on_one_chirp_counts_exactly() {
    let first = spawn_app().await;
    let second = spawn_app_on(first.database_options(), |_| {}).await;
    let users = first.quick_users(1000).await;
    let chirp = first.chirp(&users[0], "hot").await;
    let id = chirp["id"].as_str().unwrap().to_owned();
    read(&second, &id).await;
    let likes = users.iter().enumerate().map(|(n, user)| {
        let app = if n % 2 == 0 { &first } else { &second };
        like(app, user, &id, true)
    });
    let statuses = futures_util::future::join_all(likes).await;
    assert!(statuses.iter().all(|status| *status == StatusCode::NO_CONTENT));
    for app in [&first, &second] {
        assert_eq!(read(app, &id).await.0["like_count"], 1000);
    }

    // Pairs of unlike-then-like by half the users, and unlikes by a tenth, all at once.
    let storm = users.iter().enumerate().map(|(n, user)| {
        let (app, id) = (if n % 3 == 0 { &first } else { &second }, id.clone());
        async move {
            if n % 2 == 0 {
                like(app, user, &id, false).await;
                like(app, user, &id, true).await;
            }
            if n % 10 == 1 {
                like(app, user, &id, false).await;
            }
        }
    });
    futures_util::future::join_all(storm).await;
    let stored: i64 = sqlx::query_scalar("select count(*) from likes")
        .fetch_one(&first.db)
        .await
        .unwrap();
    assert_eq!(stored, 900);
    for app in [&first, &second] {
        assert_eq!(read(app, &id).await.0["like_count"], 900);
    }
    let likes = first
        .state
        .store
        .batches()
        .into_iter()
        .find(|(work, _)| *work == "like")
        .unwrap()
        .1;
    let (batches, requests) = (
        likes.batches.load(std::sync::atomic::Ordering::Relaxed),
        likes.requests.load(std::sync::atomic::Ordering::Relaxed),
    );
    eprintln!("{requests} likes on the first instance in {batches} groups");
    assert!(batches < requests, "likes were grouped");
}

/// The liker reads, with their token, through an instance whose cache holds the chirp and
/// its page and which never heard of the like (made here behind its back, as a like whose
/// announcement has not arrived yet): the count is theirs all the same. Without the token,
/// the cached count shows until the announcement (here: none) or its age says otherwise.
#[tokio::test]
async fn my_like_shows_at_once_even_where_it_is_not_heard_of_yet() {
    let app = spawn_app_with(|_| {}).await;
    let users = app.quick_users(2).await;
    let chirp = app.chirp(&users[0], "x").await;
    let id = chirp["id"].as_str().unwrap().to_owned();
    let page = "/api/chirps?sort=desc&limit=5";
    for _ in 0..2 {
        read(&app, &id).await;
        json_body(app.get(page).send().await.unwrap(), StatusCode::OK).await;
    }
    sqlx::query("insert into likes (chirp_id, user_id) values ($1::uuid, $2)")
        .bind(&id)
        .bind(users[1].user_id)
        .execute(&app.db)
        .await
        .unwrap();
    let unheard = if app.state.cache.enabled() { 0 } else { 1 };
    assert_eq!(
        read(&app, &id).await.0["like_count"],
        unheard,
        "unheard: the cached count, if any"
    );
    let as_liker = |path: &str| {
        let request = app.get(path).bearer_auth(&users[1].token);
        async move { json_body(request.send().await.unwrap(), StatusCode::OK).await }
    };
    assert_eq!(as_liker(page).await[0]["like_count"], 1, "the liker's page");
    assert_eq!(
        as_liker(&format!("/api/chirps/{id}")).await["like_count"],
        1,
        "the liker's chirp"
    );
    assert_eq!(read(&app, &id).await.0["like_count"], 1, "and the fresh count is kept");
}
