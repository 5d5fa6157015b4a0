//! Which methods each path accepts, for the `Allow` header RFC 9110 requires on a 405.
//! Read from the API's own spec, so it cannot drift from the routes.

use serde_json::Value;

/// The web app's files are only ever read.
const STATIC_FILES: &str = "GET, HEAD";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Parameter,
}

#[derive(Debug, Clone, Default)]
pub struct AllowedMethods {
    routes: Vec<(Vec<Segment>, String)>,
}

impl AllowedMethods {
    /// From an OpenAPI document: `paths` keys like `/api/chirps/{chirpID}`, each with its methods.
    pub fn from_spec(spec: &Value) -> Self {
        let routes = spec["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(path, operations)| {
                let segments = segments(path)
                    .map(|s| {
                        if s.starts_with('{') && s.ends_with('}') {
                            Segment::Parameter
                        } else {
                            Segment::Literal(s.to_owned())
                        }
                    })
                    .collect();
                let methods: Vec<String> = operations
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(m, _)| m.to_uppercase())
                    .collect();
                (segments, methods.join(", "))
            })
            .collect();
        Self { routes }
    }

    /// The `Allow` value for a request path (methods in alphabetical order), if the path exists.
    pub fn for_path(&self, path: &str) -> Option<&str> {
        if path == "/app" || path.starts_with("/app/") {
            return Some(STATIC_FILES);
        }
        let wanted: Vec<&str> = segments(path).collect();
        self.routes
            .iter()
            .filter(|(pattern, _)| {
                pattern.len() == wanted.len()
                    && pattern.iter().zip(&wanted).all(|(p, w)| match p {
                        Segment::Literal(literal) => literal == w,
                        Segment::Parameter => true,
                    })
            })
            // As the router does: `/api/chirps/stream` is that route, not a chirp's id.
            .max_by_key(|(pattern, _)| pattern.iter().filter(|s| matches!(s, Segment::Literal(_))).count())
            .map(|(_, methods)| methods.as_str())
    }
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_literal_and_parameter_segments() {
        let spec = serde_json::json!({"paths": {
            "/api/chirps": {"get": {}, "post": {}},
            "/api/chirps/{chirpID}": {"get": {}, "delete": {}},
            "/api/chirps/stream": {"get": {}},
        }});
        let allowed = AllowedMethods::from_spec(&spec);
        assert_eq!(allowed.for_path("/api/chirps"), Some("GET, POST"));
        assert_eq!(allowed.for_path("/api/chirps/"), Some("GET, POST"));
        assert_eq!(allowed.for_path("/api/chirps/abc"), Some("DELETE, GET"));
        assert_eq!(allowed.for_path("/api/chirps/stream"), Some("GET"));
        assert_eq!(allowed.for_path("/api/chirps/abc/def"), None);
        assert_eq!(allowed.for_path("/api/users"), None);
        assert_eq!(allowed.for_path("/app/index.html"), Some("GET, HEAD"));
    }
}
