//! The `mentor-scheduler` binary itself, on SQLite and PostgreSQL: `import
//! FILE` (its summary, and its exit status and printed lines when lines are
//! bad), `demo-data --mentors N`, and `--demo` at start on an empty and on
//! a non-empty database. Each test runs the real executable and reads the
//! database back through the store or the HTTP API.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed call is a failed test"
)]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use scenario_engine::adapters::DEMO_ORGS;
use scenario_engine::service::{MentorFilter, MentorRepository, MentorUpsert, PageRequest};
use storage_diesel::Store;
use storage_diesel::testdb::TestDb;

#[macro_use]
mod backends;

db_tests![
    import_of_a_good_file_prints_the_summary_and_exits_zero,
    import_with_bad_lines_prints_them_exits_non_zero_and_writes_nothing,
    import_of_a_missing_file_fails_naming_it,
    demo_data_inserts_n_mentors_across_five_organisations,
    demo_data_refuses_when_one_of_its_ids_is_taken_and_writes_nothing,
    demo_outside_serve_is_refused,
    serve_with_demo_seeds_an_empty_database,
    demo_leaves_a_database_with_mentors_alone,
    logs_to_a_pipe_carry_no_colour_codes,
    a_public_bind_without_tokens_refuses_to_start_unless_insecure,
    the_access_log_keeps_writes_and_refusals_and_leaves_successful_reads_to_debug,
];

/// The binary under test, built by cargo for this test.
const BIN: &str = env!("CARGO_BIN_EXE_mentor-scheduler");

/// Runs the binary on `db` with `args`, with no environment leaking in.
fn run(db: &TestDb, args: &[&str]) -> Output {
    command(db)
        .args(args)
        .output()
        .expect("run mentor-scheduler")
}

fn command(db: &TestDb) -> Command {
    let mut c = Command::new(BIN);
    c.env_clear()
        .env("DATABASE_URL", db.url())
        .env("RUST_LOG", "info");
    c
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn store(db: &TestDb) -> Store {
    Store::open(db.url(), 2).unwrap()
}

fn count(store: &Store, org: Option<&str>) -> u64 {
    let filter = MentorFilter {
        org_id: org.map(str::to_owned),
        ..MentorFilter::default()
    };
    store
        .list_mentors(&filter, PageRequest { page: 1, limit: 1 })
        .unwrap()
        .total
}

fn create(store: &Store, user_id: &str) {
    let upsert = MentorUpsert {
        org_id: Some("org_oslo_01".into()),
        ..MentorUpsert::default()
    };
    let now = Utc.with_ymd_and_hms(2026, 3, 25, 8, 0, 0).unwrap();
    store.upsert_mentor(user_id, &upsert, now).unwrap();
}

fn write_file(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path.display().to_string()
}

async fn import_of_a_good_file_prints_the_summary_and_exits_zero(db: &TestDb) {
    let store = store(db);
    create(&store, "usr_existing");
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        "mentors.ndjson",
        concat!(
            r#"{"user_id": "usr_a", "org_id": "org_oslo_01", "last_active_at": "2026-03-16T14:22:00Z"}"#,
            "\n\n",
            r#"{"user_id": "usr_existing", "sessions_count": 3, "preferences": {"milestone": false}}"#,
            "\n",
            r#"{"user_id": "usr_b", "org_id": "org_bergen_02", "certifications": [{"certification_id": "cert_a", "name": "A", "expires_at": "2027-01-01T00:00:00Z"}]}"#,
            "\n",
        ),
    );

    let out = run(db, &["import", &file]);

    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!("imported 3 mentors from {file}: 2 created, 1 updated\n")
    );
    assert_eq!(count(&store, None), 3);
    let existing = store.get_mentor("usr_existing").unwrap().unwrap();
    assert_eq!(existing.mentor.sessions_count, 3);
    assert!(!existing.preferences.milestone);
    let b = store.get_mentor("usr_b").unwrap().unwrap();
    assert_eq!(b.certifications.len(), 1);
}

