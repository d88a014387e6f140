//! The webhook sink against the reference implementation of the Standard
//! Webhooks specification: a receiver in Python (`tests/webhook_receiver.py`)
//! verifies every request with the `standardwebhooks` package from PyPI,
//! answers 500 with `Retry-After: 1` to a notification's first delivery and
//! 204 after, and says what it verified.
//!
//! The Python is the one `MENTOR_SCHEDULER_TEST_PYTHON` names, with
//! `standardwebhooks` installed (`.ci/run` makes such a virtual
//! environment). When it is unset the test prints a notice and checks
//! nothing, except under `CI=true`, where it fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use mentor_scheduler_api::webhook::WebhookSink;
use reqwest::StatusCode;
use runtime::DeliveryConfig;
use scenario_engine::service::RetryPolicy;
use serde_json::{Value, json};

use crate::helpers::{Backend, Options, TestApp, backend_tests, id_of, spawn_app_with};

backend_tests!(the_reference_library_verifies_a_retry_and_both_sides_of_a_rotation);

/// The variable naming the Python to run the receiver with.
const PYTHON: &str = "MENTOR_SCHEDULER_TEST_PYTHON";
/// The new secret of a rotation: the base64 of 32 bytes.
const NEW: &str = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
/// The old secret: the specification's example.
const OLD: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// The Python to run the receiver with; `None` after a notice when none is
/// named outside CI.
fn python() -> Option<String> {
    match std::env::var(PYTHON) {
        Ok(python) if !python.trim().is_empty() => Some(python),
        _ if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") => panic!(
            "{PYTHON} must name a Python with standardwebhooks installed under CI=true (.ci/run makes one)"
        ),
        _ => {
            eprintln!(
                "notice: {PYTHON} is unset; the Standard Webhooks reference-library test was skipped"
            );
            None
        }
    }
}

/// The receiver process, killed when dropped (and it exits by itself once
/// its standard input closes, should this process die first).
struct PyReceiver {
    child: Child,
    base: String,
    http: reqwest::Client,
}

impl PyReceiver {
    /// Starts the receiver knowing only `secret`, called `label` in its records.
    fn start(python: &str, label: &str, secret: &str) -> Self {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/webhook_receiver.py");
        let mut child = Command::new(python)
            .arg(script)
            .env("WEBHOOK_SECRET", secret)
            .env("WEBHOOK_SECRET_LABEL", label)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start {python} {script}: {e}"));
        let mut line = String::new();
        let stdout = child.stdout.take().expect("the receiver's stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the receiver's port");
        let port = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| {
                panic!("the receiver did not start (is standardwebhooks installed?): {line:?}")
            });
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
        }
    }

    fn url(&self) -> String {
        format!("{}/hook", self.base)
    }

    /// From now on the receiver knows only `secret`.
    async fn know_only(&self, label: &str, secret: &str) {
        let r = self
            .http
            .put(format!("{}/secret", self.base))
            .json(&json!({"label": label, "secret": secret}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }

    /// Every request it got for notification `id`, in order.
    async fn calls(&self, id: &str) -> Vec<Value> {
        let all: Vec<Value> = self
            .http
            .get(format!("{}/calls", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        all.into_iter().filter(|c| c["webhook-id"] == id).collect()
    }
}

impl Drop for PyReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Creates an inactive mentor and evaluates them; the notification's id.
async fn enqueue(app: &TestApp, user_id: &str) -> String {
    app.create_mentor(user_id).await;
    let e = app.evaluate_inactivity(user_id, 7).await;
    assert_eq!(e["should_notify"], true, "{e:#}");
    let r = app
        .get(&format!("/api/v1/notifications?user_id={user_id}"))
        .await;
    id_of(&r.body["data"][0])
}

/// Waits (real time, 20 s at most) until notification `id` is delivered.
async fn delivered(app: &TestApp, id: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let n = app.get(&format!("/api/v1/notifications/{id}")).await.body;
        if n["status"] == "delivered" {
            return n;
        }
        assert!(
            n["status"] == "pending" && std::time::Instant::now() < deadline,
            "{id} not delivered: {n:#}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Asserts that the receiver refused nothing of `calls`, verified each with
/// the secret `label`, answered 500 then 204, and that the retry carried
/// its own, later timestamp.
fn assert_verified_retry(calls: &[Value], label: &str) {
    assert_eq!(calls.len(), 2, "{calls:#?}");
    for call in calls {
        assert_eq!(call["verified_with"], label, "{call:#}");
        let signatures: Vec<&str> = call["webhook-signature"]
            .as_str()
            .unwrap()
            .split(' ')
            .collect();
        assert_eq!(signatures.len(), 2, "one per secret: {call:#}");
        assert!(signatures.iter().all(|s| s.starts_with("v1,")), "{call:#}");
    }
    assert_eq!(
        (&calls[0]["status"], &calls[1]["status"]),
        (&json!(500), &json!(204))
    );
    let timestamp = |c: &Value| {
        c["webhook-timestamp"]
            .as_str()
            .unwrap()
            .parse::<i64>()
            .unwrap()
    };
    assert!(
        timestamp(&calls[1]) > timestamp(&calls[0]),
        "the retry is signed with a later timestamp: {calls:#?}"
    );
    assert_eq!(calls[0]["body"], calls[1]["body"], "the same payload");
}

async fn the_reference_library_verifies_a_retry_and_both_sides_of_a_rotation(backend: Backend) {
    let Some(python) = python() else {
        return;
    };
    let receiver = PyReceiver::start(&python, "old", OLD);
    // Mid-rotation: both secrets sign, the new one first.
    let secrets = format!("{NEW} {OLD}").parse().unwrap();
    let delivery = DeliveryConfig {
        sink: Arc::new(
            WebhookSink::new(&receiver.url(), &secrets, Duration::from_secs(5)).unwrap(),
        ),
        // A 20 ms backoff: the receiver's Retry-After: 1 sets the pace.
        policy: RetryPolicy::new(8, 20).unwrap(),
        ..DeliveryConfig::default()
    };
    let options = Options {
        delivery,
        real_clock: true,
        ..Options::default()
    };
    let Some(app) = spawn_app_with(backend, options).await else {
        return;
    };
    let worker = actix_web::rt::spawn(app.delivery.clone().run());

    // The receiver still knows only the old secret.
    let first = enqueue(&app, "usr_mentor_7821").await;
    let n = delivered(&app, &first).await;
    assert_eq!(n["attempts"], 2);
    let calls = receiver.calls(&first).await;
    assert_verified_retry(&calls, "old");

    // Then only the new one.
    receiver.know_only("new", NEW).await;
    let second = enqueue(&app, "usr_mentor_4402").await;
    let n = delivered(&app, &second).await;
    assert_eq!(n["attempts"], 2);
    assert_verified_retry(&receiver.calls(&second).await, "new");

    // The library does refuse what it should: the first request replayed
    // with one byte of its body changed.
    let call = &calls[0];
    let tampered = call["body"].as_str().unwrap().replacen("1", "2", 1);
    assert_ne!(call["body"], tampered.as_str());
    let mut request = receiver.http.post(receiver.url()).body(tampered);
    for header in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        request = request.header(header, call[header].as_str().unwrap());
    }
    assert_eq!(
        request.send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );

    app.delivery.shutdown();
    worker.await.unwrap();
    app.stop().await;
}
