//! Conditional GETs (RFC 9110): every chirp and page is sent with a strong `ETag` and
//! `Cache-Control: no-cache` (keep it, but ask again: a chirp can be deleted), and a client
//! that sends its tag back in `If-None-Match` gets `304 Not Modified` and no body.

use std::borrow::Cow;

use poem::http::HeaderValue;
use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef},
    types::{ToHeader, Type},
};

/// An entity tag as the `ETag` header sends it (quoted).
pub struct ETag(pub HeaderValue);

/// `Cache-Control: no-cache`.
pub struct NoCache;

const NO_CACHE: HeaderValue = HeaderValue::from_static("no-cache");

/// Both are plain strings in the spec.
macro_rules! header_string {
    ($type:ty, $value:expr) => {
        impl Type for $type {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> Cow<'static, str> {
                "string".into()
            }

            fn schema_ref() -> MetaSchemaRef {
                MetaSchemaRef::Inline(Box::new(MetaSchema::new("string")))
            }

            fn as_raw_value(&self) -> Option<&Self> {
                Some(self)
            }

            fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
                Box::new(self.as_raw_value().into_iter())
            }
        }

        impl ToHeader for $type {
            fn to_header(&self) -> Option<HeaderValue> {
                let value: fn(&Self) -> HeaderValue = $value;
                Some(value(self))
            }
        }
    };
}

header_string!(ETag, |tag| tag.0.clone());
header_string!(NoCache, |_| NO_CACHE);

/// Whether the client's copy, named by `If-None-Match`, is the one tagged `etag` (weak
/// comparison, as RFC 9110 asks for this header; `*` matches any current representation).
pub fn client_has(if_none_match: Option<&str>, etag: &HeaderValue) -> bool {
    let Some(list) = if_none_match else { return false };
    let Ok(etag) = etag.to_str() else { return false };
    let opaque = |tag: &str| -> String { tag.trim().trim_start_matches("W/").to_owned() };
    list.split(',')
        .any(|tag| tag.trim() == "*" || opaque(tag) == opaque(etag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_compares_weakly_and_lists_and_stars_match() {
        let etag = HeaderValue::from_static("\"abc\"");
        for matching in ["\"abc\"", "W/\"abc\"", "\"x\", \"abc\"", " \"abc\" ", "*", "\"x\",*"] {
            assert!(client_has(Some(matching), &etag), "{matching:?}");
        }
        for other in ["\"abd\"", "abc", "\"abc", "", "W/\"x\""] {
            assert!(!client_has(Some(other), &etag), "{other:?}");
        }
        assert!(!client_has(None, &etag));
    }
}
