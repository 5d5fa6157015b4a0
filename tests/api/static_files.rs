use reqwest::StatusCode;

use crate::helpers::{header, raw_request, spawn_app};

#[tokio::test]
async fn app_serves_the_index_page_and_assets() {
    let app = spawn_app().await;
    for path in ["/app/", "/app/index.html"] {
        let resp = app.get(path).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert!(header(&resp, "content-type").starts_with("text/html"), "{path}");
        let html = resp.text().await.unwrap();
        assert!(html.contains("<title>Chirpy</title>"), "{path}: {html}");
        assert_eq!(
            html,
            std::fs::read_to_string("static/index.html").unwrap(),
            "{path} serves static/index.html"
        );
    }
    let resp = app.get("/app/assets/logo.png").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "content-type"), "image/png");
    let served = resp.bytes().await.unwrap();
    assert_eq!(served.as_ref(), std::fs::read("static/assets/logo.png").unwrap());
}

#[tokio::test]
async fn app_without_its_slash_redirects_to_the_directory() {
    let app = spawn_app().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = client.get(app.url("/app")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(header(&resp, "location"), "/app/");
}

#[tokio::test]
async fn nothing_outside_static_is_reachable() {
    let app = spawn_app().await;
    let attempts = [
        "/app/../Cargo.toml",
        "/app/%2e%2e/Cargo.toml",
        "/app/%2E%2E%2FCargo.toml",
        "/app/..%2fCargo.toml",
        "/app/assets/../../Cargo.toml",
        "/app/assets/%2e%2e/%2e%2e/Cargo.toml",
        "/app/..%5cCargo.toml",
        "/app/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/app//etc/passwd",
        "/app/%2fetc%2fpasswd",
    ];
    for path in attempts {
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let (status, response) = raw_request(&app, request.as_bytes()).await;
        assert!((400..500).contains(&status), "{path}: {status}");
        assert!(
            !response.contains("[package]") && !response.contains("root:"),
            "{path} leaked a file"
        );
        let home = env!("CARGO_MANIFEST_DIR");
        assert!(
            !response.contains(home),
            "{path} leaked where the server lives: {response}"
        );
    }
}
