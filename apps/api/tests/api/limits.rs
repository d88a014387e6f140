//! The load bounds of docs/operations.md ("Load bounds") through HTTP: the
//! cap on registered jobs, and the imports in progress at once.

// Test code: a failed setup step is a failed test, so panicking is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{
    Backend, CERT_CRON, CRON, Options, Resp, SCHEDULER, TestApp, assert_error, backend_tests,
    spawn_app_with, string, total,
};

backend_tests!(
    creating_a_job_past_the_cap_is_422_too_many_jobs_in_every_view_and_writes_nothing,
    an_import_while_the_imports_allowed_are_in_progress_is_429_with_retry_after,
);

async fn creating_a_job_past_the_cap_is_422_too_many_jobs_in_every_view_and_writes_nothing(
    backend: Backend,
) {
    let options = Options {
        max_jobs: Some(2),
        ..Options::default()
    };
    let Some(app) = spawn_app_with(backend, options).await else {
        return;
    };
    let first = app
        .create_job("first", "0 6 * * *", "pause_auto_lift")
        .await;
    app.create_job("second", "0 7 * * *", "pause_auto_lift")
        .await;
    for (path, body) in [
        (
            CRON,
            json!({"name": "third", "schedule": "0 8 * * *", "handler": "pause_auto_lift"}),
        ),
        (
            SCHEDULER,
            json!({"job_name": "third", "cron_expression": "0 8 * * 1", "handler": "weekly_expiry_report"}),
        ),
        (
            CERT_CRON,
            json!({"name": "third", "cron_expression": "0 2 * * *"}),
        ),
    ] {
        let r = app.post(path, &body).await;
        let details = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "too_many_jobs");
        assert_eq!(details["limit"], 2, "{path}");
    }
    assert_eq!(total(&app.get(CRON).await.body), 2, "nothing was written");

    // Updating a job is not creating one.
    let id = string(&first, "job_id");
    let r = app
        .put(&format!("{CRON}/{id}"), &json!({"schedule": "0 9 * * *"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    // A job deleted makes room for another.
    let r = app.delete(&format!("{CRON}/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    app.create_job("third", "0 8 * * *", "pause_auto_lift")
        .await;
    assert_eq!(total(&app.get(CRON).await.body), 2);
    app.stop().await;
}

const IMPORT: &str = "/api/v1/mentors/import";

/// An import whose body is still being sent: the request line, the
/// headers and the first of the `Content-Length` bytes, over a connection
/// the test holds open (and closes by dropping it).
fn import_in_progress(app: &TestApp) -> std::net::TcpStream {
    let addr = app.base.trim_start_matches("http://");
    let mut tcp = std::net::TcpStream::connect(addr).unwrap();
    let line = b"{\"user_id\": \"usr_slow\", \"org_id\": \"org_oslo_01\"}\n";
    let head = format!(
        "POST {IMPORT} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-ndjson\r\nContent-Length: {}\r\n\r\n",
        line.len() * 1000
    );
    tcp.write_all(head.as_bytes()).unwrap();
    tcp.write_all(line).unwrap();
    tcp.flush().unwrap();
    tcp
}

/// `POST /api/v1/mentors/import` with `body`; the answer and its
/// `Retry-After` header.
async fn import(app: &TestApp, body: &str) -> (Resp, Option<String>) {
    let resp = app
        .http
        .post(format!("{}{IMPORT}", app.base))
        .header(reqwest::header::CONTENT_TYPE, "application/x-ndjson")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let headers = resp.headers().clone();
    let retry_after = headers
        .get(reqwest::header::RETRY_AFTER)
        .map(|v| v.to_str().unwrap().to_owned());
    let status = resp.status();
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned());
    let text = resp.text().await.unwrap();
    let resp = Resp {
        status,
        body: serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        content_type,
        text,
        headers,
    };
    (resp, retry_after)
}

async fn an_import_while_the_imports_allowed_are_in_progress_is_429_with_retry_after(
    backend: Backend,
) {
    let options = Options {
        max_concurrent_imports: Some(1),
        ..Options::default()
    };
    let Some(app) = spawn_app_with(backend, options).await else {
        return;
    };
    let held = import_in_progress(&app);
    // The held import takes its slot when the server reads its head; until
    // then a probe is imported, or refused for its bad line (writing nothing).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (r, _) = import(&app, "{\"user_id\": 7}\n").await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_lines");
        assert!(
            Instant::now() < deadline,
            "the held import never took its slot"
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }

    let good = "{\"user_id\": \"usr_mentor_7821\", \"org_id\": \"org_oslo_01\"}\n";
    let (r, retry_after) = import(&app, good).await;
    let details = assert_error(&r, StatusCode::TOO_MANY_REQUESTS, "too_many_imports");
    assert_eq!(details["limit"], 1);
    assert_eq!(details["retry_after_seconds"], 5);
    assert_eq!(retry_after.as_deref(), Some("5"));
    assert_error(
        &app.mentor("usr_mentor_7821").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    // The held import ends (its client hangs up): its slot is free again.
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (r, _) = import(&app, good).await;
        if r.status != StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
            break;
        }
        assert!(Instant::now() < deadline, "the slot was never freed");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(app.mentor("usr_mentor_7821").await.status, StatusCode::OK);
    assert_eq!(
        app.mentor("usr_slow").await.status,
        StatusCode::NOT_FOUND,
        "the import cut short wrote nothing"
    );
    app.stop().await;
}
