//! Logging in, refreshing the access token, and revoking a refresh token.

use std::net::IpAddr;

use chrono::{Duration, Utc};
use poem::{
    http::HeaderMap,
    web::{Data, RemoteAddr},
};
use poem_openapi::{ApiResponse, Object, payload::Json, types::Example};

use super::{ApiTags, RefreshBearer, Text, users::User};
use crate::{
    auth::{REFRESH_TOKEN_TTL_DAYS, RefreshToken},
    domain::Password,
    error::{ApiError, api_errors},
    state::AppState,
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
    /// Refresh token for `POST /api/refresh`, valid for 60 days unless revoked.
    refresh_token: String,
}

/// A new access token.
#[derive(Object)]
struct Refreshed {
    /// Access token (JWT) for `Authorization: Bearer`; short-lived (the server's
    /// `ACCESS_TOKEN_TTL`).
    token: String,
}

#[derive(ApiResponse)]
enum LoginOk {
    /// The credentials are right: the user, an access token and a refresh token.
    #[oai(status = 200)]
    Ok(Json<LoggedIn>),
}

#[derive(ApiResponse)]
enum RefreshOk {
    /// The refresh token is live: a new access token.
    #[oai(status = 200)]
    Ok(Json<Refreshed>),
}

#[derive(ApiResponse)]
enum Revoked {
    /// The refresh token is revoked (or already was).
    #[oai(status = 204)]
    NoContent,
}

const BAD_CREDENTIALS: ApiError = ApiError::Unauthorized("Incorrect email or password");
const BAD_REFRESH: ApiError = ApiError::Unauthorized("Invalid, expired or revoked refresh token");

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
        /// Missing, unknown, expired or revoked refresh token.
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
        /// returns the user with a short-lived access token and a refresh token (60 days). After
        /// repeated failures for one email, or from one client address, attempts get 429 until
        /// `Retry-After` seconds pass. (The client address is the TCP peer's, or behind the
        /// server's trusted proxies the one they forwarded in `X-Forwarded-For`.)
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
            let token = state.access_tokens.issue(user.id).map_err(ApiError::internal)?;
            let refresh = RefreshToken::generate().map_err(ApiError::internal)?;
            let expires_at = Utc::now() + Duration::days(REFRESH_TOKEN_TTL_DAYS);
            state
                .store
                .insert_refresh_token(&refresh.hash(), user.id, expires_at)
                .await?;
            tracing::info!(user_id = %user.id, "logged in");
            Ok(LoginOk::Ok(Json(LoggedIn {
                user,
                token,
                refresh_token: refresh.expose().to_owned(),
            })))
        }

        /// Get a new access token
        ///
        /// Exchanges a live refresh token for a new access token. The refresh token stays valid.
        #[oai(path = "/api/refresh", method = "post", operation_id = "refreshToken")]
        async fn refresh(&self, state: Data<&AppState>, auth: RefreshBearer) -> Result<RefreshOk, RefreshError> {
            let user_id = state
                .store
                .refresh_token_user(&auth.0.hash())
                .await?
                .ok_or(BAD_REFRESH)?;
            let token = state.access_tokens.issue(user_id).map_err(ApiError::internal)?;
            Ok(RefreshOk::Ok(Json(Refreshed { token })))
        }

        /// Revoke a refresh token
        ///
        /// Revokes the refresh token sent, so it can no longer be exchanged. Revoking it again is harmless.
        #[oai(path = "/api/revoke", method = "post", operation_id = "revokeToken")]
        async fn revoke(&self, state: Data<&AppState>, auth: RefreshBearer) -> Result<Revoked, RefreshError> {
            if !state.store.revoke_refresh_token(&auth.0.hash()).await? {
                return Err(BAD_REFRESH.into());
            }
            Ok(Revoked::NoContent)
        }
    }
}
