use super::Invalid;

/// A user's public name in URLs and mentions (`@walt_w`): 3 to 30 ASCII letters, digits or
/// underscores, kept as typed and unique regardless of letter case, and none of the
/// [`Handle::RESERVED`] names, which would read as the service speaking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handle(String);

impl Handle {
    pub const MIN_CHARS: usize = 3;
    pub const MAX_CHARS: usize = 30;
    /// The shape, for the spec (the reserved names match it, and are refused).
    pub const PATTERN: &str = "^[A-Za-z0-9_]{3,30}$";
    /// Names of the service's own pages and roles, refused in any letter case. (`me` and
    /// the other two-letter ones are too short to be handles anyway; they are listed so the
    /// spec says so.)
    pub const RESERVED: &[&str] = &[
        "about",
        "admin",
        "administrator",
        "api",
        "app",
        "assets",
        "chirpy",
        "docs",
        "everyone",
        "healthz",
        "help",
        "home",
        "login",
        "logout",
        "me",
        "metrics",
        "mod",
        "moderator",
        "notifications",
        "null",
        "official",
        "openapi",
        "polka",
        "root",
        "search",
        "security",
        "settings",
        "signup",
        "staff",
        "static",
        "support",
        "system",
        "undefined",
        "www",
    ];

    pub fn parse(input: &str) -> Result<Self, Invalid> {
        if !Self::well_formed(input) {
            return Err(Invalid("Handle must be 3 to 30 letters, digits or underscores"));
        }
        if Self::RESERVED.iter().any(|name| name.eq_ignore_ascii_case(input)) {
            return Err(Invalid("This handle is reserved"));
        }
        Ok(Self(input.to_owned()))
    }

    /// Whether `input` has a handle's shape (reserved or not): what a lookup by handle may
    /// ask for.
    pub fn well_formed(input: &str) -> bool {
        (Self::MIN_CHARS..=Self::MAX_CHARS).contains(&input.len())
            && input.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn accepts_letters_digits_and_underscores_as_typed() {
        for good in ["walt", "Walt_White", "abc", "a_1", &"x".repeat(30), "___"] {
            assert_eq!(Handle::parse(good).unwrap().as_str(), good);
        }
    }

    #[test]
    fn refuses_other_shapes() {
        for bad in [
            "",
            "ab",
            &"x".repeat(31),
            "walt white",
            "wält",
            "walt-w",
            "@walt",
            "walt\0",
            "ｗａｌｔ",
        ] {
            assert_eq!(
                Handle::parse(bad),
                Err(Invalid("Handle must be 3 to 30 letters, digits or underscores")),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn refuses_reserved_names_in_any_case() {
        for reserved in ["admin", "ADMIN", "Api", "docs", "Chirpy"] {
            assert_eq!(
                Handle::parse(reserved),
                Err(Invalid("This handle is reserved")),
                "{reserved}"
            );
        }
        assert!(Handle::parse("admin2").is_ok());
    }

    #[test]
    fn every_reserved_name_is_lowercase_and_sorted() {
        assert!(Handle::RESERVED.iter().all(|name| *name == name.to_ascii_lowercase()));
        assert!(Handle::RESERVED.windows(2).all(|pair| pair[0] < pair[1]));
    }

    proptest! {
        #[test]
        fn parses_exactly_what_the_pattern_and_the_list_allow(input in "[A-Za-z0-9_ @.-]{0,34}") {
            let shaped = input.len() >= 3 && input.len() <= 30
                && input.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            let reserved = Handle::RESERVED.contains(&input.to_ascii_lowercase().as_str());
            prop_assert_eq!(Handle::parse(&input).is_ok(), shaped && !reserved);
        }
    }
}
