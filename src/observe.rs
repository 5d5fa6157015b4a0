//! What every request leaves behind for an operator: a request id (the client's
//! `X-Request-Id` when well formed, else a new one) echoed on every response; the W3C trace
//! it belongs to (an incoming `traceparent` is continued, else one is started); a log span
//! with both, in which everything the request logs is written; one log line when it is
//! answered (operation, status, latency); and the metrics of it.

use std::{sync::Arc, time::Instant};

use poem::{
    Endpoint, IntoResponse, Request, Response,
    http::{HeaderName, HeaderValue},
};
use poem_openapi::OperationId;
use tracing::Instrument;

use crate::{
    client_address::TrustedProxies,
    metrics::{Metrics, method_label},
};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
/// Longest client request id taken as it is.
const MAX_REQUEST_ID: usize = 128;

tokio::task_local! {
    /// The current request's id, for answers that quote it (an opaque 500).
    static CURRENT: Arc<str>;
}

/// The id of the request being answered on this task, if any.
pub fn current_request_id() -> Option<Arc<str>> {
    CURRENT.try_with(Arc::clone).ok()
}

/// Answers `req` with `next`, observed; `metrics` is `None` when they are off. The client
/// logged is the peer, or behind `proxies` the address they forwarded.
pub async fn observe<E: Endpoint>(
    next: E,
    req: Request,
    metrics: Option<&Metrics>,
    proxies: &TrustedProxies,
) -> poem::Result<Response> {
    let started = Instant::now();
    let id: Arc<str> = match req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()) {
        Some(id) if well_formed(id) => id.into(),
        _ => new_request_id().into(),
    };
    let trace = req
        .headers()
        .get(TRACEPARENT)
        .and_then(|v| v.to_str().ok())
        .and_then(TraceParent::parse)
        .unwrap_or_else(TraceParent::start);
    let method = method_label(req.method());
    let outside_api = outside_api(req.uri().path());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        trace_id = %trace.trace_id,
        method,
        path = req.uri().path(),
        client = tracing::field::Empty,
        operation = tracing::field::Empty,
    );
    if let Some(client) = proxies.client_of(req.remote_addr(), req.headers()) {
        span.record("client", tracing::field::display(client));
    }
    if let Some(metrics) = metrics {
        metrics.request_started();
    }
    let answered = CURRENT.scope(id.clone(), next.call(req).instrument(span.clone())).await;
    let mut resp = match answered {
        Ok(resp) => resp.into_response(),
        Err(err) => err.into_response(),
    };
    let operation = resp.data::<OperationId>().map_or(outside_api, |op| op.0);
    let status = resp.status().as_u16();
    let seconds = started.elapsed().as_secs_f64();
    if let Some(metrics) = metrics {
        metrics.request_answered(operation, method, status, seconds);
    }
    span.record("operation", operation);
    span.in_scope(|| tracing::info!(status, latency_ms = seconds * 1e3, "answered"));
    if let Ok(id) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID, id);
    }
    Ok(resp)
}

/// What a request the API did not answer is labelled with: where it went, in a few words.
fn outside_api(path: &str) -> &'static str {
    let under = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    if under("/app") {
        "webApp"
    } else if under("/docs") {
        "docs"
    } else if path == "/openapi.json" || path == "/openapi.yaml" {
        "spec"
    } else {
        "unmatched"
    }
}

/// 1 to 128 visible ASCII characters: anything else could forge log lines or headers.
fn well_formed(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_REQUEST_ID && id.bytes().all(|b| b.is_ascii_graphic())
}

/// A fresh request id: 32 random hex digits.
pub fn new_request_id() -> String {
    random_hex(16)
}

/// `bytes` (at most [`RANDOM_BATCH`]) random bytes as lowercase hex.
fn random_hex(bytes: usize) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(bytes * 2);
    with_random_bytes(bytes, |raw| {
        for b in raw {
            hex.push(char::from(DIGITS[usize::from(b >> 4)]));
            hex.push(char::from(DIGITS[usize::from(b & 0xf)]));
        }
    });
    hex
}

/// Bytes from the OS random source, read this many at a time: two ids per request, each its
/// own `getrandom` call and sixteen `format!`s, were a tenth of a cached read's CPU.
const RANDOM_BATCH: usize = 1024;

thread_local! {
    /// Random bytes not handed out yet: the batch, and how far into it they start.
    static RANDOM: std::cell::RefCell<([u8; RANDOM_BATCH], usize)> =
        const { std::cell::RefCell::new(([0; RANDOM_BATCH], RANDOM_BATCH)) };
}

