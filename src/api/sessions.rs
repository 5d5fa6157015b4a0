//! Logging in (which starts a session), refreshing the access token (rotating the refresh
//! token when asked), and revoking a refresh token's session.

use std::net::IpAddr;

use chrono::{Duration, Utc};
use poem::{
    Request,
    http::{HeaderMap, header},
    web::{Data, RemoteAddr},
};
use poem_openapi::{ApiResponse, Enum, Object, param::Header, payload::Json, types::Example};

use super::{ApiTags, RefreshBearer, Text, users::User};
use crate::{
    auth::{REFRESH_TOKEN_TTL_DAYS, ROTATION_GRACE, RefreshToken},
    domain::Password,
    error::{ApiError, api_errors},
    state::AppState,
    store::{Refresh, Rotation},
};

/// Login credentials. (No `Debug`: it holds a plaintext password.)
#[derive(Object)]
#[oai(example)]
struct Login {
    /// Matched regardless of letter case and Unicode composition.
    email: Text,
    password: Text,
    /// Ignored: kept so older clients that still send it are not refused.
    #[oai(deprecated)]
    expires_in_seconds: Option<i64>,
}

impl Example for Login {
    fn example() -> Self {
        Self {
            email: Text::example("walt@example.com"),
            password: Text::example("say my name"),
            expires_in_seconds: None,
        }
    }
}

/// The user, with a fresh pair of tokens.
#[derive(Object)]
struct LoggedIn {
    #[oai(flatten)]
    user: User,
    /// Access token (JWT) for `Authorization: Bearer`; short-lived (the server's
    /// `ACCESS_TOKEN_TTL`): get another from `POST /api/refresh`.
    token: String,
    /// Refresh token for `POST /api/refresh`, valid for 60 days unless revoked. It starts a
    /// session of its own (see `GET /api/users/me/sessions`).
    refresh_token: String,
}

/// A new access token, and with rotation the refresh token to use from now on.
#[derive(Object)]
struct Refreshed {
    /// Access token (JWT) for `Authorization: Bearer`; short-lived (the server's
    /// `ACCESS_TOKEN_TTL`).
    token: String,
    /// Only with `Refresh-Token-Rotation: on`: the refresh token that replaces the one sent,
    /// valid for 60 days from now. Keep it and send it next time. The one sent keeps working
    /// for 30 seconds, for retries (which get this same token again); presented after that,
    /// it revokes the whole session.
    #[oai(skip_serializing_if_is_none)]
    refresh_token: Option<String>,
}

/// Whether `POST /api/refresh` rotates the refresh token.
#[derive(Enum)]
#[oai(rename_all = "lowercase")]
enum RefreshTokenRotation {
    /// Replace the refresh token sent with a new one, returned as `refresh_token`.
    On,
    /// Keep the refresh token sent (as without the header).
    Off,
}

const ROTATION_HEADER: &str = "Refresh-Token-Rotation";

/// Whether the request asks for rotation. Read raw (the declared parameter documents it):
/// poem-openapi takes a value that is not ASCII for no header at all.
fn rotation_asked(headers: &HeaderMap) -> Result<bool, ApiError> {
    match headers.get(ROTATION_HEADER).map(|value| value.as_bytes()) {
        None | Some(b"off") => Ok(false),
        Some(b"on") => Ok(true),
        Some(_) => Err(ApiError::BadRequest(
            "Refresh-Token-Rotation must be `on` or `off`".into(),
        )),
    }
}

/// Kept of a login's `User-Agent`, in characters.
const USER_AGENT_MOST: usize = 256;

/// The `User-Agent` a session is listed with: control characters dropped, at most
/// [`USER_AGENT_MOST`] characters; `None` when absent or blank.
fn user_agent(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::USER_AGENT)?;
    let kept: String = String::from_utf8_lossy(value.as_bytes())
        .chars()
        .filter(|c| !c.is_control())
        .take(USER_AGENT_MOST)
        .collect();
    let kept = kept.trim();
    (!kept.is_empty()).then(|| kept.to_owned())
}

#[derive(ApiResponse)]
enum LoginOk {
    /// The credentials are right: the user, an access token and a refresh token.
    #[oai(status = 200)]
    Ok(Json<LoggedIn>),
}

#[derive(ApiResponse)]
enum RefreshOk {
    /// The refresh token is live: a new access token, and with rotation its replacement.
    #[oai(status = 200)]
    Ok(Json<Refreshed>),
}

#[derive(ApiResponse)]
enum Revoked {
    /// The refresh token's session is revoked (or already was), every token in it too.
    #[oai(status = 204)]
    NoContent,
}

