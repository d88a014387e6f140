//! The route table, its doubled contract aliases, the OpenAPI document and
//! the operations endpoints.

use mentor_scheduler_api::openapi::ApiDoc;
use mentor_scheduler_api::routes;
use reqwest::{Method, StatusCode};
use utoipa::OpenApi;

use crate::helpers::{
    Backend, CERT_CRON_DOUBLED, CRON_DOUBLED, EVALS_DOUBLED, INVOCATIONS, INVOCATIONS_DOUBLED,
    SCHEDULER_DOUBLED, TestApp, api_tests, assert_keys, total,
};

api_tests!(
    the_openapi_document_is_served_as_json,
    every_doubled_alias_is_mounted_and_answers_like_its_canonical_path,
    the_doubled_evaluation_list_answers_200,
    the_doubled_job_lists_answer_200,
    healthz_answers_200,
    readyz_names_the_database_backend,
    readyz_answers_503_while_the_instance_drains,
);

/// Needs no server and no database: the document and the table are values.
#[test]
fn every_route_of_the_table_is_documented_in_the_openapi_document() {
    let doc = ApiDoc::openapi();
    let table = routes::table();
    assert!(!table.is_empty());
    for spec in &table {
        let item = doc
            .paths
            .paths
            .get(spec.path)
            .unwrap_or_else(|| panic!("{} is not in the OpenAPI document", spec.path));
        let operation = match spec.method.as_str() {
            "GET" => item.get.as_ref(),
            "PUT" => item.put.as_ref(),
            "POST" => item.post.as_ref(),
            "DELETE" => item.delete.as_ref(),
            "PATCH" => item.patch.as_ref(),
            "HEAD" => item.head.as_ref(),
            "OPTIONS" => item.options.as_ref(),
            other => panic!("unexpected method {other}"),
        };
        assert!(
            operation.is_some(),
            "{} {} is not documented",
            spec.method,
            spec.path
        );
    }
    // The dashboard's page and assets are routed too, but are not the API:
    // the document leaves them out, and they stay outside `/api/`.
    for spec in routes::pages() {
        assert!(!spec.path.starts_with("/api/"), "{}", spec.path);
        assert!(
            !doc.paths.paths.contains_key(spec.path),
            "{} is a page, not an API operation",
            spec.path
        );
        assert!(table.iter().all(|s| s.path != spec.path), "{}", spec.path);
    }
    // And the document has nothing the table does not serve.
    for (path, item) in &doc.paths.paths {
        for (method, op) in [
            ("GET", item.get.is_some()),
            ("PUT", item.put.is_some()),
            ("POST", item.post.is_some()),
            ("DELETE", item.delete.is_some()),
            ("PATCH", item.patch.is_some()),
        ] {
            if op {
                assert!(
                    table
                        .iter()
                        .any(|s| s.path == path && s.method.as_str() == method),
                    "{method} {path} is documented but not routed"
                );
            }
        }
    }
}

#[test]
fn doubled_paths_are_the_contract_base_twice() {
    for spec in routes::table() {
        match (spec.contract_base, routes::doubled(&spec)) {
            (Some(base), Some(doubled)) => {
                assert!(spec.path.starts_with(base), "{}", spec.path);
                assert_eq!(doubled, format!("{base}{}", spec.path));
            }
            (None, None) => {}
            (base, doubled) => panic!("{}: base {base:?} but doubled {doubled:?}", spec.path),
        }
    }
    let doubled_under = |base: &str| {
        routes::table()
            .iter()
            .filter(|s| s.contract_base == Some(base))
            .count()
    };
    // Each contract's endpoints, plus the job views' extras listed in
    // docs/api.md (scheduler: one job, PUT, runs; cron: runs), which live
    // under the same base and so get the same alias.
    for (base, count) in [
        ("/api/v1/scenario-trigger-evaluations", 9),
        ("/api/v1/scheduler", 5 + 3),
        ("/api/v1/certification-cron", 7),
        ("/api/v1/cron", 6 + 1),
        ("/api/v1/scheduler-invocations", 7),
    ] {
        assert_eq!(doubled_under(base), count, "routes doubled under {base}");
    }
    let all = routes::table()
        .iter()
        .filter(|s| routes::doubled(s).is_some())
        .count();
    assert_eq!(all, 9 + 8 + 7 + 7 + 7, "no other route has a doubled alias");
    // The run log and the schedule preview come from no contract.
    for spec in routes::table() {
        if spec.path.starts_with("/api/v1/runs") || spec.path.starts_with("/api/v1/schedules") {
            assert_eq!(spec.contract_base, None, "{}", spec.path);
        }
    }
}

