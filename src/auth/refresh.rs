use std::fmt::{self, Write as _};

use sha2::{Digest, Sha256};

pub const REFRESH_TOKEN_TTL_DAYS: i64 = 60;

/// A refresh token: 32 random bytes as 64 lowercase hex characters. The server keeps
/// only its SHA-256 (the token is already high-entropy, so a fast hash is enough);
/// `Debug` is redacted so the token itself never reaches a log.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken(String);

impl RefreshToken {
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        let mut hex = String::with_capacity(64);
        for byte in bytes {
            write!(hex, "{byte:02x}").expect("writing to a String cannot fail");
        }
        Ok(Self(hex))
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
