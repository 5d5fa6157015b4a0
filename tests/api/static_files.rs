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

/// A copy of `static/` in a temp dir, with a link out of it (to /etc/passwd) and a link
/// that stays inside it.
fn static_dir_with_links() -> crate::process::TempDir {
    let dir = crate::process::TempDir::new();
    std::fs::copy("static/index.html", dir.path.join("index.html")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dir.path.join("leak.txt")).unwrap();
    std::os::unix::fs::symlink("/etc", dir.path.join("etc")).unwrap();
    std::os::unix::fs::symlink(dir.path.join("index.html"), dir.path.join("home.html")).unwrap();
    dir
}

#[tokio::test]
async fn symbolic_links_out_of_the_app_lead_nowhere() {
    let dir = static_dir_with_links();
    let app = crate::helpers::spawn_app_with(|config| config.static_dir = Some(dir.path.clone())).await;
    for path in ["/app/leak.txt", "/app/etc/passwd", "/app/etc/hostname"] {
        let resp = app.get(path).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(!resp.text().await.unwrap().contains("root:"), "{path} leaked");
    }
    let inside = app.get("/app/home.html").send().await.unwrap();
    assert_eq!(inside.status(), StatusCode::OK, "a link that stays inside works");
    let served = app.get("/app/").send().await.unwrap().text().await.unwrap();
    assert_eq!(
        served,
        std::fs::read_to_string("static/index.html").unwrap(),
        "STATIC_DIR is what is served"
    );
}

/// ETags come from the bytes, so they reveal nothing of the file system (poem's were made
/// from the inode) and agree whichever copy serves them; they revalidate with 304.
#[tokio::test]
async fn app_files_are_tagged_by_content_and_revalidate() {
    use std::os::unix::fs::MetadataExt;
    let dir = static_dir_with_links();
    let (embedded, from_dir) = (
        spawn_app().await,
        crate::helpers::spawn_app_with(|config| config.static_dir = Some(dir.path.clone())).await,
    );
    let etag = header(&embedded.get("/app/").send().await.unwrap(), "etag");
    assert_eq!(header(&from_dir.get("/app/").send().await.unwrap(), "etag"), etag);
    let inode = std::fs::metadata("static/index.html").unwrap().ino();
    for form in [inode.to_string(), format!("{inode:x}")] {
        assert!(!etag.contains(&form), "{etag} holds the inode {form}");
    }
    let again = embedded
        .get("/app/")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&again, "cache-control"), "no-cache");
}

/// The binary carries the web app and Swagger UI: run from an empty directory, with no
/// source tree to fall back on, it still serves them. (`CHIRPY_BINARY` points this at
/// another build, e.g. the release one, as CI does.)
#[tokio::test]
async fn the_binary_serves_the_web_app_and_docs_from_an_empty_directory() {
    let binary = std::env::var_os("CHIRPY_BINARY").unwrap_or_else(|| env!("CARGO_BIN_EXE_chirpy").into());
    // Absolute, because the server runs from another directory.
    let binary = std::fs::canonicalize(&binary).unwrap_or_else(|err| panic!("no chirpy binary at {binary:?}: {err}"));
    let empty = crate::process::TempDir::new();
    let mut command = std::process::Command::new(binary);
    command
        .current_dir(&empty.path)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .args(["serve", "--throwaway-db"])
        .env("PORT", "0");
    let server = crate::process::RunningServer::launch(command);
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("{}{path}", server.base)).send();
    let index = get("/app/").await.unwrap();
    assert_eq!(index.status(), StatusCode::OK);
    assert_eq!(
        index.text().await.unwrap(),
        std::fs::read_to_string("static/index.html").unwrap()
    );
    for asset in ["/app/app.css", "/app/js/main.js", "/app/assets/logo.png"] {
        let resp = get(asset).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{asset}");
        let on_disk = std::fs::read(format!("static{}", asset.strip_prefix("/app").unwrap())).unwrap();
        assert_eq!(resp.bytes().await.unwrap().as_ref(), on_disk, "{asset}");
    }
    let docs = get("/docs").await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("swagger"), "Swagger UI");
    assert_eq!(
        std::fs::read_dir(&empty.path).unwrap().count(),
        0,
        "it wrote nothing where it runs"
    );
}
