//! What every request passes through: limits on its size and time, security headers, and
//! JSON bodies for the framework's own rejections.

use std::{sync::Arc, time::Duration};

use bytes::BytesMut;
use futures_util::StreamExt;
use poem::{
    Endpoint, IntoResponse, Middleware, Request, Response,
    error::{SizedLimitError, StaticFileError},
    http::{HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::{Cors, CorsEndpoint, SetHeader},
};
use poem_openapi::{
    OperationId,
    error::{AuthorizationError, ContentTypeError, ParseParamError, ParsePathError, ParseRequestPayloadError},
};

use crate::{error::ApiError, spec_rules::SpecRules};

/// The framework's own rejections become JSON errors with a clear message (and a 405 says
/// what is allowed); a response an operation already built passes through unchanged.
pub async fn json_errors<E: Endpoint>(next: E, req: Request, rules: &SpecRules) -> poem::Result<Response> {
    // Only errors need them; a Uri clone shares its bytes rather than copying them.
    let (method, uri) = (req.method().clone(), req.uri().clone());
    let err = match next.call(req).await {
        Ok(resp) => return Ok(resp.into_response()),
        Err(err) if err.is_from_response() => return Ok(err.into_response()),
        Err(err) => err,
    };
    let status = err.status();
    let operation = err.data::<OperationId>().map(|op| OperationId(op.0));
    let parameter = if let Some(param) = err.downcast_ref::<ParseParamError>() {
        rules.parameter_problem(method.as_str(), uri.path(), Some(param.name))
    } else if err.is::<ParsePathError>() {
        rules.parameter_problem(method.as_str(), uri.path(), None)
    } else {
        None
    };
    let error = match parameter {
        Some(problem) => ApiError::BadRequest(problem.into()),
        None => framework_error(err),
    };
    let mut resp = error.into_response();
    if status == StatusCode::METHOD_NOT_ALLOWED
        && let Some(allow) = rules
            .allowed_methods(uri.path())
            .and_then(|methods| HeaderValue::from_str(methods).ok())
    {
        resp.headers_mut().insert(header::ALLOW, allow);
    }
    // For the metrics and the log: which operation refused the request.
    if let Some(operation) = operation {
        resp.set_data(operation);
    }
    Ok(resp)
}

/// A rejection by poem or poem-openapi, in the client's terms where it can say them.
fn framework_error(err: poem::Error) -> ApiError {
    let status = err.status();
    if err.is::<AuthorizationError>() {
        ApiError::Unauthorized("Missing or malformed Authorization header")
    } else if err.is::<ContentTypeError>() {
        // The contract answers every malformed request with 400, a missing JSON content type included.
        ApiError::BadRequest("Expected a JSON body with `Content-Type: application/json`".into())
    } else if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::refused(status, "Request body is too large")
    } else if status.is_server_error() {
        ApiError::internal(format!("{status}: {err}"))
    } else if let Some(err) = err.downcast_ref::<ParseRequestPayloadError>() {
        ApiError::BadRequest(format!("Invalid request body: {}", err.reason).into())
    } else if let Some(err) = err.downcast_ref::<ParsePathError>() {
        // poem-openapi names path parameters by position here, not by their spec name.
        ApiError::BadRequest(format!("Invalid path parameter: {}", err.reason).into())
    } else if status == StatusCode::NOT_FOUND {
        ApiError::NotFound("Not found")
    } else if err.is::<StaticFileError>() {
        // Its message names the file's absolute path on this machine: not for clients.
        ApiError::refused(status, status.canonical_reason().unwrap_or("Refused"))
    } else {
        ApiError::refused(status, err.to_string())
    }
}

/// Caps request bodies at `limit` bytes, whether or not they declare a length, so a
/// handler never buffers more than that. The rest of a body that is too large is read and
/// thrown away while the 413 goes out (up to a bound, as nginx's lingering close does): a
/// client that sends its whole body before reading the answer (most do) would otherwise
/// see the connection closed under it, not the 413.
///
/// It keeps the body it read, too, so that a body the operation refuses is described in
/// the client's terms (which field, what it must be).
pub async fn limit_body<E: Endpoint>(
    next: E,
    mut req: Request,
    limit: usize,
    rules: &SpecRules,
) -> poem::Result<Response> {
    let declared = req.headers().get(header::CONTENT_LENGTH);
    let declared = declared.and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let mut body = req.take_body().into_bytes_stream();
    if declared.is_some_and(|len| len > limit as u64) {
        discard(body);
        return Err(SizedLimitError::PayloadTooLarge.into());
    }
    let mut read = BytesMut::new();
    while let Some(chunk) = body.next().await {
        // A body whose framing is broken (a bad chunk size, a connection cut short).
        let chunk = chunk.map_err(|_| ApiError::BadRequest("Malformed request body".into()))?;
        if read.len() + chunk.len() > limit {
            discard(body);
            return Err(SizedLimitError::PayloadTooLarge.into());
        }
        read.extend_from_slice(&chunk);
    }
    let read = read.freeze();
    let (method, uri) = (req.method().clone(), req.uri().clone());
    req.set_body(read.clone());
    match next.call(req).await {
        Err(err) if err.is::<ParseRequestPayloadError>() => {
            let problem = rules.body_problem(method.as_str(), uri.path(), &read);
            Err(problem.map_or(err, |problem| ApiError::BadRequest(problem.into()).into()))
        }
        other => other.map(IntoResponse::into_response),
    }
}

