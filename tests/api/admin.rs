use chirpy::config::Platform;
use reqwest::StatusCode;

use crate::helpers::{error_message, header, spawn_app, spawn_app_with};

#[tokio::test]
async fn healthz_says_ok_in_plain_text() {
    let app = spawn_app().await;
    let resp = app.get("/api/healthz").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "content-type"), "text/plain; charset=utf-8");
    assert_eq!(resp.text().await.unwrap(), "OK");
}

#[tokio::test]
async fn metrics_count_requests_served_under_app() {
    let app = spawn_app().await;
    let metrics = || async {
        let resp = app.get("/admin/metrics").send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(header(&resp, "content-type"), "text/html; charset=utf-8");
        let html: String = resp
            .text()
            .await
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        html.replace("> <", "><")
    };
    let expected = |n: u64| {
        format!("<html><body><h1>Welcome, Chirpy Admin</h1><p>Chirpy has been visited {n} times!</p></body></html>")
    };
    assert_eq!(metrics().await, expected(0));
    for path in ["/app/", "/app/", "/app/assets/logo.png", "/app/missing.html"] {
        app.get(path).send().await.unwrap();
    }
    app.get("/api/healthz").send().await.unwrap();
    assert_eq!(metrics().await, expected(4), "only /app/ requests count, found or not");
}

#[tokio::test]
async fn reset_in_dev_deletes_every_user_with_their_chirps_and_tokens_and_zeroes_hits() {
    let app = spawn_app().await;
    let session = app.user().await;
    app.chirp(&session, "about to vanish").await;
    app.get("/app/").send().await.unwrap();

    let resp = app.post("/admin/reset").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    for table in ["users", "chirps", "refresh_tokens"] {
        assert_eq!(app.count(table).await, 0, "{table}");
    }
    let html = app.get("/admin/metrics").send().await.unwrap().text().await.unwrap();
    assert!(html.contains("visited 0 times"), "{html}");
    let resp = app.refresh(&session.refresh_token).await;
    error_message(resp, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn reset_outside_dev_is_forbidden_and_deletes_nothing() {
    let app = spawn_app_with(|config| config.platform = Platform::Prod).await;
    let session = app.user().await;
    app.chirp(&session, "safe").await;
    app.get("/app/").send().await.unwrap();

    let resp = app.post("/admin/reset").send().await.unwrap();
    assert_eq!(
        error_message(resp, StatusCode::FORBIDDEN).await,
        "Reset is only allowed when PLATFORM=dev"
    );
    assert_eq!(app.count("users").await, 1);
    assert_eq!(app.count("chirps").await, 1);
    let html = app.get("/admin/metrics").send().await.unwrap().text().await.unwrap();
    assert!(html.contains("visited 1 times"), "{html}");
}

#[tokio::test]
async fn unknown_routes_and_methods_get_json_errors() {
    let app = spawn_app().await;
    let resp = app.get("/api/nope").send().await.unwrap();
    error_message(resp, StatusCode::NOT_FOUND).await;
    let resp = app.get("/admin/nope").send().await.unwrap();
    error_message(resp, StatusCode::NOT_FOUND).await;
    let resp = app.client.patch(app.url("/api/users")).send().await.unwrap();
    assert_eq!(
        header(&resp, "allow"),
        "POST, PUT",
        "RFC 9110: a 405 lists what is allowed"
    );
    error_message(resp, StatusCode::METHOD_NOT_ALLOWED).await;
    let resp = app
        .client
        .request(reqwest::Method::TRACE, app.url("/api/chirps/x"))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&resp, "allow"), "DELETE, GET");
    error_message(resp, StatusCode::METHOD_NOT_ALLOWED).await;
    let resp = app.post("/app/index.html").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(&resp, "allow"), "GET, HEAD");
}
