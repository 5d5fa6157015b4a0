use chrono::{Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::secret::Secret;

pub const ACCESS_TOKEN_ISSUER: &str = "chirpy-access";

#[derive(Serialize, Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    iat: i64,
    exp: i64,
}

/// Why an access token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("Access token has expired")]
    Expired,
    #[error("Invalid access token")]
    Invalid,
}

impl TokenError {
    pub fn message(self) -> &'static str {
        match self {
            Self::Expired => "Access token has expired",
            Self::Invalid => "Invalid access token",
        }
    }
}

/// Issues and checks access tokens: HS256 JWTs naming the user in `sub`.
#[derive(Clone)]
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl AccessTokens {
    pub fn new(secret: &Secret, ttl: Duration) -> Self {
        // Pinning the algorithm refuses `none` and algorithm-confusion tokens; the other
        // checks refuse tokens without an expiry or minted for another purpose.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ACCESS_TOKEN_ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 0;
        Self {
            encoding: EncodingKey::from_secret(secret.expose().as_bytes()),
            decoding: DecodingKey::from_secret(secret.expose().as_bytes()),
            validation,
            ttl,
        }
    }

    pub fn issue(&self, user_id: Uuid) -> Result<String, jsonwebtoken::errors::Error> {
        let now = Utc::now();
        let claims = Claims {
            iss: ACCESS_TOKEN_ISSUER.to_owned(),
            sub: user_id.to_string(),
            iat: now.timestamp(),
            exp: (now + self.ttl).timestamp(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// The user a valid token names.
    pub fn verify(&self, token: &str) -> Result<Uuid, TokenError> {
        let claims =
            jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).map_err(|err| {
                match err.kind() {
                    ErrorKind::ExpiredSignature => TokenError::Expired,
                    _ => TokenError::Invalid,
                }
            })?;
        Uuid::parse_str(&claims.claims.sub).map_err(|_| TokenError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(secret: &str) -> AccessTokens {
        AccessTokens::new(&Secret::new(secret.into()), Duration::hours(1))
    }

    fn sign(claims: &serde_json::Value, alg: Algorithm, secret: &str) -> String {
        jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
    }

    #[test]
    fn round_trips_the_user_id() {
        let user = Uuid::new_v4();
        let t = tokens("s3cret");
        assert_eq!(t.verify(&t.issue(user).unwrap()).unwrap(), user);
    }

    #[test]
    fn refuses_flawed_tokens() {
        let t = tokens("s3cret");
        let user = Uuid::new_v4().to_string();
        let now = Utc::now().timestamp();
        let good = serde_json::json!({"iss": ACCESS_TOKEN_ISSUER, "sub": user, "iat": now, "exp": now + 60});
        assert!(
            t.verify(&sign(&good, Algorithm::HS256, "s3cret")).is_ok(),
            "control case"
        );

        let cases = [
            ("another key", sign(&good, Algorithm::HS256, "other")),
            ("another algorithm", sign(&good, Algorithm::HS512, "s3cret")),
            (
                "expired",
                sign(
                    &serde_json::json!({"iss": ACCESS_TOKEN_ISSUER, "sub": user, "iat": now - 120, "exp": now - 60}),
                    Algorithm::HS256,
                    "s3cret",
                ),
            ),
            (
                "no exp",
                sign(
                    &serde_json::json!({"iss": ACCESS_TOKEN_ISSUER, "sub": user, "iat": now}),
                    Algorithm::HS256,
                    "s3cret",
                ),
            ),
            (
                "wrong issuer",
                sign(
                    &serde_json::json!({"iss": "chirpy", "sub": user, "iat": now, "exp": now + 60}),
                    Algorithm::HS256,
                    "s3cret",
                ),
            ),
            (
                "non-uuid sub",
                sign(
                    &serde_json::json!({"iss": ACCESS_TOKEN_ISSUER, "sub": "admin", "iat": now, "exp": now + 60}),
                    Algorithm::HS256,
                    "s3cret",
                ),
            ),
            ("garbage", "not.a.jwt".to_owned()),
        ];
        for (why, token) in cases {
            assert!(t.verify(&token).is_err(), "{why} must be refused");
        }
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        proptest! {
            #[test]
            fn arbitrary_strings_are_never_valid_tokens(input in any::<String>(), dotted in "[A-Za-z0-9_-]{0,40}\\.[A-Za-z0-9_-]{0,80}\\.[A-Za-z0-9_-]{0,40}") {
                let t = tokens("s3cret");
                prop_assert!(t.verify(&input).is_err());
                prop_assert!(t.verify(&dotted).is_err());
            }
        }
    }
}
