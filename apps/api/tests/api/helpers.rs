//! `spawn_app` and the small vocabulary the API tests speak: requests,
//! responses as JSON, the fixed clock, and the error-body check.

// Test support: a setup step or request that fails is a failed test, so panicking is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpServer;
use actix_web::dev::ServerHandle;
use chrono::{DateTime, TimeDelta, Utc};
use mentor_scheduler_api::access::Tokens;
use mentor_scheduler_api::state::{AppState, BodyLimits, HttpSettings};
use reqwest::Method;
use reqwest::StatusCode;
use runtime::{DeliveryConfig, DeliveryWorker, Ports, Runtime, RuntimeConfig};
use scenario_engine::adapters::{FixedClock, SystemClock};
use scenario_engine::rules::Rules;
use scenario_engine::service::Clock;
use serde_json::{Value, json};
use storage_diesel::testdb::TestDb;

/// Where the clock of every test starts.
pub const T0: &str = "2026-03-25T08:00:00Z";
/// The body limit the test app is built with (1 MiB, the default).
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// The evaluations base path.
pub const EVALS: &str = "/api/v1/scenario-trigger-evaluations";
/// The doubled contract form of [`EVALS`].
pub const EVALS_DOUBLED: &str =
    "/api/v1/scenario-trigger-evaluations/api/v1/scenario-trigger-evaluations";
/// The scheduler view (the nightly-scheduler contract, docs/api.md).
pub const SCHEDULER: &str = "/api/v1/scheduler/jobs";
/// The doubled contract form of [`SCHEDULER`].
pub const SCHEDULER_DOUBLED: &str = "/api/v1/scheduler/api/v1/scheduler/jobs";
/// The certification-cron view (the certification-cron contract, docs/api.md).
pub const CERT_CRON: &str = "/api/v1/certification-cron";
/// The doubled contract form of [`CERT_CRON`].
pub const CERT_CRON_DOUBLED: &str = "/api/v1/certification-cron/api/v1/certification-cron";
/// The cron view (the cron-jobs contract, docs/api.md).
pub const CRON: &str = "/api/v1/cron/jobs";
/// The doubled contract form of [`CRON`].
pub const CRON_DOUBLED: &str = "/api/v1/cron/api/v1/cron/jobs";
/// The run log.
pub const RUNS: &str = "/api/v1/runs";
/// The scheduler invocations (the scheduler-invocations contract, docs/api.md).
pub const INVOCATIONS: &str = "/api/v1/scheduler-invocations";
/// The doubled contract form of [`INVOCATIONS`].
pub const INVOCATIONS_DOUBLED: &str = "/api/v1/scheduler-invocations/api/v1/scheduler-invocations";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A temporary SQLite file.
    Sqlite,
    /// A PostgreSQL database cloned from the migrated template.
    Postgres,
}

/// The real server on a free port, its clock, and the database behind it.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The client.
    pub http: reqwest::Client,
    /// The clock the services read; tests set and advance it.
    pub clock: Arc<FixedClock>,
    /// The database the test runs on.
    pub kind: Backend,
    /// The job runtime behind the server, for what no endpoint does
    /// (holding a job's lock with a run nobody processes).
    pub runtime: Arc<Runtime>,
    /// The store behind the server, for bulk test data.
    pub store: storage_diesel::Store,
    /// The notification worker behind the server; tests step it, or run
    /// its loop, themselves.
    pub delivery: Arc<DeliveryWorker>,
    server: ServerHandle,
    // Dropped after the server is stopped: the database outlives its users.
    _db: TestDb,
}

/// An answer: its status and its body, parsed as JSON (`Null` when empty or not JSON).
#[derive(Debug)]
pub struct Resp {
    /// The status.
    pub status: StatusCode,
    /// The body as JSON.
    pub body: Value,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The body as text.
    pub text: String,
    /// Every response header.
    pub headers: reqwest::header::HeaderMap,
}

/// Parses an RFC 3339 instant (test literals only).
pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("bad test instant {s}: {e}"))
        .with_timezone(&Utc)
}

