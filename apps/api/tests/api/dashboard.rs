//! The coordinator dashboard's side of the server: the page and its assets
//! (types, policy, open without a token while the API is not), and the read
//! it needs that no other endpoint answers, the required certifications that
//! expire soon. The page itself is tested in a browser (tests/browser/).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed call is a failed test"
)]

use mentor_scheduler_api::access::Tokens;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{
    Backend, Options, TestApp, api_tests, assert_error, backend_tests, column, spawn_app_with,
};

api_tests!(
    the_page_and_its_assets_are_served_with_their_types_under_a_strict_policy,
    expiring_lists_required_certifications_of_the_window_soonest_first,
    expiring_refuses_a_window_out_of_range_and_unknown_parameters,
);

/// The case of a server started with tokens.
mod tokens {
    use super::*;

    backend_tests!(with_tokens_the_page_loads_without_one_and_the_api_still_needs_one);
}

const ASSETS: [(&str, &str); 3] = [
    ("/", "text/html; charset=utf-8"),
    ("/ui/dashboard.js", "text/javascript; charset=utf-8"),
    ("/ui/dashboard.css", "text/css; charset=utf-8"),
];

async fn the_page_and_its_assets_are_served_with_their_types_under_a_strict_policy(app: &TestApp) {
    for (path, content_type) in ASSETS {
        let r = app.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert_eq!(r.content_type.as_deref(), Some(content_type), "{path}");
        let csp = r.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.starts_with("default-src 'none'"), "{csp}");
        assert!(csp.contains("script-src 'self'") && csp.contains("connect-src 'self'"));
        assert!(!csp.contains("unsafe"), "{csp}");
        assert_eq!(r.headers["x-content-type-options"], "nosniff");
        assert!(!r.text.is_empty());
    }
    let page = app.get("/").await.text;
    assert!(page.contains("<script src=\"/ui/dashboard.js\" defer></script>"));
    // Another path under /ui/ is the JSON 404 of any unknown path, and a
    // write to the page a 405.
    assert_error(
        &app.get("/ui/other.js").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let r = app.raw(Method::POST, "/", None, None).await;
    assert_error(&r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
}

async fn with_tokens_the_page_loads_without_one_and_the_api_still_needs_one(backend: Backend) {
    const ADMIN: &str = "dashboard-admin-0123456789";
    const READ: &str = "dashboard-read-0123456789";
    let options = Options {
        tokens: Tokens::new(Some(ADMIN), Some(READ)).unwrap(),
        ..Options::default()
    };
    let Some(app) = spawn_app_with(backend, options).await else {
        return;
    };
    for (path, _) in ASSETS {
        assert_eq!(app.get(path).await.status, StatusCode::OK, "{path}");
        let r = app.raw(Method::HEAD, path, None, None).await;
        assert_ne!(r.status, StatusCode::UNAUTHORIZED, "HEAD {path}");
    }
    // Only those three paths, and only to read: the API, a write to the
    // page and an unknown asset still need a token.
    for (method, path) in [
        (Method::GET, "/api/v1/scheduler/jobs"),
        (Method::GET, "/api/v1/certifications/expiring"),
        (Method::GET, "/ui/other.js"),
        (Method::POST, "/"),
    ] {
        let r = app.raw(method.clone(), path, None, None).await;
        assert_error(&r, StatusCode::UNAUTHORIZED, "unauthorized");
    }
    let r = app
        .send(
            Method::GET,
            "/api/v1/certifications/expiring",
            &[("authorization", &format!("Bearer {READ}"))],
            None,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    app.stop().await;
}

async fn expiring_lists_required_certifications_of_the_window_soonest_first(app: &TestApp) {
    // Now is 2026-03-25T08:00:00Z.
    for user in ["usr_a", "usr_b", "usr_c"] {
        app.create_mentor(user).await;
    }
    app.certify("usr_a", "cert_late", "2026-04-20T00:00:00Z", true)
        .await;
    app.certify("usr_b", "cert_soon", "2026-03-28T12:00:00Z", true)
        .await;
    app.certify("usr_a", "cert_optional", "2026-03-27T00:00:00Z", false)
        .await;
    app.certify("usr_c", "cert_expired", "2026-03-24T00:00:00Z", true)
        .await;
    app.certify("usr_c", "cert_far", "2026-04-25T00:00:00Z", true)
        .await;
    let r = app
        .post("/api/v1/mentors/usr_b/pause", &json!({"reason": "admin"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);

    let r = app.get("/api/v1/certifications/expiring").await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(
        column(&r.body, "certification_id"),
        ["cert_soon", "cert_late"]
    );
    assert_eq!(
        r.body["pagination"],
        json!({"page": 1, "limit": 20, "total": 2})
    );
    assert_eq!(
        r.body["data"][0],
        json!({
            "user_id": "usr_b", "org_id": "org_oslo_01", "status": "paused",
            "pause_reason": "admin", "certification_id": "cert_soon", "name": "Safeguarding",
            "expires_at": "2026-03-28T12:00:00Z", "days_until_expiry": 3
        })
    );
    assert_eq!(r.body["data"][1]["days_until_expiry"], 26);
    assert_eq!(r.body["data"][1]["pause_reason"], json!(null));

    // A wider window takes the later one; paging keeps the order.
    let r = app
        .get("/api/v1/certifications/expiring?within_days=31&limit=2&page=2")
        .await;
    assert_eq!(column(&r.body, "certification_id"), ["cert_far"]);
    assert_eq!(r.body["pagination"]["total"], 3);
    let r = app
        .get("/api/v1/certifications/expiring?within_days=1")
        .await;
    assert_eq!(r.body["pagination"]["total"], 0, "{:#}", r.body);
}

async fn expiring_refuses_a_window_out_of_range_and_unknown_parameters(app: &TestApp) {
    for days in ["0", "367", "-1"] {
        let r = app
            .get(&format!(
                "/api/v1/certifications/expiring?within_days={days}"
            ))
            .await;
        let details = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "out_of_range");
        assert_eq!(details["field"], "within_days");
    }
    let r = app
        .get("/api/v1/certifications/expiring?within_days=ten")
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "malformed_query");
    let r = app.get("/api/v1/certifications/expiring?days=3").await;
    assert_error(&r, StatusCode::BAD_REQUEST, "malformed_query");
    let r = app.get("/api/v1/certifications/expiring?limit=101").await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "out_of_range");
}
