//! Completes the generated document so that it says what the server does:
//! every status an operation can answer, the rule of every field, bodies
//! that refuse fields they do not name, and links from each creating
//! operation to the operations that read what it made. It works on the
//! document as JSON, after utoipa has written it.

use serde_json::{Map, Value, json};

use super::fields::rule;

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// Paths anyone may read, with or without a token.
const OPEN: [&str; 2] = ["/healthz", "/readyz"];

/// Every fix, in order.
pub fn complete(doc: &mut Value) {
    let mut bodies = Vec::new();
    if let Some(paths) = doc["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            for method in METHODS {
                if let Some(op) = item.get_mut(method) {
                    parameters(path, op);
                    responses(path, op);
                    if let Some(name) = body_schema(op) {
                        bodies.push(name);
                    }
                }
            }
        }
    }
    let components = &mut doc["components"]["schemas"];
    let mut seen = Vec::new();
    while let Some(name) = bodies.pop() {
        if seen.contains(&name) {
            continue;
        }
        seen.push(name.clone());
        if let Some(schema) = components.get_mut(&name) {
            bodies.extend(request_schema(&name, schema));
        }
    }
    nullable_details(components);
    // A trigger body may be left out or sent as `null`
    // (`extract::JsonOrEmpty`).
    if components["TriggerBody"].is_object() {
        components["TriggerBody"]["type"] = json!(["object", "null"]);
    }
    unique_operation_ids(doc);
    links(doc);
}

/// utoipa names an operation after its function, so five are called
/// `list`; a repeated id gets its resource in front (`mentors_list`).
fn unique_operation_ids(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    let mut count = std::collections::HashMap::<String, usize>::new();
    for item in paths.values() {
        for method in METHODS {
            if let Some(id) = item[method]["operationId"].as_str() {
                *count.entry(id.to_owned()).or_default() += 1;
            }
        }
    }
    for (path, item) in paths.iter_mut() {
        let resource = path
            .trim_start_matches("/api/v1/")
            .split('/')
            .next()
            .unwrap_or_default()
            .replace('-', "_");
        for method in METHODS {
            let Some(op) = item.get_mut(method) else {
                continue;
            };
            let Some(id) = op["operationId"].as_str().map(str::to_owned) else {
                continue;
            };
            if count[&id] > 1 {
                op["operationId"] = json!(format!("{resource}_{id}"));
            }
        }
    }
}

/// The name of an operation's request body schema, if it has one. The
/// import's NDJSON body is described as the array of its lines (one
/// `ImportLineBody` object per line).
fn body_schema(op: &mut Value) -> Option<String> {
    let content = op.pointer_mut("/requestBody/content")?.as_object_mut()?;
    if let Some(ndjson) = content.get_mut(crate::import::NDJSON) {
        ndjson["schema"] = json!({
            "type": "array",
            "items": {"$ref": "#/components/schemas/ImportLineBody"}
        });
    }
    let mut refs = Vec::new();
    content
        .values()
        .for_each(|c| collect_refs(&c["schema"], &mut refs));
    refs.into_iter().next()
}

/// Query parameters are plain strings or integers (a query cannot say
/// `null`), with their field's rule.
fn parameters(path: &str, op: &mut Value) {
    let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
        return;
    };
    for p in params {
        let name = p["name"].as_str().unwrap_or_default().to_owned();
        let location = p["in"].as_str().unwrap_or_default().to_owned();
        if location == "header" {
            if name.eq_ignore_ascii_case(crate::idempotency::HEADER) {
                p["schema"] = json!({
                    "type": "string",
                    "minLength": 1,
                    "maxLength": crate::idempotency::MAX_KEY_LEN,
                    "pattern": "^[!-~]+$"
                });
            }
            continue;
        }
        let mut schema = p["schema"].clone();
        strip_null(&mut schema);
        if let Some(rule) = rule(path, &name) {
            merge(&mut schema, &rule, false);
        }
        if location == "path" {
            // A path segment is never empty and never holds a slash.
            if schema["type"] == "string" && schema.get("enum").is_none() {
                schema["minLength"] = json!(1);
                schema["pattern"] = json!("^[^/\\u0000-\\u001F\\u007F-\\u009F]*$");
            }
        }
        p["schema"] = schema;
    }
}

fn error(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    })
}

