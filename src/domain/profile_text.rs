//! The free text of a profile: a display name and a bio, each limited in characters and
//! cleaned as chirp bodies are.

use super::{
    Invalid,
    chirp_body::censor,
    unicode::{is_invisible, nfc},
};

/// A name to show instead of the handle: at most 50 characters on one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

/// A few words about the user: at most 160 characters; line breaks allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bio(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 50;

    pub fn parse(input: &str) -> Result<Self, Invalid> {
        if input.chars().count() > Self::MAX_CHARS {
            return Err(Invalid("Display name is too long (at most 50 characters)"));
        }
        if input.chars().any(char::is_control) {
            return Err(Invalid("Display name cannot contain control characters or line breaks"));
        }
        Ok(Self(clean(input)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Bio {
    pub const MAX_CHARS: usize = 160;

    pub fn parse(input: &str) -> Result<Self, Invalid> {
        if input.chars().count() > Self::MAX_CHARS {
            return Err(Invalid("Bio is too long (at most 160 characters)"));
        }
        if input
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(Invalid("Bio cannot contain control characters"));
        }
        Ok(Self(clean(input)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What is kept of profile text: nothing, when nothing in it shows (whitespace and
/// invisible characters alone are empty, as a chirp of them is); else the text in composed
/// form (NFC, as emails are kept) with the whitespace around it trimmed and profanity
/// censored. The limit applies to the text as written, before any of this: what the spec's
/// `maxLength` says.
fn clean(input: &str) -> String {
    if input.chars().all(|c| c.is_whitespace() || is_invisible(c)) {
        return String::new();
    }
    censor(nfc(input).trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_characters_as_written() {
        assert!(DisplayName::parse(&"é".repeat(50)).is_ok());
        assert!(DisplayName::parse(&"é".repeat(51)).is_err());
        assert!(
            DisplayName::parse(&format!(" {} ", "a".repeat(49))).is_err(),
            "spaces count: what the spec's maxLength says"
        );
        assert!(Bio::parse(&"🐦".repeat(160)).is_ok());
        assert_eq!(
            Bio::parse(&"a".repeat(161)),
            Err(Invalid("Bio is too long (at most 160 characters)"))
        );
    }

    #[test]
    fn invisible_or_blank_text_is_empty() {
        for blank in ["", "   ", "\u{200b}\u{200d}", " \u{feff} "] {
            assert_eq!(DisplayName::parse(blank).unwrap().as_str(), "", "{blank:?}");
            assert_eq!(Bio::parse(blank).unwrap().as_str(), "", "{blank:?}");
        }
    }

    #[test]
    fn cleaned_as_chirps_are() {
        assert_eq!(DisplayName::parse("  Walt Fornax! ").unwrap().as_str(), "Walt ****!");
        assert_eq!(
            Bio::parse("e\u{301}cole\nsharbert").unwrap().as_str(),
            "\u{e9}cole\n****"
        );
    }

    #[test]
    fn names_stay_on_one_line_and_neither_holds_control_characters() {
        assert!(DisplayName::parse("Walt\nWhite").is_err());
        assert!(DisplayName::parse("Walt\0").is_err());
        assert!(Bio::parse("line one\nline two\ttab").is_ok());
        assert!(Bio::parse("bell\u{7}").is_err());
        assert!(Bio::parse("nul\0").is_err());
    }
}
