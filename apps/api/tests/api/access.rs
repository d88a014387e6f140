//! Who may call what (bearer tokens and their roles), cross-site writes,
//! request ids, and `/metrics`: each against the real server.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed call is a failed test"
)]

use chrono::TimeDelta;
use mentor_scheduler_api::access::Tokens;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{
    Backend, CRON, INVOCATIONS, Options, Resp, TestApp, api_tests, assert_error, backend_tests,
    spawn_app_with, string,
};

api_tests!(
    a_write_from_another_origin_is_403_and_writes_nothing,
    a_write_a_browser_marks_cross_site_is_403,
    a_write_from_the_servers_own_origin_and_any_read_pass,
    no_answer_carries_cors_headers,
    every_answer_carries_a_request_id_and_echoes_a_given_one,
    metrics_scraped_during_a_run_parse_as_prometheus_text,
);

async fn a_write_from_another_origin_is_403_and_writes_nothing(app: &TestApp) {
    for origin in ["http://evil.example", "null", "http://127.0.0.1:1"] {
        let r = app
            .send(
                Method::PUT,
                "/api/v1/mentors/usr_x",
                &[("origin", origin)],
                Some("application/json"),
                Some(br#"{"org_id": "org_oslo_01"}"#.to_vec()),
            )
            .await;
        assert_error(&r, StatusCode::FORBIDDEN, "cross_site");
        let r = app
            .send(Method::POST, INVOCATIONS, &[("origin", origin)], None, None)
            .await;
        assert_error(&r, StatusCode::FORBIDDEN, "cross_site");
    }
    assert_eq!(app.mentor("usr_x").await.status, StatusCode::NOT_FOUND);
    let runs = app.get(INVOCATIONS).await;
    assert_eq!(runs.body["pagination"]["total"], 0, "{:#}", runs.body);
}

/// A mentor's `PUT` as a browser sends it from another site's page.
async fn put_mentor_cross_site(app: &TestApp, user_id: &str) -> Resp {
    app.send(
        Method::PUT,
        &format!("/api/v1/mentors/{user_id}"),
        &[("sec-fetch-site", "cross-site")],
        Some("application/json"),
        Some(br#"{"org_id": "org_oslo_01"}"#.to_vec()),
    )
    .await
}

async fn a_write_a_browser_marks_cross_site_is_403(app: &TestApp) {
    let r = put_mentor_cross_site(app, "usr_x").await;
    assert_error(&r, StatusCode::FORBIDDEN, "cross_site");
    assert_eq!(app.mentor("usr_x").await.status, StatusCode::NOT_FOUND);
}

async fn a_write_from_the_servers_own_origin_and_any_read_pass(app: &TestApp) {
    let own = app.base.clone();
    // Behind a TLS proxy the browser says https: the host and port decide.
    let proxied = own.replace("http://", "https://");
    for (user, headers) in [
        (
            "usr_same",
            vec![("origin", own.as_str()), ("sec-fetch-site", "same-origin")],
        ),
        ("usr_proxied", vec![("origin", proxied.as_str())]),
        ("usr_tool", vec![]),
        ("usr_direct", vec![("sec-fetch-site", "none")]),
    ] {
        let r = app
            .send(
                Method::PUT,
                &format!("/api/v1/mentors/{user}"),
                &headers,
                Some("application/json"),
                Some(br#"{"org_id": "org_oslo_01"}"#.to_vec()),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{headers:?}: {:#}", r.body);
    }
    let r = app
        .send(
            Method::GET,
            "/api/v1/mentors/usr_same",
            &[
                ("origin", "http://evil.example"),
                ("sec-fetch-site", "cross-site"),
            ],
            None,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
}

async fn no_answer_carries_cors_headers(app: &TestApp) {
    let r = app
        .send(
            Method::GET,
            "/api/v1/mentors",
            &[("origin", "http://evil.example")],
            None,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r2 = app
        .send(
            Method::OPTIONS,
            "/api/v1/mentors",
            &[
                ("origin", "http://evil.example"),
                ("access-control-request-method", "PUT"),
            ],
            None,
            None,
        )
        .await;
    for r in [&r, &r2] {
        assert!(
            !r.headers
                .keys()
                .any(|k| k.as_str().starts_with("access-control-")),
            "{:?}",
            r.headers
        );
    }
}

async fn every_answer_carries_a_request_id_and_echoes_a_given_one(app: &TestApp) {
    let id = |r: &crate::helpers::Resp| {
        r.headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    // None given: a fresh ULID, different each time, on answers and errors.
    let a = app.get("/healthz").await;
    let b = app.get("/api/v1/nope").await;
    let (a, b) = (id(&a).unwrap(), id(&b).unwrap());
    assert_eq!((a.len(), b.len()), (26, 26), "{a} {b}");
    assert_ne!(a, b);
    // Given: echoed as it is.
    let r = app
        .send(
            Method::GET,
            "/api/v1/mentors",
            &[("x-request-id", "req-from-the-caller.42")],
            None,
            None,
        )
        .await;
    assert_eq!(id(&r).as_deref(), Some("req-from-the-caller.42"));
    // Unusable (too long): replaced.
    let long = "x".repeat(129);
    let r = app
        .send(
            Method::GET,
            "/api/v1/mentors",
            &[("x-request-id", &long)],
            None,
            None,
        )
        .await;
    assert_eq!(id(&r).map(|i| i.len()), Some(26));
}

async fn metrics_scraped_during_a_run_parse_as_prometheus_text(app: &TestApp) {
    // Mentors to evaluate, a scheduled firing (for the lateness), a run.
    for i in 0..60 {
        app.create_mentor(&format!("usr_metrics_{i:03}")).await;
    }
    let job = app
        .create_job("every minute", "* * * * *", "pause_auto_lift")
        .await;
    app.advance(TimeDelta::minutes(1));
    let rt = app.runtime.clone();
    actix_web::rt::task::spawn_blocking(move || rt.tick())
        .await
        .unwrap();
    let run = app.post(INVOCATIONS, &json!({"batch_size": 5})).await;
    assert_eq!(run.status, StatusCode::ACCEPTED, "{:#}", run.body);
    let during = app.get("/metrics").await;
    assert_eq!(during.status, StatusCode::OK, "{}", during.text);
    assert!(
        during
            .content_type
            .as_deref()
            .is_some_and(|c| c.starts_with("text/plain; version=0.0.4")),
        "{:?}",
        during.content_type
    );
    parse(&during.text);
    app.finished_run(&string(&run.body, "id")).await;
    app.delivery.step().await.unwrap();
    let _ = app.get(&format!("{CRON}/{}", string(&job, "job_id"))).await;
    // A request refused before it reaches its route is counted under the
    // route's pattern all the same; a path no route has, as `unmatched`.
    let refused = put_mentor_cross_site(app, "usr_metrics_000").await;
    assert_error(&refused, StatusCode::FORBIDDEN, "cross_site");
    assert_eq!(
        app.get("/no/such/route").await.status,
        StatusCode::NOT_FOUND
    );
    let text = app.get("/metrics").await.text;
    let after = parse(&text);
    let value = |name: &str, labels: &[(&str, &str)]| -> f64 {
        after
            .samples
            .iter()
            .filter(|s| s.metric == name)
            .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                prometheus_parse::Value::Histogram(ref h) => {
                    h.iter().map(|b| b.count).fold(0.0, f64::max)
                }
                prometheus_parse::Value::Summary(_) => 0.0,
            })
            .sum()
    };
    assert!(
        value(
            "mentor_scheduler_runs_total",
            &[("kind", "scenario_evaluation"), ("status", "success")]
        ) >= 1.0
    );
    assert!(
        value(
            "mentor_scheduler_run_duration_seconds",
            &[("kind", "scenario_evaluation")]
        ) >= 1.0
    );
    assert!(value("mentor_scheduler_batches_committed_total", &[]) >= 12.0);
    assert!(value("mentor_scheduler_scheduler_lateness_seconds", &[]) >= 1.0);
    assert!(
        value(
            "mentor_scheduler_delivery_attempts_total",
            &[("outcome", "delivered")]
        ) >= 1.0
    );
    assert!(
        after
            .samples
            .iter()
            .any(|s| s.metric == "mentor_scheduler_notifications"
                && s.labels.get("status") == Some("delivered")),
        "notifications by status"
    );
    assert!(
        value(
            "mentor_scheduler_http_requests_total",
            &[
                ("route", "/api/v1/scheduler-invocations"),
                ("status", "202")
            ]
        ) >= 1.0
    );
    // A route pattern with a parameter carries braces, which this parser
    // cannot read inside a label value (Prometheus can): read the line.
    let mentors = r#"mentor_scheduler_http_requests_total{method="PUT",route="/api/v1/mentors/{user_id}",status="201"} "#;
    assert!(
        text.lines().any(|l| l
            .strip_prefix(mentors)
            .and_then(|n| n.parse::<f64>().ok())
            .is_some_and(|n| n >= 60.0)),
        "{text}"
    );
    let refused = r#"mentor_scheduler_http_requests_total{method="PUT",route="/api/v1/mentors/{user_id}",status="403"} "#;
    assert!(text.lines().any(|l| l.starts_with(refused)), "{text}");
    assert!(
        value(
            "mentor_scheduler_http_requests_total",
            &[("route", "unmatched"), ("status", "404")]
        ) >= 1.0
    );
    assert!(
        value(
            "mentor_scheduler_http_request_duration_seconds",
            &[("route", "/api/v1/scheduler-invocations")]
        ) >= 1.0
    );
    assert!(
        after
            .samples
            .iter()
            .any(|s| s.metric == "mentor_scheduler_db_connections"
                && s.labels.get("pool") == Some("handlers")
                && s.labels.get("state") == Some("idle")),
        "pool gauges"
    );
}

/// Parses a scrape with a Prometheus text parser; fails on anything it
/// cannot read.
fn parse(text: &str) -> prometheus_parse::Scrape {
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("Prometheus text format");
    assert!(!scrape.samples.is_empty(), "{text}");
    scrape
}

/// The cases of a server started with tokens.
mod tokens {
    use super::*;

    backend_tests!(
        the_auth_matrix_holds_for_every_kind_of_caller,
        metrics_need_a_token_when_tokens_are_configured,
    );

    const ADMIN: &str = "admin-0123456789abcdef";
    const READ: &str = "read-0123456789abcdef";

    async fn with_tokens(backend: Backend) -> Option<TestApp> {
        let options = Options {
            tokens: Tokens::new(Some(ADMIN), Some(READ)).unwrap(),
            ..Options::default()
        };
        spawn_app_with(backend, options).await
    }

    fn bearer(token: &str) -> (&'static str, String) {
        ("authorization", format!("Bearer {token}"))
    }

    async fn as_caller(
        app: &TestApp,
        method: Method,
        path: &str,
        token: Option<&str>,
    ) -> crate::helpers::Resp {
        let auth = token.map(bearer);
        let headers: Vec<(&str, &str)> = auth.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let body = (method != Method::GET)
            .then(|| serde_json::to_vec(&json!({"org_id": "org_oslo_01"})).unwrap());
        let ct = body.as_ref().map(|_| "application/json");
        app.send(method, path, &headers, ct, body).await
    }

    async fn the_auth_matrix_holds_for_every_kind_of_caller(backend: Backend) {
        let Some(app) = with_tokens(backend).await else {
            return;
        };
        let mentor = "/api/v1/mentors/usr_auth";
        // None and a wrong token: 401 with the challenge and the error body.
        for token in [None, Some("not-a-configured-token-at-all"), Some("")] {
            let r = as_caller(&app, Method::GET, "/api/v1/mentors", token).await;
            assert_error(&r, StatusCode::UNAUTHORIZED, "unauthorized");
            assert_eq!(
                r.headers
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok()),
                Some("Bearer"),
                "{token:?}"
            );
            let r = as_caller(&app, Method::PUT, mentor, token).await;
            assert_error(&r, StatusCode::UNAUTHORIZED, "unauthorized");
        }
        // Another scheme is no bearer token.
        let r = app
            .send(
                Method::GET,
                "/api/v1/mentors",
                &[("authorization", &format!("Basic {ADMIN}"))],
                None,
                None,
            )
            .await;
        assert_error(&r, StatusCode::UNAUTHORIZED, "unauthorized");
        // A read token reads, and may not write: 403, nothing written.
        let r = as_caller(&app, Method::GET, "/api/v1/mentors", Some(READ)).await;
        assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
        let r = as_caller(&app, Method::PUT, mentor, Some(READ)).await;
        assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
        let r = as_caller(&app, Method::GET, mentor, Some(ADMIN)).await;
        assert_error(&r, StatusCode::NOT_FOUND, "not_found");
        // An admin token does everything.
        let r = as_caller(&app, Method::PUT, mentor, Some(ADMIN)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
        let r = as_caller(&app, Method::DELETE, mentor, Some(ADMIN)).await;
        assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
        // The probes stay open.
        for path in ["/healthz", "/readyz"] {
            let r = app.get(path).await;
            assert_eq!(r.status, StatusCode::OK, "{path}: {:#}", r.body);
        }
        app.stop().await;
    }

    async fn metrics_need_a_token_when_tokens_are_configured(backend: Backend) {
        let Some(app) = with_tokens(backend).await else {
            return;
        };
        let r = app.get("/metrics").await;
        assert_error(&r, StatusCode::UNAUTHORIZED, "unauthorized");
        let r = as_caller(&app, Method::GET, "/metrics", Some(READ)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        app.stop().await;
    }
}

/// Needs no server: the document is a value.
#[test]
fn the_openapi_document_declares_the_bearer_scheme_and_open_probes() {
    use utoipa::OpenApi;
    let doc = serde_json::to_value(mentor_scheduler_api::openapi::ApiDoc::openapi()).unwrap();
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(doc["security"], json!([{"bearer": []}]));
    for probe in ["/healthz", "/readyz"] {
        assert_eq!(
            doc["paths"][probe]["get"]["security"],
            json!([{}]),
            "{probe}"
        );
    }
    assert!(doc["paths"]["/metrics"]["get"].is_object());
}
