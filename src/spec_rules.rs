//! What the API's own spec says about each route, for the answers the framework gives
//! before an operation runs: the `Allow` header of a 405 (RFC 9110 requires it), and, for
//! a malformed parameter or body, which field is wrong and what it must be, in the
//! client's terms (poem-openapi's own messages name internal types such as
//! `string_uuid` or `NewChirp`). Read from the spec, so it cannot drift from the routes.

use crate::domain::ChirpBody;
use serde_json::Value;

/// The web app's files are only ever read.
const STATIC_FILES: &str = "GET, HEAD";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Parameter,
}

#[derive(Debug, Clone, Default)]
struct Route {
    segments: Vec<Segment>,
    /// `GET, POST`, in the spec's (alphabetical) order.
    allow: String,
    /// Per method (lowercase): its parameters' rules, and its JSON body's schema.
    operations: Vec<(String, Operation)>,
}

#[derive(Debug, Clone, Default)]
struct Operation {
    /// (name, where (`path`, `query`, `header`), what a valid value is).
    params: Vec<(String, String, String)>,
    body: Option<Value>,
}

#[derive(Debug, Clone, Default)]
pub struct SpecRules {
    routes: Vec<Route>,
    /// The spec's `components.schemas`, for `$ref`s.
    schemas: Value,
}

impl SpecRules {
    /// From an OpenAPI document: `paths` keys like `/api/chirps/{chirpID}`, each with its
    /// operations.
    pub fn from_spec(spec: &Value) -> Self {
        let schemas = spec["components"]["schemas"].clone();
        let routes = spec["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(path, operations)| {
                let operations = operations.as_object().cloned().unwrap_or_default();
                let methods: Vec<String> = operations.keys().map(|m| m.to_uppercase()).collect();
                Route {
                    segments: segments(path)
                        .map(|s| {
                            if s.starts_with('{') && s.ends_with('}') {
                                Segment::Parameter
                            } else {
                                Segment::Literal(s.to_owned())
                            }
                        })
                        .collect(),
                    allow: methods.join(", "),
                    operations: operations
                        .iter()
                        .map(|(method, operation)| (method.clone(), Operation::from_spec(operation, &schemas)))
                        .collect(),
                }
            })
            .collect();
        Self { routes, schemas }
    }

    /// The route a request path is, as the router sees it (literal segments win).
    fn route(&self, path: &str) -> Option<&Route> {
        let wanted: Vec<&str> = segments(path).collect();
        self.routes
            .iter()
            .filter(|route| {
                route.segments.len() == wanted.len()
                    && route.segments.iter().zip(&wanted).all(|(p, w)| match p {
                        Segment::Literal(literal) => literal == w,
                        Segment::Parameter => true,
                    })
            })
            .max_by_key(|route| {
                route
                    .segments
                    .iter()
                    .filter(|s| matches!(s, Segment::Literal(_)))
                    .count()
            })
    }

    fn operation(&self, method: &str, path: &str) -> Option<&Operation> {
        let route = self.route(path)?;
        let method = method.to_ascii_lowercase();
        route.operations.iter().find(|(m, _)| *m == method).map(|(_, op)| op)
    }

    /// The `Allow` value for a request path (methods in alphabetical order), if the path exists.
    pub fn allowed_methods(&self, path: &str) -> Option<&str> {
        if path == "/app" || path.starts_with("/app/") {
            return Some(STATIC_FILES);
        }
        self.route(path).map(|route| route.allow.as_str())
    }

    /// What is wrong with a parameter that did not parse: `Invalid author_id: must be a
    /// UUID`. `name` is `None` for path parameters (poem-openapi does not say which).
    pub fn parameter_problem(&self, method: &str, path: &str, name: Option<&str>) -> Option<String> {
        let operation = self.operation(method, path)?;
        let (name, _, rule) = operation
            .params
            .iter()
            .find(|(param, place, _)| name.map_or(place == "path", |name| param.eq_ignore_ascii_case(name)))?;
        Some(format!("Invalid {name}: must be {rule}"))
    }

    /// What is wrong with a JSON body the operation refused, in the client's terms: the
    /// first field (by its path, `data.user_id`) that is missing or of the wrong kind.
    pub fn body_problem(&self, method: &str, path: &str, body: &[u8]) -> Option<String> {
        let schema = self.operation(method, path)?.body.as_ref()?;
        let value: Value = match serde_json::from_slice(body) {
            Ok(value) => value,
            Err(err) => return Some(format!("The body is not valid JSON: {err}")),
        };
        let problem = self.check(&value, schema, "")?;
        Some(format!("Invalid request body: {problem}"))
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        match schema["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
        {
            Some(name) => &self.schemas[name],
            None => schema,
        }
    }

    fn check(&self, value: &Value, schema: &Value, at: &str) -> Option<String> {
        let schema = self.resolve(schema);
        let named = |what: &str| {
            if at.is_empty() {
                format!("the body must be {what}")
            } else {
                format!("`{at}` must be {what}")
            }
        };
        let well_typed = match schema["type"].as_str() {
            Some("object") => value.is_object(),
            Some("string") => value.is_string(),
            Some("integer") => value.is_i64() || value.is_u64(),
            Some("number") => value.is_number(),
            Some("boolean") => value.is_boolean(),
            Some("array") => value.is_array(),
            _ => true,
        };
        // The kind of value only: a pattern is the domain's to check, with its own message.
        let kind = || describe(&without_pattern(schema), &self.schemas);
        if !well_typed {
            return Some(named(&kind()));
        }
        if let Some(text) = value.as_str() {
            let uuid_ok = schema["format"] != "uuid" || uuid::Uuid::try_parse(text).is_ok();
            return (!uuid_ok).then(|| named(&kind()));
        }
        let object = value.as_object()?;
        let properties = schema["properties"].as_object()?;
        let required: Vec<&str> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        properties.iter().find_map(|(field, field_schema)| {
            let at = if at.is_empty() {
                field.clone()
            } else {
                format!("{at}.{field}")
            };
            match object.get(field) {
                None | Some(Value::Null) if required.contains(&field.as_str()) => Some(format!("`{at}` is required")),
                None | Some(Value::Null) => None,
                Some(value) => self.check(value, field_schema, &at),
            }
        })
    }
}