/// Adds each status the server's extractors, access rules and lookups can
/// answer with, where the handler's annotation did not list it.
fn responses(path: &str, op: &mut Value) {
    let has_body = op.get("requestBody").is_some();
    let params = op["parameters"].as_array().cloned().unwrap_or_default();
    let has = |loc: &str| params.iter().any(|p| p["in"] == loc);
    let mut add = Vec::new();
    if !OPEN.contains(&path) {
        add.push(("401", "No bearer token, or one the server does not know"));
        add.push((
            "403",
            "A read token on a write, or a browser request from another site",
        ));
    }
    if has_body || has("query") || has("path") {
        add.push((
            "400",
            "A body that is not JSON or has a field of the wrong type, or a malformed query",
        ));
        add.push((
            "422",
            "A value out of range, an unknown name, or a field the operation does not know",
        ));
    }
    if has_body {
        add.push(("413", "The body is larger than the limit"));
        add.push(("415", "A body that is not `application/json`"));
    }
    if has("path") {
        add.push(("404", "Nothing with that id"));
    }
    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
        return;
    };
    for (status, description) in add {
        responses
            .entry(status)
            .or_insert_with(|| error(description));
    }
}

/// A request body schema: each property gets its rule, unknown fields are
/// refused, and an update must change something. Returns the schemas it
/// refers to, which are request bodies too.
fn request_schema(name: &str, schema: &mut Value) -> Vec<String> {
    let mut nested = Vec::new();
    let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
        return nested;
    };
    for (field, prop) in props.iter_mut() {
        let nullable = is_nullable(prop);
        if let Some(r) = rule(name, field) {
            merge(prop, &r, nullable);
        }
        collect_refs(prop, &mut nested);
    }
    let fields: Vec<String> = props.keys().cloned().collect();
    schema["additionalProperties"] = json!(false);
    if fields.iter().any(|f| f == "milestone_type") && fields.iter().any(|f| f == "scenario_type") {
        // A milestone evaluation names its milestone.
        schema["if"] = json!({
            "properties": {"scenario_type": {"const": "milestone"}},
            "required": ["scenario_type"]
        });
        schema["then"] = json!({
            "properties": {"milestone_type": {"not": {"type": "null"}}},
            "required": ["milestone_type"]
        });
    }
    if name.starts_with("Update") || name == "InvocationUpdateBody" || name == "OverrideBody" {
        // "nothing to update" is a 422: at least one field, not null.
        schema["anyOf"] = Value::Array(
            fields
                .iter()
                .map(|f| json!({"required": [f], "properties": {f: {"not": {"type": "null"}}}}))
                .collect(),
        );
    }
    nested
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                out.extend(r.rsplit('/').next().map(str::to_owned));
            }
            m.values().for_each(|x| collect_refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

fn is_nullable(schema: &Value) -> bool {
    match &schema["type"] {
        Value::Array(types) => types.iter().any(|t| t == "null"),
        _ => false,
    }
}

/// `["string", "null"]` becomes `"string"`.
fn strip_null(schema: &mut Value) {
    if let Value::Array(types) = &schema["type"] {
        let kept: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
        schema["type"] = match kept.as_slice() {
            [one] => one.clone(),
            _ => Value::Array(kept),
        };
    }
}

/// Puts `rule` into `schema`, keeping its description; a nullable field
/// stays nullable (and its `enum` takes `null`).
fn merge(schema: &mut Value, rule: &Value, nullable: bool) {
    let Some(rule) = rule.as_object() else {
        return;
    };
    for (k, v) in rule {
        schema[k] = v.clone();
    }
    if nullable {
        let t = schema["type"].clone();
        schema["type"] = json!([t, "null"]);
        if let Some(values) = schema.get_mut("enum").and_then(Value::as_array_mut) {
            values.push(Value::Null);
        }
    }
}

/// An error's `details` is an object or `null`.
fn nullable_details(schemas: &mut Value) {
    let details = &mut schemas["ErrorDetail"]["properties"]["details"];
    if details.is_object() {
        details["type"] = json!(["object", "null"]);
    }
}

/// A creating operation, where its answer holds the key of what it made,
/// and the item path of the operations that take that key.
struct Link {
    method: &'static str,
    path: &'static str,
    status: &'static str,
    item: &'static str,
    param: &'static str,
    expression: &'static str,
}

const fn link(
    method: &'static str,
    path: &'static str,
    status: &'static str,
    item: &'static str,
    param: &'static str,
    expression: &'static str,
) -> Link {
    Link {
        method,
        path,
        status,
        item,
        param,
        expression,
    }
}

const EVALUATION: &str = "/api/v1/scenario-trigger-evaluations/{id}";
const RUN: &str = "/api/v1/runs/{id}";

const LINKS: [Link; 13] = [
    link(
        "post",
        "/api/v1/scheduler/jobs",
        "201",
        "/api/v1/scheduler/jobs/{job_name}",
        "job_name",
        "$response.body#/job_name",
    ),
    link(
        "post",
        "/api/v1/cron/jobs",
        "201",
        "/api/v1/cron/jobs/{id}",
        "id",
        "$response.body#/job_id",
    ),
    link(
        "post",
        "/api/v1/certification-cron",
        "201",
        "/api/v1/certification-cron/{id}",
        "id",
        "$response.body#/id",
    ),
    link(
        "post",
        "/api/v1/scheduler-invocations",
        "202",
        "/api/v1/scheduler-invocations/{id}",
        "id",
        "$response.body#/id",
    ),
    link(
        "post",
        "/api/v1/scheduler-invocations",
        "202",
        RUN,
        "id",
        "$response.body#/id",
    ),
    link(
        "post",
        "/api/v1/scheduler/jobs/{job_name}/trigger",
        "202",
        RUN,
        "id",
        "$response.body#/run_id",
    ),
    link(
        "post",
        "/api/v1/cron/jobs/{id}/trigger",
        "202",
        RUN,
        "id",
        "$response.body#/run_id",
    ),
    link(
        "post",
        "/api/v1/certification-cron/{id}/execute",
        "202",
        RUN,
        "id",
        "$response.body#/run_id",
    ),
    link(
        "put",
        "/api/v1/mentors/{user_id}",
        "201",
        "/api/v1/mentors/{user_id}",
        "user_id",
        "$request.path.user_id",
    ),
    link(
        "post",
        "/api/v1/scenario-trigger-evaluations",
        "201",
        EVALUATION,
        "id",
        "$response.body#/id",
    ),
    link(
        "post",
        "/api/v1/scenario-trigger-evaluations/evaluate/inactivity",
        "201",
        EVALUATION,
        "id",
        "$response.body#/id",
    ),
    link(
        "post",
        "/api/v1/scenario-trigger-evaluations/evaluate/milestone",
        "201",
        EVALUATION,
        "id",
        "$response.body#/id",
    ),
    link(
        "post",
        "/api/v1/scenario-trigger-evaluations/evaluate/certification-expiry",
        "201",
        EVALUATION,
        "id",
        "$response.body#/id",
    ),
];

/// OpenAPI links from each creating operation to every operation under the
/// path of what it made (`GET`, `PUT`, `DELETE` of the item and its
/// sub-resources).
fn links(doc: &mut Value) {
    let mut targets: Vec<(String, String, String)> = Vec::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for method in METHODS {
                if let Some(id) = item[method]["operationId"].as_str() {
                    targets.push((path.clone(), method.to_owned(), id.to_owned()));
                }
            }
        }
    }
    for Link {
        method,
        path,
        status,
        item,
        param,
        expression,
    } in LINKS
    {
        let mut links = Map::new();
        for (target, target_method, id) in &targets {
            // `last-result` of a job just made has no run yet: not a reader
            // of what was made.
            let under = (target == item || target.starts_with(&format!("{item}/")))
                && !target.ends_with("/last-result");
            if under && !target.trim_start_matches(item).contains('{') {
                links.insert(
                    format!("{target_method}_{}", id.replace(['/', '{', '}'], "_")),
                    json!({"operationId": id, "parameters": {param: expression}}),
                );
            }
        }
        let response = doc.pointer_mut(&format!(
            "/paths/{}/{method}/responses/{status}",
            path.replace('~', "~0").replace('/', "~1")
        ));
        if let Some(response) = response.filter(|_| !links.is_empty()) {
            let existing = response["links"].as_object_mut();
            match existing {
                Some(m) => m.extend(links),
                None => response["links"] = Value::Object(links),
            }
        }
    }
}
