//! CORS for the origins `CORS_ALLOWED_ORIGINS` lists, and nothing for any other. (That a
//! real browser on another origin can call the API is `just e2e`'s to show.)

use reqwest::{Method, StatusCode};

use crate::helpers::{header, json_body, spawn_app, spawn_app_with};

const ALLOWED: &str = "http://allowed.example:5173";

#[tokio::test]
async fn a_listed_origin_gets_preflights_and_the_headers_clients_need() {
    let app = spawn_app_with(|config| config.cors_allowed_origins = vec![ALLOWED.to_owned()]).await;
    let preflight = app
        .client
        .request(Method::OPTIONS, app.url("/api/chirps"))
        .header("origin", ALLOWED)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type, idempotency-key",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(header(&preflight, "access-control-allow-origin"), ALLOWED);
    let allowed_headers = header(&preflight, "access-control-allow-headers").to_lowercase();
    for wanted in ["authorization", "content-type", "idempotency-key"] {
        assert!(allowed_headers.contains(wanted), "{allowed_headers}");
    }
    assert!(header(&preflight, "access-control-allow-methods").contains("POST"));

    let actual = app
        .get("/api/chirps?limit=1")
        .header("origin", ALLOWED)
        .send()
        .await
        .unwrap();
    assert_eq!(header(&actual, "access-control-allow-origin"), ALLOWED);
    let exposed = header(&actual, "access-control-expose-headers").to_lowercase();
    for wanted in ["link", "etag", "retry-after", "x-request-id"] {
        assert!(exposed.contains(wanted), "{exposed}");
    }
    json_body(actual, StatusCode::OK).await;
}

#[tokio::test]
async fn a_listed_origin_may_ask_for_refresh_token_rotation() {
    let app = spawn_app_with(|config| config.cors_allowed_origins = vec![ALLOWED.to_owned()]).await;
    let preflight = app
        .client
        .request(Method::OPTIONS, app.url("/api/refresh"))
        .header("origin", ALLOWED)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, refresh-token-rotation",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    let allowed_headers = header(&preflight, "access-control-allow-headers").to_lowercase();
    assert!(allowed_headers.contains("refresh-token-rotation"), "{allowed_headers}");
}

#[tokio::test]
async fn other_origins_get_no_cors_headers_and_are_otherwise_answered_as_usual() {
    let listed = spawn_app_with(|config| config.cors_allowed_origins = vec![ALLOWED.to_owned()]).await;
    let unlisted = spawn_app().await;
    for (app, origin) in [(&listed, "http://evil.example"), (&unlisted, ALLOWED)] {
        let resp = app.get("/api/chirps").header("origin", origin).send().await.unwrap();
        assert!(
            resp.headers()
                .keys()
                .all(|name| !name.as_str().starts_with("access-control-")),
            "{origin}: {:?}",
            resp.headers()
        );
        let varies = header(&resp, "vary").to_lowercase() == "origin";
        assert_eq!(
            varies,
            origin == "http://evil.example",
            "Vary: Origin wherever CORS is on"
        );
        json_body(resp, StatusCode::OK).await;
        let preflight = app
            .client
            .request(Method::OPTIONS, app.url("/api/chirps"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
            .await
            .unwrap();
        assert!(header(&preflight, "access-control-allow-origin").is_empty());
        assert!(!preflight.status().is_success(), "{origin}: {}", preflight.status());
    }
}
