//! The Unicode facts the domain types share: which characters are drawn as nothing, and the
//! folded forms in which two spellings that read the same compare equal. The data is ICU4X's
//! (the Unicode Consortium's own library), one Unicode version for all of it.

use icu_casemap::CaseMapper;
use icu_normalizer::{ComposingNormalizer, DecomposingNormalizer};
use icu_properties::{
    CodePointMapData, CodePointSetData,
    props::{DefaultIgnorableCodePoint, GeneralCategory, GeneralCategoryGroup},
};

/// Whether `c` is drawn as nothing, or only changes how its neighbours are drawn: a format
/// character (general category `Cf`: zero-width spaces and joiners, the soft hyphen, bidi
/// controls, the byte-order mark, tags) or another default-ignorable code point (variation
/// selectors, the combining grapheme joiner, Hangul fillers).
pub fn is_invisible(c: char) -> bool {
    category(c) == GeneralCategory::Format || CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)
}

/// Whether `c` is not yet assigned a meaning. Unicode promises that normalisation and case
/// folding of assigned characters never change; an unassigned one may gain a folding later.
pub fn is_unassigned(c: char) -> bool {
    category(c) == GeneralCategory::Unassigned
}

/// Whether `c` is a combining mark (accents and the like), which belongs to the letter before it.
pub fn is_mark(c: char) -> bool {
    GeneralCategoryGroup::Mark.contains(category(c))
}

fn category(c: char) -> GeneralCategory {
    CodePointMapData::<GeneralCategory>::new().get(c)
}

/// `text` in Normalization Form C: canonically equivalent spellings (`é` as one character
/// or as `e` and a combining accent) become one.
pub fn nfc(text: &str) -> String {
    ComposingNormalizer::new_nfc().normalize(text).into_owned()
}

/// The form in which canonical caseless matching compares (Unicode's D145): decomposed,
/// fully case-folded (`ß` and `ss`, `ς` and `σ` and `Σ` are one), then recomposed.
pub fn canonical_fold(text: &str) -> String {
    let decomposed = DecomposingNormalizer::new_nfd().normalize(text);
    nfc(&CaseMapper::new().fold_string(&decomposed))
}

/// The form in which compatibility caseless matching compares (Unicode's D146, with NFKC
/// instead of NFKD): fullwidth and mathematical letters, ligatures and the like become the
/// plain letters they stand for, and case is folded.
pub fn compatibility_fold(text: &str) -> String {
    let nfkc = ComposingNormalizer::new_nfkc();
    let folded = CaseMapper::new().fold_string(&nfkc.normalize(text)).into_owned();
    nfkc.normalize(&folded).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_characters() {
        for c in [
            '\u{ad}',
            '\u{200b}',
            '\u{200c}',
            '\u{200d}',
            '\u{200e}',
            '\u{202e}',
            '\u{2060}',
            '\u{2066}',
            '\u{feff}',
            '\u{34f}',
            '\u{3164}',
            '\u{fe0f}',
            '\u{e0001}',
            '\u{e0041}',
            '\u{e0100}',
        ] {
            assert!(is_invisible(c), "U+{:04X}", c as u32);
        }
        for c in ['a', ' ', '\u{a0}', '-', 'é', '\u{301}', '🙂', '\u{3000}', '\0'] {
            assert!(!is_invisible(c), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn folds_what_lowercasing_misses() {
        assert_eq!(canonical_fold("ΣΟΦΊΑΣ"), canonical_fold("σοφίας"));
        assert_eq!(canonical_fold("Straße"), canonical_fold("STRASSE"));
        assert_eq!(canonical_fold("e\u{301}cole"), canonical_fold("\u{e9}cole"));
        assert_eq!(canonical_fold("\u{e9}cole"), "\u{e9}cole", "recomposed");
        assert_ne!(canonical_fold("ＦＯＲＮＡＸ"), "fornax", "width is not case");
    }

    #[test]
    fn compatibility_folding_reads_lookalike_letters_as_plain_ones() {
        assert_eq!(compatibility_fold("ＦＯＲＮＡＸ"), "fornax");
        assert_eq!(compatibility_fold("𝐟𝐨𝐫𝐧𝐚𝐱"), "fornax");
        assert_eq!(compatibility_fold("kerfu\u{fb00}le"), "kerfuffle");
        assert_eq!(compatibility_fold("Straße"), "strasse");
    }
}
