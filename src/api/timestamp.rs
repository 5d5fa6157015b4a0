use std::borrow::Cow;

use chrono::{DateTime, SecondsFormat, Utc};
use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef},
    types::{ParseFromJSON, ParseResult, ToJSON, Type},
};
use serde_json::Value;

/// An instant in UTC, written as RFC 3339 with microseconds and `Z`
/// (`2026-11-24T06:47:53.382250Z`), the contract's format; chrono's default
/// would write `+00:00` and a varying number of digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, sqlx::Type)]
#[sqlx(transparent)]
pub struct Timestamp(DateTime<Utc>);

impl From<DateTime<Utc>> for Timestamp {
    fn from(instant: DateTime<Utc>) -> Self {
        Self(instant)
    }
}

impl From<Timestamp> for DateTime<Utc> {
    fn from(Timestamp(instant): Timestamp) -> Self {
        instant
    }
}

impl Type for Timestamp {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "string_date-time".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", "date-time")))
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ToJSON for Timestamp {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.to_rfc3339_opts(SecondsFormat::Micros, true)))
    }
}

/// The same text as [`ToJSON`], for the responses serde writes directly.
impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0.to_rfc3339_opts(SecondsFormat::Micros, true))
    }
}

impl ParseFromJSON for Timestamp {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        DateTime::<Utc>::parse_from_json(value)
            .map(Self)
            .map_err(|err| err.propagate())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_utc_with_microseconds_and_z() {
        let instant: DateTime<Utc> = "2026-11-24T06:47:53.38225Z".parse().unwrap();
        assert_eq!(
            Timestamp(instant).to_json(),
            Some(Value::String("2026-11-24T06:47:53.382250Z".into()))
        );
        let whole: DateTime<Utc> = "2026-11-24T06:47:53Z".parse().unwrap();
        assert_eq!(
            Timestamp(whole).to_json(),
            Some(Value::String("2026-11-24T06:47:53.000000Z".into()))
        );
    }
}
