use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_timestamp, error_message, json_body, raw_request, spawn_app};

#[tokio::test]
async fn signup_returns_the_user_and_never_a_password() {
    let app = spawn_app().await;
    let user = app.signup("Walt@Example.com", "say my name").await;

    let mut keys: Vec<&str> = user.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "bio",
            "created_at",
            "display_name",
            "email",
            "handle",
            "id",
            "is_chirpy_red",
            "updated_at"
        ]
    );
    assert_eq!(
        (&user["handle"], &user["display_name"], &user["bio"]),
        (&json!(null), &json!(""), &json!(""))
    );
    assert_eq!(user["email"], "Walt@Example.com");
    assert_eq!(user["is_chirpy_red"], false);
    let id = user["id"].as_str().unwrap();
    assert_eq!(
        id.parse::<uuid::Uuid>().unwrap().hyphenated().to_string(),
        id,
        "lowercase hyphenated UUID"
    );
    assert_timestamp(&user["created_at"]);
    assert_timestamp(&user["updated_at"]);
}

#[tokio::test]
async fn passwords_are_stored_as_argon2id_hashes() {
    let app = spawn_app().await;
    app.signup("walt@example.com", "say my name").await;
    let stored: String = sqlx::query_scalar("select hashed_password from users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
    assert!(!stored.contains("say my name"));
}

#[tokio::test]
async fn signup_refuses_an_email_taken_in_any_letter_case() {
    let app = spawn_app().await;
    app.signup("walt@example.com", "one").await;
    for taken in ["walt@example.com", "WALT@EXAMPLE.COM", "Walt@Example.Com"] {
        let resp = app
            .post("/api/users")
            .json(&json!({"email": taken, "password": "two"}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_message(resp, StatusCode::CONFLICT).await,
            "Email is already taken"
        );
    }
    let count: i64 = app.count("users").await;
    assert_eq!(count, 1);
}

#[tokio::test]
async fn signup_refuses_invalid_emails_and_empty_passwords() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"email": "not-an-email", "password": "pw"}),
            "Invalid email address",
        ),
        (json!({"email": "", "password": "pw"}), "Email is required"),
        (
            json!({"email": " walt@example.com ", "password": "pw"}),
            "Invalid email address",
        ),
        (json!({"email": "a@b.com", "password": ""}), "Password is required"),
        (
            json!({"email": "nul\u{0}@b.com", "password": "pw"}),
            "Invalid email address",
        ),
    ];
    for (body, message) in cases {
        let resp = app.post("/api/users").json(&body).send().await.unwrap();
        assert_eq!(error_message(resp, StatusCode::BAD_REQUEST).await, message, "{body}");
    }
}