const BAD_CREDENTIALS: ApiError = ApiError::Unauthorized("Incorrect email or password");
const BAD_REFRESH: ApiError = ApiError::Unauthorized("Invalid, expired or revoked refresh token");
const REUSED_REFRESH: ApiError =
    ApiError::Unauthorized("Refresh token already replaced: its session is revoked, log in again");

api_errors! {
    throttled enum LoginError {
        /// A malformed body.
        BadRequest = 400,
        /// Unknown email or wrong password: the same answer for both.
        Unauthorized = 401,
        /// The account is suspended (said only with the right password).
        Forbidden = 403,
        /// The body is larger than the server accepts.
        PayloadTooLarge = 413,
    }
}

api_errors! {
    enum RefreshError {
        /// A `Refresh-Token-Rotation` header other than `on` or `off`.
        BadRequest = 400,
        /// Missing, unknown, expired or revoked refresh token; or one already replaced by a
        /// rotation more than 30 seconds ago, which has just revoked its whole session.
        Unauthorized = 401,
    }
}

api_errors! {
    enum RevokeError {
        /// Missing or unknown refresh token.
        Unauthorized = 401,
    }
}

/// The user these credentials belong to, if they do. The attempt is counted against the
/// account's own stored email when there is one, by its key, so every spelling that
/// reaches it (any case, composed or not) shares one count. An unknown email still costs
/// one hash verification, so the answer's timing does not reveal which emails exist.
async fn authenticate(
    state: &AppState,
    email: &str,
    password: String,
    address: Option<IpAddr>,
) -> Result<Option<User>, ApiError> {
    // No stored email holds a NUL (PostgreSQL text cannot), so such a login is simply unknown.
    let found = if email.contains('\0') {
        None
    } else {
        state.store.credentials(email.trim()).await?
    };
    let key = found.as_ref().map_or(email, |found| found.user.email.as_str());
    state.login_throttle.attempt(key, address).await?.map_err(|wait| {
        if let Some(metrics) = &state.metrics {
            metrics.login_throttled();
        }
        ApiError::TooManyRequests {
            message: "Too many failed login attempts; try again later",
            retry_after_secs: wait.as_secs() + 1,
        }
    })?;
    let hash = found.as_ref().map(|found| found.hashed_password.clone());
    let matches = match Password::parse(password) {
        Ok(password) => state
            .passwords
            .verify(password, hash)
            .await
            .map_err(ApiError::Internal)?,
        Err(_) => false,
    };
    let Some(found) = found.filter(|_| matches) else {
        return Ok(None);
    };
    // Told only to who knows the password: to anyone else it is as any failed login.
    if found.suspended {
        return Err(ApiError::Forbidden("This account is suspended"));
    }
    state.login_throttle.succeeded(&found.user.email, address).await?;
    Ok(Some(found.user.into()))
}

pub struct SessionsApi;

