use std::fmt;

use super::Invalid;

/// A non-empty password in plaintext, on its way to be hashed or verified.
/// Its `Debug` output is redacted so it cannot leak into logs.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn parse(input: String) -> Result<Self, Invalid> {
        if input.is_empty() {
            return Err(Invalid("Password is required"));
        }
        Ok(Self(input))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_empty_and_keeps_everything_else_exactly() {
        assert!(Password::parse(String::new()).is_err());
        assert_eq!(Password::parse(" pa ss ".into()).unwrap().expose(), " pa ss ");
    }

    #[test]
    fn debug_never_shows_the_password() {
        let shown = format!("{:?}", Password::parse("hunter2".into()).unwrap());
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