impl Operation {
    fn from_spec(operation: &Value, schemas: &Value) -> Self {
        let params = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|param| {
                let name = param["name"].as_str().unwrap_or_default().to_owned();
                let place = param["in"].as_str().unwrap_or_default().to_owned();
                (name, place, describe(&param["schema"], schemas))
            })
            .collect();
        let body = operation["requestBody"]["content"]
            .as_object()
            .and_then(|content| content.values().next())
            .map(|media| media["schema"].clone());
        Self { params, body }
    }
}

/// A value a schema accepts, as a client would say it: "a UUID", "a whole number from 1 to
/// 1000", "one of asc, desc".
fn describe(schema: &Value, schemas: &Value) -> String {
    let schema = match schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
    {
        Some(name) => &schemas[name],
        None => schema,
    };
    if let Some(values) = schema["enum"].as_array() {
        let values: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
        return format!("one of {}", values.join(", "));
    }
    let bounds = |what: &str| match (schema["minimum"].as_f64(), schema["maximum"].as_f64()) {
        (Some(min), Some(max)) => format!("{what} from {min} to {max}"),
        (Some(min), None) => format!("{what} of at least {min}"),
        _ => what.to_owned(),
    };
    match (schema["type"].as_str(), schema["format"].as_str()) {
        (Some("string"), Some("uuid")) => "a UUID".to_owned(),
        (Some("string"), Some("email")) => "an email address (a string)".to_owned(),
        (Some("string"), _) => {
            let sized = match (schema["minLength"].as_u64(), schema["maxLength"].as_u64()) {
                (Some(min), Some(max)) => format!("a string of {min} to {max} characters"),
                (None, Some(max)) => format!("a string of at most {max} characters"),
                (Some(min), None) => format!("a string of at least {min} characters"),
                (None, None) => "a string".to_owned(),
            };
            match schema["pattern"].as_str() {
                Some("^[0-9a-fA-F]{48}$") => "48 hexadecimal characters (the cursor of a `Link` header)".to_owned(),
                // Too long to quote: what it says, in words.
                Some(ChirpBody::PATTERN) => format!("{sized}, something visible among them and no NUL"),
                Some(pattern) => format!("a string matching {pattern}"),
                None => sized,
            }
        }
        (Some("integer"), _) => bounds("a whole number"),
        (Some("number"), _) => bounds("a number"),
        (Some("boolean"), _) => "true or false".to_owned(),
        (Some("object"), _) => "a JSON object".to_owned(),
        (Some("array"), _) => "an array".to_owned(),
        _ => "well formed".to_owned(),
    }
}

