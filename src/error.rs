//! The one error path. Handlers fail with [`ApiError`]; each operation declares which
//! statuses it can return with [`api_errors!`], so the spec lists exactly those; and
//! [`json_errors`] gives the framework's own rejections (bad JSON, bad parameters,
//! missing credentials, unknown routes) the same `{"error": ...}` body.

use std::borrow::Cow;

use poem::{
    Endpoint, IntoResponse, Request, Response,
    error::{ReadBodyError, SizedLimitError},
    http::{HeaderValue, StatusCode, header},
};
use poem_openapi::{
    Object,
    error::{AuthorizationError, ContentTypeError, ParsePathError, ParseRequestPayloadError},
    payload::Json,
};

use crate::{allowed_methods::AllowedMethods, domain::Invalid};

type Cause = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(Cow<'static, str>),
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(&'static str),
    /// Anything the client could not have caused: logged with its cause, reported opaquely.
    #[error("internal error: {0}")]
    Internal(Cause),
}

impl ApiError {
    pub fn internal(cause: impl Into<Cause>) -> Self {
        Self::Internal(cause.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The body the client sees. Internal causes are logged here and never sent.
    pub fn into_body(self) -> Json<ErrorBody> {
        match self {
            Self::Internal(cause) => {
                tracing::error!(error = %cause, "request failed");
                ErrorBody::json(INTERNAL_MESSAGE)
            }
            client_error => ErrorBody::json(client_error.to_string()),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        Self::internal(err)
    }
}

impl From<Invalid> for ApiError {
    fn from(Invalid(message): Invalid) -> Self {
        Self::BadRequest(message.into())
    }
}

/// Lets security-scheme checkers, which must return `poem::Error`, fail the same way.
impl From<ApiError> for poem::Error {
    fn from(err: ApiError) -> Self {
        let status = err.status();
        poem::Error::from_response(err.into_body().with_status(status).into_response())
    }
}

const INTERNAL_MESSAGE: &str = "Internal server error";

/// The body of every 4xx and 5xx response.
#[derive(Debug, Object)]
pub struct ErrorBody {
    /// What went wrong, for a human to read.
    pub error: String,
}

impl ErrorBody {
    pub fn json(message: impl Into<String>) -> Json<Self> {
        Json(Self { error: message.into() })
    }
}

/// Declares the error responses of one operation: a `#[derive(ApiResponse)]` enum with a
/// variant per status (plus 500), and a conversion from [`ApiError`]. An `ApiError` whose
/// status the operation did not declare is a bug: it is logged and answered with 500, so
/// the spec never lies about what a client can receive.
macro_rules! api_errors {
    ($(#[$meta:meta])* $vis:vis enum $name:ident {
        $($(#[$variant_meta:meta])* $variant:ident = $status:literal),* $(,)?
    }) => {
        $(#[$meta])*
        #[derive(poem_openapi::ApiResponse)]
        $vis enum $name {
            $(
                $(#[$variant_meta])*
                #[oai(status = $status)]
                $variant(poem_openapi::payload::Json<$crate::error::ErrorBody>),
            )*
            /// An unexpected server failure; its cause is logged, not returned.
            #[oai(status = 500)]
            Internal(poem_openapi::payload::Json<$crate::error::ErrorBody>),
        }

        impl From<$crate::error::ApiError> for $name {
            fn from(err: $crate::error::ApiError) -> Self {
                match err.status().as_u16() {
                    $($status => Self::$variant(err.into_body()),)*
                    500 => Self::Internal(err.into_body()),
                    undeclared => {
                        tracing::error!(status = undeclared, error = %err, operation = stringify!($name),
                            "operation produced a status its spec does not declare");
                        Self::Internal($crate::error::ApiError::internal("undeclared status").into_body())
                    }
                }
            }
        }

        impl From<$crate::domain::Invalid> for $name {
            fn from(err: $crate::domain::Invalid) -> Self {
                $crate::error::ApiError::from(err).into()
            }
        }

        impl From<sqlx::Error> for $name {
            fn from(err: sqlx::Error) -> Self {
                $crate::error::ApiError::from(err).into()
            }
        }
    };
}
pub(crate) use api_errors;

/// Turns the violation of one named constraint into a client error, anything else
/// into an internal one: `.map_err(on_constraint("users_email_lower_key", conflict))`.
pub fn on_constraint(name: &'static str, client_error: ApiError) -> impl FnOnce(sqlx::Error) -> ApiError {
    move |err| match &err {
        sqlx::Error::Database(db) if db.constraint() == Some(name) => client_error,
        _ => ApiError::from(err),
    }
}

/// Middleware for the whole app: the framework's own rejections become JSON errors with a
/// clear message (and a 405 says what is allowed); a response an operation already built
/// passes through unchanged.
pub async fn json_errors<E: Endpoint>(next: E, req: Request, allowed: &AllowedMethods) -> poem::Result<Response> {
    let path = req.uri().path().to_owned();
    let err = match next.call(req).await {
        Ok(resp) => return Ok(resp.into_response()),
        Err(err) if err.is_from_response() => return Ok(err.into_response()),
        Err(err) => err,
    };
    let (status, message): (StatusCode, Cow<'static, str>) = if err.is::<AuthorizationError>() {
        (
            StatusCode::UNAUTHORIZED,
            "Missing or malformed Authorization header".into(),
        )
    } else if err.is::<ContentTypeError>() {
        // The contract answers every malformed request with 400, a missing JSON content type included.
        (
            StatusCode::BAD_REQUEST,
            "Expected a JSON body with `Content-Type: application/json`".into(),
        )
    } else if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
        (StatusCode::PAYLOAD_TOO_LARGE, "Request body is too large".into())
    } else if err.status().is_server_error() {
        tracing::error!(error = %err, status = err.status().as_u16(), "request failed");
        (err.status(), INTERNAL_MESSAGE.into())
    } else if let Some(err) = err.downcast_ref::<ParseRequestPayloadError>() {
        (
            StatusCode::BAD_REQUEST,
            format!("Invalid request body: {}", err.reason).into(),
        )
    } else if let Some(err) = err.downcast_ref::<ParsePathError>() {
        // poem-openapi names path parameters by position here, not by their spec name.
        (
            StatusCode::BAD_REQUEST,
            format!("Invalid path parameter: {}", err.reason).into(),
        )
    } else if err.status() == StatusCode::NOT_FOUND {
        (StatusCode::NOT_FOUND, "Not found".into())
    } else {
        (err.status(), err.to_string().into())
    };
    let mut resp = ErrorBody::json(message).with_status(status).into_response();
    if status == StatusCode::METHOD_NOT_ALLOWED
        && let Some(allow) = allowed
            .for_path(&path)
            .and_then(|methods| HeaderValue::from_str(methods).ok())
    {
        resp.headers_mut().insert(header::ALLOW, allow);
    }
    Ok(resp)
}

/// Middleware capping request bodies at `limit` bytes, whether or not they declare a
/// length, so a handler never buffers more than that.
pub async fn limit_body<E: Endpoint>(next: E, mut req: Request, limit: usize) -> poem::Result<E::Output> {
    let declared = req.headers().get(poem::http::header::CONTENT_LENGTH);
    let declared = declared.and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(SizedLimitError::PayloadTooLarge.into());
    }
    let body = req.take_body().into_bytes_limit(limit).await.map_err(|err| match err {
        ReadBodyError::PayloadTooLarge => poem::Error::from(SizedLimitError::PayloadTooLarge),
        other => other.into(),
    })?;
    req.set_body(body);
    next.call(req).await
}
