//! Replies and threads: `reply_to` on `POST /api/chirps`, `reply_count`, and
//! `GET /api/chirps/{chirpID}/thread`.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Session, TestApp, error_message, header, json_body, spawn_app};

async fn reply(app: &TestApp, session: &Session, parent: &Value, body: &str) -> Value {
    let resp = app
        .post("/api/chirps")
        .bearer_auth(&session.token)
        .json(&json!({"body": body, "reply_to": parent["id"]}))
        .send()
        .await
        .unwrap();
    json_body(resp, StatusCode::CREATED).await
}

async fn chirp_by_id(app: &TestApp, id: &Value) -> Value {
    let resp = app
        .get(&format!("/api/chirps/{}", id.as_str().unwrap()))
        .send()
        .await
        .unwrap();
    json_body(resp, StatusCode::OK).await
}

async fn thread(app: &TestApp, id: &Value, query: &str) -> (Value, String) {
    let resp = app
        .get(&format!("/api/chirps/{}/thread{query}", id.as_str().unwrap()))
        .send()
        .await
        .unwrap();
    let link = header(&resp, "link");
    (json_body(resp, StatusCode::OK).await, link)
}

#[tokio::test]
async fn a_reply_names_its_parent_and_counts_on_it() {
    let app = spawn_app().await;
    let users = app.quick_users(2).await;
    let (walt, jesse) = (&users[0], &users[1]);
    let root = app.chirp(walt, "say my name").await;
    assert_eq!(
        (&root["reply_to"], &root["like_count"], &root["reply_count"]),
        (&Value::Null, &json!(0), &json!(0))
    );
    // Read once, so the cache holds the chirp before its count changes.
    assert_eq!(chirp_by_id(&app, &root["id"]).await["reply_count"], 0);
    let answer = reply(&app, jesse, &root, "Heisenberg").await;
    assert_eq!(answer["reply_to"], root["id"]);
    assert_eq!(
        chirp_by_id(&app, &root["id"]).await["reply_count"],
        1,
        "the cached chirp shows the new count"
    );
    let listed = json_body(
        app.get("/api/chirps?sort=desc&limit=5").send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed[1]["reply_count"], 1, "and so does the cached page");

    let resp = app
        .post("/api/chirps")
        .bearer_auth(&jesse.token)
        .json(&json!({"body": "to nothing", "reply_to": Uuid::new_v4()}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_message(resp, StatusCode::NOT_FOUND).await,
        "The chirp to reply to was not found"
    );
    let resp = app
        .post("/api/chirps")
        .bearer_auth(&jesse.token)
        .json(&json!({"body": "x", "reply_to": "not-a-uuid"}))
        .send()
        .await
        .unwrap();
    error_message(resp, StatusCode::BAD_REQUEST).await;

    // The parent goes; the reply stays, still naming it.
    let gone = app
        .delete(&format!("/api/chirps/{}", root["id"].as_str().unwrap()))
        .bearer_auth(&walt.token)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    assert_eq!(chirp_by_id(&app, &answer["id"]).await["reply_to"], root["id"]);
    let (thread, _) = thread(&app, &answer["id"], "").await;
    assert_eq!(thread["ancestors"], json!([]), "a deleted link ends the chain");

    // Deleting a reply counts it out again.
    let parent = app.chirp(walt, "again").await;
    let second = reply(&app, jesse, &parent, "one").await;
    assert_eq!(chirp_by_id(&app, &parent["id"]).await["reply_count"], 1);
    app.delete(&format!("/api/chirps/{}", second["id"].as_str().unwrap()))
        .bearer_auth(&jesse.token)
        .send()
        .await
        .unwrap();
    assert_eq!(chirp_by_id(&app, &parent["id"]).await["reply_count"], 0);
}

#[tokio::test]
async fn a_thread_holds_the_chain_up_and_the_replies_down() {
    let app = spawn_app().await;
    let me = app.quick_users(1).await.remove(0);
    let root = app.chirp(&me, "root").await;
    let middle = reply(&app, &me, &root, "middle").await;
    let leaf = reply(&app, &me, &middle, "leaf").await;
    let mut replies = Vec::new();
    for n in 0..5 {
        replies.push(reply(&app, &me, &leaf, &format!("reply {n}")).await["id"].clone());
    }
    let (page, link) = thread(&app, &leaf["id"], "?limit=2").await;
    let ids = |chirps: &Value| {
        chirps
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(&page["ancestors"]),
        vec![root["id"].clone(), middle["id"].clone()],
        "oldest first"
    );
    assert_eq!(page["more_ancestors"], false);
    assert_eq!(page["chirp"]["id"], leaf["id"]);
    assert_eq!(page["chirp"]["reply_count"], 5);
    let mut seen = ids(&page["replies"]);
    let mut link = link;
    while !link.is_empty() {
        let next = link.trim_start_matches('<').split_once('>').unwrap().0.to_owned();
        let resp = app.get(&next).send().await.unwrap();
        link = header(&resp, "link");
        seen.extend(ids(&json_body(resp, StatusCode::OK).await["replies"]));
    }
    assert_eq!(seen, replies, "every reply, oldest first, across pages");

    let resp = app
        .get(&format!("/api/chirps/{}/thread", Uuid::new_v4()))
        .send()
        .await
        .unwrap();
    error_message(resp, StatusCode::NOT_FOUND).await;
    let resp = app.get("/api/chirps/nope/thread").send().await.unwrap();
    error_message(resp, StatusCode::BAD_REQUEST).await;
}

/// A chain 10,000 deep (made with SQL): its leaf's thread answers with the 50 nearest
/// ancestors and says more exist, without reading the rest.
#[tokio::test]
async fn a_chain_ten_thousand_deep_returns_a_bounded_thread() {
    let app = spawn_app().await;
    let me = app.quick_users(1).await.remove(0);
    let leaf: Uuid = sqlx::query_scalar(
        "with recursive made (n, id, parent) as (
             select 1, gen_random_uuid(), null::uuid
             union all
             select n + 1, gen_random_uuid(), id from made where n < 10000
         ),
         inserted as (
             insert into chirps (id, body, user_id, reply_to, created_at, updated_at)
             select id, 'link ' || n, $1, parent, now() + n * interval '1 millisecond', now() from made
             returning id, body
         )
         select id from inserted where body = 'link 10000'",
    )
    .bind(me.user_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let started = std::time::Instant::now();
    let (page, _) = thread(&app, &json!(leaf), "").await;
    eprintln!("the thread of a chain 10,000 deep took {:?}", started.elapsed());
    let ancestors = page["ancestors"].as_array().unwrap();
    assert_eq!(ancestors.len(), 50);
    assert_eq!(page["more_ancestors"], true);
    assert_eq!(ancestors[0]["body"], "link 9950", "the nearest 50, oldest first");
    assert_eq!(ancestors[49]["body"], "link 9999");
}
