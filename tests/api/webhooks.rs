use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{POLKA_KEY, TestApp, error_message, spawn_app};

fn upgraded(user_id: impl ToString) -> serde_json::Value {
    json!({"event": "user.upgraded", "data": {"user_id": user_id.to_string()}})
}

async fn is_red(app: &TestApp, user_id: Uuid) -> bool {
    sqlx::query_scalar("select is_chirpy_red from users where id = $1")
        .bind(user_id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn user_upgraded_makes_the_user_chirpy_red_and_repeating_it_is_harmless() {
    let app = spawn_app().await;
    let session = app.user().await;
    let key = format!("ApiKey {POLKA_KEY}");

    let resp = app.webhook(&key, &upgraded(session.user_id)).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(resp.bytes().await.unwrap().is_empty());
    assert!(is_red(&app, session.user_id).await);
    let login = app.login(&session.email, &session.password).await;
    assert_eq!(login.user_id, session.user_id);
    let body: serde_json::Value = app
        .post("/api/login")
        .json(&json!({"email": session.email, "password": session.password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["is_chirpy_red"], true);

    let updated_at = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, chrono::DateTime<chrono::Utc>>("select updated_at from users")
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };
    let before = updated_at(&app).await;
    let resp = app.webhook(&key, &upgraded(session.user_id)).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(updated_at(&app).await, before, "a repeated event changes nothing");
}

#[tokio::test]
async fn other_events_are_acknowledged_and_ignored() {
    let app = spawn_app().await;
    let session = app.user().await;
    for event in ["user.payment_failed", "user.downgraded", ""] {
        let body = json!({"event": event, "data": {"user_id": session.user_id}});
        let resp = app.webhook(&format!("ApiKey {POLKA_KEY}"), &body).await;
        assert_eq!(resp.status(), StatusCode::NO_CONTENT, "{event}");
    }
    assert!(!is_red(&app, session.user_id).await);
}

#[tokio::test]
async fn an_unknown_user_is_404() {
    let app = spawn_app().await;
    let resp = app
        .webhook(&format!("ApiKey {POLKA_KEY}"), &upgraded(Uuid::new_v4()))
        .await;
    assert_eq!(error_message(resp, StatusCode::NOT_FOUND).await, "User not found");
}

#[tokio::test]
async fn a_missing_or_wrong_key_is_401_and_changes_nothing() {
    let app = spawn_app().await;
    let session = app.user().await;
    let headers = [
        None,
        Some("ApiKey wrong-key".to_owned()),
        Some(format!("ApiKey {POLKA_KEY}x")),
        Some(format!("ApiKey {}", &POLKA_KEY[..POLKA_KEY.len() - 1])),
        Some(POLKA_KEY.to_owned()),
        Some(format!("Bearer {POLKA_KEY}")),
        Some(format!("Bearer {}", session.token)),
        Some("ApiKey ".to_owned()),
    ];
    for header in headers {
        let mut req = app.post("/api/polka/webhooks").json(&upgraded(session.user_id));
        if let Some(value) = &header {
            req = req.header("authorization", value);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{header:?}");
        error_message(resp, StatusCode::UNAUTHORIZED).await;
    }
    assert!(!is_red(&app, session.user_id).await);
}

#[tokio::test]
async fn malformed_bodies_and_user_ids_are_400() {
    let app = spawn_app().await;
    let bodies = [
        r#"{"event": "user.upgraded", "data": {"user_id": "not-a-uuid"}}"#,
        r#"{"event": "user.upgraded", "data": {}}"#,
        r#"{"event": "user.upgraded"}"#,
        r#"{"event": 7, "data": {"user_id": "3311741c-680c-4546-99f3-fc9efac2036c"}}"#,
        r#"{"data": {"user_id": "3311741c-680c-4546-99f3-fc9efac2036c"}}"#,
        "{not json",
    ];
    for body in bodies {
        let resp = app
            .post_raw_json("/api/polka/webhooks", body)
            .header("authorization", format!("ApiKey {POLKA_KEY}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{body}");
        error_message(resp, StatusCode::BAD_REQUEST).await;
    }
}
