use super::Invalid;

/// A plausible email address: one `@`, a local part of 1 to 64 characters, a dotted
/// domain, no whitespace or control characters anywhere, at most 254 characters.
/// Stored exactly as typed; uniqueness ignores case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub const MAX_CHARS: usize = 254;

    pub fn parse(email: &str) -> Result<Self, Invalid> {
        const INVALID: Invalid = Invalid("Invalid email address");
        if email.is_empty() {
            return Err(Invalid("Email is required"));
        }
        // Characters, not bytes, so the limits mean what the spec's maxLength means.
        let too_long = email.chars().count() > Self::MAX_CHARS;
        if too_long || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(INVALID);
        }
        let (local, domain) = email.split_once('@').ok_or(INVALID)?;
        let domain_ok =
            !domain.contains('@') && domain.contains('.') && domain.split('.').all(|label| !label.is_empty());
        if local.is_empty() || local.chars().count() > 64 || !domain_ok {
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
    fn accepts_ordinary_addresses_as_typed() {
        assert_eq!(
            Email::parse("walt@breakingbad.com").unwrap().as_str(),
            "walt@breakingbad.com"
        );
        assert_eq!(Email::parse("Saul@Example.org").unwrap().as_str(), "Saul@Example.org");
        assert!(Email::parse("first.last+tag@mail.example.co.uk").is_ok());
        assert!(Email::parse("josé@exämple.org").is_ok());
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
            " walt@example.com",
            "walt@example.com\n",
            "walt@example.com\u{3000}",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn limits_are_in_characters() {
        assert!(Email::parse(&format!("{}@example.com", "é".repeat(64))).is_ok());
        assert!(Email::parse(&format!("{}@example.com", "é".repeat(65))).is_err());
        let longest = format!("a@{}.com", "b".repeat(Email::MAX_CHARS - 6));
        assert_eq!(longest.chars().count(), Email::MAX_CHARS);
        assert!(Email::parse(&longest).is_ok());
        assert!(Email::parse(&format!("a{longest}")).is_err());
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        proptest! {
            #[test]
            fn any_input_is_an_address_or_a_clean_error(input in any::<String>()) {
                if let Ok(email) = Email::parse(&input) {
                    prop_assert_eq!(email.as_str(), input.as_str());
                    prop_assert_eq!(input.matches('@').count(), 1);
                    prop_assert!(input.chars().count() <= Email::MAX_CHARS);
                    prop_assert!(!input.chars().any(|c| c.is_whitespace() || c.is_control()));
                }
            }

            #[test]
            fn well_formed_addresses_are_accepted(
                local in "[a-zA-Z0-9._%+-]{1,64}",
                labels in proptest::collection::vec("[a-z0-9-]{1,20}", 2..5),
            ) {
                let address = format!("{local}@{}", labels.join("."));
                prop_assert!(Email::parse(&address).is_ok(), "{}", address);
            }
        }
    }
}
