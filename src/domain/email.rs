use super::Invalid;

/// A plausible email address: one `@`, a non-empty local part, a dotted domain,
/// no whitespace or control characters, within RFC 5321's length limits.
/// Stored as typed (surrounding whitespace removed); uniqueness ignores case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        const INVALID: Invalid = Invalid("Invalid email address");
        let email = input.trim();
        if email.is_empty() {
            return Err(Invalid("Email is required"));
        }
        if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(INVALID);
        }
        let (local, domain) = email.split_once('@').ok_or(INVALID)?;
        let domain_ok =
            !domain.contains('@') && domain.contains('.') && domain.split('.').all(|label| !label.is_empty());
        if local.is_empty() || local.len() > 64 || !domain_ok {
            return Err(INVALID);
        }
        Ok(Self(email.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses_and_trims_them() {
        assert_eq!(
            Email::parse("walt@breakingbad.com").unwrap().as_str(),
            "walt@breakingbad.com"
        );
        assert_eq!(
            Email::parse("  Saul@Example.org ").unwrap().as_str(),
            "Saul@Example.org"
        );
        assert!(Email::parse("first.last+tag@mail.example.co.uk").is_ok());
    }

    #[test]
    fn refuses_malformed_addresses() {
        for bad in [
            "",
            "   ",
            "walt",
            "walt@",
            "@example.com",
            "walt@example",
            "walt@@example.com",
            "walt@exa@mple.com",
            "wa lt@example.com",
            "walt@example..com",
            "walt@.com",
            "walt@example.com.",
            "walt\u{0}@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn refuses_overlong_addresses() {
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(Email::parse(&long_local).is_err());
        let long_domain = format!("a@{}.com", "b".repeat(250));
        assert!(Email::parse(&long_domain).is_err());
    }
}
