use jsonwebtoken::Algorithm;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{
    JWT_SECRET, assert_timestamp, error_message, json_body, sign, spawn_app, spawn_app_with, unsigned,
};

fn decode(token: &str) -> Value {
    let mut validation = jsonwebtoken::Validation::new(Algorithm::HS256);
    validation.set_issuer(&["chirpy-access"]);
    let key = jsonwebtoken::DecodingKey::from_secret(JWT_SECRET.as_bytes());
    jsonwebtoken::decode::<Value>(token, &key, &validation).unwrap().claims
}

#[tokio::test]
async fn login_returns_the_user_and_both_tokens_ignoring_email_case() {
    let app = spawn_app().await;
    let user = app.signup("Jesse@Example.com", "yo").await;
    let resp = app
        .post("/api/login")
        .json(&json!({"email": "jesse@EXAMPLE.COM", "password": "yo", "expires_in_seconds": 5}))
        .send()
        .await
        .unwrap();
    let body = json_body(resp, StatusCode::OK).await;
    for field in ["id", "email", "is_chirpy_red", "created_at", "updated_at"] {
        assert_eq!(body[field], user[field], "{field}");
    }
    assert_timestamp(&body["created_at"]);
    let refresh = body["refresh_token"].as_str().unwrap();
    assert!(
        refresh.len() == 64
            && refresh
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{refresh}"
    );

    let claims = decode(body["token"].as_str().unwrap());
    assert_eq!(claims["iss"], "chirpy-access");
    assert_eq!(claims["sub"], user["id"]);
    let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert_eq!(lifetime, 3600, "one hour, whatever expires_in_seconds says");
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    app.signup("skyler@example.com", "right").await;
    let mut answers = Vec::new();
    for body in [
        json!({"email": "skyler@example.com", "password": "wrong"}),
        json!({"email": "nobody@example.com", "password": "right"}),
        json!({"email": "not an email", "password": "right"}),
        json!({"email": "skyler@example.com", "password": ""}),
        json!({"email": "skyler@example.com\u{0}", "password": "right"}),
    ] {
        let resp = app.post("/api/login").json(&body).send().await.unwrap();
        answers.push(error_message(resp, StatusCode::UNAUTHORIZED).await);
    }
    assert!(
        answers.iter().all(|a| a == "Incorrect email or password"),
        "{answers:?}"
    );
}

#[tokio::test]
async fn login_refuses_malformed_bodies() {
    let app = spawn_app().await;
    for body in ["{", r#"{"email": "a@b.com"}"#, r#"{"email": 1, "password": "x"}"#] {
        let resp = app.post_raw_json("/api/login", body).send().await.unwrap();
        error_message(resp, StatusCode::BAD_REQUEST).await;
    }
}

