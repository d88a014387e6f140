//! The served OpenAPI document says what the server does: every status an
//! operation can answer, each field's rule, bodies that refuse unknown
//! fields, unique operation ids and links that name real operations. Where
//! a rule is an `enum` or a bound, the server is asked that it accepts
//! exactly that. `tools/schemathesis.sh` checks the rest by generation.

#![allow(clippy::expect_used)]

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, api_tests, assert_error};

api_tests!(
    every_operation_lists_the_statuses_its_extractors_and_access_rules_answer,
    request_bodies_refuse_fields_they_do_not_name,
    operation_ids_are_unique_and_links_name_operations_that_exist,
    the_run_status_filter_accepts_exactly_its_enum,
    page_bounds_in_the_document_are_the_server_bounds,
    a_405_names_the_methods_of_the_path_in_allow,
    a_whole_float_is_accepted_where_an_integer_is_asked,
    a_field_of_another_scenario_is_checked_too,
);

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

async fn document(app: &TestApp) -> Value {
    let r = app.get("/api/v1/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    r.body
}

fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for m in METHODS {
            if let Some(op) = item.get(m) {
                ops.push((path.clone(), m.to_owned(), op.clone()));
            }
        }
    }
    ops
}

async fn every_operation_lists_the_statuses_its_extractors_and_access_rules_answer(app: &TestApp) {
    let doc = document(app).await;
    for (path, method, op) in operations(&doc) {
        let statuses: Vec<&str> = op["responses"]
            .as_object()
            .expect("responses")
            .keys()
            .map(String::as_str)
            .collect();
        let has = |s: &str| statuses.contains(&s);
        if path != "/healthz" && path != "/readyz" {
            assert!(has("401") && has("403"), "{method} {path}: {statuses:?}");
        }
        if op.get("requestBody").is_some() {
            for s in ["400", "413", "415", "422"] {
                assert!(has(s), "{method} {path} lacks {s}: {statuses:?}");
            }
        }
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        if params.iter().any(|p| p["in"] == "path") {
            assert!(has("404"), "{method} {path}: {statuses:?}");
        }
        for p in &params {
            let name = p["name"].as_str().unwrap_or_default();
            let brace = format!("{{{name}}}");
            let expected = if path.contains(&brace) {
                "path"
            } else if p["in"] == "header" {
                "header"
            } else {
                "query"
            };
            assert_eq!(p["in"], expected, "{method} {path} parameter {name}");
        }
    }
    let details = &doc["components"]["schemas"]["ErrorDetail"]["properties"]["details"];
    assert_eq!(details["type"], json!(["object", "null"]));
}

async fn request_bodies_refuse_fields_they_do_not_name(app: &TestApp) {
    let doc = document(app).await;
    let schemas = &doc["components"]["schemas"];
    let mut checked = 0;
    for (path, method, op) in operations(&doc) {
        let Some(content) = op["requestBody"]["content"].as_object() else {
            continue;
        };
        for c in content.values() {
            let schema = &c["schema"];
            let reference = schema["$ref"]
                .as_str()
                .or_else(|| schema["items"]["$ref"].as_str())
                .or_else(|| schema["oneOf"][1]["$ref"].as_str());
            let Some(name) = reference.and_then(|r| r.rsplit('/').next()) else {
                continue;
            };
            assert_eq!(
                schemas[name]["additionalProperties"],
                json!(false),
                "{method} {path}: {name}"
            );
            checked += 1;
        }
    }
    assert!(checked > 20, "{checked} bodies");
    // And the server does refuse one.
    app.create_mentor("usr_doc").await;
    let r = app
        .put(
            "/api/v1/mentors/usr_doc/preferences",
            &json!({"all": true, "colour": "blue"}),
        )
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_field");
}

