//! Reports and moderators: filing a report, the moderators' routes (and no one else's), a
//! suspension's effects on every instance, deleting any chirp, and the audit log.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Session, TestApp, error_message, json_body, spawn_app, spawn_app_on};

async fn make_moderator(app: &TestApp, session: &Session) {
    sqlx::query("update users set is_moderator = true where id = $1")
        .bind(session.user_id)
        .execute(&app.db)
        .await
        .unwrap();
}

async fn report(app: &TestApp, by: &Session, body: Value) -> reqwest::Response {
    app.post("/api/reports")
        .bearer_auth(&by.token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn audit(app: &TestApp) -> Vec<(Uuid, String)> {
    sqlx::query_as("select moderator_id, action from moderation_log order by id")
        .fetch_all(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn anyone_reports_anyone_else_and_moderators_resolve_open_reports_first() {
    let app = spawn_app().await;
    let users = app.quick_users(3).await;
    let (reporter, spammer, moderator) = (&users[0], &users[1], &users[2]);
    let spam = app.chirp(spammer, "buy now").await;
    let first = json_body(
        report(
            &app,
            reporter,
            json!({"user_id": spammer.user_id, "chirp_ids": [spam["id"]], "reason": "spam"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        (&first["status"], &first["chirp_ids"]),
        (&json!("open"), &json!([spam["id"]]))
    );
    let second = json_body(
        report(&app, reporter, json!({"user_id": spammer.user_id, "reason": "again"})).await,
        StatusCode::CREATED,
    )
    .await;
    for (body, status) in [
        (
            json!({"user_id": reporter.user_id, "reason": "me"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"user_id": spammer.user_id, "reason": "   "}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"user_id": spammer.user_id, "reason": "x", "chirp_ids": [Uuid::new_v4()]}),
            StatusCode::NOT_FOUND,
        ),
        (json!({"user_id": Uuid::new_v4(), "reason": "x"}), StatusCode::NOT_FOUND),
    ] {
        error_message(report(&app, reporter, body).await, status).await;
    }

    let listed = app
        .get("/api/admin/reports")
        .bearer_auth(&reporter.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_message(listed, StatusCode::FORBIDDEN).await,
        "Only moderators may do this"
    );
    error_message(
        app.get("/api/admin/reports").send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    make_moderator(&app, moderator).await;
    let resolve = |id: &Value| {
        let request = app
            .post(&format!("/api/admin/reports/{}/resolve", id.as_str().unwrap()))
            .bearer_auth(&moderator.token)
            .json(&json!({"note": "warned"}));
        async move { json_body(request.send().await.unwrap(), StatusCode::OK).await }
    };
    let resolved = resolve(&first["id"]).await;
    assert_eq!(
        (&resolved["status"], &resolved["resolution"]),
        (&json!("resolved"), &json!("warned"))
    );
    assert_eq!(
        resolve(&first["id"]).await["resolved_at"],
        resolved["resolved_at"],
        "again: unchanged"
    );
    let resp = app
        .get("/api/admin/reports")
        .bearer_auth(&moderator.token)
        .send()
        .await
        .unwrap();
    let listed = json_body(resp, StatusCode::OK).await;
    let order: Vec<&Value> = listed.as_array().unwrap().iter().map(|r| &r["id"]).collect();
    assert_eq!(order, [&second["id"], &first["id"]], "open first");
    assert_eq!(
        audit(&app).await,
        [(moderator.user_id, "resolve_report".to_owned())],
        "logged once"
    );
    let missing = app
        .post(&format!("/api/admin/reports/{}/resolve", Uuid::new_v4()))
        .bearer_auth(&moderator.token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    error_message(missing, StatusCode::NOT_FOUND).await;
}

/// Suspended: no login, no refresh, every access token refused at once on every instance,
/// and their chirps gone from every read.
#[tokio::test]
async fn a_suspension_ends_the_account_everywhere_at_once() {
    let first = spawn_app().await;
    let second = spawn_app_on(first.database_options(), |_| {}).await;
    let moderator = first.user().await;
    make_moderator(&first, &moderator).await;
    let troll = first.user().await;
    let fan = first.quick_users(1).await.remove(0);
    let chirp = first.chirp(&troll, "trolling zebra").await;
    let id = chirp["id"].as_str().unwrap().to_owned();
    assert_eq!(first.follow(&fan, troll.user_id, true).await, StatusCode::NO_CONTENT);
    for app in [&first, &second] {
        json_body(
            app.get(&format!("/api/chirps/{id}")).send().await.unwrap(),
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            app.get("/api/users/me")
                .bearer_auth(&troll.token)
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::OK
        );
    }

    let suspend = first
        .post(&format!("/api/admin/users/{}/suspend", troll.user_id))
        .bearer_auth(&moderator.token)
        .json(&json!({"note": "trolling"}))
        .send()
        .await
        .unwrap();
    assert_eq!(suspend.status(), StatusCode::NO_CONTENT);
    for app in [&first, &second] {
        let me = app.get("/api/users/me").bearer_auth(&troll.token).send().await.unwrap();
        error_message(me, StatusCode::UNAUTHORIZED).await;
        error_message(
            app.get(&format!("/api/chirps/{id}")).send().await.unwrap(),
            StatusCode::NOT_FOUND,
        )
        .await;
        let listed = json_body(app.get("/api/chirps").send().await.unwrap(), StatusCode::OK).await;
        assert!(!listed.as_array().unwrap().iter().any(|c| c["id"] == id.as_str()));
        let found = json_body(
            app.get("/api/search/chirps?q=zebra").send().await.unwrap(),
            StatusCode::OK,
        )
        .await;
        assert_eq!(found, json!([]));
        assert_eq!(app.home(&fan, 20).await, Vec::<Value>::new());
        let profile = app.get(&format!("/api/users/{}", troll.user_id)).send().await.unwrap();
        error_message(profile, StatusCode::NOT_FOUND).await;
    }
    let login = first
        .post("/api/login")
        .json(&json!({"email": troll.email, "password": troll.password}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_message(login, StatusCode::FORBIDDEN).await,
        "This account is suspended"
    );
    let wrong = first
        .post("/api/login")
        .json(&json!({"email": troll.email, "password": "not it"}))
        .send()
        .await
        .unwrap();
    error_message(wrong, StatusCode::UNAUTHORIZED).await;
    error_message(first.refresh(&troll.refresh_token).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(audit(&first).await, [(moderator.user_id, "suspend_user".to_owned())]);
    let stored: i64 = sqlx::query_scalar("select count(*) from chirps")
        .fetch_one(&first.db)
        .await
        .unwrap();
    assert_eq!(stored, 1, "kept, hidden");
}

#[tokio::test]
async fn a_moderator_deletes_any_chirp_and_it_is_logged() {
    let app = spawn_app().await;
    let users = app.quick_users(2).await;
    let (moderator, author) = (&users[0], &users[1]);
    let chirp = app.chirp(author, "rule-breaking").await;
    let path = format!("/api/admin/chirps/{}", chirp["id"].as_str().unwrap());
    error_message(
        app.delete(&path).bearer_auth(&author.token).send().await.unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    make_moderator(&app, moderator).await;
    assert_eq!(
        app.delete(&path)
            .bearer_auth(&moderator.token)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    error_message(
        app.delete(&path).bearer_auth(&moderator.token).send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(app.count("chirps").await, 0);
    let logged: (Uuid, String, Option<Uuid>, Option<Uuid>) =
        sqlx::query_as("select moderator_id, action, user_id, chirp_id from moderation_log")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let chirp_id: Uuid = chirp["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        logged,
        (
            moderator.user_id,
            "delete_chirp".to_owned(),
            Some(author.user_id),
            Some(chirp_id)
        )
    );
}
