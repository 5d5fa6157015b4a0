use super::{
    Invalid,
    unicode::{compatibility_fold, is_invisible, is_mark},
};

/// The longest chirp, counted in Unicode scalar values (what a person sees as
/// characters in almost every case), not bytes.
pub const CHIRP_MAX_CHARS: usize = 140;

const PROFANE: [&str; 3] = ["kerfuffle", "sharbert", "fornax"];
const CENSORED: &str = "****";

/// A chirp's text: at most 140 characters as written, with something visible in it, and
/// profane words replaced by `****` and every other character, spacing included, kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChirpBody(String);

impl ChirpBody {
    /// [`ChirpBody::parse`]'s rules (not its length limit) as a regular expression, for the
    /// API spec: no NUL anywhere, and at least one character that is neither whitespace
    /// (Rust's `char::is_whitespace`) nor invisible. The pattern names the invisible
    /// characters of the Basic Multilingual Plane only: the few beyond it (tag characters,
    /// supplementary variation selectors, some format controls) cannot be written in a
    /// class that both JavaScript and Python read the same, so a chirp made only of those
    /// matches the pattern but is refused as empty. `tests::pattern_names_what_parse_calls_blank`
    /// keeps the list true.
    pub const PATTERN: &str = concat!(
        r"^[^\x00]*",
        r"[^\x00\x09-\x0d\x20\x85\xa0\xad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2",
        r"\u115f\u1160\u1680\u17b4\u17b5\u180b-\u180f\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000",
        r"\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb]",
        r"[^\x00]*$"
    );

