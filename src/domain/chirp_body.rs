use super::Invalid;

/// The longest chirp, counted in Unicode scalar values (what a person sees as
/// characters in almost every case), not bytes.
pub const CHIRP_MAX_CHARS: usize = 140;

const PROFANE: [&str; 3] = ["kerfuffle", "sharbert", "fornax"];
const CENSORED: &str = "****";

/// A chirp's text: non-blank, at most 140 characters as written, with profane
/// words replaced by `****` and every other character, spacing included, kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChirpBody(String);

impl ChirpBody {
    /// [`ChirpBody::parse`]'s rules (not its length limit) as a regular expression, for the
    /// API spec: no NUL anywhere, and at least one character that Rust's
    /// `char::is_whitespace` does not call whitespace.
    pub const PATTERN: &str = concat!(
        r"^[^\x00]*",
        r"[^\x00\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
        r"[^\x00]*$"
    );

    pub fn parse(input: &str) -> Result<Self, Invalid> {
        if input.trim().is_empty() {
            return Err(Invalid("Chirp is empty"));
        }
        // The limit applies to what the author wrote, before censoring shortens it.
        if input.chars().count() > CHIRP_MAX_CHARS {
            return Err(Invalid("Chirp is too long"));
        }
        // JSON allows it, but PostgreSQL text cannot hold it.
        if input.contains('\0') {
            return Err(Invalid("Chirp contains a NUL character"));
        }
        Ok(Self(censor(input)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Walks the text as alternating runs of whitespace and words, copying whitespace
/// verbatim and censoring each word.
fn censor(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let space_end = rest.find(|c: char| !c.is_whitespace()).unwrap_or(rest.len());
        let (space, after) = rest.split_at(space_end);
        out.push_str(space);
        let word_end = after.find(char::is_whitespace).unwrap_or(after.len());
        let (word, after) = after.split_at(word_end);
        censor_word(word, &mut out);
        rest = after;
    }
    out
}

/// Punctuation stuck to either end of a word does not hide it: `Fornax!` becomes `****!`.
fn censor_word(word: &str, out: &mut String) {
    let is_edge = |c: char| !c.is_alphanumeric();
    let core = word.trim_matches(is_edge);
    if !PROFANE.contains(&core.to_lowercase().as_str()) {
        out.push_str(word);
        return;
    }
    let start = word.len() - word.trim_start_matches(is_edge).len();
    out.push_str(&word[..start]);
    out.push_str(CENSORED);
    out.push_str(&word[start + core.len()..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cleaned(text: &str) -> String {
        ChirpBody::parse(text).unwrap().as_str().to_owned()
    }

    #[test]
    fn counts_characters_not_bytes() {
        assert!(
            ChirpBody::parse(&"é".repeat(140)).is_ok(),
            "140 two-byte characters fit"
        );
        assert_eq!(ChirpBody::parse(&"é".repeat(141)), Err(Invalid("Chirp is too long")));
        assert!(ChirpBody::parse(&"a".repeat(140)).is_ok());
        assert_eq!(ChirpBody::parse(&"a".repeat(141)), Err(Invalid("Chirp is too long")));
        assert!(
            ChirpBody::parse(&"🐦".repeat(140)).is_ok(),
            "140 four-byte characters fit"
        );
    }

    #[test]
    fn refuses_empty_and_blank_chirps() {
        assert_eq!(ChirpBody::parse(""), Err(Invalid("Chirp is empty")));
        assert_eq!(ChirpBody::parse(" \n\t "), Err(Invalid("Chirp is empty")));
    }

    #[test]
    fn refuses_nul_characters() {
        assert_eq!(ChirpBody::parse("a\0b"), Err(Invalid("Chirp contains a NUL character")));
    }

    #[test]
    fn length_is_judged_before_censoring() {
        let text = format!("{} kerfuffle", "a".repeat(131));
        assert_eq!(text.chars().count(), 141);
        assert!(ChirpBody::parse(&text).is_err());
    }

    #[test]
    fn censors_profanity_in_any_case() {
        assert_eq!(cleaned("I had a kerfuffle today"), "I had a **** today");
        assert_eq!(cleaned("KERFUFFLE Sharbert fOrNaX"), "**** **** ****");
    }

    #[test]
    fn punctuation_does_not_hide_profanity() {
        assert_eq!(cleaned("Fornax!"), "****!");
        assert_eq!(cleaned("(sharbert), \"kerfuffle?\""), "(****), \"****?\"");
        assert_eq!(cleaned("¡fornax!🙂"), "¡****!🙂");
    }

    #[test]
    fn keeps_other_text_and_spacing_exactly() {
        assert_eq!(
            cleaned("  two  spaces\tand\na kerfuffle  "),
            "  two  spaces\tand\na ****  "
        );
        assert_eq!(
            cleaned("kerfuffles and sharbert-fornax stay"),
            "kerfuffles and sharbert-fornax stay"
        );
        assert_eq!(cleaned("naïve café"), "naïve café");
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        /// Text rich in what matters here: profane words in mixed case, punctuation glued to
        /// words, assorted whitespace, multi-byte characters.
        fn chirpish() -> impl Strategy<Value = String> {
            proptest::string::string_regex(
                r"(kerfuffle|KerFuffle|SHARBERT|fornax|fornaxes|[a-zé]{1,6}|[!?.,()'-]|[ \t\n\u{3000}]{1,3}|🙂){0,40}",
            )
            .unwrap()
        }

        proptest! {
            #[test]
            fn any_input_is_a_chirp_or_a_clean_error(input in any::<String>()) {
                match ChirpBody::parse(&input) {
                    Ok(body) => {
                        prop_assert!(input.chars().count() <= CHIRP_MAX_CHARS);
                        prop_assert!(!input.trim().is_empty() && !input.contains('\0'));
                        prop_assert!(body.as_str().chars().count() <= CHIRP_MAX_CHARS);
                    }
                    Err(Invalid(message)) => prop_assert!(!message.is_empty()),
                }
            }

            #[test]
            fn censoring_changes_only_profane_words(input in chirpish()) {
                let output = censor(&input);
                // Whitespace, and so the word boundaries, are kept exactly.
                let spaces = |s: &str| s.chars().filter(|c| c.is_whitespace()).collect::<String>();
                prop_assert_eq!(spaces(&output), spaces(&input));
                let mut expected_len = input.len();
                for (before, after) in input.split(char::is_whitespace).zip(output.split(char::is_whitespace)) {
                    if before == after {
                        let core = before.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
                        prop_assert!(!PROFANE.contains(&core.as_str()), "{:?} was not censored", before);
                        continue;
                    }
                    let core = before.trim_matches(|c: char| !c.is_alphanumeric());
                    prop_assert!(PROFANE.contains(&core.to_lowercase().as_str()), "{:?} was changed", before);
                    prop_assert_eq!(after, before.replacen(core, CENSORED, 1));
                    expected_len = expected_len - core.len() + CENSORED.len();
                }
                prop_assert_eq!(output.len(), expected_len, "length changes only by the replacements");
            }
        }
    }
}
