//! `/api/v1/notifications` and the notification worker end to end: the
//! outbox row of a fired evaluation, the log and webhook sinks (against a
//! local receiver that checks the signature), retries and failures, a
//! receiver's `Retry-After`, the delivery window, the retry endpoint, list
//! filters, bad input, and two workers sharing one database. The reference
//! Standard Webhooks library checks the signatures in `standard_webhooks.rs`.
//!
//! Most cases step the worker by hand on the fixed clock
//! (`DeliveryWorker::step`), so nothing waits for time to pass; the loop
//! cases poll with a deadline, and only the retry-until-delivered case runs
//! on the wall clock, with a 20 ms backoff base.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::TimeDelta;
use hmac::{Hmac, KeyInit, Mac};
use mentor_scheduler_api::webhook::WebhookSink;
use reqwest::StatusCode;
use runtime::{DeliveryConfig, DeliveryWaker, DeliveryWorker, Step};
use scenario_engine::rules::Rules;
use scenario_engine::service::{Clock, OutboxService, RetryPolicy};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{
    Backend, CRON, Options, T0, TestApp, assert_error, assert_keys, at, backend_tests, column,
    id_of, rows, spawn_app, spawn_app_with, string, total, valid_list,
};

backend_tests!(
    a_fired_evaluation_enqueues_one_pending_notification_with_every_column,
    the_log_sink_delivers_as_soon_as_an_evaluation_wakes_the_worker,
    the_webhook_sink_posts_the_stored_payload_signed_with_the_secret,
    a_webhook_answering_500_twice_then_200_is_delivered_on_the_third_attempt,
    a_retry_after_a_500_is_signed_with_a_later_timestamp_than_the_attempt_before,
    a_retry_after_header_delays_the_next_attempt_up_to_the_backoff_cap,
    a_webhook_answering_400_fails_at_once_with_the_answer_in_last_error,
    a_webhook_that_keeps_failing_is_failed_after_the_last_attempt,
    an_unreachable_receiver_is_retried_and_its_url_is_not_in_last_error,
    the_delivery_window_holds_notifications_until_it_opens_in_the_evaluation_zone,
    retry_sends_only_a_failed_notification_back_with_a_fresh_budget,
    notifications_are_listed_newest_first_filtered_and_paged,
    bad_queries_and_unknown_ids_get_the_error_body_and_change_nothing,
    two_workers_on_one_database_never_deliver_a_notification_twice,
);

const NOTIFICATIONS: &str = "/api/v1/notifications";
/// `whsec_` and the base64 of the key [`KEY`].
const SECRET: &str = "whsec_bWVudG9yLXNjaGVkdWxlci10ZXN0LWtleS0wMTIzNDU2Nzg5";
const KEY: &[u8] = b"mentor-scheduler-test-key-0123456789";
const USER: &str = "usr_mentor_7821";

/// Every stored field of a notification (docs/api.md, "Notifications").
const NOTIFICATION_FIELDS: [&str; 15] = [
    "id",
    "user_id",
    "org_id",
    "scenario_type",
    "dedupe_key",
    "payload",
    "status",
    "attempts",
    "last_error",
    "created_at",
    "updated_at",
    "next_attempt_at",
    "delivered_at",
    "run_id",
    "evaluation_id",
];

/// The webhook body, in its order (docs/api.md, "Webhook body").
const PAYLOAD_FIELDS: [&str; 9] = [
    "version",
    "notification_id",
    "user_id",
    "org_id",
    "scenario_type",
    "reason_code",
    "reason",
    "metadata",
    "created_at",
];

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Call {
    method: String,
    path: String,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

/// What the receiver answers (status, body, `Retry-After`), and what it got.
#[derive(Debug, Default)]
struct Script {
    answers: VecDeque<(u16, &'static str, Option<&'static str>)>,
    otherwise: u16,
    calls: Vec<Call>,
}

/// A webhook receiver on a free local port: answers from a script, then
/// `otherwise`, and keeps every request.
struct Receiver {
    url: String,
    script: web::Data<Mutex<Script>>,
    server: ServerHandle,
}

async fn hook(
    req: HttpRequest,
    body: web::Bytes,
    script: web::Data<Mutex<Script>>,
) -> HttpResponse {
    let mut s = script.lock().unwrap();
    s.calls.push(Call {
        method: req.method().to_string(),
        path: req.path().to_owned(),
        headers: req
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("?").to_owned()))
            .collect(),
        body: body.to_vec(),
    });
    let (status, text, retry_after) = s.answers.pop_front().unwrap_or((s.otherwise, "", None));
    let mut answer = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
    if let Some(value) = retry_after {
        answer.insert_header(("Retry-After", value));
    }
    answer.body(text)
}

