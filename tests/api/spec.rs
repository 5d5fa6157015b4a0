use std::collections::{BTreeMap, BTreeSet};

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{header, spawn_app};

fn spec() -> Value {
    serde_json::from_str(&chirpy::api::service().spec()).unwrap()
}

#[test]
fn the_committed_spec_is_what_the_code_generates() {
    let committed = std::fs::read_to_string("openapi/openapi.yaml").expect("openapi/openapi.yaml is committed");
    let generated = chirpy::api::service().spec_yaml();
    assert!(
        committed == generated,
        "openapi/openapi.yaml is stale: run `just openapi` and commit the result"
    );
}

/// Generated clients and Swagger UI show each response's description: none may be empty.
#[test]
fn every_response_is_described() {
    let spec = spec();
    for (path, operations) in spec["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                let description = response["description"].as_str().unwrap_or_default();
                assert!(
                    !description.trim().is_empty(),
                    "{method} {path} {status} has no description"
                );
            }
        }
    }
}

/// Every route and status of the contract, and nothing else.
#[test]
fn the_spec_lists_exactly_the_contracts_routes_and_statuses() {
    let expected: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::from([
        (
            ("delete", "/api/admin/chirps/{chirpID}"),
            vec!["204", "400", "401", "403", "404", "413", "429", "500", "503"],
        ),
        (
            ("delete", "/api/chirps/{chirpID}"),
            vec!["204", "400", "401", "403", "404", "429", "500", "503"],
        ),
        (
            ("delete", "/api/chirps/{chirpID}/like"),
            vec!["204", "400", "401", "403", "404", "429", "500", "503"],
        ),
        (
            ("delete", "/api/users/me/sessions"),
            vec!["204", "401", "429", "500", "503"],
        ),
        (
            ("delete", "/api/users/me/sessions/{session_id}"),
            vec!["204", "400", "401", "404", "500", "503"],
        ),
        (
            ("delete", "/api/users/{user_id}/block"),
            vec!["204", "400", "401", "404", "429", "500", "503"],
        ),
        (
            ("delete", "/api/users/{user_id}/follow"),
            vec!["204", "400", "401", "404", "429", "500", "503"],
        ),
        (
            ("delete", "/api/users/{user_id}/mute"),
            vec!["204", "400", "401", "404", "429", "500", "503"],
        ),
        (("get", "/admin/metrics"), vec!["200", "500", "503"]),
        (
            ("get", "/api/admin/reports"),
            vec!["200", "400", "401", "403", "404", "413", "429", "500", "503"],
        ),
        (("get", "/api/chirps"), vec!["200", "304", "400", "429", "500", "503"]),
        (("get", "/api/chirps/stream"), vec!["200", "400", "429", "500", "503"]),
        (
            ("get", "/api/chirps/{chirpID}"),
            vec!["200", "304", "400", "404", "429", "500", "503"],
        ),
        (
            ("get", "/api/chirps/{chirpID}/likes"),
            vec!["200", "400", "401", "404", "429", "500", "503"],
        ),
        (
            ("get", "/api/chirps/{chirpID}/thread"),
            vec!["200", "400", "404", "429", "500", "503"],
        ),
        (("get", "/api/healthz"), vec!["200"]),
        (
            ("get", "/api/markers/notifications"),
            vec!["200", "400", "401", "413", "429", "500", "503"],
        ),
        (
            ("get", "/api/notifications"),
            vec!["200", "400", "401", "413", "429", "500", "503"],
        ),
        (
            ("get", "/api/notifications/unread_count"),
            vec!["200", "400", "401", "413", "429", "500", "503"],
        ),
        (("get", "/api/readyz"), vec!["200", "500", "503"]),
        (
            ("get", "/api/search/chirps"),
            vec!["200", "400", "401", "429", "500", "503"],
        ),
        (
            ("get", "/api/search/users"),
            vec!["200", "400", "401", "429", "500", "503"],
        ),
        (
            ("get", "/api/timelines/home"),
            vec!["200", "304", "400", "401", "429", "500", "503"],
        ),
        (
            ("get", "/api/timelines/home/stream"),
            vec!["200", "400", "401", "429", "500", "503"],
        ),
        (("get", "/api/users/me"), vec!["200", "401", "429", "500", "503"]),
        (
            ("get", "/api/users/me/blocks"),
            vec!["200", "400", "401", "429", "500", "503"],
        ),
        (
            ("get", "/api/users/me/mutes"),
            vec!["200", "400", "401", "429", "500", "503"],
        ),
        (
            ("get", "/api/users/me/sessions"),
            vec!["200", "401", "429", "500", "503"],
        ),
        (
            ("get", "/api/users/{user_id}/followers"),
            vec!["200", "400", "401", "404", "429", "500", "503"],
        ),
        (
            ("get", "/api/users/{user_id}/following"),
            vec!["200", "400", "401", "404", "429", "500", "503"],
        ),
        (
            ("get", "/api/users/{user}"),
            vec!["200", "401", "404", "429", "500", "503"],
        ),
        (
            ("patch", "/api/users/me"),
            vec!["200", "400", "401", "409", "413", "429", "500", "503"],
        ),
        (("post", "/admin/reset"), vec!["200", "403", "500", "503"]),
        (
            ("post", "/api/admin/reports/{report_id}/resolve"),
            vec!["200", "400", "401", "403", "404", "413", "429", "500", "503"],
        ),
        (
            ("post", "/api/admin/users/{user_id}/suspend"),
            vec!["204", "400", "401", "403", "404", "413", "429", "500", "503"],
        ),
        (
            ("post", "/api/chirps"),
            vec![
                "201", "400", "401", "403", "404", "409", "413", "422", "429", "500", "503",
            ],
        ),
        (
            ("post", "/api/login"),
            vec!["200", "400", "401", "403", "413", "429", "500", "503"],
        ),
        (
            ("post", "/api/polka/webhooks"),
            vec!["204", "400", "401", "404", "413", "500", "503"],
        ),
        (("post", "/api/refresh"), vec!["200", "400", "401", "500", "503"]),
        (
            ("post", "/api/reports"),
            vec!["201", "400", "401", "404", "413", "429", "500", "503"],
        ),
        (("post", "/api/revoke"), vec!["204", "401", "500", "503"]),
        (
            ("post", "/api/users"),
            vec!["201", "400", "409", "413", "429", "500", "503"],
        ),
        (
            ("put", "/api/chirps/{chirpID}/like"),
            vec!["204", "400", "401", "403", "404", "429", "500", "503"],
        ),
        (
            ("put", "/api/markers/notifications"),
            vec!["200", "400", "401", "413", "429", "500", "503"],
        ),
        (
            ("put", "/api/users"),
            vec!["200", "400", "401", "409", "413", "429", "500", "503"],
        ),
        (
            ("put", "/api/users/{user_id}/block"),
            vec!["204", "400", "401", "404", "429", "500", "503"],
        ),
        (
            ("put", "/api/users/{user_id}/follow"),
            vec!["204", "400", "401", "403", "404", "429", "500", "503"],
        ),
        (
            ("put", "/api/users/{user_id}/mute"),
            vec!["204", "400", "401", "404", "429", "500", "503"],
        ),
    ]);
    let spec = spec();
    let mut actual = BTreeMap::new();
    for (path, operations) in spec["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let statuses: Vec<&str> = operation["responses"]
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            actual.insert((method.as_str(), path.as_str()), statuses);
        }
    }
    assert_eq!(actual, expected);
}