async fn import_with_bad_lines_prints_them_exits_non_zero_and_writes_nothing(db: &TestDb) {
    let store = store(db);
    create(&store, "usr_existing");
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        "bad.ndjson",
        concat!(
            r#"{"user_id": "usr_a", "org_id": "org_oslo_01"}"#,
            "\n",
            r#"{"user_id": "usr_b", "#,
            "\n",
            r#"{"user_id": "usr_existing", "sessions_count": 3}"#,
            "\n",
            r#"{"user_id": "usr_c"}"#,
            "\n",
        ),
    );

    let out = run(db, &["import", &file]);

    assert_eq!(out.status.code(), Some(1), "stdout: {}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("{file}:2: invalid_body: ")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{file}:4: missing_field: org_id is required")),
        "{stderr}"
    );
    assert!(
        stderr.contains("2 bad line(s); nothing was imported"),
        "{stderr}"
    );
    assert_eq!(text(&out.stdout), "");
    assert_eq!(count(&store, None), 1);
    let existing = store.get_mentor("usr_existing").unwrap().unwrap();
    assert_eq!(
        existing.mentor.sessions_count, 0,
        "line 3 was not written either"
    );
}

async fn import_of_a_missing_file_fails_naming_it(db: &TestDb) {
    let out = run(db, &["import", "/nonexistent/mentors.ndjson"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("opening /nonexistent/mentors.ndjson"),
        "{}",
        text(&out.stderr)
    );
}

async fn demo_data_inserts_n_mentors_across_five_organisations(db: &TestDb) {
    let out = run(db, &["demo-data", "--mentors", "2000"]);

    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("inserted 2000 demo mentors (usr_demo_0000001 to usr_demo_0002000)"),
        "{stdout}"
    );
    let store = store(db);
    assert_eq!(count(&store, None), 2000);
    for org in DEMO_ORGS {
        assert_eq!(count(&store, Some(org)), 400, "{org}");
    }
    assert!(store.get_mentor("usr_demo_0002000").unwrap().is_some());
    assert!(store.get_mentor("usr_demo_0002001").unwrap().is_none());
}

async fn demo_data_refuses_when_one_of_its_ids_is_taken_and_writes_nothing(db: &TestDb) {
    let store = store(db);
    create(&store, "usr_demo_0000700");
    create(&store, "usr_demo_0000700x");

    let out = run(db, &["demo-data", "--mentors", "1000"]);

    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("`usr_demo_0000700`"), "{stderr}");
    assert!(stderr.contains("nothing was inserted"), "{stderr}");
    assert_eq!(count(&store, None), 2);

    // Ids past the taken one are free: fewer mentors go in.
    let out = run(db, &["demo-data", "--mentors", "699"]);
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    assert_eq!(count(&store, None), 701);

    let out = run(db, &["demo-data", "--mentors", "0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--mentors must be between 1 and 9999999"));
}