/// At most this much of a refused body is read...
const DISCARD_BYTES: usize = 64 * 1024 * 1024;
/// ...for at most this long.
const DISCARD_FOR: Duration = Duration::from_secs(10);

fn discard(body: impl futures_util::Stream<Item = std::io::Result<bytes::Bytes>> + Send + 'static) {
    tokio::spawn(async move {
        let mut body = std::pin::pin!(body);
        let mut left = DISCARD_BYTES;
        let reading = async {
            while let Some(Ok(chunk)) = body.next().await {
                left = left.saturating_sub(chunk.len());
                if left == 0 {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(DISCARD_FOR, reading).await;
    });
}

/// Refuses requests whose headers (names and values) add up to more than `limit` bytes:
/// 431, before any work is done for them.
pub async fn limit_headers<E: Endpoint>(next: E, req: Request, limit: usize) -> poem::Result<E::Output> {
    let size: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if size > limit {
        let too_large = ApiError::refused(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "Request headers are too large",
        );
        return Err(too_large.into());
    }
    next.call(req).await
}

/// A request still unanswered after `limit` (a stalled client body, a database that hangs)
/// gets 503 with `Retry-After`, and its work is dropped.
pub async fn time_limit<E: Endpoint>(next: E, req: Request, limit: Duration) -> poem::Result<Response> {
    let uri = req.uri().clone();
    match tokio::time::timeout(limit, next.call(req)).await {
        Ok(result) => result.map(IntoResponse::into_response),
        Err(_) => {
            tracing::warn!(%uri, limit_secs = limit.as_secs_f64(), "request timed out");
            let timeout = ApiError::refused(
                StatusCode::SERVICE_UNAVAILABLE,
                "The request took too long; try again shortly",
            );
            Ok(timeout.into_response())
        }
    }
}

/// On every response: browsers must not guess content types.
pub fn nosniff() -> SetHeader {
    SetHeader::new().overriding(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
}

/// On the web app: it may load only its own scripts, styles and images and talk only to
/// this server, and no other site may frame it.
pub fn web_app_headers() -> SetHeader {
    const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; \
                       object-src 'none'";
    SetHeader::new()
        .overriding(header::CONTENT_SECURITY_POLICY, CSP)
        .overriding(header::REFERRER_POLICY, "no-referrer")
        .overriding(header::X_FRAME_OPTIONS, "DENY")
}

/// CORS for the origins in `CORS_ALLOWED_ORIGINS` only. A request from any other origin
/// passes as if CORS did not exist: no CORS headers, so a browser keeps the answer from that
/// page (poem's own middleware would refuse it with a 403 instead, which non-browser
/// clients that send `Origin` would see too).
pub struct CorsForListedOrigins {
    origins: Vec<HeaderValue>,
}

impl CorsForListedOrigins {
    pub fn new(origins: &[String]) -> Self {
        let origins = origins
            .iter()
            .filter_map(|origin| HeaderValue::from_str(origin).ok())
            .collect();
        Self { origins }
    }
}

pub struct CorsForListedOriginsEndpoint<E> {
    origins: Vec<HeaderValue>,
    plain: Arc<E>,
    cors: Option<CorsEndpoint<Arc<E>>>,
}

impl<E: Endpoint> Middleware<E> for CorsForListedOrigins {
    type Output = CorsForListedOriginsEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        let plain = Arc::new(ep);
        let cors = (!self.origins.is_empty()).then(|| {
            Cors::new()
                .allow_origins(self.origins.iter().cloned())
                .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
                .allow_headers([
                    header::AUTHORIZATION,
                    header::CONTENT_TYPE,
                    header::IF_NONE_MATCH,
                    HeaderName::from_static("idempotency-key"),
                    HeaderName::from_static("last-event-id"),
                    HeaderName::from_static("x-request-id"),
                    HeaderName::from_static("traceparent"),
                    HeaderName::from_static("refresh-token-rotation"),
                ])
                .expose_headers([
                    header::LINK,
                    header::ETAG,
                    header::RETRY_AFTER,
                    HeaderName::from_static("ratelimit"),
                    HeaderName::from_static("ratelimit-policy"),
                    HeaderName::from_static("x-request-id"),
                ])
                .max_age(600)
                .transform(plain.clone())
        });
        CorsForListedOriginsEndpoint {
            origins: self.origins.clone(),
            plain,
            cors,
        }
    }
}

impl<E: Endpoint> Endpoint for CorsForListedOriginsEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let listed = req
            .headers()
            .get(header::ORIGIN)
            .is_some_and(|origin| self.origins.contains(origin));
        let Some(cors) = &self.cors else {
            return self.plain.call(req).await.map(IntoResponse::into_response);
        };
        let mut resp = if listed {
            cors.get_response(req).await
        } else {
            self.plain.get_response(req).await
        };
        // The answer depends on the Origin: a shared cache must not give one origin's to another.
        resp.headers_mut()
            .append(header::VARY, HeaderValue::from_static("origin"));
        Ok(resp)
    }
}
