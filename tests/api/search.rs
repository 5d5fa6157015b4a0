//! Search: `GET /api/search/chirps` and `GET /api/search/users`, hostile queries included.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_message, header, json_body, spawn_app};

/// `text` as a URL query value.
fn encoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn search(app: &TestApp, path: &str, q: &str) -> reqwest::Response {
    app.get(&format!("{path}?q={}", encoded(q))).send().await.unwrap()
}

fn bodies(found: &Value) -> Vec<&str> {
    found
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn chirps_are_found_by_every_word_newest_first() {
    let app = spawn_app().await;
    let me = app.quick_users(1).await.remove(0);
    for body in [
        "Rust is fast",
        "rust and coffee",
        "Coffee, then RUST!",
        "tea only",
        "what a kerfuffle",
    ] {
        app.chirp(&me, body).await;
    }
    let found = json_body(search(&app, "/api/search/chirps", "rust").await, StatusCode::OK).await;
    assert_eq!(
        bodies(&found),
        ["Coffee, then RUST!", "rust and coffee", "Rust is fast"]
    );
    let found = json_body(search(&app, "/api/search/chirps", "COFFEE rust").await, StatusCode::OK).await;
    assert_eq!(bodies(&found), ["Coffee, then RUST!", "rust and coffee"], "every word");
    let found = json_body(search(&app, "/api/search/chirps", "kerfuffle").await, StatusCode::OK).await;
    assert_eq!(found, json!([]), "profanity is stored masked: not found");

    let resp = app.get("/api/search/chirps?q=rust&limit=1").send().await.unwrap();
    let link = header(&resp, "link");
    assert_eq!(bodies(&json_body(resp, StatusCode::OK).await), ["Coffee, then RUST!"]);
    let next = link.trim_start_matches('<').split_once('>').unwrap().0.to_owned();
    let page = json_body(app.get(&next).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(bodies(&page), ["rust and coffee"], "the next page of the same search");
}

#[tokio::test]
async fn hostile_queries_get_an_answer_never_a_5xx() {
    let app = spawn_app().await;
    let me = app.quick_users(1).await.remove(0);
    app.chirp(&me, "a & b | c").await;
    for q in [
        "&",
        "|",
        "!",
        "a:*",
        "(a",
        "a)",
        "'",
        "\"",
        "a & !b",
        "!!!",
        ":*",
        "\\",
        "a <-> b",
        "🐦",
        "ＲＵＳＴ",
        "null",
        "%",
        "_",
        "drop table chirps;",
        "@",
        &"w ".repeat(100),
    ] {
        for path in ["/api/search/chirps", "/api/search/users"] {
            let resp = search(&app, path, q).await;
            assert_eq!(resp.status(), StatusCode::OK, "{path} {q:?}");
        }
    }
    for q in ["", "   ", "\u{3000}", &"x".repeat(1000), "a\0b"] {
        for path in ["/api/search/chirps", "/api/search/users"] {
            error_message(search(&app, path, q).await, StatusCode::BAD_REQUEST).await;
        }
    }
    let resp = app.get("/api/search/chirps").send().await.unwrap();
    error_message(resp, StatusCode::BAD_REQUEST).await;
    let only_at: Vec<Value> = search(&app, "/api/search/users", "@").await.json().await.unwrap();
    assert!(only_at.is_empty(), "`@` alone finds no one: {only_at:?}");
}

#[tokio::test]
async fn people_are_found_by_the_start_of_their_handle_or_name() {
    let app = spawn_app().await;
    let users = app.quick_users(3).await;
    for (user, handle, name) in [
        (&users[0], "heisenberg", "Walter White"),
        (&users[1], "capn_cook", "Jesse"),
        (&users[2], "saul_g", "Walt's lawyer"),
    ] {
        let resp = app
            .client
            .patch(app.url("/api/users/me"))
            .bearer_auth(&user.token)
            .json(&json!({"handle": handle, "display_name": name}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
    }
    let handles = |found: &Value| -> Vec<String> {
        let mut handles: Vec<String> = found
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["handle"].as_str().unwrap().to_owned())
            .collect();
        handles.sort();
        handles
    };
    let found = json_body(search(&app, "/api/search/users", "WALT").await, StatusCode::OK).await;
    assert_eq!(handles(&found), ["heisenberg", "saul_g"], "by display name, any case");
    let found = json_body(search(&app, "/api/search/users", "@cap").await, StatusCode::OK).await;
    assert_eq!(handles(&found), ["capn_cook"], "by handle, with or without @");
    assert!(found[0].get("email").is_none());
    let found = json_body(search(&app, "/api/search/users", "_").await, StatusCode::OK).await;
    assert_eq!(found, json!([]), "an underscore is a character, not a wildcard");
}