/// How a test app is built beyond the defaults.
#[derive(Debug, Default)]
pub struct Options {
    /// The notification worker's settings (default: the log sink).
    pub delivery: DeliveryConfig,
    /// The rules (default: UTC, 3 days of cooldown).
    pub rules: Rules,
    /// The services read the wall clock, not the test clock: for the few
    /// tests that poll real time (webhook retries with a small backoff).
    pub real_clock: bool,
    /// The NDJSON import's body limit (default: the service's 256 MiB).
    pub max_import_bytes: Option<usize>,
    /// Bearer tokens (default: none, everything open).
    pub tokens: Tokens,
    /// The cap on registered jobs (default: the service's 10,000).
    pub max_jobs: Option<u64>,
    /// NDJSON imports in progress at once (default: the service's 2).
    pub max_concurrent_imports: Option<usize>,
    /// Whether ticks start the built-in retention while no enabled job
    /// runs it (default off: the run logs the tests read stay as they make
    /// them; the service has it on).
    pub built_in_retention: bool,
    /// Threads that execute runs (default: the service's).
    pub run_threads: Option<usize>,
}

/// Starts the app on `backend`; `None` when PostgreSQL is unreachable
/// outside CI (`TestDb::postgres` has printed the notice).
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, Options::default()).await
}

/// [`spawn_app`] with [`Options`].
pub async fn spawn_app_with(backend: Backend, options: Options) -> Option<TestApp> {
    let db = match backend {
        Backend::Sqlite => TestDb::sqlite(),
        Backend::Postgres => TestDb::postgres()?,
    };
    let store = storage_diesel::Store::open(db.url(), 4).expect("open the test database");
    let clock = Arc::new(FixedClock::new(at(T0)));
    let service_clock: Arc<dyn Clock> = if options.real_clock {
        Arc::new(SystemClock)
    } else {
        clock.clone()
    };
    let runtime = Arc::new(Runtime::new(RuntimeConfig {
        clock: service_clock,
        rules: options.rules,
        delivery: options.delivery,
        max_jobs: options.max_jobs.unwrap_or(scheduler_core::DEFAULT_MAX_JOBS),
        built_in_retention: options.built_in_retention,
        run_threads: options.run_threads.unwrap_or(runtime::DEFAULT_RUN_THREADS),
        ..RuntimeConfig::new(Ports::of(Arc::new(store.clone())))
    }));
    let limits = BodyLimits {
        max_body_bytes: MAX_BODY_BYTES,
        ..BodyLimits::default()
    };
    let limits = match options.max_import_bytes {
        Some(max_import_bytes) => BodyLimits {
            max_import_bytes,
            ..limits
        },
        None => limits,
    };
    let limits = BodyLimits {
        max_concurrent_imports: options
            .max_concurrent_imports
            .unwrap_or(limits.max_concurrent_imports),
        ..limits
    };
    let delivery = runtime.delivery.clone();
    let http = HttpSettings {
        limits,
        tokens: options.tokens,
    };
    let state = AppState::new(runtime.clone(), store.clone(), http);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let port = listener.local_addr().expect("local addr").port();
    let server = HttpServer::new(move || mentor_scheduler_api::build_app(state.clone()))
        .workers(1)
        .disable_signals()
        .shutdown_timeout(0)
        .listen(listener)
        .expect("listen")
        .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    let http = reqwest::Client::builder()
        // A safety net against a hung server, not a timed assertion.
        .timeout(Duration::from_secs(60))
        .build()
        .expect("build the client");
    Some(TestApp {
        base: format!("http://127.0.0.1:{port}"),
        http,
        clock,
        kind: backend,
        runtime,
        store,
        delivery,
        server: handle,
        _db: db,
    })
}

impl TestApp {
    /// Stops the server (its connections to the database close with it).
    pub async fn stop(self) {
        self.server.stop(false).await;
    }

    /// The test database's URL, for a second store over it (a second instance).
    pub fn db_url(&self) -> &str {
        self._db.url()
    }

    /// Sets the clock.
    pub fn set_now(&self, s: &str) {
        self.clock.set(at(s));
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: TimeDelta) {
        self.clock.advance(by);
    }