async fn demo_outside_serve_is_refused(db: &TestDb) {
    let out = run(db, &["--demo", "migrate"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--demo seeds an empty database when the service starts"));
}

/// A running `mentor-scheduler` with `args`, on a free port; killed (by its
/// own pid) when dropped.
struct Server {
    child: Option<std::process::Child>,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Server {
    /// Starts the binary and waits (real time, 60 s at most) until `/readyz`
    /// answers 200: `--demo` seeds before the server listens.
    async fn start(db: &TestDb, args: &[&str]) -> Self {
        Self::start_on(db, "127.0.0.1", args, &[]).await
    }

    /// [`Server::start`] bound to `host` (on a free port), with `env` set.
    async fn start_on(db: &TestDb, host: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let bind = format!("{host}:{port}");
        let child = command(db)
            .envs(env.iter().copied())
            .args(["--bind", &bind])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start mentor-scheduler");
        let server = Self {
            child: Some(child),
            base: format!("http://127.0.0.1:{port}"),
        };
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = http.get(format!("{}/readyz", server.base)).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return server;
            }
            assert!(Instant::now() < deadline, "the server never became ready");
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn total(&self, query: &str) -> u64 {
        let body: serde_json::Value = reqwest::get(format!("{}/api/v1/mentors?{query}", self.base))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["pagination"]["total"].as_u64().unwrap()
    }

    /// Stops the server and returns what it logged.
    fn stop(mut self) -> String {
        let mut child = self.child.take().expect("running");
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        format!("{}{}", text(&out.stdout), text(&out.stderr))
    }
}

async fn serve_with_demo_seeds_an_empty_database(db: &TestDb) {
    // `--demo` without a subcommand: serve is the default.
    let server = Server::start(db, &["--demo"]).await;

    assert_eq!(server.total("").await, 500);
    for org in DEMO_ORGS {
        assert_eq!(server.total(&format!("org_id={org}")).await, 100, "{org}");
    }
    assert!(server.total("status=paused").await > 0);
    let log = server.stop();
    assert!(log.contains("--demo: seeded demo mentors"), "{log}");

    // Started again with --demo, the now non-empty database is kept as is.
    let again = Server::start(db, &["serve", "--demo"]).await;
    assert_eq!(again.total("").await, 500);
    let log = again.stop();
    assert!(log.contains("left alone"), "{log}");
}

async fn demo_leaves_a_database_with_mentors_alone(db: &TestDb) {
    create(&store(db), "usr_mentor_7821");

    let server = Server::start(db, &["serve", "--demo"]).await;

    assert_eq!(server.total("").await, 1);
    let log = server.stop();
    assert!(
        log.contains("--demo: the database already has mentors, so it is left alone"),
        "{log}"
    );
}

async fn logs_to_a_pipe_carry_no_colour_codes(db: &TestDb) {
    // `migrate` logs to stderr, here a pipe: a log file or a collector
    // must get plain text, not ANSI escapes.
    let out = run(db, &["migrate"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let logs = text(&out.stderr);
    assert!(logs.contains("migrations applied"), "{logs}");
    assert!(!logs.contains('\u{1b}'), "colour codes in {logs:?}");
}

async fn a_public_bind_without_tokens_refuses_to_start_unless_insecure(db: &TestDb) {
    // Reachable from other machines, no token: refused before listening.
    let out = run(db, &["--bind", "0.0.0.0:0", "serve"]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("no token is configured") && err.contains("--insecure"),
        "{err}"
    );

    // --insecure: served, and the log says authentication is off.
    let server = Server::start_on(db, "0.0.0.0", &["serve", "--insecure"], &[]).await;
    assert_eq!(server.total("").await, 0);
    let log = server.stop();
    assert!(
        log.contains("authentication is off and --insecure was given"),
        "{log}"
    );

    // With tokens: served, and a call without one is refused.
    let token = "admin-0123456789abcdef";
    let server = Server::start_on(
        db,
        "0.0.0.0",
        &["serve"],
        &[("MENTOR_SCHEDULER_ADMIN_TOKENS", token)],
    )
    .await;
    let r = reqwest::get(format!("{}/api/v1/mentors", server.base))
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::UNAUTHORIZED);
    let log = server.stop();
    assert!(log.contains("authentication is on"), "{log}");
    assert!(!log.contains(token), "the token was logged: {log}");

    // Loopback without tokens: served, and the log says authentication is off.
    let server = Server::start(db, &["serve"]).await;
    let log = server.stop();
    assert!(
        log.contains("authentication is off (no tokens configured)"),
        "{log}"
    );
}

async fn the_access_log_keeps_writes_and_refusals_and_leaves_successful_reads_to_debug(
    db: &TestDb,
) {
    let server = Server::start(db, &[]).await;
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(format!("{}{path}", server.base)).send();
    assert_eq!(get("/api/v1/cron/jobs").await.unwrap().status(), 200);
    assert_eq!(
        get("/api/v1/mentors/usr_nobody").await.unwrap().status(),
        404
    );
    let put = http
        .put(format!("{}/api/v1/mentors/usr_logged", server.base))
        .json(&serde_json::json!({"org_id": "org_oslo_01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201);
    let log = server.stop();
    assert!(log.contains("GET /api/v1/mentors/{user_id} 404"), "{log}");
    assert!(log.contains("PUT /api/v1/mentors/{user_id} 201"), "{log}");
    // Polled all day by dashboards: a line each would cost more than the read.
    assert!(!log.contains("GET /api/v1/cron/jobs 200"), "{log}");
    assert!(!log.contains("GET /readyz 200"), "{log}");
}
