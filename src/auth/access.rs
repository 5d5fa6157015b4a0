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
    /// The session (refresh-token family) the token was issued in, so that
    /// `GET /api/users/me/sessions` can tell the caller's own; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
}

/// What the client is told about any access token that does not get it in: expired,
/// forged, malformed, or naming a user who no longer exists. One answer for all, so a
/// caller learns nothing about which check failed (RFC 8725, section 2.2).
pub const INVALID_ACCESS_TOKEN: &str = "Invalid or expired access token";

/// Why an access token was refused: for the log; the client gets [`INVALID_ACCESS_TOKEN`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("access token has expired")]
    Expired,
    #[error("invalid access token")]
    Invalid,
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
        // checks refuse tokens without an expiry, minted for another purpose, or not valid
        // yet (`nbf`, which Chirpy never sets but must not ignore when present).
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ACCESS_TOKEN_ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 0;
        Self {
            encoding: EncodingKey::from_secret(secret.expose().as_bytes()),
            decoding: DecodingKey::from_secret(secret.expose().as_bytes()),
            validation,
            ttl,
        }
    }

    pub fn issue(&self, user_id: Uuid) -> Result<String, jsonwebtoken::errors::Error> {
        self.encode(user_id, None)
    }

    /// A token that also names the session it was issued in (`sid`).
    pub fn issue_in_session(&self, user_id: Uuid, session: Uuid) -> Result<String, jsonwebtoken::errors::Error> {
        self.encode(user_id, Some(session))
    }

    fn encode(&self, user_id: Uuid, session: Option<Uuid>) -> Result<String, jsonwebtoken::errors::Error> {
        let now = Utc::now();
        let claims = Claims {
            iss: ACCESS_TOKEN_ISSUER.to_owned(),
            sub: user_id.to_string(),
            iat: now.timestamp(),
            exp: (now + self.ttl).timestamp(),
            sid: session.map(|session| session.to_string()),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// The session a valid token was issued in, if it names one.
    pub fn session(&self, token: &str) -> Option<Uuid> {
        let decoded = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).ok()?;
        Uuid::try_parse(&decoded.claims.sid?).ok()
    }

    /// The user a valid token names.
    pub fn verify(&self, token: &str) -> Result<Uuid, TokenError> {
        self.verify_until(token).map(|(user, _)| user)
    }

    /// The user a valid token names, and when it expires.
    pub fn verify_until(&self, token: &str) -> Result<(Uuid, chrono::DateTime<Utc>), TokenError> {
        let decoded =
            jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).map_err(|err| {
                match err.kind() {
                    ErrorKind::ExpiredSignature => TokenError::Expired,
                    _ => TokenError::Invalid,
                }
            })?;
        // RFC 7515, 4.1.11: extensions marked critical must be understood, and Chirpy
        // understands none, so any `crit` is refused.
        if decoded.header.crit.is_some() {
            return Err(TokenError::Invalid);
        }
        // Only the form Chirpy issues: uppercase, braced, `urn:uuid:` or unhyphenated
        // spellings of an id are other tokens than the one minted, and are refused.
        let sub = decoded.claims.sub;
        let user = Uuid::try_parse(&sub).map_err(|_| TokenError::Invalid)?;
        if user.hyphenated().to_string() != sub {
            return Err(TokenError::Invalid);
        }
        let expires = chrono::DateTime::from_timestamp(decoded.claims.exp, 0).ok_or(TokenError::Invalid)?;
        Ok((user, expires))
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
    fn a_token_issued_in_a_session_names_it() {
        let (user, session) = (Uuid::new_v4(), Uuid::new_v4());
        let t = tokens("s3cret");
        let token = t.issue_in_session(user, session).unwrap();
        assert_eq!(t.verify(&token).unwrap(), user);
        assert_eq!(t.session(&token), Some(session));
        assert_eq!(t.session(&t.issue(user).unwrap()), None);
        assert_eq!(tokens("other").session(&token), None, "only from a valid token");
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
            (
                "not valid yet (nbf)",
                sign(
                    &serde_json::json!({"iss": ACCESS_TOKEN_ISSUER, "sub": user, "iat": now, "nbf": now + 60, "exp": now + 120}),
                    Algorithm::HS256,
                    "s3cret",
                ),
            ),
            ("a crit header", sign_with_crit(&good, "s3cret")),
            ("garbage", "not.a.jwt".to_owned()),
        ];
        for (why, token) in cases {
            assert!(t.verify(&token).is_err(), "{why} must be refused");
        }
        let past_nbf =
            serde_json::json!({"iss": ACCESS_TOKEN_ISSUER, "sub": user, "iat": now, "nbf": now - 1, "exp": now + 60});
        assert!(
            t.verify(&sign(&past_nbf, Algorithm::HS256, "s3cret")).is_ok(),
            "an nbf already passed is fine"
        );
    }

    fn sign_with_crit(claims: &serde_json::Value, secret: &str) -> String {
        let mut header = Header::new(Algorithm::HS256);
        header.crit = Some(vec!["exp".to_owned()]);
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
    }

    #[test]
    fn refuses_every_spelling_of_the_subject_but_the_canonical_one() {
        let t = tokens("s3cret");
        let user = Uuid::new_v4();
        let now = Utc::now().timestamp();
        let token = |sub: String| {
            let claims = serde_json::json!({"iss": ACCESS_TOKEN_ISSUER, "sub": sub, "iat": now, "exp": now + 60});
            sign(&claims, Algorithm::HS256, "s3cret")
        };
        assert_eq!(t.verify(&token(user.to_string())), Ok(user));
        for sub in [
            user.to_string().to_uppercase(),
            user.braced().to_string(),
            user.urn().to_string(),
            user.simple().to_string(),
            format!(" {user}"),
        ] {
            assert_eq!(t.verify(&token(sub.clone())), Err(TokenError::Invalid), "{sub}");
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