    /// Sends a request with an optional raw body and content type.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Resp {
        self.send(method, path, &[], content_type, body).await
    }

    /// Sends a request with extra headers, an optional raw body and content type.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        content_type: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Resp {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(ct) = content_type {
            req = req.header(reqwest::header::CONTENT_TYPE, ct);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        let resp = req.send().await.expect("send the request");
        let status = resp.status();
        let headers = resp.headers().clone();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = resp.bytes().await.expect("read the body");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp {
            status,
            body,
            content_type,
            text: String::from_utf8_lossy(&bytes).into_owned(),
            headers,
        }
    }

    async fn with_json(&self, method: Method, path: &str, body: &Value) -> Resp {
        let bytes = serde_json::to_vec(body).expect("serialise");
        self.raw(method, path, Some("application/json"), Some(bytes))
            .await
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Resp {
        self.raw(Method::GET, path, None, None).await
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> Resp {
        self.raw(Method::DELETE, path, None, None).await
    }

    /// `PUT path` with a JSON body.
    pub async fn put(&self, path: &str, body: &Value) -> Resp {
        self.with_json(Method::PUT, path, body).await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.with_json(Method::POST, path, body).await
    }

    /// `POST /api/v1/mentors/import` with an NDJSON body.
    pub async fn import(&self, ndjson: impl Into<Vec<u8>>) -> Resp {
        self.raw(
            Method::POST,
            "/api/v1/mentors/import",
            Some("application/x-ndjson"),
            Some(ndjson.into()),
        )
        .await
    }

    /// Sends `head` (a request line and headers, without the blank line)
    /// and then `body` in pieces of 16 KiB over a plain TCP
    /// connection, for what `reqwest` cannot send (a declared length it
    /// never sends, or a chunked body); returns the status and the body as
    /// JSON. Writes that fail because the server has answered already are
    /// ignored: the answer is what counts.
    pub async fn raw_http(&self, head: &str, body: Vec<u8>, chunked: bool) -> (u16, Value) {
        let addr = self.base.trim_start_matches("http://").to_owned();
        let head = format!("{head}\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        actix_web::rt::task::spawn_blocking(move || {
            use std::io::{Read, Write};
            let mut tcp = std::net::TcpStream::connect(&addr).expect("connect");
            tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            let _ = tcp.write_all(head.as_bytes());
            for piece in body.chunks(16 << 10) {
                let sent = if chunked {
                    let mut framed = format!("{:x}\r\n", piece.len()).into_bytes();
                    framed.extend_from_slice(piece);
                    framed.extend_from_slice(b"\r\n");
                    tcp.write_all(&framed)
                } else {
                    tcp.write_all(piece)
                };
                if sent.is_err() {
                    break;
                }
            }
            if chunked {
                let _ = tcp.write_all(b"0\r\n\r\n");
            }
            // Read the head, then as many body bytes as it announces: the
            // server may keep the connection open to drain an unread body.
            let mut answer = Vec::new();
            let mut buf = [0_u8; 8192];
            let (head_len, body_len) = loop {
                let n = tcp.read(&mut buf).expect("read the answer");
                assert!(n > 0, "connection closed before a full answer: {answer:?}");
                answer.extend_from_slice(&buf[..n]);
                let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
                    continue;
                };
                let head = String::from_utf8_lossy(&answer[..end]).to_ascii_lowercase();
                let len = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .expect("the answer has a content-length");
                break (end + 4, len);
            };
            while answer.len() < head_len + body_len {
                let n = tcp.read(&mut buf).expect("read the answer body");
                assert!(n > 0, "connection closed inside the answer body");
                answer.extend_from_slice(&buf[..n]);
            }
            let text = String::from_utf8_lossy(&answer[..head_len]).into_owned();
            let status = text
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("no status line in {text:?}"));
            let body = &answer[head_len..head_len + body_len];
            (status, serde_json::from_slice(body).unwrap_or(Value::Null))
        })
        .await
        .expect("the raw request thread")
    }

    /// Creates a mentor of `org_oslo_01`, last active `2026-03-16T14:22:00Z`
    /// (the contract's example: 9 days before [`T0`]).
    pub async fn create_mentor(&self, user_id: &str) -> Value {
        self.create_mentor_with(
            user_id,
            &json!({"org_id": "org_oslo_01", "last_active_at": "2026-03-16T14:22:00Z"}),
        )
        .await
    }

    /// Creates a mentor from a PUT body; asserts the 201.
    pub async fn create_mentor_with(&self, user_id: &str, body: &Value) -> Value {
        let r = self.put(&format!("/api/v1/mentors/{user_id}"), body).await;
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "create {user_id}: {:#}",
            r.body
        );
        r.body
    }

    /// `GET /api/v1/mentors/{user_id}`.
    pub async fn mentor(&self, user_id: &str) -> Resp {
        self.get(&format!("/api/v1/mentors/{user_id}")).await
    }

    /// The evaluation list for a query string (without `?`); asserts the 200.
    pub async fn evaluations(&self, query: &str) -> Value {
        let r = self.get(&format!("{EVALS}?{query}")).await;
        assert_eq!(r.status, StatusCode::OK, "list ?{query}: {:#}", r.body);
        r.body
    }

    /// `pagination.total` of the evaluation list for a query string.
    pub async fn evaluation_total(&self, query: &str) -> u64 {
        total(&self.evaluations(query).await)
    }

    /// `POST .../evaluate/inactivity`; asserts the 201.
    pub async fn evaluate_inactivity(&self, user_id: &str, threshold_days: i64) -> Value {
        let r = self
            .post(
                &format!("{EVALS}/evaluate/inactivity"),
                &json!({"user_id": user_id, "threshold_days": threshold_days}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "evaluate: {:#}", r.body);
        r.body
    }
}

