//! The one error path. Every failure becomes an [`ApiError`], and an `ApiError` becomes the
//! `{"error": ...}` body in one place, [`ApiError::into_parts`]: operations declare which
//! statuses they can return with [`api_errors!`] (so the spec lists exactly those), and
//! everything outside an operation (the framework's own rejections, limits, security
//! checkers) answers with [`ApiError::into_response`].

use std::borrow::Cow;

use poem::{
    IntoResponse, Response,
    http::{HeaderValue, StatusCode, header},
};
use poem_openapi::{Object, payload::Json};

use crate::domain::Invalid;

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
    /// Any other client error the framework or a limit raises (405, 413, 414, 431, ...).
    #[error("{message}")]
    Refused {
        status: StatusCode,
        message: Cow<'static, str>,
    },
    #[error("{message}")]
    TooManyRequests {
        message: &'static str,
        retry_after_secs: u64,
    },
    /// Anything the client could not have caused: logged with its cause, reported opaquely.
    #[error("internal error: {0}")]
    Internal(Cause),
    /// The database cannot be reached or has no free connection, or the request ran out of
    /// time: worth retrying shortly.
    #[error("service unavailable: {0}")]
    Unavailable(Cause),
}

/// How long a client should wait after a 503.
pub const UNAVAILABLE_RETRY_SECS: u64 = 1;

impl ApiError {
    pub fn internal(cause: impl Into<Cause>) -> Self {
        Self::Internal(cause.into())
    }

    pub fn refused(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self::Refused {
            status,
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Refused { status, .. } => *status,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The `Retry-After` seconds that go with a 429 or a 503.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::TooManyRequests { retry_after_secs, .. } => Some(*retry_after_secs),
            _ if self.status() == StatusCode::SERVICE_UNAVAILABLE => Some(UNAVAILABLE_RETRY_SECS),
            _ => None,
        }
    }

    /// The body the client sees. Server-side causes are logged here and never sent.
    pub fn into_body(self) -> Json<ErrorBody> {
        match self {
            Self::Internal(cause) => {
                tracing::error!(error = %cause, "request failed");
                // The id lets a user's report be matched to this log line.
                match crate::observe::current_request_id() {
                    Some(id) => ErrorBody::json(format!("{INTERNAL_MESSAGE} (request id {id})")),
                    None => ErrorBody::json(INTERNAL_MESSAGE),
                }
            }
            Self::Unavailable(cause) => {
                tracing::warn!(error = %cause, "service unavailable");
                ErrorBody::json(UNAVAILABLE_MESSAGE)
            }
            client_error => ErrorBody::json(client_error.to_string()),
        }
    }

    /// The whole response, for errors raised outside an operation.
    pub fn into_response(self) -> Response {
        let (status, retry_after) = (self.status(), self.retry_after_secs());
        let mut resp = self.into_body().with_status(status).into_response();
        if let Some(secs) = retry_after {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        match err {
            // No connection within the pool's acquire timeout, or the server unreachable:
            // nothing the client did wrong, and likely to pass.
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => Self::Unavailable(err.into()),
            sqlx::Error::Database(ref db) if is_transient(db.code().as_deref()) => Self::Unavailable(err.into()),
            _ => Self::internal(err),
        }
    }
}

/// SQLSTATEs that mean the server is shutting down, restarting or out of connections.
fn is_transient(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("57P01" | "57P02" | "57P03" | "53300" | "08000" | "08003" | "08006")
    )
}

impl From<Invalid> for ApiError {
    fn from(Invalid(message): Invalid) -> Self {
        Self::BadRequest(message.into())
    }
}

/// Lets security-scheme checkers, which must return `poem::Error`, fail the same way.
impl From<ApiError> for poem::Error {
    fn from(err: ApiError) -> Self {
        poem::Error::from_response(err.into_response())
    }
}

pub(crate) const INTERNAL_MESSAGE: &str = "Internal server error";
const UNAVAILABLE_MESSAGE: &str = "Service temporarily unavailable, try again shortly";

/// The body of every 4xx and 5xx response.
#[derive(Debug, Object)]
pub struct ErrorBody {
    /// What went wrong, for a human to read.
    pub error: String,
}

impl ErrorBody {
    fn json(message: impl Into<String>) -> Json<Self> {
        Json(Self { error: message.into() })
    }
}

/// Declares the error responses of one operation: a `#[derive(ApiResponse)]` enum with a
/// variant per declared status, plus 500 and 503 (which any operation touching the database
/// can meet), and a conversion from [`ApiError`]. `throttled enum` adds 429. An `ApiError`
/// whose status the operation did not declare is a bug: it is logged and answered with 500,
/// so the spec never lies about what a client can receive.
macro_rules! api_errors {
    ($(#[$meta:meta])* $vis:vis throttled enum $name:ident { $($variants:tt)* }) => {
        $crate::error::api_errors!(@build [$(#[$meta])*] $vis $name [throttled] { $($variants)* });
    };
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($variants:tt)* }) => {
        $crate::error::api_errors!(@build [$(#[$meta])*] $vis $name [] { $($variants)* });
    };
    (@build [$($meta:tt)*] $vis:vis $name:ident [$($throttled:ident)?] {
        $($(#[$variant_meta:meta])* $variant:ident = $status:literal),* $(,)?
    }) => {
        $($meta)*
        #[derive(poem_openapi::ApiResponse)]
        $vis enum $name {
            $(
                $(#[$variant_meta])*
                #[oai(status = $status)]
                $variant(poem_openapi::payload::Json<$crate::error::ErrorBody>),
            )*
            $(
                /// Too many requests (at login: too many failed attempts); retry after `Retry-After`
                /// seconds. `RateLimit` says which limit and how long it lasts.
                // (Never applied: it only puts `$throttled` inside this repetition.)
                #[cfg_attr(any(), $throttled)]
                #[oai(status = 429)]
                TooManyRequests(
                    poem_openapi::payload::Json<$crate::error::ErrorBody>,
                    /// Seconds to wait before trying again.
                    #[oai(header = "Retry-After")] u64,
                ),
            )?
            /// An unexpected server failure; its cause is logged, not returned.
            #[oai(status = 500)]
            Internal(poem_openapi::payload::Json<$crate::error::ErrorBody>),
            /// The database is unreachable or busy; retry after `Retry-After` seconds.
            #[oai(status = 503)]
            Unavailable(
                poem_openapi::payload::Json<$crate::error::ErrorBody>,
                /// Seconds to wait before trying again.
                #[oai(header = "Retry-After")] u64,
            ),
        }

        impl From<$crate::error::ApiError> for $name {
            fn from(err: $crate::error::ApiError) -> Self {
                let retry_after = err.retry_after_secs().unwrap_or($crate::error::UNAVAILABLE_RETRY_SECS);
                match err.status().as_u16() {
                    $($status => Self::$variant(err.into_body()),)*
                    $(429 if stringify!($throttled) == "throttled" => Self::TooManyRequests(err.into_body(), retry_after),)?
                    500 => Self::Internal(err.into_body()),
                    503 => Self::Unavailable(err.into_body(), retry_after),
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
