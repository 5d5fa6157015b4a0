//! Health, the hit counter and the dev-only reset.

use std::sync::atomic::Ordering;

use poem::web::Data;
use poem_openapi::{
    OpenApi,
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

pub struct AdminApi;

#[OpenApi(tag = "ApiTags::Admin")]
impl AdminApi {
    /// Health check
    ///
    /// `OK` while the process is serving requests.
    #[oai(path = "/api/healthz", method = "get", operation_id = "healthz")]
    async fn healthz(&self) -> PlainText<&'static str> {
        PlainText("OK")
    }

    /// Visit count
    ///
    /// How many requests `/app/` has served since start or the last reset.
    #[oai(path = "/admin/metrics", method = "get", operation_id = "metrics")]
    async fn metrics(&self, state: Data<&AppState>) -> Html<String> {
        let hits = state.hits.load(Ordering::Relaxed);
        Html(format!(
            "<html>\n  <body>\n    <h1>Welcome, Chirpy Admin</h1>\n    <p>Chirpy has been visited {hits} times!</p>\n  </body>\n</html>\n"
        ))
    }

    /// Reset (dev only)
    ///
    /// Deletes every user (their chirps and tokens with them) and zeroes the visit count.
    /// Only with `PLATFORM=dev`.
    #[oai(path = "/admin/reset", method = "post", operation_id = "reset")]
    async fn reset(&self, state: Data<&AppState>) -> Result<PlainText<String>, ResetError> {
        if state.platform != Platform::Dev {
            return Err(ApiError::Forbidden("Reset is only allowed when PLATFORM=dev").into());
        }
        let deleted = sqlx::query!("delete from users")
            .execute(&state.db)
            .await?
            .rows_affected();
        state.hits.store(0, Ordering::Relaxed);
        tracing::warn!(users_deleted = deleted, "database reset");
        Ok(PlainText(format!("Reset: {deleted} users deleted, hit counter zeroed")))
    }
}
