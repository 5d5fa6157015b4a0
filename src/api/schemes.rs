//! The security schemes: each turns an `Authorization` header into the caller it names,
//! and is declared in the spec as what it is.

use poem::Request;
use poem_openapi::{
    SecurityScheme,
    auth::{ApiKey, Bearer},
};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::{
    auth::{INVALID_ACCESS_TOKEN, RefreshToken},
    error::ApiError,
    state::AppState,
};

/// The answer to any access token that does not get the caller in, including a valid one
/// whose user has since been deleted: the client cannot tell which.
pub const REFUSED_ACCESS_TOKEN: ApiError = ApiError::Unauthorized(INVALID_ACCESS_TOKEN);

/// The access token from `POST /api/login` (a short-lived JWT), sent as
/// `Authorization: Bearer <token>`.
#[derive(SecurityScheme)]
#[oai(
    rename = "access_token",
    ty = "bearer",
    bearer_format = "JWT",
    checker = "check_access_token"
)]
pub struct AccessToken(pub Uuid);

/// The caller, if they send an access token: for reads that anyone may make but that say
/// more to a known caller. A token that is sent but refused is a 401, as anywhere else
/// (see [`Viewer::id`]), not an anonymous read.
#[derive(SecurityScheme)]
pub enum Viewer {
    Known(AccessToken),
    #[oai(fallback)]
    Anonymous,
}

impl Viewer {
    /// Who the caller is: `None` when they sent no `Authorization` at all.
    pub fn id(&self, request: &Request) -> Result<Option<Uuid>, ApiError> {
        match self {
            Self::Known(AccessToken(id)) => Ok(Some(*id)),
            Self::Anonymous if request.headers().contains_key(poem::http::header::AUTHORIZATION) => {
                Err(REFUSED_ACCESS_TOKEN)
            }
            Self::Anonymous => Ok(None),
        }
    }
}

/// The refresh token from `POST /api/login` (64 hex characters, valid for 60 days until
/// revoked), sent as `Authorization: Bearer <token>`. Only `/api/refresh` and
/// `/api/revoke` accept it.
#[derive(SecurityScheme)]
#[oai(rename = "refresh_token", ty = "bearer", checker = "check_refresh_token")]
pub struct RefreshBearer(pub RefreshToken);

/// Polka's webhook key, sent as `Authorization: ApiKey <key>`. OpenAPI cannot describe
/// that prefix, so this scheme is declared on the whole `Authorization` header: in
/// Swagger UI, enter `ApiKey <key>` as the value.
#[derive(SecurityScheme)]
#[oai(
    rename = "polka_api_key",
    ty = "api_key",
    key_name = "Authorization",
    key_in = "header",
    checker = "check_polka_key"
)]
pub struct PolkaKey(pub ());

fn state(req: &Request) -> Result<&AppState, ApiError> {
    req.data::<AppState>()
        .ok_or_else(|| ApiError::internal("AppState is not attached to the route"))
}

async fn check_access_token(req: &Request, bearer: Bearer) -> poem::Result<Uuid> {
    let state = state(req)?;
    let user = state.access_tokens.verify(&bearer.token).map_err(|err| {
        tracing::debug!(reason = %err, "access token refused");
        REFUSED_ACCESS_TOKEN
    })?;
    // A suspension ends every access token at once (see `store::moderation`).
    if state.store.is_suspended(user) {
        return Err(REFUSED_ACCESS_TOKEN.into());
    }
    Ok(user)
}

/// A moderator's access token: an ordinary access token (`Authorization: Bearer <token>`)
/// whose user an operator made a moderator. Any other valid token is refused with 403.
#[derive(SecurityScheme)]
#[oai(
    rename = "moderator_token",
    ty = "bearer",
    bearer_format = "JWT",
    checker = "check_moderator_token"
)]
pub struct ModeratorToken(pub Uuid);

async fn check_moderator_token(req: &Request, bearer: Bearer) -> poem::Result<Uuid> {
    let user = check_access_token(req, bearer).await?;
    if !state(req)?.store.is_moderator(user).await.map_err(ApiError::from)? {
        return Err(ApiError::Forbidden("Only moderators may do this").into());
    }
    Ok(user)
}

/// Only the token's shape is checked here; whether it is live is the database's call,
/// made by the operation itself.
async fn check_refresh_token(_req: &Request, bearer: Bearer) -> poem::Result<RefreshToken> {
    RefreshToken::parse(&bearer.token).ok_or_else(|| ApiError::Unauthorized("Invalid refresh token").into())
}

async fn check_polka_key(req: &Request, header: ApiKey) -> poem::Result<()> {
    let expected = state(req)?.polka_key.expose();
    let given = api_key(&header.key).unwrap_or_default();
    // Comparing digests keeps the comparison constant-time even in the key's length.
    let matches: bool = Sha256::digest(given).ct_eq(&Sha256::digest(expected)).into();
    if given.is_empty() || !matches {
        return Err(ApiError::Unauthorized("Invalid API key").into());
    }
    Ok(())
}

/// The key in an `Authorization: ApiKey <key>` header value, if that is its form.
fn api_key(header: &str) -> Option<&str> {
    header.strip_prefix("ApiKey ").filter(|key| !key.is_empty())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::api_key;

    #[test]
    fn reads_only_the_apikey_form() {
        assert_eq!(api_key("ApiKey abc"), Some("abc"));
        for refused in [
            "",
            "ApiKey",
            "ApiKey ",
            "Bearer abc",
            "apikey abc",
            "abc",
            " ApiKey abc",
        ] {
            assert_eq!(api_key(refused), None, "{refused:?}");
        }
    }

    proptest! {
        #[test]
        fn any_header_value_yields_its_key_or_nothing(value in any::<String>()) {
            match api_key(&value) {
                Some(key) => prop_assert_eq!(format!("ApiKey {key}"), value),
                None => prop_assert!(!value.starts_with("ApiKey ") || value.len() == "ApiKey ".len()),
            }
        }
    }
}