#[tokio::test]
async fn malformed_bodies_get_400_json_errors() {
    let app = spawn_app().await;
    let bodies = [
        "{bad json",
        "",
        "[]",
        "null",
        r#"{"email": 5, "password": "pw"}"#,
        r#"{"email": "a@b.com", "password": true}"#,
        r#"{"email": "a@b.com"}"#,
        r#"{"password": "pw"}"#,
        r#"{"email": ["a@b.com"], "password": "pw"}"#,
    ];
    for body in bodies {
        let resp = app.post_raw_json("/api/users", body).send().await.unwrap();
        error_message(resp, StatusCode::BAD_REQUEST).await;
    }
    let no_content_type = app
        .post("/api/users")
        .body(r#"{"email": "a@b.com", "password": "pw"}"#)
        .send()
        .await
        .unwrap();
    error_message(no_content_type, StatusCode::BAD_REQUEST).await;
    let count: i64 = app.count("users").await;
    assert_eq!(count, 0, "nothing malformed may create a user");
}

#[tokio::test]
async fn oversized_bodies_get_413_whether_or_not_they_declare_a_length() {
    let app = spawn_app().await;
    let big = format!(r#"{{"email": "a@b.com", "password": "{}"}}"#, "x".repeat(70 * 1024));
    let resp = app.post_raw_json("/api/users", big.clone()).send().await.unwrap();
    assert_eq!(
        error_message(resp, StatusCode::PAYLOAD_TOO_LARGE).await,
        "Request body is too large"
    );

    let mut chunked = b"POST /api/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
    for piece in big.as_bytes().chunks(8192) {
        chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked.extend_from_slice(piece);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let (status, response) = raw_request(&app, &chunked).await;
    assert_eq!(status, 413, "{response}");
    assert!(
        response.contains(r#"{"error":"Request body is too large"}"#),
        "{response}"
    );

    let count: i64 = app.count("users").await;
    assert_eq!(count, 0);
}

#[tokio::test]
async fn update_changes_email_and_password_and_bumps_updated_at() {
    let app = spawn_app().await;
    let session = app.user().await;
    let before: chrono::DateTime<chrono::Utc> = sqlx::query_scalar("select updated_at from users")
        .fetch_one(&app.db)
        .await
        .unwrap();

    let resp = app
        .update_user(
            &session.token,
            &json!({"email": "Heisenberg@example.com", "password": "new password"}),
        )
        .await;
    let user = json_body(resp, StatusCode::OK).await;
    assert_eq!(user["email"], "Heisenberg@example.com");
    assert_eq!(user["id"], session.user_id.to_string());
    assert!(user.get("password").is_none() && user.get("hashed_password").is_none());
    let updated: chrono::DateTime<chrono::Utc> = user["updated_at"].as_str().unwrap().parse().unwrap();
    assert!(updated > before, "updated_at must move forward");

    let old = app
        .post("/api/login")
        .json(&json!({"email": session.email, "password": session.password}))
        .send()
        .await
        .unwrap();
    error_message(old, StatusCode::UNAUTHORIZED).await;
    app.login("heisenberg@EXAMPLE.com", "new password").await;
}

#[tokio::test]
async fn update_revokes_every_refresh_token_of_the_user() {
    let app = spawn_app().await;
    let session = app.user().await;
    let other_device = app.login(&session.email, &session.password).await;
    let bystander = app.user().await;

    let resp = app
        .update_user(&session.token, &json!({"email": session.email, "password": "rotated"}))
        .await;
    json_body(resp, StatusCode::OK).await;

    for token in [&session.refresh_token, &other_device.refresh_token] {
        let resp = app.refresh(token).await;
        error_message(resp, StatusCode::UNAUTHORIZED).await;
    }
    let resp = app.refresh(&bystander.refresh_token).await;
    json_body(resp, StatusCode::OK).await;
}

#[tokio::test]
async fn update_refuses_an_email_another_user_has_in_any_case_but_allows_ones_own() {
    let app = spawn_app().await;
    let session = app.user().await;
    app.signup("taken@example.com", "pw").await;

    let resp = app
        .update_user(&session.token, &json!({"email": "TAKEN@example.com", "password": "pw"}))
        .await;
    assert_eq!(
        error_message(resp, StatusCode::CONFLICT).await,
        "Email is already taken"
    );

    let own_in_capitals = session.email.to_uppercase();
    let resp = app
        .update_user(&session.token, &json!({"email": own_in_capitals, "password": "pw"}))
        .await;
    assert_eq!(json_body(resp, StatusCode::OK).await["email"], own_in_capitals);
}

#[tokio::test]
async fn update_requires_a_valid_access_token_and_a_valid_body() {
    let app = spawn_app().await;
    let session = app.user().await;
    let body = json!({"email": "new@example.com", "password": "pw"});

    let resp = app.put("/api/users").json(&body).send().await.unwrap();
    error_message(resp, StatusCode::UNAUTHORIZED).await;
    let resp = app.update_user("garbage", &body).await;
    error_message(resp, StatusCode::UNAUTHORIZED).await;
    let resp = app.update_user(&session.refresh_token, &body).await;
    error_message(resp, StatusCode::UNAUTHORIZED).await;

    for bad in [
        json!({"email": "nope", "password": "pw"}),
        json!({"email": "a@b.com", "password": ""}),
        json!({"email": "a@b.com"}),
    ] {
        let resp = app.update_user(&session.token, &bad).await;
        error_message(resp, StatusCode::BAD_REQUEST).await;
    }
    let email: String = sqlx::query_scalar("select email from users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(email, session.email, "nothing refused may change the user");
}

#[tokio::test]
async fn update_by_a_deleted_user_is_unauthorized() {
    let app = spawn_app().await;
    let session = app.user().await;
    sqlx::query("delete from users").execute(&app.db).await.unwrap();
    let resp = app
        .update_user(&session.token, &json!({"email": "ghost@example.com", "password": "pw"}))
        .await;
    assert_eq!(
        error_message(resp, StatusCode::UNAUTHORIZED).await,
        "Invalid or expired access token",
        "a deleted user's token reads like any other refused one"
    );
}

#[tokio::test]
async fn me_is_the_caller_and_follows_chirpy_red() {
    let app = spawn_app().await;
    let session = app.user().await;
    let me = |token: String| app.get("/api/users/me").bearer_auth(token).send();
    let user = json_body(me(session.token.clone()).await.unwrap(), StatusCode::OK).await;
    assert_eq!(user["id"], session.user_id.to_string());
    assert_eq!(user["email"], session.email);
    assert_eq!(user["is_chirpy_red"], false);
    assert!(user.get("password").is_none() && user.get("hashed_password").is_none());
    let upgrade = json!({"event": "user.upgraded", "data": {"user_id": session.user_id}});
    app.webhook(&format!("ApiKey {}", crate::helpers::POLKA_KEY), &upgrade)
        .await;
    let user = json_body(me(session.token.clone()).await.unwrap(), StatusCode::OK).await;
    assert_eq!(user["is_chirpy_red"], true);
}

#[tokio::test]
async fn me_needs_a_live_access_token_of_a_live_user() {
    let app = spawn_app().await;
    let session = app.user().await;
    error_message(app.get("/api/users/me").send().await.unwrap(), StatusCode::UNAUTHORIZED).await;
    let refresh = app
        .get("/api/users/me")
        .bearer_auth(&session.refresh_token)
        .send()
        .await
        .unwrap();
    error_message(refresh, StatusCode::UNAUTHORIZED).await;
    sqlx::query("delete from users").execute(&app.db).await.unwrap();
    let gone = app
        .get("/api/users/me")
        .bearer_auth(&session.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_message(gone, StatusCode::UNAUTHORIZED).await,
        "Invalid or expired access token"
    );
    let posted = app
        .post("/api/chirps")
        .bearer_auth(&session.token)
        .json(&json!({"body": "from beyond"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_message(posted, StatusCode::UNAUTHORIZED).await,
        "Invalid or expired access token"
    );
}