impl Receiver {
    async fn start(answers: &[(u16, &'static str)], otherwise: u16) -> Self {
        let answers: Vec<_> = answers.iter().map(|&(s, b)| (s, b, None)).collect();
        Self::start_with_retry_after(&answers, otherwise).await
    }

    /// [`Receiver::start`], with a `Retry-After` on some answers.
    async fn start_with_retry_after(
        answers: &[(u16, &'static str, Option<&'static str>)],
        otherwise: u16,
    ) -> Self {
        let script = web::Data::new(Mutex::new(Script {
            answers: answers.iter().copied().collect(),
            otherwise,
            calls: Vec::new(),
        }));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let data = script.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/hook", web::post().to(hook))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(0)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}/hook"),
            script,
            server: handle,
        }
    }

    fn calls(&self) -> Vec<Call> {
        self.script.lock().unwrap().calls.clone()
    }

    async fn stop(self) {
        self.server.stop(false).await;
    }
}

/// Checks a request as a Standard Webhooks receiver would: recompute
/// HMAC-SHA256 over `webhook-id + "." + webhook-timestamp + "." + body`
/// with the shared key and compare it, in constant time, with the base64
/// digest after `v1,` in `webhook-signature`.
fn assert_signed(call: &Call) {
    let mac = |body: &[u8]| {
        let mut mac = Hmac::<Sha256>::new_from_slice(KEY).unwrap();
        mac.update(call.headers["webhook-id"].as_bytes());
        mac.update(b".");
        mac.update(call.headers["webhook-timestamp"].as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    };
    let signature = call.headers["webhook-signature"]
        .strip_prefix("v1,")
        .unwrap_or_else(|| panic!("no v1, prefix: {call:?}"));
    let digest = BASE64.decode(signature).unwrap();
    assert_eq!(digest.len(), 32, "{signature}");
    mac(&call.body)
        .verify_slice(&digest)
        .unwrap_or_else(|_| panic!("the signature does not verify: {call:?}"));
    // And a body changed on the way would not.
    assert!(mac(&call.body[1..]).verify_slice(&digest).is_err());
}

fn webhook(url: &str, attempts: i64, base_ms: i64) -> DeliveryConfig {
    DeliveryConfig {
        sink: Arc::new(
            WebhookSink::new(url, &SECRET.parse().unwrap(), Duration::from_secs(5)).unwrap(),
        ),
        policy: RetryPolicy::new(attempts, base_ms).unwrap(),
        ..DeliveryConfig::default()
    }
}

async fn app_with(backend: Backend, delivery: DeliveryConfig) -> Option<TestApp> {
    spawn_app_with(
        backend,
        Options {
            delivery,
            ..Options::default()
        },
    )
    .await
}

/// `GET /api/v1/notifications/{id}`; asserts the 200.
async fn notification(app: &TestApp, id: &str) -> Value {
    let r = app.get(&format!("{NOTIFICATIONS}/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{id}: {:#}", r.body);
    r.body
}

/// The notification list for a query string (without `?`); asserts the 200.
async fn list(app: &TestApp, query: &str) -> Value {
    let r = app.get(&format!("{NOTIFICATIONS}?{query}")).await;
    assert_eq!(r.status, StatusCode::OK, "?{query}: {:#}", r.body);
    r.body
}

/// Creates an inactive mentor and evaluates them: one pending notification,
/// whose id is returned.
async fn enqueue(app: &TestApp, user_id: &str) -> String {
    app.create_mentor(user_id).await;
    let e = app.evaluate_inactivity(user_id, 7).await;
    assert_eq!(e["should_notify"], true, "{e:#}");
    let l = list(app, &format!("user_id={user_id}")).await;
    assert_eq!(total(&l), 1, "{l:#}");
    id_of(&l["data"][0])
}

/// Steps the worker once and returns what it did.
async fn step(app: &TestApp) -> Step {
    app.delivery.step().await.unwrap()
}

/// Polls a notification (real time, 20 s deadline: the worker runs on its
/// own task) until `done` holds for it.
async fn poll(app: &TestApp, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let n = notification(app, id).await;
        if done(&n) {
            return n;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{id} never {what}: {n:#}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn a_fired_evaluation_enqueues_one_pending_notification_with_every_column(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.create_mentor(USER).await;
    let e = app.evaluate_inactivity(USER, 7).await;
    let l = list(&app, "").await;
    assert_eq!(l["pagination"], json!({"page": 1, "limit": 20, "total": 1}));
    let n = &l["data"][0];
    assert_keys(n, &NOTIFICATION_FIELDS);
    let id = id_of(n);
    assert!(id.starts_with("ntf_") && id.len() == 30, "{id}");
    assert_eq!(n["user_id"], USER);
    assert_eq!(n["org_id"], "org_oslo_01");
    assert_eq!(n["scenario_type"], "inactivity");
    assert_eq!(n["dedupe_key"], "inactivity:usr_mentor_7821:2026-03-25");
    assert_eq!(n["status"], "pending");
    assert_eq!(n["attempts"], 0);
    assert_eq!(n["last_error"], Value::Null);
    for field in ["created_at", "updated_at", "next_attempt_at"] {
        assert_eq!(n[field], T0, "{field}");
    }
    assert_eq!(n["delivered_at"], Value::Null);
    assert_eq!(n["run_id"], Value::Null);
    assert_eq!(n["evaluation_id"], e["id"]);

    let p = &n["payload"];
    assert_keys(p, &PAYLOAD_FIELDS);
    assert_eq!(p["version"], 1);
    assert_eq!(p["notification_id"], id.as_str());
    assert_eq!(p["user_id"], USER);
    assert_eq!(p["org_id"], "org_oslo_01");
    assert_eq!(p["scenario_type"], "inactivity");
    assert_eq!(p["reason_code"], "threshold_reached");
    assert_eq!(p["reason"], e["reason"]);
    assert_eq!(p["metadata"], e["evaluation_metadata"]);
    assert_eq!(p["created_at"], T0);

    assert_eq!(&notification(&app, &id).await, n, "one and the list agree");
    // A dry run and a decision that does not fire enqueue nothing.
    let r = app
        .post(
            &format!("{}/evaluate/inactivity", crate::helpers::EVALS),
            &json!({"user_id": USER, "threshold_days": 7, "dry_run": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    app.evaluate_inactivity(USER, 7).await;
    assert_eq!(total(&list(&app, "").await), 1);
    app.stop().await;
}

async fn the_log_sink_delivers_as_soon_as_an_evaluation_wakes_the_worker(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    assert_eq!(app.delivery.sink().name(), "log");
    let worker = actix_web::rt::spawn(app.delivery.clone().run());
    // The worker is idle (nothing pending: it sleeps up to a minute); the
    // evaluation's wake brings it back well inside the poll's deadline.
    for user in [USER, "usr_mentor_4402"] {
        let id = enqueue(&app, user).await;
        let n = poll(&app, &id, "delivered", |n| n["status"] == "delivered").await;
        assert_eq!(n["attempts"], 1);
        assert_eq!(n["delivered_at"], T0);
        assert_eq!(n["updated_at"], T0);
        assert_eq!(n["next_attempt_at"], Value::Null);
        assert_eq!(n["last_error"], Value::Null);
    }
    app.delivery.shutdown();
    worker.await.unwrap();
    assert_eq!(step(&app).await, Step::Idle { next: None });
    app.stop().await;
}

async fn the_webhook_sink_posts_the_stored_payload_signed_with_the_secret(backend: Backend) {
    let receiver = Receiver::start(&[], 200).await;
    let Some(app) = app_with(backend, webhook(&receiver.url, 8, 1000)).await else {
        return;
    };
    let id = enqueue(&app, USER).await;
    let stored = notification(&app, &id).await;
    assert_eq!(
        step(&app).await,
        Step::Attempted {
            attempted: 1,
            delivered: 1,
            recorded: 1
        }
    );
    let calls = receiver.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    let call = &calls[0];
    assert_eq!(
        (call.method.as_str(), call.path.as_str()),
        ("POST", "/hook")
    );
    assert_eq!(call.headers["content-type"], "application/json");
    assert_eq!(call.headers["webhook-id"], id);
    assert_eq!(
        call.headers["webhook-timestamp"],
        at(T0).timestamp().to_string()
    );
    assert_signed(call);
    assert!(
        !call.headers.keys().any(|h| h.starts_with("x-")),
        "no headers of the old scheme: {call:?}"
    );
    let body: Value = serde_json::from_slice(&call.body).unwrap();
    assert_eq!(body, stored["payload"], "the stored payload is the body");
    assert_eq!(
        serde_json::from_slice::<serde_json::Map<String, Value>>(&call.body)
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>(),
        PAYLOAD_FIELDS,
        "in the order of docs/api.md's webhook body"
    );
    let n = notification(&app, &id).await;
    assert_eq!(
        (&n["status"], &n["attempts"]),
        (&json!("delivered"), &json!(1))
    );
    assert_eq!(step(&app).await, Step::Idle { next: None });
    assert_eq!(receiver.calls().len(), 1, "delivered once");
    app.stop().await;
    receiver.stop().await;
}

async fn a_webhook_answering_500_twice_then_200_is_delivered_on_the_third_attempt(
    backend: Backend,
) {
    let receiver = Receiver::start(&[(500, "busy"), (500, "still busy")], 200).await;
    let options = Options {
        delivery: webhook(&receiver.url, 8, 20),
        real_clock: true,
        ..Options::default()
    };
    let Some(app) = spawn_app_with(backend, options).await else {
        return;
    };
    let worker = actix_web::rt::spawn(app.delivery.clone().run());
    let id = enqueue(&app, USER).await;
    let n = poll(&app, &id, "delivered", |n| n["status"] == "delivered").await;
    assert_eq!(n["attempts"], 3);
    assert_eq!(n["last_error"], Value::Null, "cleared once delivered");
    assert_eq!(n["next_attempt_at"], Value::Null);
    app.delivery.shutdown();
    worker.await.unwrap();
    let calls = receiver.calls();
    assert_eq!(calls.len(), 3, "{calls:?}");
    for call in &calls {
        assert_eq!(call.headers["webhook-id"], id);
        assert_eq!(call.body, calls[0].body, "the same payload every time");
        assert_signed(call);
    }
    app.stop().await;
    receiver.stop().await;
}

async fn a_retry_after_a_500_is_signed_with_a_later_timestamp_than_the_attempt_before(
    backend: Backend,
) {
    // With a 20 ms backoff base the retry's backoff ends inside the second
    // of the first attempt, whose timestamp (whole seconds) it must not repeat.
    let receiver = Receiver::start(&[(500, "busy")], 204).await;
    let Some(app) = app_with(backend, webhook(&receiver.url, 8, 20)).await else {
        return;
    };
    let id = enqueue(&app, USER).await;
    assert!(matches!(
        step(&app).await,
        Step::Attempted { delivered: 0, .. }
    ));
    // The clock moves to when the retry is due, and no further.
    let Step::Idle { next: Some(next) } = step(&app).await else {
        panic!("the retry is pending")
    };
    app.clock.set(next);
    assert!(matches!(
        step(&app).await,
        Step::Attempted { delivered: 1, .. }
    ));
    let calls = receiver.calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    let timestamp = |c: &Call| c.headers["webhook-timestamp"].parse::<i64>().unwrap();
    assert_eq!(timestamp(&calls[0]), at(T0).timestamp());
    assert!(
        timestamp(&calls[1]) > timestamp(&calls[0]),
        "the retry repeats the first attempt's timestamp: {calls:?}"
    );
    assert_eq!(timestamp(&calls[1]), next.timestamp(), "its own time");
    assert_eq!(
        next,
        at(T0) + TimeDelta::seconds(1),
        "due at the next second"
    );
    assert_ne!(
        calls[0].headers["webhook-signature"],
        calls[1].headers["webhook-signature"]
    );
    for call in &calls {
        assert_eq!(call.headers["webhook-id"], id, "the same id every time");
        assert_signed(call);
    }
    app.stop().await;
    receiver.stop().await;
}

async fn a_retry_after_header_delays_the_next_attempt_up_to_the_backoff_cap(backend: Backend) {
    // Seconds, then an HTTP date, then a day: cut to the 10-minute cap.
    let receiver = Receiver::start_with_retry_after(
        &[
            (503, "maintenance", Some("120")),
            (429, "slow down", Some("Wed, 25 Mar 2026 08:07:00 GMT")),
            (503, "", Some("86400")),
        ],
        200,
    )
    .await;
    let Some(app) = app_with(backend, webhook(&receiver.url, 8, 1000)).await else {
        return;
    };
    let id = enqueue(&app, USER).await;
    for (now, next, error) in [
        (
            T0,
            "2026-03-25T08:02:00Z",
            "HTTP 503 Service Unavailable: maintenance",
        ),
        (
            "2026-03-25T08:02:00Z",
            "2026-03-25T08:07:00Z",
            "HTTP 429 Too Many Requests: slow down",
        ),
        (
            "2026-03-25T08:07:00Z",
            "2026-03-25T08:17:00Z",
            "HTTP 503 Service Unavailable",
        ),
    ] {
        app.set_now(now);
        assert!(
            matches!(step(&app).await, Step::Attempted { delivered: 0, .. }),
            "{now}"
        );
        let n = notification(&app, &id).await;
        assert_eq!(n["status"], "pending");
        assert_eq!(n["next_attempt_at"], next, "{n:#}");
        assert_eq!(n["last_error"], error);
        // Not a millisecond earlier.
        app.clock.set(at(next) - TimeDelta::milliseconds(1));
        assert_eq!(
            step(&app).await,
            Step::Idle {
                next: Some(at(next))
            }
        );
    }
    app.set_now("2026-03-25T08:17:00Z");
    assert!(matches!(
        step(&app).await,
        Step::Attempted { delivered: 1, .. }
    ));
    let n = notification(&app, &id).await;
    assert_eq!(
        (&n["status"], &n["attempts"]),
        (&json!("delivered"), &json!(4))
    );
    assert_eq!(receiver.calls().len(), 4);
    app.stop().await;
    receiver.stop().await;
}

async fn a_webhook_answering_400_fails_at_once_with_the_answer_in_last_error(backend: Backend) {
    let receiver = Receiver::start(&[(400, "unknown org_id")], 200).await;
    let Some(app) = app_with(backend, webhook(&receiver.url, 8, 1000)).await else {
        return;
    };
    let id = enqueue(&app, USER).await;
    assert_eq!(
        step(&app).await,
        Step::Attempted {
            attempted: 1,
            delivered: 0,
            recorded: 1
        }
    );
    let n = notification(&app, &id).await;
    assert_eq!(n["status"], "failed");
    assert_eq!(n["attempts"], 1);
    assert_eq!(n["last_error"], "HTTP 400 Bad Request: unknown org_id");
    assert_eq!(n["next_attempt_at"], Value::Null);
    assert_eq!(n["delivered_at"], Value::Null);
    // Failed is final: nothing is due, however late.
    app.advance(TimeDelta::days(1));
    assert_eq!(step(&app).await, Step::Idle { next: None });
    assert_eq!(receiver.calls().len(), 1);
    app.stop().await;
    receiver.stop().await;
}

async fn a_webhook_that_keeps_failing_is_failed_after_the_last_attempt(backend: Backend) {
    // 429 and 408 are retried like a 5xx; the third attempt is the last.
    let receiver = Receiver::start(&[(429, "slow down"), (408, "")], 503).await;
    let Some(app) = app_with(backend, webhook(&receiver.url, 3, 1000)).await else {
        return;
    };
    let id = enqueue(&app, USER).await;
    let mut errors = Vec::new();
    for attempt in 1..=3 {
        let s = step(&app).await;
        assert!(
            matches!(
                s,
                Step::Attempted {
                    attempted: 1,
                    delivered: 0,
                    recorded: 1
                }
            ),
            "{s:?}"
        );
        let n = notification(&app, &id).await;
        assert_eq!(n["attempts"], attempt);
        errors.push(string(&n, "last_error"));
        if attempt < 3 {
            assert_eq!(n["status"], "pending");
            // Not due again until the backoff passes: 0.5-1 s, then 1-2 s.
            let Step::Idle { next: Some(next) } = step(&app).await else {
                panic!("the retry is not due yet")
            };
            let wait = next - app.clock.now();
            let full = TimeDelta::milliseconds(1000 << (attempt - 1));
            assert!(
                wait >= full / 2 && wait <= full,
                "attempt {attempt}: {wait}"
            );
            app.advance(TimeDelta::minutes(10));
        } else {
            assert_eq!(n["status"], "failed");
            assert_eq!(n["next_attempt_at"], Value::Null);
        }
    }
    assert_eq!(
        errors,
        [
            "HTTP 429 Too Many Requests: slow down",
            "HTTP 408 Request Timeout",
            "HTTP 503 Service Unavailable"
        ]
    );
    app.advance(TimeDelta::days(1));
    assert_eq!(step(&app).await, Step::Idle { next: None });
    assert_eq!(receiver.calls().len(), 3);
    app.stop().await;
    receiver.stop().await;
}

async fn an_unreachable_receiver_is_retried_and_its_url_is_not_in_last_error(backend: Backend) {
    // A port that was free a moment ago and has no listener now.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/hook/TOKEN-abc123");
    let Some(app) = app_with(backend, webhook(&url, 8, 1000)).await else {
        return;
    };
    let id = enqueue(&app, USER).await;
    step(&app).await;
    let n = notification(&app, &id).await;
    assert_eq!(n["status"], "pending");
    assert_eq!(n["attempts"], 1);
    let error = string(&n, "last_error");
    assert!(!error.is_empty());
    assert!(!error.contains("TOKEN-abc123"), "{error}");
    assert!(at(&string(&n, "next_attempt_at")) >= at(T0), "{n:#}");
    app.stop().await;
}

async fn the_delivery_window_holds_notifications_until_it_opens_in_the_evaluation_zone(
    backend: Backend,
) {
    // 10:00-18:00 in Oslo is 09:00-17:00 UTC in March (CET); T0 is 08:00 UTC.
    let options = Options {
        delivery: DeliveryConfig {
            window: Some(scenario_engine::service::DeliveryWindow::parse("10:00-18:00").unwrap()),
            ..DeliveryConfig::default()
        },
        rules: Rules {
            timezone: chrono_tz::Europe::Oslo,
            ..Rules::default()
        },
        ..Options::default()
    };
    let Some(app) = spawn_app_with(backend, options).await else {
        return;
    };
    let id = enqueue(&app, USER).await;
    assert_eq!(
        step(&app).await,
        Step::Held {
            until: at("2026-03-25T09:00:00Z")
        }
    );
    let n = notification(&app, &id).await;
    assert_eq!(
        (&n["status"], &n["attempts"]),
        (&json!("pending"), &json!(0))
    );
    app.set_now("2026-03-25T08:59:59Z");
    assert!(matches!(step(&app).await, Step::Held { .. }));
    app.set_now("2026-03-25T09:00:00Z");
    assert!(matches!(
        step(&app).await,
        Step::Attempted { delivered: 1, .. }
    ));
    let n = notification(&app, &id).await;
    assert_eq!(n["status"], "delivered");
    assert_eq!(n["delivered_at"], "2026-03-25T09:00:00Z");

    // After 18:00 Oslo the next one waits for the morning, also with the loop running.
    app.set_now("2026-03-25T17:30:00Z");
    let worker = actix_web::rt::spawn(app.delivery.clone().run());
    let id = enqueue(&app, "usr_mentor_4402").await;
    assert_eq!(
        step(&app).await,
        Step::Held {
            until: at("2026-03-26T09:00:00Z")
        }
    );
    assert_eq!(notification(&app, &id).await["status"], "pending");
    app.set_now("2026-03-26T09:00:00Z");
    app.delivery.wake();
    let n = poll(&app, &id, "delivered", |n| n["status"] == "delivered").await;
    assert_eq!(n["delivered_at"], "2026-03-26T09:00:00Z");
    app.delivery.shutdown();
    worker.await.unwrap();
    app.stop().await;
}

async fn retry_sends_only_a_failed_notification_back_with_a_fresh_budget(backend: Backend) {
    let receiver = Receiver::start(&[(410, "gone for now")], 200).await;
    let Some(app) = app_with(backend, webhook(&receiver.url, 8, 1000)).await else {
        return;
    };
    let id = enqueue(&app, USER).await;
    step(&app).await;
    assert_eq!(notification(&app, &id).await["status"], "failed");

    app.advance(TimeDelta::hours(1));
    let r = app.post_empty(&format!("{NOTIFICATIONS}/{id}/retry")).await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_keys(&r.body, &NOTIFICATION_FIELDS);
    assert_eq!(r.body["status"], "pending");
    assert_eq!(r.body["attempts"], 0);
    assert_eq!(r.body["next_attempt_at"], "2026-03-25T09:00:00Z");
    assert_eq!(r.body["updated_at"], "2026-03-25T09:00:00Z");
    assert_eq!(r.body["last_error"], "HTTP 410 Gone: gone for now");
    assert_eq!(notification(&app, &id).await, r.body);
    assert!(matches!(
        step(&app).await,
        Step::Attempted { delivered: 1, .. }
    ));
    let delivered = notification(&app, &id).await;
    assert_eq!(
        (&delivered["status"], &delivered["attempts"]),
        (&json!("delivered"), &json!(1))
    );
    assert_eq!(receiver.calls().len(), 2);

    // Delivered, pending: a 409 with the error body, and nothing changes.
    let pending = enqueue(&app, "usr_mentor_4402").await;
    for (nid, status) in [(&id, "delivered"), (&pending, "pending")] {
        let before = notification(&app, nid).await;
        let r = app
            .post_empty(&format!("{NOTIFICATIONS}/{nid}/retry"))
            .await;
        let details = assert_error(&r, StatusCode::CONFLICT, "invalid_transition");
        assert_eq!(details, json!({"id": nid, "from": status, "to": "pending"}));
        assert_eq!(notification(&app, nid).await, before);
    }
    let r = app
        .post_empty(&format!("{NOTIFICATIONS}/ntf_nope/retry"))
        .await;
    let details = assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        details,
        json!({"resource": "notification", "id": "ntf_nope"})
    );
    app.stop().await;
    receiver.stop().await;
}

async fn notifications_are_listed_newest_first_filtered_and_paged(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let a = enqueue(&app, "usr_a").await;
    app.advance(TimeDelta::minutes(1));
    let b = enqueue(&app, "usr_b").await;
    app.advance(TimeDelta::minutes(1));
    app.create_mentor_with(
        "usr_d",
        &json!({"org_id": "org_bergen_02", "sessions_count": 1, "first_session_at": "2026-03-24T10:00:00Z", "last_active_at": "2026-03-24T10:00:00Z"}),
    )
    .await;
    let r = app
        .post(
            &format!("{}/evaluate/milestone", crate::helpers::EVALS),
            &json!({"user_id": "usr_d", "milestone_type": "first_session_completed"}),
        )
        .await;
    assert_eq!(r.body["should_notify"], true, "{:#}", r.body);
    let d = id_of(&list(&app, "user_id=usr_d").await["data"][0]);
    // The log sink delivers these three.
    assert!(matches!(
        step(&app).await,
        Step::Attempted { delivered: 3, .. }
    ));

    // A run enqueues one more, for the mentor nobody evaluated yet.
    app.advance(TimeDelta::minutes(1));
    app.create_mentor("usr_c").await;
    let job = string(
        &app.create_job("reminders", "0 8 * * *", "scenario_evaluation")
            .await,
        "job_id",
    );
    let r = app.post_empty(&format!("{CRON}/{job}/trigger")).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:#}", r.body);
    let run_id = string(&r.body, "run_id");
    let run = app.finished_run(&run_id).await;
    assert_eq!(run["notifications_dispatched"], 1, "{run:#}");
    let c = id_of(&list(&app, "user_id=usr_c").await["data"][0]);

    let ids = |l: &Value| column(l, "id");
    let all = list(&app, "").await;
    assert_eq!(ids(&all), [c.as_str(), d.as_str(), b.as_str(), a.as_str()]);
    assert_eq!(
        all["pagination"],
        json!({"page": 1, "limit": 20, "total": 4})
    );
    for n in rows(&all) {
        assert_keys(n, &NOTIFICATION_FIELDS);
    }
    assert_eq!(all["data"][0]["run_id"], run_id.as_str());
    assert_eq!(ids(&list(&app, "user_id=usr_a").await), [a.as_str()]);
    assert_eq!(
        ids(&list(&app, "scenario_type=milestone").await),
        [d.as_str()]
    );
    assert_eq!(
        ids(&list(&app, "scenario_type=inactivity").await),
        [c.as_str(), b.as_str(), a.as_str()]
    );
    assert_eq!(ids(&list(&app, "status=pending").await), [c.as_str()]);
    assert_eq!(
        ids(&list(&app, "status=delivered").await),
        [d.as_str(), b.as_str(), a.as_str()]
    );
    assert_eq!(total(&list(&app, "status=failed").await), 0);
    assert_eq!(
        ids(&list(&app, &format!("run_id={run_id}")).await),
        [c.as_str()]
    );
    assert_eq!(
        ids(&list(
            &app,
            "user_id=usr_c&status=pending&scenario_type=inactivity"
        )
        .await),
        [c.as_str()]
    );
    assert_eq!(
        total(&list(&app, "user_id=usr_c&status=delivered").await),
        0
    );
    assert_eq!(total(&list(&app, "user_id=usr_nobody").await), 0);

    let page = list(&app, "page=2&limit=3").await;
    assert_eq!(ids(&page), [a.as_str()]);
    assert_eq!(
        page["pagination"],
        json!({"page": 2, "limit": 3, "total": 4})
    );
    let past = list(&app, "page=3&limit=3").await;
    assert!(rows(&past).is_empty());
    assert_eq!(total(&past), 4);

    // A cursor: the rows after an id, newest first, with the filters;
    // the total still counts every match.
    let next = list(&app, &format!("after={c}&limit=2")).await;
    assert_eq!(ids(&next), [d.as_str(), b.as_str()]);
    assert_eq!(
        next["pagination"],
        json!({"page": 1, "limit": 2, "total": 4})
    );
    let last = ids(&next).last().map(|id| (*id).to_owned());
    let rest = list(&app, &format!("after={}&limit=2", last.unwrap_or_default())).await;
    assert_eq!(ids(&rest), [a.as_str()]);
    let filtered = list(&app, &format!("scenario_type=inactivity&after={c}")).await;
    assert_eq!(ids(&filtered), [b.as_str(), a.as_str()]);
    assert_eq!(total(&filtered), 3);
    assert!(rows(&list(&app, &format!("after={a}")).await).is_empty());
    // One mentor's list (a page the service reads in place) takes it too.
    let mine = list(&app, &format!("user_id=usr_a&after={c}")).await;
    assert_eq!(ids(&mine), [a.as_str()]);
    assert_eq!(total(&mine), 1);
    let none_after = list(&app, &format!("user_id=usr_a&after={a}")).await;
    assert!(rows(&none_after).is_empty());
    assert_eq!(total(&none_after), 1);
    assert_eq!(
        ids(&list(&app, &format!("after={c}&page=1&limit=1")).await),
        [d.as_str()]
    );
    // Pages count from the cursor.
    let second = list(&app, &format!("after={c}&page=2&limit=2")).await;
    assert_eq!(ids(&second), [a.as_str()]);
    assert_eq!(
        second["pagination"],
        json!({"page": 2, "limit": 2, "total": 4})
    );
    app.stop().await;
}

async fn bad_queries_and_unknown_ids_get_the_error_body_and_change_nothing(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let id = enqueue(&app, USER).await;
    let before = list(&app, "").await;

    // A cursor is an id.
    let r = app.get(&format!("{NOTIFICATIONS}?after=")).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_id");

    let r = app.get(&format!("{NOTIFICATIONS}?status=sent")).await;
    let details = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_value");
    assert_eq!(details["field"], "status");
    assert_eq!(
        valid_list(&details),
        ["pending", "delivered", "failed", "cancelled"]
    );
    let r = app
        .get(&format!("{NOTIFICATIONS}?scenario_type=birthday"))
        .await;
    let details = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_value");
    assert_eq!(
        valid_list(&details),
        ["inactivity", "milestone", "certification_expiry"]
    );
    for q in [
        "page=abc",
        "limit=1.5",
        "page=",
        "sort=created_at",
        "user=usr_mentor_7821",
    ] {
        let r = app.get(&format!("{NOTIFICATIONS}?{q}")).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "malformed_query");
    }
    for q in ["limit=0", "limit=101", "page=0"] {
        let r = app.get(&format!("{NOTIFICATIONS}?{q}")).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "out_of_range");
    }
    for q in [
        "user_id=a%01b",
        "run_id=",
        &format!("run_id={}", "r".repeat(129)),
    ] {
        let r = app.get(&format!("{NOTIFICATIONS}?{q}")).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_id");
    }
    for bad in ["ntf_nope", "a%0Ab", &"n".repeat(200)] {
        let r = app.get(&format!("{NOTIFICATIONS}/{bad}")).await;
        assert_error(&r, StatusCode::NOT_FOUND, "not_found");
        let r = app
            .post_empty(&format!("{NOTIFICATIONS}/{bad}/retry"))
            .await;
        assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    }
    let r = app.delete(&format!("{NOTIFICATIONS}/{id}")).await;
    assert_error(&r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let r = app.get(&format!("{NOTIFICATIONS}/{id}/retry")).await;
    assert_error(&r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let r = app
        .get(&format!("{NOTIFICATIONS}/api/v1/notifications"))
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");

    assert_eq!(list(&app, "").await, before, "nothing changed");
    app.stop().await;
}

async fn two_workers_on_one_database_never_deliver_a_notification_twice(backend: Backend) {
    let receiver = Receiver::start(&[], 200).await;
    let config = || DeliveryConfig {
        batch_size: 4,
        ..webhook(&receiver.url, 8, 1000)
    };
    let Some(app) = app_with(backend, config()).await else {
        return;
    };
    // Thirty pending notifications, enqueued by one run.
    for i in 0..30 {
        app.create_mentor(&format!("usr_mentor_{i:03}")).await;
    }
    let job = string(
        &app.create_job("reminders", "0 8 * * *", "scenario_evaluation")
            .await,
        "job_id",
    );
    let r = app.post_empty(&format!("{CRON}/{job}/trigger")).await;
    let run = app.finished_run(&string(&r.body, "run_id")).await;
    assert_eq!(run["notifications_dispatched"], 30, "{run:#}");

    // A second instance: its own pool over the same database, same clock.
    let store = storage_diesel::Store::open(app.db_url(), 4).unwrap();
    let clock: Arc<dyn Clock> = app.clock.clone();
    let outbox = OutboxService::new(
        Arc::new(store),
        clock.clone(),
        RetryPolicy::default(),
        TimeDelta::seconds(60),
    );
    let other = Arc::new(DeliveryWorker::new(
        outbox,
        clock,
        chrono_tz::UTC,
        config(),
        DeliveryWaker::new(),
    ));
    let drain = |w: Arc<DeliveryWorker>| async move {
        let mut attempted = 0;
        while let Step::Attempted { attempted: n, .. } = w.step().await.unwrap() {
            attempted += n;
        }
        attempted
    };
    let first = actix_web::rt::spawn(drain(app.delivery.clone()));
    let second = actix_web::rt::spawn(drain(other));
    let attempted = first.await.unwrap() + second.await.unwrap();
    assert_eq!(attempted, 30);

    let calls = receiver.calls();
    let ids: Vec<&str> = calls
        .iter()
        .map(|c| c.headers["webhook-id"].as_str())
        .collect();
    let distinct: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(ids.len(), 30, "one request each");
    assert_eq!(distinct.len(), 30, "no notification twice");
    let delivered = list(&app, "status=delivered&limit=100").await;
    assert_eq!(total(&delivered), 30);
    for n in rows(&delivered) {
        assert_eq!(n["attempts"], 1, "{n:#}");
    }
    app.stop().await;
    receiver.stop().await;
}
