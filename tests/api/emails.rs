//! Emails that look the same are one account (issue 13): invisible characters are refused,
//! and addresses are compared by their key (composed, fully case-folded), for sign-up,
//! email changes, login and the login throttle. Users stored before keys keep working.

use chirpy::{
    auth::{HashParams, PasswordHasher},
    domain::Password,
    store::{self as db, Databases, MIGRATOR},
};
use reqwest::StatusCode;
use serde_json::json;
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use crate::helpers::{
    TestApp, TestDatabase, error_message, json_body, spawn_app, spawn_app_on, spawn_app_with, test_config,
};

/// The migration that gave emails their key.
const EMAIL_KEY_MIGRATION: i64 = 20261127000000;

async fn sign_up(app: &TestApp, email: &str) -> reqwest::Response {
    app.post("/api/users")
        .json(&json!({"email": email, "password": "pw"}))
        .send()
        .await
        .unwrap()
}

async fn log_in(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.post("/api/login")
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

/// The id of the account `email` logs in to with `password`.
async fn logs_in_to(app: &TestApp, email: &str, password: &str) -> String {
    let body = json_body(log_in(app, email, password).await, StatusCode::OK).await;
    body["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn invisible_characters_in_an_email_are_refused() {
    let app = spawn_app().await;
    app.signup("carol@example.com", "pw").await;
    for lookalike in [
        "carol\u{200b}@example.com",
        "carol@example.com\u{200b}",
        "\u{202e}carol@example.com",
        "carol\u{feff}@example.com",
        "carol@exam\u{ad}ple.com",
        "car\u{200d}ol@example.com",
        "carol\u{2066}@example.com",
    ] {
        let resp = sign_up(&app, lookalike).await;
        assert_eq!(
            error_message(resp, StatusCode::BAD_REQUEST).await,
            "Email contains an invisible character",
            "{lookalike:?}"
        );
    }
    assert_eq!(app.count("users").await, 1);
}

#[tokio::test]
async fn spellings_of_one_address_are_one_account() {
    let app = spawn_app().await;
    let sofia = app.signup("ΣΟΦΊΑΣ@x.gr", "pw").await;
    let ecole = app.signup("e\u{301}cole@example.fr", "pw").await;
    assert_eq!(ecole["email"], "\u{e9}cole@example.fr", "stored composed");
    app.signup("Strasse@example.de", "pw").await;
    for taken in [
        "σοφίας@x.gr",
        "Σοφίας@X.GR",
        "\u{e9}cole@example.fr",
        "\u{c9}COLE@example.fr",
        "E\u{301}cole@EXAMPLE.fr",
        "straße@example.de",
    ] {
        let resp = sign_up(&app, taken).await;
        assert_eq!(
            error_message(resp, StatusCode::CONFLICT).await,
            "Email is already taken",
            "{taken:?}"
        );
    }
    assert_eq!(app.count("users").await, 3);

    // Login, unchanged in its contract (case ignored), now ignores every such difference.
    for spelling in ["σοφίας@x.gr", "ΣΟΦΊΑΣ@X.GR", "σοφίασ@x.gr"] {
        assert_eq!(logs_in_to(&app, spelling, "pw").await, sofia["id"], "{spelling}");
    }
    assert_eq!(logs_in_to(&app, "\u{c9}cole@example.fr", "pw").await, ecole["id"]);
}

#[tokio::test]
async fn an_email_change_to_another_accounts_spelling_is_refused() {
    let app = spawn_app().await;
    app.signup("ΣΟΦΊΑΣ@x.gr", "pw").await;
    let session = app.user().await;
    let resp = app
        .update_user(&session.token, &json!({"email": "σοφίας@x.gr", "password": "pw"}))
        .await;
    assert_eq!(
        error_message(resp, StatusCode::CONFLICT).await,
        "Email is already taken"
    );
    // Another spelling of one's own address is fine.
    let own = session.email.to_uppercase();
    let resp = app
        .update_user(&session.token, &json!({"email": own, "password": "pw2"}))
        .await;
    assert_eq!(json_body(resp, StatusCode::OK).await["email"], own);
    assert_eq!(
        logs_in_to(&app, &session.email, "pw2").await,
        session.user_id.to_string()
    );
}

#[tokio::test]
async fn every_spelling_of_an_account_shares_one_failure_count() {
    let app = spawn_app_with(|config| config.login_throttle.max_failures_per_email = 3).await;
    app.signup("Straße@example.de", "right").await;
    // Lowercasing keeps `ß` and `ss` apart; folding does not.
    for spelling in ["straße@example.de", "STRASSE@example.de", "strasse@EXAMPLE.de"] {
        error_message(log_in(&app, spelling, "wrong").await, StatusCode::UNAUTHORIZED).await;
    }
    let resp = log_in(&app, "STRASSE@example.de", "right").await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS, "locked in every spelling");
}

async fn argon2_hash(password: &str) -> String {
    let hasher = PasswordHasher::new(HashParams::default()).unwrap();
    hasher
        .hash(Password::parse(password.to_owned()).unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn users_stored_before_email_keys_keep_working() {
    // A database as the previous release left it, with accounts that are one under the new
    // rules but were allowed then (`lower()` does not fold them together).
    let database = TestDatabase::create().await;
    let mut conn = PgConnection::connect_with(&database.options()).await.unwrap();
    let previous = MIGRATOR
        .iter()
        .map(|migration| migration.version)
        .filter(|&version| version < EMAIL_KEY_MIGRATION)
        .max()
        .unwrap();
    MIGRATOR.run_to(previous, &mut conn).await.unwrap();
    let legacy = [
        ("ΣΟΦΊΑΣ@x.gr", "sofia-1"),
        ("σοφίας@x.gr", "sofia-2"),
        ("e\u{301}cole@example.fr", "ecole-1"),
        ("\u{e9}cole@example.fr", "ecole-2"),
        ("carol\u{200b}@example.com", "carol-1"),
        ("carol@example.com", "carol-2"),
        ("Walt@Example.com", "walt"),
    ];
    let mut ids = Vec::new();
    for (age, (email, password)) in legacy.iter().enumerate() {
        let id: Uuid = sqlx::query_scalar(
            "insert into users (email, hashed_password, created_at) values ($1, $2, now() - $3 * interval '1 day')
             returning id",
        )
        .bind(email)
        .bind(argon2_hash(password).await)
        .bind(f64::from(legacy.len() as u32 - age as u32))
        .fetch_one(&mut conn)
        .await
        .unwrap();
        ids.push(id.to_string());
    }

    // Two instances start at once: each migrates and keys what has no key, one at a time.
    let pool = test_config().database.pool;
    let (first, second) = (
        db::Store::open(&Databases::single(database.options(), pool)),
        db::Store::open(&Databases::single(database.options(), pool)),
    );
    let (a, b) = tokio::join!(first.migrate(), second.migrate());
    a.expect("first instance");
    b.expect("second instance");
    let keys: Vec<(String, Option<String>)> = sqlx::query_as("select email, email_key from users order by created_at")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let keys: Vec<Option<&str>> = keys.iter().map(|(_, key)| key.as_deref()).collect();
    assert_eq!(
        keys,
        [
            Some("σοφίασ@x.gr"),
            Some(" σοφίας@x.gr"),
            Some("\u{e9}cole@example.fr"),
            Some(" \u{e9}cole@example.fr"),
            Some("carol\u{200b}@example.com"),
            Some("carol@example.com"),
            Some("walt@example.com"),
        ],
        "the older account keeps the shared key; the younger gets one of its own"
    );

    let app = spawn_app_on(database.options(), |_| {}).await;
    // Every account still logs in with the email it has...
    for ((email, password), id) in legacy.iter().zip(&ids) {
        assert_eq!(&logs_in_to(&app, email, password).await, id, "{email:?}");
    }
    // ...and any other spelling reaches the account that holds the key.
    assert_eq!(logs_in_to(&app, "Σοφίας@X.GR", "sofia-1").await, ids[0]);
    assert_eq!(logs_in_to(&app, "\u{c9}COLE@example.fr", "ecole-1").await, ids[2]);
    assert_eq!(logs_in_to(&app, "WALT@example.com", "walt").await, ids[6]);
    for taken in ["σοφίας@X.GR", "\u{e9}cole@example.fr", "walt@example.com"] {
        let resp = sign_up(&app, taken).await;
        error_message(resp, StatusCode::CONFLICT).await;
    }
    // The displaced account can keep its email when it changes its password.
    let sofia_2 = app.login("σοφίας@x.gr", "sofia-2").await;
    let resp = app
        .update_user(&sofia_2.token, &json!({"email": "σοφίας@x.gr", "password": "new"}))
        .await;
    json_body(resp, StatusCode::OK).await;
    assert_eq!(logs_in_to(&app, "σοφίας@x.gr", "new").await, ids[1]);
    drop(conn);
}

#[tokio::test]
async fn an_email_changed_by_the_previous_release_is_keyed_again() {
    let app = spawn_app().await;
    let jesse = app.signup("jesse@example.com", "pw").await;
    // What an instance of the previous release does, knowing nothing of keys.
    sqlx::query("update users set email = 'Jesse.Pinkman@example.com'")
        .execute(&app.db)
        .await
        .unwrap();
    let key: Option<String> = sqlx::query_scalar("select email_key from users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(key, None, "the stale key is dropped");
    assert_eq!(
        logs_in_to(&app, "jesse.pinkman@EXAMPLE.com", "pw").await,
        jesse["id"],
        "a row without a key is found as before keys"
    );
    app.signup("jesse@example.com", "pw").await;

    assert_eq!(app.state.store.key_emails().await.unwrap(), 1);
    let key: String = sqlx::query_scalar("select email_key from users where id = $1")
        .bind(jesse["id"].as_str().unwrap().parse::<Uuid>().unwrap())
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(key, "jesse.pinkman@example.com");
    assert_eq!(app.state.store.key_emails().await.unwrap(), 0, "nothing left to do");
}
