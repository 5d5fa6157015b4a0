use std::{
    fmt::{self, Write as _},
    time::Duration,
};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::secret::Secret;

pub const REFRESH_TOKEN_TTL_DAYS: i64 = 60;

/// How long a token replaced by a rotation still works, for a client's concurrent requests
/// and its retries of one whose answer it lost: each gets the same successor. Presented
/// later, the replaced token is taken for a stolen one and its whole session is revoked.
pub const ROTATION_GRACE: Duration = Duration::from_secs(30);

/// A refresh token: 32 random bytes as 64 lowercase hex characters. The server keeps
/// only its SHA-256 (the token is already high-entropy, so a fast hash is enough);
/// `Debug` is redacted so the token itself never reaches a log.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken(String);

impl RefreshToken {
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        Ok(Self(hex(&bytes)))
    }

    /// Accepts only the shape `generate` produces, so nothing else is ever looked up.
    pub fn parse(input: &str) -> Option<Self> {
        let well_formed = input.len() == 64 && input.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        well_formed.then(|| Self(input.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the database stores and looks tokens up by.
    pub fn hash(&self) -> Vec<u8> {
        Sha256::digest(self.0.as_bytes()).to_vec()
    }
}

/// Makes each token's successor: `HMAC-SHA256(key, token)` as 64 hex characters, with a key
/// derived from `JWT_SECRET` for this use alone. The successor is a function of the token,
/// so a retry with a token just replaced gets the very successor the first request got,
/// while the database still holds nothing but hashes; without the server's secret, a token
/// says nothing about its successor. (Changing `JWT_SECRET` changes successors too: a retry
/// that straddles the change is refused, and that client logs in again.)
pub struct Successors {
    key: Hmac<Sha256>,
}

impl Successors {
    pub fn new(secret: &Secret) -> Self {
        let mut derive =
            Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()).expect("HMAC takes a key of any length");
        derive.update(b"chirpy refresh-token successors v1");
        let key = derive.finalize().into_bytes();
        Self {
            key: Hmac::new_from_slice(&key).expect("HMAC takes a key of any length"),
        }
    }

    /// The token that replaces `token` when it is rotated.
    pub fn of(&self, token: &RefreshToken) -> RefreshToken {
        let mut mac = self.key.clone();
        mac.update(token.0.as_bytes());
        RefreshToken(hex(&mac.finalize().into_bytes()))
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut hex = String::with_capacity(2 * bytes.len());
    for byte in bytes {
        write!(hex, "{byte:02x}").expect("writing to a String cannot fail");
    }
    hex
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshToken([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_distinct_well_formed_tokens() {
        let a = RefreshToken::generate().unwrap();
        let b = RefreshToken::generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(RefreshToken::parse(a.expose()), Some(a.clone()));
        assert_eq!(a.hash().len(), 32);
        assert_ne!(a.hash(), a.expose().as_bytes());
    }

    #[test]
    fn parses_only_64_lowercase_hex() {
        assert!(RefreshToken::parse(&"a".repeat(64)).is_some());
        assert!(RefreshToken::parse(&"a".repeat(63)).is_none());
        assert!(RefreshToken::parse(&"A".repeat(64)).is_none());
        assert!(RefreshToken::parse(&"g".repeat(64)).is_none());
        assert!(RefreshToken::parse("eyJhbGciOiJIUzI1NiJ9.e30.x").is_none());
    }

    #[test]
    fn a_successor_is_well_formed_fixed_per_token_and_per_secret() {
        let successors = Successors::new(&Secret::new("one secret".into()));
        let token = RefreshToken::generate().unwrap();
        let next = successors.of(&token);
        assert_eq!(RefreshToken::parse(next.expose()), Some(next.clone()));
        assert_eq!(successors.of(&token), next, "a retry gets the same successor");
        assert_ne!(next, token);
        assert_ne!(successors.of(&next), next);
        assert_ne!(successors.of(&RefreshToken::generate().unwrap()), next);
        let other = Successors::new(&Secret::new("another secret".into()));
        assert_ne!(
            other.of(&token),
            next,
            "without the secret, a token says nothing of its successor"
        );
    }

    #[test]
    fn debug_is_redacted() {
        let token = RefreshToken::generate().unwrap();
        assert!(!format!("{token:?}").contains(token.expose()));
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        proptest! {
            #[test]
            fn only_64_lowercase_hex_characters_parse(input in any::<String>()) {
                let well_formed = input.len() == 64 && input.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
                prop_assert_eq!(RefreshToken::parse(&input).is_some(), well_formed);
            }

            #[test]
            fn hex_tokens_round_trip(input in "[0-9a-f]{64}") {
                prop_assert_eq!(RefreshToken::parse(&input).map(|t| t.expose().to_owned()), Some(input));
            }
        }
    }
}
