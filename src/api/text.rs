use std::borrow::Cow;

use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef},
    types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type},
};
use serde_json::Value;

/// A string field of a request body that must be a JSON string. poem-openapi's `String`
/// also accepts numbers and booleans (`"password": 123` would become `"123"`); a client
/// sending the wrong type should hear about it instead.
#[derive(Clone, PartialEq, Eq)]
pub struct Text(pub String);

impl Type for Text {
    const IS_REQUIRED: bool = true;
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        "string".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema::new("string")))
    }

    fn as_raw_value(&self) -> Option<&String> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ParseFromJSON for Text {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::String(text)) => Ok(Self(text)),
            other => Err(ParseError::expected_type(other.unwrap_or_default())),
        }
    }
}

impl ToJSON for Text {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_json_strings() {
        assert!(Text::parse_from_json(Some(Value::String("x".into()))).is_ok_and(|t| t.0 == "x"));
        for wrong in [
            serde_json::json!(5),
            serde_json::json!(true),
            serde_json::json!(null),
            serde_json::json!(["x"]),
        ] {
            assert!(
                Text::parse_from_json(Some(wrong.clone())).is_err(),
                "{wrong} must be refused"
            );
        }
        assert!(Text::parse_from_json(None).is_err());
    }
}