impl TestApp {
    /// `POST path` with no body at all.
    pub async fn post_empty(&self, path: &str) -> Resp {
        self.raw(Method::POST, path, None, None).await
    }

    /// Registers a job through the cron view; asserts the 201.
    pub async fn create_job(&self, name: &str, schedule: &str, handler: &str) -> Value {
        let r = self
            .post(
                CRON,
                &json!({"name": name, "schedule": schedule, "handler": handler}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "create {name}: {:#}", r.body);
        r.body
    }

    /// `GET /api/v1/runs/{id}`; asserts the 200.
    pub async fn run(&self, run_id: &str) -> Value {
        let r = self.get(&format!("{RUNS}/{run_id}")).await;
        assert_eq!(r.status, StatusCode::OK, "run {run_id}: {:#}", r.body);
        r.body
    }

    /// Polls `GET /api/v1/runs/{id}` until the run is no longer `running`
    /// (real time, 10 s deadline: runs execute on their own threads), then
    /// until its job records it: the runtime writes `last_run_at` and
    /// `last_run_status` on the job just after it finishes the run.
    pub async fn finished_run(&self, run_id: &str) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let run = loop {
            let run = self.run(run_id).await;
            if run["status"] != "running" {
                break run;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "run {run_id} still running after 10 s: {run:#}"
            );
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        };
        let Some(job_id) = run["job_id"].as_str() else {
            return run;
        };
        loop {
            match self.runtime.jobs.get(job_id) {
                Ok(job) if job.last_run_status.as_deref() != run["status"].as_str() => {}
                // Recorded, or the job was deleted meanwhile.
                _ => return run,
            }
            assert!(
                std::time::Instant::now() < deadline,
                "run {run_id} finished but its job never recorded it: {run:#}"
            );
            actix_web::rt::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Inserts a `running` run of the job that holds the job's lock and that
    /// no thread processes, as a run of another instance would; returns its id.
    pub fn hold_lock(&self, job_id: &str) -> String {
        let job = self.runtime.jobs.get(job_id).expect("the job exists");
        let mut run = run_log::Run::start(
            self.runtime.next_id("run"),
            job.handler.as_str(),
            run_log::Trigger::Manual,
            self.runtime.now(),
        );
        run.job_id = Some(job.id.clone());
        run.job_name = Some(job.name.as_str().to_owned());
        self.runtime
            .runs
            .insert_run(&run, Some(&runtime::lock_key(&job)))
            .expect("insert the lock-holding run");
        run.id
    }

    /// Adds a certification to a mentor; asserts the 201.
    pub async fn certify(&self, user_id: &str, cert_id: &str, expires_at: &str, required: bool) {
        let r = self
            .put(
                &format!("/api/v1/mentors/{user_id}/certifications/{cert_id}"),
                &json!({"name": "Safeguarding", "expires_at": expires_at, "required": required}),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "certify {user_id}: {:#}",
            r.body
        );
    }
}

/// The `data` rows of a list body.
pub fn rows(list: &Value) -> &[Value] {
    list["data"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_else(|| panic!("no data in {list:#}"))
}

/// The row of a list body whose `field` is `value`.
pub fn row(list: &Value, field: &str, value: &str) -> Value {
    rows(list)
        .iter()
        .find(|r| r[field] == value)
        .cloned()
        .unwrap_or_else(|| panic!("no row with {field} = {value} in {list:#}"))
}

/// A field of every row of a list body, as strings.
pub fn column(list: &Value, field: &str) -> Vec<String> {
    rows(list).iter().map(|r| string(r, field)).collect()
}

/// `pagination.total` of a list body.
pub fn total(list: &Value) -> u64 {
    list["pagination"]["total"]
        .as_u64()
        .unwrap_or_else(|| panic!("no pagination.total in {list:#}"))
}

/// A string field of a body.
pub fn string(v: &Value, field: &str) -> String {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("no string `{field}` in {v:#}"))
        .to_owned()
}

/// The `id` field of a body.
pub fn id_of(v: &Value) -> String {
    string(v, "id")
}

/// The keys of a JSON object, sorted.
pub fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v:#}"))
        .keys()
        .cloned()
        .collect();
    k.sort();
    k
}

/// Asserts that an object has exactly these keys.
pub fn assert_keys(v: &Value, expected: &[&str]) {
    let mut expected: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
    expected.sort();
    assert_eq!(keys(v), expected, "keys of {v:#}");
}

/// Asserts that an object has every field of `contract` (more are allowed).
pub fn assert_has(v: &Value, contract: &[&str]) {
    let present = keys(v);
    for field in contract {
        assert!(
            present.iter().any(|k| k == field),
            "missing `{field}` in {v:#}"
        );
    }
}

/// Asserts an error answer: the status, a JSON content type, a body of
/// exactly `{"error": {"code", "message", "details"}}` with this code and a
/// non-empty message. Returns `details`.
pub fn assert_error(r: &Resp, status: StatusCode, code: &str) -> Value {
    assert_eq!(r.status, status, "status; body {:#}", r.body);
    assert!(
        r.content_type
            .as_deref()
            .is_some_and(|c| c.starts_with("application/json")),
        "content type {:?}",
        r.content_type
    );
    assert_keys(&r.body, &["error"]);
    let e = &r.body["error"];
    assert_keys(e, &["code", "message", "details"]);
    assert_eq!(e["code"], code, "error code; body {:#}", r.body);
    assert!(
        e["message"].as_str().is_some_and(|m| !m.is_empty()),
        "message of {:#}",
        r.body
    );
    e["details"].clone()
}

/// The `valid` list of an error's details, as strings.
pub fn valid_list(details: &Value) -> Vec<String> {
    details["valid"]
        .as_array()
        .unwrap_or_else(|| panic!("no details.valid in {details:#}"))
        .iter()
        .map(|v| v.as_str().expect("valid names are strings").to_owned())
        .collect()
}

/// Expands each `async fn case(app: &TestApp)` of the calling module into
/// `sqlite::case` and `postgres::case` tests. The PostgreSQL arm returns
/// early (after `TestDb`'s notice) when PostgreSQL is unreachable outside CI.
macro_rules! api_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[actix_web::test]
                async fn $name() {
                    let Some(app) = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await
                    else {
                        unreachable!("SQLite is always available")
                    };
                    super::$name(&app).await;
                    app.stop().await;
                }
            )*
        }
        mod postgres {
            $(
                #[actix_web::test]
                async fn $name() {
                    let Some(app) = $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await
                    else {
                        return;
                    };
                    super::$name(&app).await;
                    app.stop().await;
                }
            )*
        }
    };
}
pub(crate) use api_tests;

/// Expands each `async fn case(backend: Backend)` of the calling module into
/// `sqlite::case` and `postgres::case` tests, for cases that build their own
/// app ([`spawn_app_with`]) or more than one; each returns early when
/// [`spawn_app_with`] says PostgreSQL is unreachable outside CI.
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[actix_web::test]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[actix_web::test]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Postgres).await;
                }
            )*
        }
    };
}
pub(crate) use backend_tests;