operations! {
    "ApiTags::Auth",
    impl SessionsApi {
        /// Log in
        ///
        /// Checks the email (regardless of letter case and Unicode composition) and password and
        /// returns the user with a short-lived access token and a refresh token (60 days). The
        /// refresh token starts a session, listed by `GET /api/users/me/sessions` with this
        /// request's `User-Agent`. After repeated failures for one email, or from one client
        /// address, attempts get 429 until `Retry-After` seconds pass. (The client address is the
        /// TCP peer's, or behind the server's trusted proxies the one they forwarded in
        /// `X-Forwarded-For`.)
        #[oai(path = "/api/login", method = "post", operation_id = "login")]
        async fn login(
            &self,
            state: Data<&AppState>,
            peer: &RemoteAddr,
            headers: &HeaderMap,
            body: Json<Login>,
        ) -> Result<LoginOk, LoginError> {
            let Login { email, password, .. } = body.0;
            let address = state.trusted_proxies.client_of(peer, headers);
            let Some(user) = authenticate(&state, &email.0, password.0, address).await? else {
                return Err(BAD_CREDENTIALS.into());
            };
            let refresh = RefreshToken::generate().map_err(ApiError::internal)?;
            let expires_at = Utc::now() + Duration::days(REFRESH_TOKEN_TTL_DAYS);
            let session = state
                .store
                .start_session(&refresh.hash(), user.id, expires_at, user_agent(headers).as_deref())
                .await?;
            let token = state
                .access_tokens
                .issue_in_session(user.id, session)
                .map_err(ApiError::internal)?;
            tracing::info!(user_id = %user.id, session_id = %session, "logged in");
            Ok(LoginOk::Ok(Json(LoggedIn {
                user,
                token,
                refresh_token: refresh.expose().to_owned(),
            })))
        }

        /// Get a new access token
        ///
        /// Exchanges a live refresh token for a new access token. Without rotation the refresh
        /// token stays valid. With `Refresh-Token-Rotation: on` it is replaced by the
        /// `refresh_token` returned. The one sent still works for 30 seconds, for concurrent
        /// requests and retries, which get the same new token. Sent after that, it is taken for
        /// a stolen token being reused: its whole session is revoked, the new token included, and
        /// the answer is 401.
        #[oai(path = "/api/refresh", method = "post", operation_id = "refreshToken")]
        async fn refresh(
            &self,
            state: Data<&AppState>,
            request: &Request,
            auth: RefreshBearer,
            /// `on` replaces the refresh token sent with a new one (returned as `refresh_token`);
            /// `off`, or no header, keeps it.
            #[oai(name = "Refresh-Token-Rotation")]
            _rotation: Header<Option<RefreshTokenRotation>>,
        ) -> Result<RefreshOk, RefreshError> {
            let presented = &auth.0;
            // A successor is a function of the token it replaces, so a retry gets the same one.
            let successor = rotation_asked(request.headers())?.then(|| state.successors.of(presented));
            let successor_hash = successor.as_ref().map(RefreshToken::hash);
            let rotation = successor_hash.as_deref().map(|successor| Rotation {
                successor,
                expires_at: Utc::now() + Duration::days(REFRESH_TOKEN_TTL_DAYS),
            });
            let outcome = state.store.refresh(&presented.hash(), rotation, ROTATION_GRACE).await?;
            let (user_id, session_id, refresh_token) = match outcome {
                Refresh::Current { user_id, session_id, .. } => (user_id, session_id, successor),
                Refresh::Replaced {
                    user_id,
                    session_id,
                    successor: stored,
                } => match successor {
                    // A retry within the grace window: the successor the first request got.
                    Some(successor) if successor.hash() != stored => {
                        // Only if JWT_SECRET changed since: that client must log in again.
                        tracing::info!(%user_id, family_id = %session_id, "refresh token's successor changed with the secret");
                        return Err(BAD_REFRESH.into());
                    }
                    successor => (user_id, session_id, successor),
                },
                Refresh::Reused { user_id, session_id } => {
                    tracing::warn!(%user_id, family_id = %session_id, "refresh token reuse: family revoked");
                    return Err(REUSED_REFRESH.into());
                }
                Refresh::Refused => return Err(BAD_REFRESH.into()),
            };
            let token = state
                .access_tokens
                .issue_in_session(user_id, session_id)
                .map_err(ApiError::internal)?;
            Ok(RefreshOk::Ok(Json(Refreshed {
                token,
                refresh_token: refresh_token.map(|token| token.expose().to_owned()),
            })))
        }

        /// Revoke a refresh token
        ///
        /// Revokes the refresh token sent and its whole session (every token a rotation made from
        /// its login's), so none can be exchanged again: logging out. Revoking it again is harmless.
        #[oai(path = "/api/revoke", method = "post", operation_id = "revokeToken")]
        async fn revoke(&self, state: Data<&AppState>, auth: RefreshBearer) -> Result<Revoked, RevokeError> {
            if !state.store.revoke_refresh_token(&auth.0.hash()).await? {
                return Err(BAD_REFRESH.into());
            }
            Ok(Revoked::NoContent)
        }
    }
}

#[cfg(test)]
mod tests {
    use poem::http::HeaderValue;

    use super::*;

    fn headers(name: &'static str, value: &[u8]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_bytes(value).unwrap());
        headers
    }

    #[test]
    fn rotation_is_asked_for_with_on_only() {
        assert!(!rotation_asked(&HeaderMap::new()).unwrap());
        assert!(!rotation_asked(&headers(ROTATION_HEADER, b"off")).unwrap());
        assert!(rotation_asked(&headers(ROTATION_HEADER, b"on")).unwrap());
        for refused in [&b"ON"[..], b"true", b"1", b"", b"on, off", b"\xc3\xa9"] {
            assert!(
                rotation_asked(&headers(ROTATION_HEADER, refused)).is_err(),
                "{refused:?}"
            );
        }
    }

    #[test]
    fn a_user_agent_is_kept_short_and_printable() {
        assert_eq!(user_agent(&HeaderMap::new()), None);
        assert_eq!(user_agent(&headers("user-agent", b"   ")), None);
        assert_eq!(
            user_agent(&headers("user-agent", b" curl/8.5.0\t")).as_deref(),
            Some("curl/8.5.0")
        );
        let long = "x".repeat(1000);
        assert_eq!(
            user_agent(&headers("user-agent", long.as_bytes()))
                .unwrap()
                .chars()
                .count(),
            USER_AGENT_MOST
        );
        // Bytes that are not UTF-8 are kept as replacement characters, never refused.
        assert_eq!(
            user_agent(&headers("user-agent", b"caf\xe9")).as_deref(),
            Some("caf\u{fffd}")
        );
    }
}
