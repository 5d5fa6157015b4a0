use super::{
    Invalid,
    unicode::{self, is_invisible, is_unassigned},
};

/// A plausible email address: one `@`, a local part of 1 to 64 characters, a dotted
/// domain, no whitespace, control, invisible or unassigned characters anywhere, at most 254
/// characters. Stored as typed but in Unicode's composed form (NFC); two addresses are the
/// same account when their [`email_key`]s are equal.
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
        // An address with a zero-width space, a bidi override or a soft hyphen in it reads
        // as another address: a second account that looks like the first.
        if email.chars().any(is_invisible) {
            return Err(Invalid("Email contains an invisible character"));
        }
        // The key of an unassigned character could change with a later Unicode version,
        // and the stored key with it out of step.
        if email.chars().any(is_unassigned) {
            return Err(INVALID);
        }
        let email = unicode::nfc(email);
        let (local, domain) = email.split_once('@').ok_or(INVALID)?;
        let domain_ok =
            !domain.contains('@') && domain.contains('.') && domain.split('.').all(|label| !label.is_empty());
        let too_long = email.chars().count() > Self::MAX_CHARS;
        if too_long || local.is_empty() || local.chars().count() > 64 || !domain_ok {
            return Err(INVALID);
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What this address is compared by: see [`email_key`].
    pub fn key(&self) -> String {
        email_key(&self.0)
    }
}

/// The form in which emails are compared, for uniqueness and at login: canonically
/// normalised and fully case-folded (Unicode's canonical caseless match), so `ΣΟΦΊΑΣ@x.gr`
/// and `σοφίας@x.gr`, or `école` typed composed and decomposed, are one account. It takes
/// any text, not just a parsed [`Email`]: what someone types at login, or an address stored
/// before these rules. Invisible characters are kept, not dropped: new addresses cannot
/// have them, and an old one that does keeps an account of its own.
pub fn email_key(email: &str) -> String {
    unicode::canonical_fold(email)
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
    fn refuses_invisible_and_unassigned_characters() {
        for bad in [
            "carol\u{200b}@example.com",
            "dan@example.com\u{200b}",
            "\u{202e}eve@example.com",
            "x\u{feff}@example.com",
            "frank@exam\u{ad}ple.com",
            "gina\u{200d}@example.com",
            "hank\u{2066}@example.com",
            "ivy\u{e0041}@example.com",
            "jo\u{fe0f}@example.com",
            "ken\u{3164}@example.com",
            "lee\u{50000}@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn stores_the_composed_form() {
        let decomposed = "e\u{301}cole@example.fr";
        assert_eq!(Email::parse(decomposed).unwrap().as_str(), "\u{e9}cole@example.fr");
        assert_eq!(
            Email::parse("Saul@Example.org").unwrap().as_str(),
            "Saul@Example.org",
            "case is kept"
        );
    }

    #[test]
    fn spellings_of_one_address_share_a_key() {
        let key = |email: &str| Email::parse(email).unwrap().key();
        assert_eq!(key("ΣΟΦΊΑΣ@x.gr"), key("σοφίας@x.gr"));
        assert_eq!(key("e\u{301}cole@example.fr"), key("\u{c9}COLE@EXAMPLE.FR"));
        assert_eq!(key("Strasse@example.de"), key("straße@example.de"));
        assert_eq!(key("Walt@Example.COM"), "walt@example.com");
        assert_ne!(key("carol@example.com"), key("caro1@example.com"));
        assert_ne!(
            email_key("carol\u{200b}@example.com"),
            email_key("carol@example.com"),
            "an old address with an invisible character keeps an account of its own"
        );
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
                    prop_assert_eq!(email.as_str(), unicode::nfc(&input));
                    prop_assert_eq!(input.matches('@').count(), 1);
                    prop_assert!(input.chars().count() <= Email::MAX_CHARS);
                    prop_assert!(email.as_str().chars().count() <= Email::MAX_CHARS);
                    prop_assert!(!input.chars().any(|c| c.is_whitespace() || c.is_control()));
                    prop_assert!(!input.chars().any(|c| is_invisible(c) || is_unassigned(c)));
                }
            }

            #[test]
            fn the_key_ignores_case_and_composition(
                local in "[a-zA-Zà-öø-ÿΑ-ΡΣ-Ωα-ω]{1,20}",
                domain in "[a-zé]{1,10}\\.[a-z]{2,4}",
            ) {
                let email = Email::parse(&format!("{local}@{domain}")).unwrap();
                let decomposed: String = icu_normalizer::DecomposingNormalizer::new_nfd()
                    .normalize(&email.as_str().to_uppercase())
                    .into_owned();
                prop_assert_eq!(email.key(), email_key(&decomposed));
                prop_assert_eq!(email.key(), email_key(&email.key()), "a key is its own key");
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
