//! The caller's sessions: `GET /api/users/me/sessions` lists where they are logged in,
//! `DELETE /api/users/me/sessions/{session_id}` logs one out, and
//! `DELETE /api/users/me/sessions` logs out everywhere.

use poem::{Request, http::header, web::Data};
use poem_openapi::{ApiResponse, Object, param::Path, payload::Json};
use uuid::Uuid;

use super::{AccessToken, ApiTags, Timestamp};
use crate::{
    error::{ApiError, api_errors},
    state::AppState,
    store,
};

/// A session: one login, and the refresh tokens its token was rotated into.
#[derive(Object)]
struct Session {
    /// Give it to `DELETE /api/users/me/sessions/{session_id}` to log it out.
    id: Uuid,
    /// When the login was.
    created_at: Timestamp,
    /// The last refresh (or the login).
    last_used_at: Timestamp,
    /// When its refresh token expires: 60 days after the login, or after the last rotation.
    expires_at: Timestamp,
    /// The login's `User-Agent` header, at most 256 characters; null if it sent none.
    user_agent: Option<String>,
    /// Whether the access token of this request was issued in this session.
    current: bool,
}

#[derive(ApiResponse)]
enum Listed {
    /// The caller's live sessions, the most recently used first (at most 100).
    #[oai(status = 200)]
    Ok(Json<Vec<Session>>),
}

#[derive(ApiResponse)]
enum Ended {
    /// Logged out: the refresh tokens are revoked (access tokens already issued still work
    /// until they expire).
    #[oai(status = 204)]
    NoContent,
}

api_errors! {
    throttled enum ListError {
        /// Missing, invalid or expired access token.
        Unauthorized = 401,
    }
}

api_errors! {
    enum EndOneError {
        /// The id is not a UUID.
        BadRequest = 400,
        /// Missing, invalid or expired access token.
        Unauthorized = 401,
        /// The caller has no session with this id.
        NotFound = 404,
    }
}

const SESSION_NOT_FOUND: ApiError = ApiError::NotFound("Session not found");

/// The session the request's access token was issued in, if it names one.
fn current_session(state: &AppState, request: &Request) -> Option<Uuid> {
    let value = request.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    state.access_tokens.session(token.trim())
}

pub struct AccountSessionsApi;

operations! {
    "ApiTags::Sessions",
    impl AccountSessionsApi {
        /// List your sessions
        ///
        /// Where the caller is logged in: each live session (a login whose refresh token, or its
        /// rotated successor, is neither revoked nor expired), the most recently used first, at
        /// most 100. `current` marks the one this request's access token came from.
        #[oai(path = "/api/users/me/sessions", method = "get", operation_id = "listSessions")]
        async fn list(&self, state: Data<&AppState>, request: &Request, auth: AccessToken) -> Result<Listed, ListError> {
            let current = current_session(&state, request);
            let sessions = state.store.sessions(auth.0).await?;
            Ok(Listed::Ok(Json(
                sessions
                    .into_iter()
                    .map(|session: store::Session| Session {
                        current: current == Some(session.id),
                        id: session.id,
                        created_at: session.created_at.into(),
                        last_used_at: session.last_used_at.into(),
                        expires_at: session.expires_at.into(),
                        user_agent: session.user_agent,
                    })
                    .collect(),
            )))
        }

        /// Log a session out
        ///
        /// Revokes one of the caller's sessions: its refresh tokens no longer work. Repeating it
        /// is harmless; a session that is not the caller's is 404.
        #[oai(path = "/api/users/me/sessions/:session_id", method = "delete", operation_id = "deleteSession")]
        async fn end_one(
            &self,
            state: Data<&AppState>,
            auth: AccessToken,
            session_id: Path<Uuid>,
        ) -> Result<Ended, EndOneError> {
            if !state.store.revoke_session(auth.0, session_id.0).await? {
                return Err(SESSION_NOT_FOUND.into());
            }
            tracing::info!(user_id = %auth.0, session_id = %session_id.0, "session revoked");
            Ok(Ended::NoContent)
        }

        /// Log out everywhere
        ///
        /// Revokes every session of the caller, this one included: no refresh token of theirs
        /// works any more, and every device must log in again once its access token expires.
        #[oai(path = "/api/users/me/sessions", method = "delete", operation_id = "deleteSessions")]
        async fn end_all(&self, state: Data<&AppState>, auth: AccessToken) -> Result<Ended, ListError> {
            let ended = state.store.revoke_sessions(auth.0).await?;
            tracing::info!(user_id = %auth.0, sessions = ended, "logged out everywhere");
            Ok(Ended::NoContent)
        }
    }
}