async fn the_openapi_document_is_served_as_json(app: &TestApp) {
    let r = app.get("/api/v1/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.content_type
            .as_deref()
            .is_some_and(|c| c.starts_with("application/json")),
        "{:?}",
        r.content_type
    );
    assert!(
        r.body["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with('3')),
        "{}",
        r.body["openapi"]
    );
    let paths = r.body["paths"].as_object().cloned().unwrap_or_default();
    for spec in routes::table() {
        assert!(paths.contains_key(spec.path), "{} served", spec.path);
    }
    for doubled in [
        EVALS_DOUBLED,
        SCHEDULER_DOUBLED,
        CERT_CRON_DOUBLED,
        CRON_DOUBLED,
        INVOCATIONS_DOUBLED,
    ] {
        assert!(
            !paths.keys().any(|p| p.starts_with(doubled)),
            "the document shows canonical paths only"
        );
    }
}

fn concrete(path: &str) -> String {
    path.replace("{user_id}", "usr_nobody")
        .replace("{certification_id}", "cert_none")
        .replace("{id}", "trg_none")
        .replace("{job_name}", "no%20such%20job")
}

async fn every_doubled_alias_is_mounted_and_answers_like_its_canonical_path(app: &TestApp) {
    let mut checked = 0;
    for spec in routes::table() {
        let Some(doubled) = routes::doubled(&spec) else {
            continue;
        };
        // actix's `Method` and reqwest's come from different `http` versions.
        let Ok(method) = Method::from_bytes(spec.method.as_str().as_bytes()) else {
            panic!("method {}", spec.method)
        };
        // An invocation POST starts a run; an external one takes no lock,
        // so the alias's run is not refused for the canonical path's.
        let body = matches!(method, Method::POST | Method::PUT).then(|| {
            if spec.path == INVOCATIONS && method == Method::POST {
                br#"{"external": true}"#.to_vec()
            } else {
                b"{}".to_vec()
            }
        });
        let canonical = app
            .raw(
                method.clone(),
                &concrete(spec.path),
                Some("application/json"),
                body.clone(),
            )
            .await;
        let alias = app
            .raw(
                method.clone(),
                &concrete(&doubled),
                Some("application/json"),
                body,
            )
            .await;
        let route_missing = alias.status == StatusCode::NOT_FOUND
            && alias.body["error"]["details"].is_null()
            || alias.status == StatusCode::METHOD_NOT_ALLOWED;
        assert!(
            !route_missing,
            "{} {doubled} is not mounted: {} {:#}",
            spec.method, alias.status, alias.body
        );
        assert_eq!(
            alias.status, canonical.status,
            "{} {doubled}: {:#}",
            spec.method, alias.body
        );
        assert_eq!(
            alias.body["error"]["code"], canonical.body["error"]["code"],
            "{} {doubled}",
            spec.method
        );
        checked += 1;
    }
    assert_eq!(checked, 9 + 8 + 7 + 7 + 7);
}

async fn the_doubled_evaluation_list_answers_200(app: &TestApp) {
    let r = app.get(EVALS_DOUBLED).await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_keys(&r.body, &["data", "pagination"]);
    assert_eq!(total(&r.body), 0);
}

async fn the_doubled_job_lists_answer_200(app: &TestApp) {
    for path in [SCHEDULER_DOUBLED, CERT_CRON_DOUBLED, CRON_DOUBLED] {
        let r = app.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {:#}", r.body);
        assert_keys(&r.body, &["data", "pagination"]);
        assert_eq!(total(&r.body), 0, "{path}");
    }
}

async fn healthz_answers_200(app: &TestApp) {
    let r = app.get("/healthz").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, serde_json::json!({"status": "ok"}));
}

async fn readyz_names_the_database_backend(app: &TestApp) {
    let r = app.get("/readyz").await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(r.body["status"], "ready");
    let expected = match app.kind {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert_eq!(r.body["database"], expected);
}

async fn readyz_answers_503_while_the_instance_drains(app: &TestApp) {
    let runtime = app.runtime.clone();
    if let Err(e) = tokio::task::spawn_blocking(move || runtime.drain()).await {
        panic!("draining failed: {e}");
    }
    let r = app.get("/readyz").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{:#}", r.body);
    assert_eq!(r.body["error"]["code"], "not_ready");
    assert_eq!(
        app.get("/healthz").await.status,
        StatusCode::OK,
        "still alive"
    );
}