    pub fn parse(input: &str) -> Result<Self, Invalid> {
        // Zero-width spaces and the like show nothing: a chirp of them is as empty as one
        // of spaces.
        if is_blank(input) {
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

/// Whether nothing in `text` shows: whitespace and invisible characters alone (what
/// [`ChirpBody::PATTERN`] refuses, but for the NUL).
pub fn is_blank(text: &str) -> bool {
    text.chars().all(|c| c.is_whitespace() || is_invisible(c))
}

/// Walks the text as alternating runs of whitespace and words, copying whitespace
/// verbatim and censoring each word.
pub(super) fn censor(text: &str) -> String {
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

/// Whether `c` belongs to a run of letters: letters and digits, the marks that sit on them,
/// and invisible characters, which a reader does not see and so do not split a word.
fn in_run(c: char) -> bool {
    c.is_alphanumeric() || is_mark(c) || is_invisible(c)
}

/// Punctuation does not hide a word, whether it sits at an end (`Fornax!`, `fornax's`) or
/// between two (`fornax-fornax`, `fornax.kerfuffle`): each run of letters between
/// punctuation is judged on its own. Everything else is copied as it is.
fn censor_word(word: &str, out: &mut String) {
    let mut rest = word;
    while !rest.is_empty() {
        let run_start = rest.find(in_run).unwrap_or(rest.len());
        let (punctuation, after) = rest.split_at(run_start);
        out.push_str(punctuation);
        let run_end = after.find(|c: char| !in_run(c)).unwrap_or(after.len());
        let (run, after) = after.split_at(run_end);
        censor_run(run, out);
        rest = after;
    }
}

/// A run is profane when what a reader sees in it is: its visible characters, with
/// fullwidth, mathematical and ligature letters read as the plain ones, in any case. What
/// is replaced is the run from its first visible character to its last, so invisible
/// characters inside the word go with it and those around it stay.
fn censor_run(run: &str, out: &mut String) {
    let visible: String = run.chars().filter(|&c| !is_invisible(c)).collect();
    if !PROFANE.contains(&compatibility_fold(&visible).as_str()) {
        out.push_str(run);
        return;
    }
    let start = run.len() - run.trim_start_matches(is_invisible).len();
    let end = run.trim_end_matches(is_invisible).len();
    out.push_str(&run[..start]);
    out.push_str(CENSORED);
    out.push_str(&run[end..]);
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
    fn invisible_characters_alone_are_blank() {
        for blank in [
            "\u{200b}",
            "\u{200b}\u{200c}\u{200d}\u{2060}\u{feff}",
            " \u{ad} \u{202e}\t\u{2066}",
            "\u{fe0f}\u{3164}",
            "\u{e0001}\u{e0041}",
        ] {
            assert_eq!(ChirpBody::parse(blank), Err(Invalid("Chirp is empty")), "{blank:?}");
        }
        assert!(ChirpBody::parse("\u{200b}a\u{200b}").is_ok());
        assert!(
            ChirpBody::parse("👨\u{200d}👩\u{200d}👧").is_ok(),
            "emoji joined by ZWJ are visible"
        );
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
    fn punctuation_between_words_does_not_hide_them() {
        assert_eq!(cleaned("fornax's"), "****'s");
        assert_eq!(cleaned("fornax’s kerfuffle—"), "****’s ****—");
        assert_eq!(cleaned("fornax-fornax"), "****-****");
        assert_eq!(cleaned("fornax.kerfuffle"), "****.****");
        assert_eq!(cleaned("#sharbert_fornax"), "#****_****");
    }

    #[test]
    fn invisible_characters_do_not_hide_profanity() {
        assert_eq!(cleaned("for\u{200d}nax"), "****");
        assert_eq!(cleaned("ker\u{200b}fuf\u{ad}fle!"), "****!");
        assert_eq!(cleaned("s\u{2060}h\u{feff}arbert"), "****");
        // Invisible characters around the word are not part of it, and stay.
        assert_eq!(cleaned("\u{202e}fornax\u{200b}"), "\u{202e}****\u{200b}");
    }

    #[test]
    fn lookalike_letters_do_not_hide_profanity() {
        assert_eq!(cleaned("ＦＯＲＮＡＸ"), "****");
        assert_eq!(cleaned("𝐟𝐨𝐫𝐧𝐚𝐱 and 𝓈𝒽𝒶𝓇𝒷ℯ𝓇𝓉"), "**** and ****");
        assert_eq!(cleaned("kerfu\u{fb00}le"), "****");
        assert_eq!(cleaned("ⓕⓞⓡⓝⓐⓧ"), "****");
    }

    #[test]
    fn keeps_other_text_and_spacing_exactly() {
        assert_eq!(
            cleaned("  two  spaces\tand\na kerfuffle  "),
            "  two  spaces\tand\na ****  "
        );
        // `sharbert-fornax` stayed before issue 13: punctuation between words now splits them.
        assert_eq!(
            cleaned("kerfuffles and sharbert-fornax stay"),
            "kerfuffles and ****-**** stay"
        );
        assert_eq!(cleaned("naïve café"), "naïve café");
        assert_eq!(
            cleaned("fornaxes fornax1 ＦＯＲＮＡＸＥＳ"),
            "fornaxes fornax1 ＦＯＲＮＡＸＥＳ"
        );
        assert_eq!(
            cleaned("forn\u{301}ax"),
            "forn\u{301}ax",
            "an accent makes another word"
        );
    }

    /// `\xHH` or `\uHHHH`, as the pattern writes a character.
    fn escaped(c: u32) -> String {
        if c < 0x100 {
            format!("\\x{c:02x}")
        } else {
            format!("\\u{c:04x}")
        }
    }

    #[test]
    fn pattern_names_what_parse_calls_blank() {
        let excluded = |c: u32| char::from_u32(c).is_some_and(|c| c == '\0' || c.is_whitespace() || is_invisible(c));
        let mut class = String::new();
        let mut c = 0;
        while c <= 0xffff {
            if !excluded(c) {
                c += 1;
                continue;
            }
            let start = c;
            while c < 0xffff && excluded(c + 1) {
                c += 1;
            }
            class.push_str(&escaped(start));
            match c - start {
                0 => {}
                1 => class.push_str(&escaped(c)),
                _ => class.push_str(&format!("-{}", escaped(c))),
            }
            c += 1;
        }
        assert_eq!(ChirpBody::PATTERN, format!(r"^[^\x00]*[^{class}][^\x00]*$"));
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        /// Text rich in what matters here: profane words in mixed case, punctuation glued to
        /// words and between them, assorted whitespace, multi-byte characters.
        fn chirpish() -> impl Strategy<Value = String> {
            proptest::string::string_regex(
                r"(kerfuffle|KerFuffle|SHARBERT|fornax|fornaxes|[a-zé]{1,6}|[!?.,()'-]|[ \t\n\u{3000}]{1,3}|🙂){0,40}",
            )
            .unwrap()
        }

        /// A profane word as someone hiding it might write it: each letter in its own case,
        /// fullwidth or mathematical bold, with invisible characters between the letters.
        fn disguised() -> impl Strategy<Value = String> {
            let word = proptest::sample::select(PROFANE.to_vec());
            word.prop_flat_map(|word| {
                let letters = word.len();
                (Just(word), proptest::collection::vec((0..4u8, 0..6usize), letters))
            })
            .prop_map(|(word, looks)| {
                let mut out = String::new();
                for (i, (letter, (look, gap))) in word.chars().zip(looks).enumerate() {
                    let offset = letter as u32 - 'a' as u32;
                    let shown = match look {
                        0 => letter,
                        1 => letter.to_ascii_uppercase(),
                        2 => char::from_u32(0xff41 + offset).unwrap(),
                        _ => char::from_u32(0x1d41a + offset).unwrap(),
                    };
                    out.push(shown);
                    if i + 1 < word.len() {
                        out.push_str(["", "", "\u{200b}", "\u{200d}", "\u{ad}", "\u{2060}"][gap]);
                    }
                }
                out
            })
        }

        /// What a reader sees in each run of letters of `text`.
        fn runs(text: &str) -> Vec<String> {
            text.split(|c: char| !in_run(c))
                .map(|run| compatibility_fold(&run.chars().filter(|&c| !is_invisible(c)).collect::<String>()))
                .collect()
        }

        proptest! {
            #[test]
            fn any_input_is_a_chirp_or_a_clean_error(input in any::<String>()) {
                match ChirpBody::parse(&input) {
                    Ok(body) => {
                        prop_assert!(input.chars().count() <= CHIRP_MAX_CHARS);
                        prop_assert!(input.chars().any(|c| !c.is_whitespace() && !is_invisible(c)));
                        prop_assert!(!input.contains('\0'));
                        prop_assert!(body.as_str().chars().count() <= CHIRP_MAX_CHARS);
                    }
                    Err(Invalid(message)) => prop_assert!(!message.is_empty()),
                }
            }

            #[test]
            fn censoring_changes_only_profane_runs(input in chirpish()) {
                // Plain text has a plain oracle: every run of letters and digits that is a
                // profane word in any case becomes `****`, and nothing else changes.
                let mut expected = String::new();
                let mut run = String::new();
                let flush = |run: &mut String, expected: &mut String| {
                    let profane = PROFANE.contains(&run.to_lowercase().as_str());
                    expected.push_str(if profane { CENSORED } else { run });
                    run.clear();
                };
                for c in input.chars() {
                    if c.is_alphanumeric() {
                        run.push(c);
                    } else {
                        flush(&mut run, &mut expected);
                        expected.push(c);
                    }
                }
                flush(&mut run, &mut expected);
                prop_assert_eq!(censor(&input), expected);
            }

            #[test]
            fn disguises_do_not_survive(
                before in "[ (\"¡#-]{0,2}",
                word in disguised(),
                after in "(['’]s)?[ )\"!?.,-]{0,3}",
            ) {
                let output = censor(&format!("{before}{word}{after}"));
                prop_assert_eq!(output, format!("{before}{CENSORED}{after}"));
            }

            #[test]
            fn nothing_profane_is_left_and_whitespace_is_kept(input in any::<String>()) {
                let output = censor(&input);
                let spaces = |s: &str| s.chars().filter(|c| c.is_whitespace()).collect::<String>();
                prop_assert_eq!(spaces(&output), spaces(&input));
                for run in runs(&output) {
                    prop_assert!(!PROFANE.contains(&run.as_str()), "{:?} is left in {:?}", run, output);
                }
                prop_assert_eq!(censor(&output), output.clone(), "censoring twice changes nothing more");
            }
        }
    }
}
