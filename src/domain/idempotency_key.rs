use super::Invalid;

/// An `Idempotency-Key` header's value: 1 to 255 visible ASCII characters (the IETF
/// httpapi draft leaves the form to the server; this is what fits a header and a column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const MAX_LEN: usize = 255;

    pub fn parse(key: &str) -> Result<Self, Invalid> {
        Self::parse_bytes(key.as_bytes())
    }

    /// From a header's raw bytes, which need not be text at all.
    pub fn parse_bytes(key: &[u8]) -> Result<Self, Invalid> {
        let visible = key.iter().all(u8::is_ascii_graphic);
        if key.is_empty() || key.len() > Self::MAX_LEN || !visible {
            return Err(Invalid("Idempotency-Key must be 1 to 255 visible ASCII characters"));
        }
        let key = std::str::from_utf8(key).expect("visible ASCII is UTF-8");
        Ok(Self(key.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_visible_ascii_up_to_255() {
        for good in [
            "a",
            "9c6e4b1c-5f6e-4d1d-8c36-0e6b2f7e7a11",
            "~!@#$%^&*()_+{}|:<>?",
            &"k".repeat(255),
        ] {
            assert_eq!(IdempotencyKey::parse(good).unwrap().as_str(), good);
        }
        for bad in ["", " ", "a b", "tab\there", "é", "\u{7f}", &"k".repeat(256)] {
            assert!(IdempotencyKey::parse(bad).is_err(), "{bad:?}");
        }
    }
}
