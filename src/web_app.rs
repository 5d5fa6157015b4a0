//! The web app under `/app/`: the files of `static/`, built into the binary, or read from
//! `STATIC_DIR` (for working on the app without rebuilding). Only what is inside the
//! directory is ever served: paths with `..` are refused, and a file reached through a
//! symbolic link that leads out of it does not exist (symbolic links are never embedded).
//!
//! Every file has a strong ETag made from its bytes (never from the file system, whose
//! inode numbers it would expose) and `Cache-Control: no-cache`; `If-None-Match` gets 304.

use std::{
    collections::HashMap,
    hash::{Hash, Hasher},
    path::{Path, PathBuf},
    sync::Arc,
};

use bytes::Bytes;
use poem::{
    Endpoint, IntoResponse, Request, Response,
    http::{HeaderValue, Method, StatusCode, header},
};

use crate::{api::client_has, error::ApiError, visits::Visits};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/static_files.rs"));
}

/// A file ready to send.
#[derive(Debug, Clone)]
struct File {
    bytes: Bytes,
    etag: HeaderValue,
    content_type: &'static str,
}

impl File {
    fn new(path: &str, bytes: Bytes) -> Self {
        let mut hasher = std::hash::DefaultHasher::new();
        bytes.hash(&mut hasher);
        let etag = HeaderValue::try_from(format!("\"{:016x}\"", hasher.finish())).expect("hex in quotes");
        Self {
            bytes,
            etag,
            content_type: content_type(path),
        }
    }
}

/// Where the files come from.
#[derive(Debug)]
pub struct Files(Source);

#[derive(Debug)]
enum Source {
    /// Built into the binary.
    Embedded(HashMap<&'static str, File>),
    /// Read at each request from this directory (absolute, symbolic links resolved).
    Dir(PathBuf),
}

impl Files {
    pub fn embedded() -> Self {
        let files = embedded::FILES
            .iter()
            .map(|(path, bytes)| (*path, File::new(path, Bytes::from_static(bytes))));
        Self(Source::Embedded(files.collect()))
    }

    pub fn dir(dir: &Path) -> std::io::Result<Self> {
        let dir = dir.canonicalize()?;
        if !dir.is_dir() {
            return Err(std::io::Error::other(format!("{} is not a directory", dir.display())));
        }
        Ok(Self(Source::Dir(dir)))
    }

    /// The file at `path` (relative, already checked to stay inside), if there is one.
    async fn get(&self, path: &str) -> Option<File> {
        match &self.0 {
            Source::Embedded(files) => files.get(path).cloned(),
            Source::Dir(dir) => {
                let file = dir.join(path).canonicalize().ok()?;
                // Followed out of the directory (a symbolic link): not ours to serve.
                if !file.starts_with(dir) || !file.is_file() {
                    return None;
                }
                let bytes = tokio::fs::read(&file).await.ok()?;
                Some(File::new(path, bytes.into()))
            }
        }
    }
}

/// Serves the files, counting each request as a visit.
pub struct WebApp {
    files: Arc<Files>,
    visits: Arc<Visits>,
}

impl WebApp {
    pub fn new(files: Files, visits: Arc<Visits>) -> Self {
        Self {
            files: Arc::new(files),
            visits,
        }
    }
}

const NOT_FOUND: ApiError = ApiError::NotFound("Not found");

impl Endpoint for WebApp {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        if req.method() != Method::GET && req.method() != Method::HEAD {
            let mut refused = ApiError::refused(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed").into_response();
            refused
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return Ok(refused);
        }
        self.visits.count();
        // The path under /app/, as sent (percent-decoded, checked segment by segment).
        let path = relative_path(req.uri().path()).ok_or(NOT_FOUND)?;
        let path = if path.is_empty() { "index.html".to_owned() } else { path };
        let file = self.files.get(&path).await.ok_or(NOT_FOUND)?;
        let if_none_match = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok());
        let mut resp = if client_has(if_none_match, &file.etag) {
            Response::builder().status(StatusCode::NOT_MODIFIED).finish()
        } else if req.method() == Method::HEAD {
            Response::builder().content_type(file.content_type).finish()
        } else {
            Response::builder().content_type(file.content_type).body(file.bytes)
        };
        let headers = resp.headers_mut();
        headers.insert(header::ETAG, file.etag);
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        Ok(resp.into_response())
    }
}

/// `/app/...`'s path below the app, decoded; `None` for anything that could leave it (a
/// `..` or `.` segment, a backslash, a NUL, an empty segment) or that is not UTF-8.
fn relative_path(uri_path: &str) -> Option<String> {
    let rest = uri_path.strip_prefix('/').unwrap_or(uri_path);
    let decoded = percent_decode(rest)?;
    if decoded.is_empty() {
        return Some(decoded);
    }
    // An empty segment too: `//x`, or a trailing slash (a directory, never served).
    let safe = decoded
        .split('/')
        .all(|segment| !segment.is_empty() && segment != "." && segment != ".." && !segment.contains(['\\', '\0']));
    safe.then_some(decoded)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn content_type(path: &str) -> &'static str {
    match path
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .as_deref()
    {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("json" | "webmanifest") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_could_leave_the_app_are_refused() {
        assert_eq!(relative_path("/"), Some(String::new()));
        assert_eq!(relative_path("/index.html").as_deref(), Some("index.html"));
        assert_eq!(relative_path("/js/main.js").as_deref(), Some("js/main.js"));
        assert_eq!(relative_path("/a%20b.txt").as_deref(), Some("a b.txt"));
        for bad in [
            "/../Cargo.toml",
            "/%2e%2e/Cargo.toml",
            "/..%2fCargo.toml",
            "/assets/../../x",
            "/./index.html",
            "//etc/passwd",
            "/%2fetc%2fpasswd",
            "/..%5cCargo.toml",
            "/js/",
            "/%00",
            "/%zz",
            "/%ff",
        ] {
            assert_eq!(relative_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_file_of_static_is_embedded_with_its_bytes() {
        let Source::Embedded(files) = Files::embedded().0 else {
            unreachable!()
        };
        let index = &files["index.html"];
        assert_eq!(index.content_type, "text/html; charset=utf-8");
        let on_disk = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/static/index.html")).unwrap();
        assert_eq!(index.bytes.as_ref(), on_disk);
        assert!(files.contains_key("assets/logo.png") && files.contains_key("js/main.js"));
    }
}
