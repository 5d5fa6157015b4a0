//! Following: `PUT`/`DELETE /api/users/{user_id}/follow`, the lists of followers and
//! followees, and counts that stay exact under any interleaving.

use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{Session, TestApp, error_message, header, json_body, spawn_app};

/// The ids on a page of `path`, and its `Link`.
async fn list(app: &TestApp, path: &str, token: Option<&str>) -> (Vec<Value>, String) {
    let mut request = app.get(path);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let resp = request.send().await.unwrap();
    let link = header(&resp, "link");
    let page = json_body(resp, StatusCode::OK).await;
    (page.as_array().unwrap().clone(), link)
}

fn ids(profiles: &[Value]) -> Vec<Uuid> {
    profiles
        .iter()
        .map(|p| p["id"].as_str().unwrap().parse().unwrap())
        .collect()
}

#[tokio::test]
async fn follow_and_unfollow_are_idempotent_and_refuse_nobody_and_yourself() {
    let app = spawn_app().await;
    let users = app.quick_users(2).await;
    let (walt, jesse) = (&users[0], &users[1]);
    assert_eq!(app.follow(jesse, walt.user_id, true).await, StatusCode::NO_CONTENT);
    assert_eq!(
        app.follow(jesse, walt.user_id, true).await,
        StatusCode::NO_CONTENT,
        "again"
    );
    assert_eq!(app.count("follows").await, 1);

    let resp = app
        .put(&format!("/api/users/{}/follow", jesse.user_id))
        .bearer_auth(&jesse.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_message(resp, StatusCode::BAD_REQUEST).await,
        "You cannot follow yourself"
    );
    for follow in [true, false] {
        assert_eq!(app.follow(jesse, Uuid::new_v4(), follow).await, StatusCode::NOT_FOUND);
    }
    let resp = app
        .put("/api/users/not-a-uuid/follow")
        .bearer_auth(&jesse.token)
        .send()
        .await
        .unwrap();
    error_message(resp, StatusCode::BAD_REQUEST).await;
    let resp = app
        .put(&format!("/api/users/{}/follow", walt.user_id))
        .send()
        .await
        .unwrap();
    error_message(resp, StatusCode::UNAUTHORIZED).await;

    assert_eq!(app.follow(jesse, walt.user_id, false).await, StatusCode::NO_CONTENT);
    assert_eq!(
        app.follow(jesse, walt.user_id, false).await,
        StatusCode::NO_CONTENT,
        "not following"
    );
    assert_eq!(app.count("follows").await, 0);
}

#[tokio::test]
async fn both_lists_page_newest_follow_first() {
    let app = spawn_app().await;
    let users = app.quick_users(8).await;
    let (star, fans) = (&users[0], &users[1..]);
    for fan in fans {
        assert_eq!(app.follow(fan, star.user_id, true).await, StatusCode::NO_CONTENT);
    }
    assert_eq!(app.follow(star, fans[0].user_id, true).await, StatusCode::NO_CONTENT);

    let path = format!("/api/users/{}/followers?limit=3", star.user_id);
    let (mut page, mut link) = list(&app, &path, None).await;
    let mut seen = ids(&page);
    while !link.is_empty() {
        assert_eq!(page.len(), 3);
        let next = link.trim_start_matches('<').split_once('>').unwrap().0.to_owned();
        assert!(link.ends_with("rel=\"next\""), "{link}");
        (page, link) = list(&app, &next, None).await;
        seen.extend(ids(&page));
    }
    let newest_first: Vec<Uuid> = fans.iter().rev().map(|fan| fan.user_id).collect();
    assert_eq!(seen, newest_first);

    let (all, link) = list(
        &app,
        &format!("/api/users/{}/followers", star.user_id),
        Some(&fans[0].token),
    )
    .await;
    assert!(link.is_empty(), "20 by default: all seven fit");
    assert_eq!(all.len(), 7);
    assert!(all.iter().all(|p| p.get("email").is_none()));
    let followed_back: Vec<bool> = all.iter().map(|p| p["followed_by_me"].as_bool().unwrap()).collect();
    assert_eq!(followed_back, vec![false; 7], "fans[0] follows none of them");
    let (following, _) = list(&app, &format!("/api/users/{}/following", star.user_id), None).await;
    assert_eq!(ids(&following), vec![fans[0].user_id]);
    assert_eq!(following[0]["followers_count"], 1);

    for bad in ["?limit=0", "?limit=101", "?cursor=xyz", "?limit=x"] {
        let resp = app
            .get(&format!("/api/users/{}/followers{bad}", star.user_id))
            .send()
            .await
            .unwrap();
        error_message(resp, StatusCode::BAD_REQUEST).await;
    }
    let resp = app
        .get(&format!("/api/users/{}/following", Uuid::new_v4()))
        .send()
        .await
        .unwrap();
    assert_eq!(error_message(resp, StatusCode::NOT_FOUND).await, "User not found");
}

