//! Health, the hit counter and the dev-only reset.

use poem::web::Data;
use poem_openapi::{
    ApiResponse,
    payload::{Html, PlainText},
};

use super::ApiTags;
use crate::{
    config::Platform,
    error::{ApiError, api_errors},
    state::AppState,
};

api_errors! {
    enum ResetError {
        /// The server is not running with `PLATFORM=dev`.
        Forbidden = 403,
    }
}

api_errors! {
    enum ReadyError {}
}

api_errors! {
    enum MetricsError {}
}

#[derive(ApiResponse)]
enum Healthy {
    /// `OK`: the process is serving requests.
    #[oai(status = 200)]
    Ok(PlainText<&'static str>),
}

#[derive(ApiResponse)]
enum Ready {
    /// `OK`: the database answers, so requests can succeed.
    #[oai(status = 200)]
    Ok(PlainText<&'static str>),
}

#[derive(ApiResponse)]
enum VisitCount {
    /// An HTML page with the number of visits.
    #[oai(status = 200)]
    Ok(Html<String>),
}

#[derive(ApiResponse)]
enum ResetDone {
    /// Every user is deleted and the visit count is zero; the text says how many users.
    #[oai(status = 200)]
    Ok(PlainText<String>),
}

/// Readiness must answer quickly even when the database hangs.
const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

pub struct AdminApi;

operations! {
    "ApiTags::Admin",
    impl AdminApi {
        /// Health check
        ///
        /// `OK` while the process is serving requests.
        #[oai(path = "/api/healthz", method = "get", operation_id = "healthz")]
        async fn healthz(&self) -> Healthy {
            Healthy::Ok(PlainText("OK"))
        }

        /// Readiness check
        ///
        /// `OK` when the database answers within a second; 503 (with `Retry-After`) when it does not.
        /// Unlike `/api/healthz` (liveness), this says whether requests can succeed.
        #[oai(path = "/api/readyz", method = "get", operation_id = "readyz")]
        async fn readyz(&self, state: Data<&AppState>) -> Result<Ready, ReadyError> {
            match tokio::time::timeout(READY_TIMEOUT, state.store.ping()).await {
                Ok(answer) => answer
                    .map(|()| Ready::Ok(PlainText("OK")))
                    .map_err(|err| ApiError::Unavailable(err.into()).into()),
                Err(elapsed) => Err(ApiError::Unavailable(elapsed.into()).into()),
            }
        }

        /// Visit count
        ///
        /// How many requests `/app/` has served since the last reset, on every instance (within a
        /// second: each instance adds its count every second).
        #[oai(path = "/admin/metrics", method = "get", operation_id = "metrics")]
        async fn metrics(&self, state: Data<&AppState>) -> Result<VisitCount, MetricsError> {
            let hits = state.visits.total().await?;
            Ok(VisitCount::Ok(Html(format!(
                "<html>\n  <body>\n    <h1>Welcome, Chirpy Admin</h1>\n    <p>Chirpy has been visited {hits} times!</p>\n  </body>\n</html>\n"
            ))))
        }

        /// Reset (dev only)
        ///
        /// Deletes every user (their chirps and tokens with them) and zeroes the visit count, for
        /// every instance.
        /// Only with `PLATFORM=dev`.
        #[oai(path = "/admin/reset", method = "post", operation_id = "reset")]
        async fn reset(&self, state: Data<&AppState>) -> Result<ResetDone, ResetError> {
            if state.platform != Platform::Dev {
                return Err(ApiError::Forbidden("Reset is only allowed when PLATFORM=dev").into());
            }
            let deleted = state.visits.reset_with_users().await?;
            tracing::warn!(users_deleted = deleted, "database reset");
            Ok(ResetDone::Ok(PlainText(format!(
                "Reset: {deleted} users deleted, hit counter zeroed"
            ))))
        }
    }
}
