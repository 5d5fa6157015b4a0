//! Handles and profiles: `POST /api/users` with a handle, `PATCH /api/users/me`, and
//! `GET /api/users/{user}`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, error_message, json_body, spawn_app};

async fn patch_me(app: &TestApp, session: &Session, body: &Value) -> reqwest::Response {
    app.client
        .patch(app.url("/api/users/me"))
        .bearer_auth(&session.token)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn signup_with(app: &TestApp, body: Value) -> reqwest::Response {
    app.post("/api/users").json(&body).send().await.unwrap()
}

#[tokio::test]
async fn a_handle_can_be_taken_at_sign_up_once_in_any_letter_case() {
    let app = spawn_app().await;
    let resp = signup_with(
        &app,
        json!({"email": "walt@example.com", "password": "x", "handle": "Heisenberg"}),
    )
    .await;
    let user = json_body(resp, StatusCode::CREATED).await;
    assert_eq!(user["handle"], "Heisenberg", "kept as typed");

    let resp = signup_with(
        &app,
        json!({"email": "jesse@example.com", "password": "x", "handle": "HEISENBERG"}),
    )
    .await;
    assert_eq!(
        error_message(resp, StatusCode::CONFLICT).await,
        "Handle is already taken"
    );
    assert_eq!(app.count("users").await, 1, "nothing half-made");

    for (handle, message) in [
        ("ab", "Handle must be 3 to 30 letters, digits or underscores"),
        ("walt white", "Handle must be 3 to 30 letters, digits or underscores"),
        ("Admin", "This handle is reserved"),
    ] {
        let resp = signup_with(
            &app,
            json!({"email": "saul@example.com", "password": "x", "handle": handle}),
        )
        .await;
        assert_eq!(error_message(resp, StatusCode::BAD_REQUEST).await, message, "{handle}");
    }
    let resp = signup_with(
        &app,
        json!({"email": "saul@example.com", "password": "x", "handle": null}),
    )
    .await;
    assert_eq!(json_body(resp, StatusCode::CREATED).await["handle"], Value::Null);
}

#[tokio::test]
async fn the_profile_changes_field_by_field_and_updated_at_moves_only_on_a_change() {
    let app = spawn_app().await;
    let walt = app.user().await;
    let resp = patch_me(
        &app,
        &walt,
        &json!({"handle": "walt_w", "display_name": "Walter White"}),
    )
    .await;
    let user = json_body(resp, StatusCode::OK).await;
    assert_eq!(
        (&user["handle"], &user["display_name"], &user["bio"]),
        (&json!("walt_w"), &json!("Walter White"), &json!(""))
    );
    let changed_at = user["updated_at"].clone();

    let resp = patch_me(&app, &walt, &json!({"bio": "Chemistry teacher.\nFornax!"})).await;
    let user = json_body(resp, StatusCode::OK).await;
    assert_eq!(user["bio"], "Chemistry teacher.\n****!", "cleaned as chirps are");
    assert_eq!(user["handle"], "walt_w", "fields left out stay");
    assert_ne!(user["updated_at"], changed_at);

    let same = json_body(
        patch_me(&app, &walt, &json!({"handle": "walt_w"})).await,
        StatusCode::OK,
    )
    .await;
    let nothing = json_body(patch_me(&app, &walt, &json!({})).await, StatusCode::OK).await;
    assert_eq!(
        same["updated_at"], user["updated_at"],
        "the same handle again is no change"
    );
    assert_eq!(nothing, user);

    let recased = json_body(
        patch_me(&app, &walt, &json!({"handle": "Walt_W"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(recased["handle"], "Walt_W", "one's own handle in another case is free");
    let blank = json_body(
        patch_me(&app, &walt, &json!({"display_name": "\u{200b} \u{feff}"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(blank["display_name"], "", "invisible-only text is empty");
    let removed = json_body(patch_me(&app, &walt, &json!({"handle": null})).await, StatusCode::OK).await;
    assert_eq!(removed["handle"], Value::Null);

    let me = json_body(
        app.get("/api/users/me").bearer_auth(&walt.token).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(me, removed, "GET /api/users/me says the same");
}

#[tokio::test]
async fn bad_profile_edits_are_refused_whole() {
    let app = spawn_app().await;
    let (walt, jesse) = (app.user().await, app.user().await);
    json_body(
        patch_me(&app, &jesse, &json!({"handle": "capn_cook"})).await,
        StatusCode::OK,
    )
    .await;

    let taken = patch_me(&app, &walt, &json!({"handle": "CAPN_COOK", "bio": "would be lost"})).await;
    assert_eq!(
        error_message(taken, StatusCode::CONFLICT).await,
        "Handle is already taken"
    );
    for (body, message) in [
        (
            json!({"handle": "me"}),
            "Handle must be 3 to 30 letters, digits or underscores",
        ),
        (json!({"handle": "docs"}), "This handle is reserved"),
        (
            json!({"handle": "x".repeat(31)}),
            "Handle must be 3 to 30 letters, digits or underscores",
        ),
        (
            json!({"display_name": "x".repeat(51)}),
            "Display name is too long (at most 50 characters)",
        ),
        (
            json!({"display_name": "two\nlines"}),
            "Display name cannot contain control characters or line breaks",
        ),
        (
            json!({"bio": "é".repeat(161)}),
            "Bio is too long (at most 160 characters)",
        ),
        (json!({"bio": "nul\u{0}"}), "Bio cannot contain control characters"),
    ] {
        let resp = patch_me(&app, &walt, &body).await;
        assert_eq!(error_message(resp, StatusCode::BAD_REQUEST).await, message, "{body}");
    }
    for malformed in [json!({"handle": 5}), json!({"bio": ["x"]}), json!([])] {
        let resp = patch_me(&app, &walt, &malformed).await;
        error_message(resp, StatusCode::BAD_REQUEST).await;
    }
    let unchanged: (Option<String>, String) = sqlx::query_as("select handle, bio from users where id = $1")
        .bind(walt.user_id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(unchanged, (None, String::new()));
    let anonymous = app
        .client
        .patch(app.url("/api/users/me"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    error_message(anonymous, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn a_profile_is_found_by_id_or_handle_and_never_shows_the_email() {
    let app = spawn_app().await;
    let (walt, jesse) = (app.user().await, app.user().await);
    json_body(
        patch_me(
            &app,
            &walt,
            &json!({"handle": "Heisenberg", "display_name": "W.W.", "bio": "Say my name."}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    app.chirp(&walt, "one").await;
    assert_eq!(app.follow(&jesse, walt.user_id, true).await, StatusCode::NO_CONTENT);

    let by_id = json_body(
        app.get(&format!("/api/users/{}", walt.user_id)).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    let mut keys: Vec<&str> = by_id.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "bio",
            "chirps_count",
            "created_at",
            "display_name",
            "followers_count",
            "following_count",
            "handle",
            "id",
            "is_chirpy_red"
        ],
        "no email, and no followed_by_me without a token"
    );
    assert_eq!(
        (
            &by_id["followers_count"],
            &by_id["following_count"],
            &by_id["chirps_count"]
        ),
        (&json!(1), &json!(0), &json!(1))
    );
    for name in ["heisenberg", "HEISENBERG", "@Heisenberg"] {
        let found = json_body(
            app.get(&format!("/api/users/{name}")).send().await.unwrap(),
            StatusCode::OK,
        )
        .await;
        assert_eq!(found, by_id, "{name}");
    }

    let as_jesse = app
        .get("/api/users/heisenberg")
        .bearer_auth(&jesse.token)
        .send()
        .await
        .unwrap();
    assert_eq!(json_body(as_jesse, StatusCode::OK).await["followed_by_me"], true);
    let as_walt = app
        .get("/api/users/heisenberg")
        .bearer_auth(&walt.token)
        .send()
        .await
        .unwrap();
    assert_eq!(json_body(as_walt, StatusCode::OK).await["followed_by_me"], false);
    let bad_token = app
        .get("/api/users/heisenberg")
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    error_message(bad_token, StatusCode::UNAUTHORIZED).await;

    for nobody in [
        "nobody_here",
        "00000000-0000-0000-0000-000000000000",
        "x",
        "a%20b",
        "admin",
    ] {
        let resp = app.get(&format!("/api/users/{nobody}")).send().await.unwrap();
        assert_eq!(
            error_message(resp, StatusCode::NOT_FOUND).await,
            "User not found",
            "{nobody}"
        );
    }
}