/// Calls `use_them` with `n` (at most [`RANDOM_BATCH`]) random bytes never handed out before.
fn with_random_bytes(n: usize, use_them: impl FnOnce(&[u8])) {
    assert!(n <= RANDOM_BATCH, "at most {RANDOM_BATCH} random bytes at a time");
    RANDOM.with_borrow_mut(|(batch, next)| {
        if *next + n > RANDOM_BATCH {
            // The OS random source failing is no reason to fail a request: ids made of
            // whatever the batch held before still work.
            let _ = getrandom::fill(batch);
            *next = 0;
        }
        use_them(&batch[*next..*next + n]);
        *next += n;
    });
}

/// A W3C `traceparent` (`00-<trace id>-<parent id>-<flags>`): the trace this request
/// belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TraceParent {
    trace_id: String,
}

impl TraceParent {
    /// A fresh trace, for a request that came without one.
    fn start() -> Self {
        Self {
            trace_id: random_hex(16),
        }
    }

    /// The header, if well formed; a malformed one is ignored, never an error (W3C Trace
    /// Context, section 3.2: version `ff` and all-zero ids are invalid; a higher version
    /// may carry more after the flags).
    fn parse(header: &str) -> Option<Self> {
        let mut parts = header.trim().split('-');
        let (version, trace_id, parent_id, flags) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let hex = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        let zero = |s: &str| s.bytes().all(|b| b == b'0');
        let valid = hex(version, 2)
            && version != "ff"
            && (version != "00" || parts.next().is_none())
            && hex(trace_id, 32)
            && !zero(trace_id)
            && hex(parent_id, 16)
            && !zero(parent_id)
            && hex(flags, 2);
        valid.then(|| Self {
            trace_id: trace_id.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn random_ids_do_not_repeat_across_batches() {
        // Several batches' worth: the refill must hand out fresh bytes, never the old ones.
        let ids: HashSet<String> = (0..4 * RANDOM_BATCH / 16).map(|_| random_hex(16)).collect();
        assert_eq!(ids.len(), 4 * RANDOM_BATCH / 16);
        assert!(ids.iter().all(|id| id != &"0".repeat(32)));
    }

    #[test]
    fn requests_outside_the_api_get_a_few_labels() {
        for (path, label) in [
            ("/app", "webApp"),
            ("/app/", "webApp"),
            ("/app/app.js", "webApp"),
            ("/application", "unmatched"),
            ("/docs", "docs"),
            ("/docs/index.css", "docs"),
            ("/openapi.json", "spec"),
            ("/openapi.yaml", "spec"),
            ("/api/nope/123", "unmatched"),
            ("/", "unmatched"),
        ] {
            assert_eq!(outside_api(path), label, "{path}");
        }
    }

    #[test]
    fn request_ids_are_short_visible_ascii() {
        assert!(well_formed("abc-123_XYZ.:/"));
        assert!(well_formed(&"a".repeat(128)));
        for bad in ["", " ", "a b", "new\nline", "tab\t", "é", &"a".repeat(129), "\u{7f}"] {
            assert!(!well_formed(bad), "{bad:?}");
        }
        let generated = random_hex(16);
        assert_eq!(generated.len(), 32);
        assert!(well_formed(&generated));
        assert!(
            generated.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
            "{generated}"
        );
    }

    #[test]
    fn traceparents_are_continued_when_valid_and_ignored_otherwise() {
        let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
        let header = format!("00-{trace}-00f067aa0ba902b7-01");
        assert_eq!(TraceParent::parse(&header).unwrap().trace_id, trace);
        let future = format!("01-{trace}-00f067aa0ba902b7-01-more");
        assert_eq!(
            TraceParent::parse(&future).unwrap().trace_id,
            trace,
            "later versions may add fields"
        );
        for bad in [
            String::new(),
            "nonsense".to_owned(),
            format!("ff-{trace}-00f067aa0ba902b7-01"),
            format!("00-{}-00f067aa0ba902b7-01", "0".repeat(32)),
            format!("00-{trace}-0000000000000000-01"),
            format!("00-{}-00f067aa0ba902b7-01", trace.to_uppercase()),
            format!("00-{trace}-00f067aa0ba902b7-01-extra"),
            format!("00-{}-00f067aa0ba902b7-01", &trace[1..]),
        ] {
            assert_eq!(TraceParent::parse(&bad), None, "{bad}");
        }
        assert_ne!(TraceParent::start().trace_id, TraceParent::start().trace_id);
    }
}
