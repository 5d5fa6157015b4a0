use std::{borrow::Cow, marker::PhantomData};

use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef},
    types::{ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type},
};
use serde_json::Value;

use crate::domain::{Bio, CHIRP_MAX_CHARS, ChirpBody, DisplayName, Email, Handle};

/// A string field of a request body, with the rules `R` published in the spec.
///
/// It must be a JSON string: poem-openapi's `String` also accepts numbers and booleans
/// (`"password": 123` would become `"123"`). The published rules are not enforced here:
/// the domain types enforce them, with the contract's messages (`Chirp is too long`); the
/// spec states them so generated clients and fuzzers know what will be accepted.
pub struct Text<R = AnyText>(pub String, PhantomData<R>);

impl<R> Text<R> {
    /// For spec examples.
    pub fn example(text: &str) -> Self {
        Self(text.to_owned(), PhantomData)
    }
}

/// What the spec says about one kind of text.
pub trait TextRules: Send + Sync + 'static {
    const NAME: &'static str;
    fn publish(_schema: &mut MetaSchema) {}
}

/// Any string.
pub struct AnyText;

impl TextRules for AnyText {
    const NAME: &'static str = "string";
}

/// What [`Email::parse`] accepts: an address of at most 254 characters.
pub struct EmailText;

impl TextRules for EmailText {
    const NAME: &'static str = "string_email";
    fn publish(schema: &mut MetaSchema) {
        schema.format = Some("email");
        schema.max_length = Some(Email::MAX_CHARS);
    }
}

/// What [`crate::domain::Password::parse`] accepts: anything but the empty string.
pub struct PasswordText;

impl TextRules for PasswordText {
    const NAME: &'static str = "string_password";
    fn publish(schema: &mut MetaSchema) {
        schema.min_length = Some(1);
        schema.format = Some("password");
    }
}

/// What [`ChirpBody::parse`] accepts: 1 to 140 characters, not all whitespace or invisible,
/// no NUL.
pub struct ChirpText;

impl TextRules for ChirpText {
    const NAME: &'static str = "string_chirp";
    fn publish(schema: &mut MetaSchema) {
        schema.min_length = Some(1);
        schema.max_length = Some(CHIRP_MAX_CHARS);
        schema.pattern = Some(ChirpBody::PATTERN.to_owned());
    }
}

/// What [`Handle::parse`] accepts: 3 to 30 ASCII letters, digits or underscores (and not
/// a reserved name, which the pattern cannot say; the operations' descriptions list them).
pub struct HandleText;

impl TextRules for HandleText {
    const NAME: &'static str = "string_handle";
    fn publish(schema: &mut MetaSchema) {
        schema.min_length = Some(Handle::MIN_CHARS);
        schema.max_length = Some(Handle::MAX_CHARS);
        schema.pattern = Some(Handle::PATTERN.to_owned());
    }
}

/// What [`DisplayName::parse`] accepts: at most 50 characters, no control characters.
pub struct DisplayNameText;

impl TextRules for DisplayNameText {
    const NAME: &'static str = "string_display_name";
    fn publish(schema: &mut MetaSchema) {
        schema.max_length = Some(DisplayName::MAX_CHARS);
        schema.pattern = Some(r"^[^\x00-\x1f\x7f-\x9f]*$".to_owned());
    }
}

/// What [`Bio::parse`] accepts: at most 160 characters, no control characters but line
/// breaks and tabs.
pub struct BioText;

impl TextRules for BioText {
    const NAME: &'static str = "string_bio";
    fn publish(schema: &mut MetaSchema) {
        schema.max_length = Some(Bio::MAX_CHARS);
        schema.pattern = Some(r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$".to_owned());
    }
}

/// A report's reason: 1 to 1,000 characters, something visible in them, no NUL (the
/// chirps' rules, but for the length).
pub struct ReasonText;

impl TextRules for ReasonText {
    const NAME: &'static str = "string_reason";
    fn publish(schema: &mut MetaSchema) {
        schema.min_length = Some(1);
        schema.max_length = Some(1000);
        schema.pattern = Some(ChirpBody::PATTERN.to_owned());
    }
}

/// A search's words: 1 to 200 characters, something visible in them, no NUL (the chirps'
/// rules, but for the length).
pub struct SearchText;

impl SearchText {
    pub const MAX_CHARS: usize = 200;
}

impl TextRules for SearchText {
    const NAME: &'static str = "string_search";
    fn publish(schema: &mut MetaSchema) {
        schema.min_length = Some(1);
        schema.max_length = Some(Self::MAX_CHARS);
        schema.pattern = Some(ChirpBody::PATTERN.to_owned());
    }
}

/// A moderator's note: at most 1,000 characters, no NUL.
pub struct NoteText;

impl TextRules for NoteText {
    const NAME: &'static str = "string_note";
    fn publish(schema: &mut MetaSchema) {
        schema.max_length = Some(1000);
        schema.pattern = Some(r"^[^\x00]*$".to_owned());
    }
}

impl<R: TextRules> Type for Text<R> {
    const IS_REQUIRED: bool = true;
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        R::NAME.into()
    }

    fn schema_ref() -> MetaSchemaRef {
        let mut schema = MetaSchema::new("string");
        R::publish(&mut schema);
        MetaSchemaRef::Inline(Box::new(schema))
    }

    fn as_raw_value(&self) -> Option<&String> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl<R: TextRules> ParseFromJSON for Text<R> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::String(text)) => Ok(Self(text, PhantomData)),
            other => Err(ParseError::expected_type(other.unwrap_or_default())),
        }
    }
}

/// A query parameter, as any text: the checks are the operation's, as for bodies.
impl<R: TextRules> ParseFromParameter for Text<R> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Ok(Self(value.to_owned(), PhantomData))
    }
}

impl<R: TextRules> ToJSON for Text<R> {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_json_strings() {
        let parsed = Text::<AnyText>::parse_from_json(Some(Value::String("x".into())));
        assert!(parsed.is_ok_and(|t| t.0 == "x"));
        for wrong in [
            serde_json::json!(5),
            serde_json::json!(true),
            serde_json::json!(null),
            serde_json::json!(["x"]),
        ] {
            assert!(
                Text::<AnyText>::parse_from_json(Some(wrong.clone())).is_err(),
                "{wrong} must be refused"
            );
        }
        assert!(Text::<AnyText>::parse_from_json(None).is_err());
    }

    #[test]
    fn publishes_the_domain_rules() {
        let MetaSchemaRef::Inline(chirp) = Text::<ChirpText>::schema_ref() else {
            panic!("inline schema")
        };
        assert_eq!((chirp.min_length, chirp.max_length), (Some(1), Some(140)));
        assert_eq!(chirp.pattern.as_deref(), Some(ChirpBody::PATTERN));
        let MetaSchemaRef::Inline(email) = Text::<EmailText>::schema_ref() else {
            panic!("inline schema")
        };
        assert_eq!((email.format, email.max_length), (Some("email"), Some(254)));
    }
}