async fn operation_ids_are_unique_and_links_name_operations_that_exist(app: &TestApp) {
    let doc = document(app).await;
    let ops = operations(&doc);
    let ids: Vec<&str> = ops
        .iter()
        .map(|(p, m, op)| {
            op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{m} {p} has no operationId"))
        })
        .collect();
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "repeated operation ids");
    let mut links = 0;
    for (_, _, op) in &ops {
        for response in op["responses"].as_object().expect("responses").values() {
            for link in response["links"]
                .as_object()
                .into_iter()
                .flat_map(|l| l.values())
            {
                let target = link["operationId"].as_str().expect("operationId");
                assert!(ids.contains(&target), "a link to {target}");
                links += 1;
            }
        }
    }
    assert!(links >= 20, "{links} links");
    let created = &doc["paths"]["/api/v1/scheduler/jobs"]["post"]["responses"]["201"]["links"];
    assert!(
        created
            .as_object()
            .is_some_and(|l| l.values().any(|v| v["operationId"] == "scheduler_get")),
        "{created}"
    );
}

async fn the_run_status_filter_accepts_exactly_its_enum(app: &TestApp) {
    let doc = document(app).await;
    let params = doc["paths"]["/api/v1/runs"]["get"]["parameters"]
        .as_array()
        .cloned()
        .expect("parameters");
    let status = params
        .iter()
        .find(|p| p["name"] == "status")
        .expect("status");
    let values = status["schema"]["enum"].as_array().expect("an enum");
    assert!(values.len() >= 4, "{values:?}");
    for v in values {
        let v = v.as_str().expect("a name");
        let r = app.get(&format!("/api/v1/runs?status={v}")).await;
        assert_eq!(r.status, StatusCode::OK, "status={v}: {}", r.text);
    }
    let r = app.get("/api/v1/runs?status=sleeping").await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_value");
}

async fn page_bounds_in_the_document_are_the_server_bounds(app: &TestApp) {
    let doc = document(app).await;
    let params = doc["paths"]["/api/v1/mentors"]["get"]["parameters"]
        .as_array()
        .cloned()
        .expect("parameters");
    let limit = &params.iter().find(|p| p["name"] == "limit").expect("limit")["schema"];
    let max = limit["maximum"].as_i64().expect("a maximum");
    let min = limit["minimum"].as_i64().expect("a minimum");
    let at = |n: i64| format!("/api/v1/mentors?limit={n}");
    assert_eq!(app.get(&at(max)).await.status, StatusCode::OK);
    assert_eq!(app.get(&at(min)).await.status, StatusCode::OK);
    assert_error(
        &app.get(&at(max + 1)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "out_of_range",
    );
    assert_error(
        &app.get(&at(min - 1)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "out_of_range",
    );
}

async fn a_405_names_the_methods_of_the_path_in_allow(app: &TestApp) {
    let allow = |r: &crate::helpers::Resp| {
        r.headers
            .get(reqwest::header::ALLOW)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let r = app
        .raw(Method::PATCH, "/api/v1/mentors/usr_x", None, None)
        .await;
    assert_error(&r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    assert_eq!(allow(&r).as_deref(), Some("GET, PUT, DELETE"));
    let r = app.raw(Method::TRACE, "/healthz", None, None).await;
    assert_error(&r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    assert_eq!(allow(&r).as_deref(), Some("GET"));
    // `import` is also a mentor id: both paths' methods.
    let r = app
        .raw(Method::PATCH, "/api/v1/mentors/import", None, None)
        .await;
    assert_eq!(allow(&r).as_deref(), Some("GET, PUT, DELETE, POST"));
}

async fn a_whole_float_is_accepted_where_an_integer_is_asked(app: &TestApp) {
    app.create_mentor("usr_float").await;
    let r = app
        .post(
            "/api/v1/scenario-trigger-evaluations/evaluate/inactivity",
            &json!({"user_id": "usr_float", "threshold_days": 7.0, "dry_run": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        r.body["evaluation_metadata"]["threshold_days"], 7,
        "{}",
        r.text
    );
    let r = app
        .post(
            "/api/v1/scenario-trigger-evaluations/evaluate/inactivity",
            &json!({"user_id": "usr_float", "threshold_days": 7.5}),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_body");
}

async fn a_field_of_another_scenario_is_checked_too(app: &TestApp) {
    app.create_mentor("usr_other").await;
    let r = app
        .get("/api/v1/scenario-trigger-evaluations/users/usr_other/should-notify?milestone_type=sessions_1000")
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_value");
    let r = app
        .post(
            "/api/v1/scenario-trigger-evaluations",
            &json!({"user_id": "usr_other", "scenario_type": "inactivity", "lead_time_days": 99999}),
        )
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "out_of_range");
}