/// What the profile says of `user`, and what `count(*)` says.
async fn counts(app: &TestApp, user: &Session) -> ([i64; 3], [i64; 3]) {
    let profile = json_body(
        app.get(&format!("/api/users/{}", user.user_id)).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    let said = ["followers_count", "following_count", "chirps_count"].map(|field| profile[field].as_i64().unwrap());
    let counted: (i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from follows where followee_id = $1),
                (select count(*) from follows where follower_id = $1),
                (select count(*) from chirps where user_id = $1)",
    )
    .bind(user.user_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    (said, [counted.0, counted.1, counted.2])
}

/// Follows, unfollows, posts, deletions and whole accounts going, all at once, many times
/// over on a few users: every count equals `count(*)` afterwards.
#[tokio::test]
async fn counts_stay_exact_under_a_storm_of_everything_at_once() {
    let app = spawn_app().await;
    let users = app.quick_users(12).await;
    let (kept, doomed) = users.split_at(8);
    let mut work = Vec::new();
    for round in 0..6 {
        for (i, user) in users.iter().enumerate() {
            let (app, user) = (&app, user);
            let others: Vec<Uuid> = users
                .iter()
                .map(|u| u.user_id)
                .filter(|id| *id != user.user_id)
                .collect();
            work.push(async move {
                for (j, other) in others.iter().enumerate() {
                    // Everyone follows everyone, some unfollow again, in differing orders.
                    let follow = (i + j + round) % 3 != 0;
                    app.follow(user, *other, follow).await;
                }
                let resp = app
                    .post("/api/chirps")
                    .bearer_auth(&user.token)
                    .json(&serde_json::json!({"body": format!("round {round}")}))
                    .send()
                    .await
                    .unwrap();
                if resp.status() == StatusCode::CREATED && (i + round) % 2 == 0 {
                    let chirp: Value = resp.json().await.unwrap();
                    let id = chirp["id"].as_str().unwrap();
                    app.delete(&format!("/api/chirps/{id}"))
                        .bearer_auth(&user.token)
                        .send()
                        .await
                        .unwrap();
                }
            });
        }
    }
    let deletions = async {
        for doomed in doomed {
            tokio::time::sleep(std::time::Duration::from_millis(40)).await;
            sqlx::query("delete from users where id = $1")
                .bind(doomed.user_id)
                .execute(&app.db)
                .await
                .unwrap();
        }
    };
    tokio::join!(futures_util::future::join_all(work), deletions);
    for user in kept {
        let (said, counted) = counts(&app, user).await;
        assert_eq!(said, counted, "followers, following, chirps of {}", user.user_id);
    }
    let stored: i64 = sqlx::query_scalar("select (sum(followers_count) - sum(following_count))::bigint from users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, 0, "every follow counted at both ends");
    assert!(app.count("follows").await > 0, "the storm left follows behind to count");
}
