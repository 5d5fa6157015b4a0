//! A reader of Server-Sent Events, for the live feeds' tests.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, header};

/// One event as the wire carries it.
#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    pub id: String,
    pub kind: String,
    pub data: Value,
}

/// A reader of one stream, parsing events (and counting comment lines) as they come.
pub struct Reader {
    response: reqwest::Response,
    buffer: String,
    pub comments: usize,
}

impl Reader {
    /// `GET /api/chirps/stream` with `query` (`""` or `?...`).
    pub async fn open(app: &TestApp, query: &str, last_event_id: Option<&str>) -> Self {
        Self::open_at(app.get(&format!("/api/chirps/stream{query}")), last_event_id).await
    }

    /// `GET /api/timelines/home/stream` as the holder of `token`.
    pub async fn home(app: &TestApp, token: &str, last_event_id: Option<&str>) -> Self {
        Self::open_at(app.get("/api/timelines/home/stream").bearer_auth(token), last_event_id).await
    }

    async fn open_at(mut request: reqwest::RequestBuilder, last_event_id: Option<&str>) -> Self {
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(header(&response, "content-type").starts_with("text/event-stream"));
        Self {
            response,
            buffer: String::new(),
            comments: 0,
        }
    }

    /// The next event, or `None` if none comes within `wait` (or the stream ended).
    pub async fn next(&mut self, wait: Duration) -> Option<SseEvent> {
        let deadline = Instant::now() + wait;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut id, mut kind, mut data) = (String::new(), String::new(), String::new());
                for line in block.lines() {
                    match line.split_once(':') {
                        Some(("", _)) => self.comments += 1,
                        Some(("id", value)) => id = value.trim_start().to_owned(),
                        Some(("event", value)) => kind = value.trim_start().to_owned(),
                        Some(("data", value)) => data.push_str(value.trim_start()),
                        _ => {}
                    }
                }
                if !data.is_empty() {
                    let data = serde_json::from_str(&data).unwrap_or_else(|err| panic!("{err}: {data}"));
                    return Some(SseEvent { id, kind, data });
                }
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            let chunk = tokio::time::timeout(left, self.response.chunk()).await.ok()?.ok()??;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}