fn without_pattern(schema: &Value) -> Value {
    let mut schema = schema.clone();
    if let Some(schema) = schema.as_object_mut() {
        schema.remove("pattern");
    }
    schema
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rules() -> SpecRules {
        SpecRules::from_spec(&serde_json::from_str(&crate::api::service().spec()).unwrap())
    }

    #[test]
    fn matches_literal_and_parameter_segments() {
        let rules = rules();
        assert_eq!(rules.allowed_methods("/api/chirps"), Some("GET, POST"));
        assert_eq!(rules.allowed_methods("/api/chirps/"), Some("GET, POST"));
        assert_eq!(rules.allowed_methods("/api/chirps/abc"), Some("DELETE, GET"));
        assert_eq!(rules.allowed_methods("/api/chirps/stream"), Some("GET"));
        assert_eq!(rules.allowed_methods("/api/chirps/abc/def"), None);
        assert_eq!(rules.allowed_methods("/api/nothing"), None);
        assert_eq!(rules.allowed_methods("/app/index.html"), Some("GET, HEAD"));
    }

    #[test]
    fn parameter_problems_name_the_parameter_and_the_rule() {
        let rules = rules();
        let problem = |method, path, name| rules.parameter_problem(method, path, name).unwrap();
        assert_eq!(
            problem("GET", "/api/chirps", Some("author_id")),
            "Invalid author_id: must be a UUID"
        );
        assert_eq!(
            problem("GET", "/api/chirps", Some("sort")),
            "Invalid sort: must be one of asc, desc"
        );
        assert_eq!(
            problem("GET", "/api/search/chirps", Some("q")),
            "Invalid q: must be a string of 1 to 200 characters, something visible among them and no NUL"
        );
        assert_eq!(
            problem("GET", "/api/chirps", Some("limit")),
            "Invalid limit: must be a whole number from 1 to 1000"
        );
        assert_eq!(
            problem("DELETE", "/api/chirps/x", None),
            "Invalid chirpID: must be a UUID"
        );
    }

    #[test]
    fn body_problems_name_the_field_and_the_rule() {
        let rules = rules();
        let problem = |method, path, body: Value| rules.body_problem(method, path, body.to_string().as_bytes());
        let post = |body| problem("POST", "/api/chirps", body);
        assert_eq!(
            post(json!({"body": 5})).unwrap(),
            "Invalid request body: `body` must be a string of 1 to 140 characters"
        );
        assert_eq!(post(json!({})).unwrap(), "Invalid request body: `body` is required");
        assert_eq!(
            post(json!([1])).unwrap(),
            "Invalid request body: the body must be a JSON object"
        );
        assert_eq!(post(json!({"body": "fine"})), None);
        let webhook = |body| problem("POST", "/api/polka/webhooks", body);
        assert_eq!(
            webhook(json!({"event": "user.upgraded", "data": {"user_id": "nope"}})).unwrap(),
            "Invalid request body: `data.user_id` must be a UUID"
        );
        assert_eq!(
            webhook(json!({"event": "user.upgraded"})).unwrap(),
            "Invalid request body: `data` is required"
        );
        assert_eq!(
            problem("POST", "/api/users", json!({"email": 1, "password": "x"})).unwrap(),
            "Invalid request body: `email` must be an email address (a string)"
        );
        let broken = rules.body_problem("POST", "/api/chirps", b"{").unwrap();
        assert!(broken.starts_with("The body is not valid JSON: EOF"), "{broken}");
    }
}