#[tokio::test]
async fn protected_routes_refuse_every_flawed_access_token() {
    let app = spawn_app().await;
    let session = app.user().await;
    let sub = session.user_id.to_string();
    let now = chrono::Utc::now().timestamp();
    let claims = |iss: &str, sub: &str, exp: Option<i64>| {
        let mut claims = json!({"iss": iss, "sub": sub, "iat": now});
        if let Some(exp) = exp {
            claims["exp"] = exp.into();
        }
        claims
    };
    let good = claims("chirpy-access", &sub, Some(now + 600));
    let control = sign(&good, Algorithm::HS256, JWT_SECRET);
    let resp = app
        .post("/api/chirps")
        .bearer_auth(&control)
        .json(&json!({"body": "control"}))
        .send()
        .await
        .unwrap();
    json_body(resp, StatusCode::CREATED).await;

    let flawed = [
        (
            "signed with another key",
            sign(&good, Algorithm::HS256, "another-secret"),
        ),
        ("HS512", sign(&good, Algorithm::HS512, JWT_SECRET)),
        ("alg none", unsigned(&good)),
        (
            "expired",
            sign(
                &claims("chirpy-access", &sub, Some(now - 1)),
                Algorithm::HS256,
                JWT_SECRET,
            ),
        ),
        (
            "without exp",
            sign(&claims("chirpy-access", &sub, None), Algorithm::HS256, JWT_SECRET),
        ),
        (
            "wrong issuer",
            sign(&claims("chirpy", &sub, Some(now + 600)), Algorithm::HS256, JWT_SECRET),
        ),
        (
            "sub not a UUID",
            sign(
                &claims("chirpy-access", "admin", Some(now + 600)),
                Algorithm::HS256,
                JWT_SECRET,
            ),
        ),
        ("a refresh token", session.refresh_token.clone()),
        ("garbage", "not-a-token".to_owned()),
        // RFC 8725's advice: an unknown critical header, a subject in any other spelling
        // than the one issued, a token not valid yet.
        ("a crit header", {
            let mut header = jsonwebtoken::Header::new(Algorithm::HS256);
            header.crit = Some(vec!["exp".to_owned()]);
            let key = jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes());
            jsonwebtoken::encode(&header, &good, &key).unwrap()
        }),
        (
            "sub in uppercase",
            sign(
                &claims("chirpy-access", &sub.to_uppercase(), Some(now + 600)),
                Algorithm::HS256,
                JWT_SECRET,
            ),
        ),
        (
            "sub braced",
            sign(
                &claims("chirpy-access", &format!("{{{sub}}}"), Some(now + 600)),
                Algorithm::HS256,
                JWT_SECRET,
            ),
        ),
        (
            "sub as a URN",
            sign(
                &claims("chirpy-access", &format!("urn:uuid:{sub}"), Some(now + 600)),
                Algorithm::HS256,
                JWT_SECRET,
            ),
        ),
        (
            "sub without hyphens",
            sign(
                &claims("chirpy-access", &sub.replace('-', ""), Some(now + 600)),
                Algorithm::HS256,
                JWT_SECRET,
            ),
        ),
        ("not valid before a minute from now", {
            let mut early = good.clone();
            early["nbf"] = (now + 60).into();
            sign(&early, Algorithm::HS256, JWT_SECRET)
        }),
    ];
    for (why, token) in flawed {
        let resp = app
            .post("/api/chirps")
            .bearer_auth(&token)
            .json(&json!({"body": why}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{why}");
        let message = error_message(resp, StatusCode::UNAUTHORIZED).await;
        assert_eq!(message, "Invalid or expired access token", "{why}");
    }
    for header in [
        "",
        "Bearer",
        "Bearer ",
        "Token abc",
        &format!("ApiKey {}", session.token),
        &session.token,
    ] {
        let resp = app
            .post("/api/chirps")
            .header("authorization", header)
            .json(&json!({"body": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "header {header:?}");
        error_message(resp, StatusCode::UNAUTHORIZED).await;
    }
    let count: i64 = app.count("chirps").await;
    assert_eq!(count, 1, "only the control chirp");
}

#[tokio::test]
async fn an_access_token_expires_after_its_lifetime() {
    let app = spawn_app_with(|config| config.access_token_ttl = std::time::Duration::from_secs(1)).await;
    let session = app.user().await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let resp = app
        .post("/api/chirps")
        .bearer_auth(&session.token)
        .json(&json!({"body": "late"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_message(resp, StatusCode::UNAUTHORIZED).await,
        "Invalid or expired access token",
        "the same answer as for any other refused token"
    );
}

#[tokio::test]
async fn refresh_issues_a_working_access_token() {
    let app = spawn_app().await;
    let session = app.user().await;
    let resp = app.refresh(&session.refresh_token).await;
    let body = json_body(resp, StatusCode::OK).await;
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    let token = body["token"].as_str().unwrap();
    assert_eq!(decode(token)["sub"], session.user_id.to_string());
    let resp = app
        .post("/api/chirps")
        .bearer_auth(token)
        .json(&json!({"body": "refreshed"}))
        .send()
        .await
        .unwrap();
    json_body(resp, StatusCode::CREATED).await;
}

#[tokio::test]
async fn refresh_refuses_unknown_expired_revoked_and_access_tokens() {
    let app = spawn_app().await;
    let session = app.user().await;
    let unknown = "ab".repeat(32);
    for (why, token) in [
        ("unknown", unknown.as_str()),
        ("an access token", session.token.as_str()),
        ("garbage", "x"),
    ] {
        let resp = app.refresh(token).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{why}");
        error_message(resp, StatusCode::UNAUTHORIZED).await;
    }
    let resp = app.post("/api/refresh").send().await.unwrap();
    error_message(resp, StatusCode::UNAUTHORIZED).await;

    sqlx::query("update refresh_tokens set expires_at = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .unwrap();
    let resp = app.refresh(&session.refresh_token).await;
    error_message(resp, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn revoke_ends_a_refresh_token_and_is_harmless_to_repeat() {
    let app = spawn_app().await;
    let session = app.user().await;
    let resp = app.revoke(&session.refresh_token).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(resp.bytes().await.unwrap().is_empty());

    let resp = app.refresh(&session.refresh_token).await;
    error_message(resp, StatusCode::UNAUTHORIZED).await;
    let again = app.revoke(&session.refresh_token).await;
    assert_eq!(again.status(), StatusCode::NO_CONTENT);

    let revoked_at: Option<chrono::DateTime<chrono::Utc>> = sqlx::query_scalar("select revoked_at from refresh_tokens")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(revoked_at.is_some());
}

#[tokio::test]
async fn revoke_refuses_unknown_missing_and_access_tokens() {
    let app = spawn_app().await;
    let session = app.user().await;
    for token in ["cd".repeat(32), session.token.clone()] {
        let resp = app.revoke(&token).await;
        error_message(resp, StatusCode::UNAUTHORIZED).await;
    }
    let resp = app.post("/api/revoke").send().await.unwrap();
    error_message(resp, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn refresh_tokens_are_stored_only_as_hashes() {
    let app = spawn_app().await;
    let first = app.user().await;
    let second = app.login(&first.email, &first.password).await;

    let rows: Vec<(Vec<u8>, uuid::Uuid)> =
        sqlx::query_as("select token_hash, user_id from refresh_tokens order by created_at")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(rows.len(), 2);
    // Every column of every row, as text: the plaintext must appear nowhere.
    let dump: Vec<String> = sqlx::query_scalar("select t::text from refresh_tokens t")
        .fetch_all(&app.db)
        .await
        .unwrap();
    for session in [&first, &second] {
        let digest = Sha256::digest(session.refresh_token.as_bytes()).to_vec();
        assert!(
            rows.iter()
                .any(|(hash, user)| *hash == digest && *user == first.user_id),
            "stored as its SHA-256"
        );
        assert!(
            rows.iter()
                .all(|(hash, _)| hash.as_slice() != session.refresh_token.as_bytes())
        );
        assert!(
            dump.iter().all(|row| !row.contains(&session.refresh_token)),
            "plaintext found in {dump:?}"
        );
    }
}

/// Failed logins for different accounts from `forwarded` (an `X-Forwarded-For` value, if
/// any), each answered 401 or 429.
async fn failed_logins(app: &crate::helpers::TestApp, forwarded: Option<&str>, count: usize) -> Vec<StatusCode> {
    let mut statuses = Vec::new();
    for n in 0..count {
        let mut request = app.post("/api/login").json(&json!({
            "email": format!("nobody-{}@example.com", uuid::Uuid::new_v4()),
            "password": format!("guess {n}")
        }));
        if let Some(forwarded) = forwarded {
            request = request.header("x-forwarded-for", forwarded);
        }
        statuses.push(request.send().await.unwrap().status());
    }
    statuses
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_address_limit() {
    let app = spawn_app_with(|config| {
        config.login_throttle.max_failures_per_address = 2;
        config.trusted_proxies = chirpy::client_address::TrustedProxies::parse("127.0.0.1").unwrap();
    })
    .await;
    let (unauthorized, throttled) = (StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        failed_logins(&app, Some("198.51.100.1, 203.0.113.5"), 3).await,
        [unauthorized, unauthorized, throttled]
    );
    // Another client behind the same proxy is unaffected; the first stays locked whatever
    // it claims in front of the proxy's entry.
    assert_eq!(failed_logins(&app, Some("203.0.113.6"), 1).await, [unauthorized]);
    assert_eq!(failed_logins(&app, Some("10.9.9.9, 203.0.113.5"), 1).await, [throttled]);
}

#[tokio::test]
async fn without_trusted_proxies_a_forwarded_address_is_ignored() {
    let app = spawn_app_with(|config| config.login_throttle.max_failures_per_address = 2).await;
    let (unauthorized, throttled) = (StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        failed_logins(&app, Some("203.0.113.5"), 2).await,
        [unauthorized, unauthorized]
    );
    assert_eq!(
        failed_logins(&app, Some("203.0.113.99"), 1).await,
        [throttled],
        "a made-up header does not buy a fresh limit"
    );
}