#[test]
fn every_operation_is_named_tagged_summarised_and_errors_share_one_schema() {
    let spec = spec();
    let tags = BTreeSet::from([
        "users",
        "profiles",
        "follows",
        "timelines",
        "auth",
        "sessions",
        "chirps",
        "threads",
        "likes",
        "search",
        "safety",
        "notifications",
        "moderation",
        "webhooks",
        "admin",
    ]);
    let mut operation_ids = BTreeSet::new();
    for (path, operations) in spec["paths"].as_object().unwrap() {
        for (method, op) in operations.as_object().unwrap() {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(operation_ids.insert(id.to_owned()), "duplicate operationId {id}");
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{id} has no summary"
            );
            let op_tags: Vec<&str> = op["tags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap())
                .collect();
            assert!(op_tags.len() == 1 && tags.contains(op_tags[0]), "{id}: {op_tags:?}");
            for (status, response) in op["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    let schema = &response["content"]["application/json; charset=utf-8"]["schema"]["$ref"];
                    assert_eq!(schema, "#/components/schemas/ErrorBody", "{id} {status}");
                }
            }
        }
    }
    let error_body = &spec["components"]["schemas"]["ErrorBody"];
    assert_eq!(error_body["required"], serde_json::json!(["error"]));
}

#[test]
fn the_security_schemes_are_declared_and_used() {
    let spec = spec();
    let schemes = &spec["components"]["securitySchemes"];
    assert_eq!(schemes["access_token"]["type"], "http");
    assert_eq!(schemes["access_token"]["scheme"], "bearer");
    assert_eq!(schemes["access_token"]["bearerFormat"], "JWT");
    assert_eq!(schemes["refresh_token"]["scheme"], "bearer");
    assert_eq!(schemes["polka_api_key"]["type"], "apiKey");
    assert_eq!(schemes["polka_api_key"]["in"], "header");
    assert_eq!(schemes["polka_api_key"]["name"], "Authorization");

    let security = |method: &str, path: &str| spec["paths"][path][method]["security"].clone();
    assert_eq!(
        security("post", "/api/chirps"),
        serde_json::json!([{"access_token": []}])
    );
    assert_eq!(security("put", "/api/users"), serde_json::json!([{"access_token": []}]));
    assert_eq!(
        security("delete", "/api/chirps/{chirpID}"),
        serde_json::json!([{"access_token": []}])
    );
    assert_eq!(
        security("post", "/api/refresh"),
        serde_json::json!([{"refresh_token": []}])
    );
    assert_eq!(
        security("post", "/api/revoke"),
        serde_json::json!([{"refresh_token": []}])
    );
    for (method, path) in [
        ("get", "/api/users/me/sessions"),
        ("delete", "/api/users/me/sessions"),
        ("delete", "/api/users/me/sessions/{session_id}"),
    ] {
        assert_eq!(
            security(method, path),
            serde_json::json!([{"access_token": []}]),
            "{path}"
        );
    }
    assert_eq!(
        security("post", "/api/polka/webhooks"),
        serde_json::json!([{"polka_api_key": []}])
    );
    // Optional: the caller's token only makes their own changes show at once.
    for (method, path) in [
        ("get", "/api/chirps"),
        ("get", "/api/chirps/{chirpID}"),
        ("get", "/api/users/{user}"),
    ] {
        assert_eq!(
            security(method, path),
            serde_json::json!([{"access_token": []}, {}]),
            "{path}"
        );
    }
    assert!(security("get", "/api/healthz").is_null());
}

#[tokio::test]
async fn the_live_spec_and_swagger_ui_are_served() {
    let app = spawn_app().await;
    let resp = app.get("/openapi.json").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.json::<Value>().await.unwrap(), spec());

    let resp = app.get("/openapi.yaml").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.text().await.unwrap(), chirpy::api::service().spec_yaml());

    let resp = app.get("/docs").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(header(&resp, "content-type").starts_with("text/html"));
    let html = resp.text().await.unwrap();
    assert!(html.contains("swagger-ui") || html.contains("SwaggerUI"), "{html}");
}
