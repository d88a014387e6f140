//! Several real `mentor-scheduler` processes on one database, on loopback
//! (docs/operations.md, "Several instances"): instances started together
//! on an empty database, a per-second job across three instances, a run
//! whose instance is SIGKILLed, a run whose instance gets SIGTERM, and a
//! SQLite run killed and restarted. Each test has a database of its own
//! (created and dropped by `TestDb`), bounds every wait, and kills every
//! process it started by its pid when it ends, panics included (`Drop`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed call is a failed test"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use run_log::{Run, RunFilter, RunRepository, RunStatus};
use serde_json::{Value, json};
use storage_diesel::Store;
use storage_diesel::testdb::TestDb;

/// The binary under test, built by cargo for this test.
const BIN: &str = env!("CARGO_BIN_EXE_mentor-scheduler");

/// Mentors of the runs that are killed: enough for a run of several
/// seconds in a debug build, so that it is killed in the middle.
const MENTORS: &str = "20000";

/// The longest any wait of these tests lasts before it fails.
const PATIENCE: Duration = Duration::from_secs(120);

/// A running `mentor-scheduler`, logging to a file; killed by its pid when
/// dropped.
struct Instance {
    child: Option<Child>,
    base: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Instance {
    /// Starts an instance on `url` with `args`, on a free loopback port.
    fn spawn(url: &str, args: &[&str]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("instance.log");
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(BIN)
            .env_clear()
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "info")
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .args(args)
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("start mentor-scheduler");
        Self {
            child: Some(child),
            base: format!("http://127.0.0.1:{port}"),
            log,
            _dir: dir,
        }
    }

    /// Waits until `/readyz` answers 200.
    async fn ready(self) -> Self {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let ready = reqwest::get(format!("{}/readyz", self.base)).await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return self;
            }
            assert!(
                Instant::now() < deadline,
                "the instance never became ready:\n{}",
                self.logged()
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn logged(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Sends `SIGTERM` (by pid).
    fn terminate(&self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// Kills the process at once (`SIGKILL`) and reaps it.
    fn kill(&mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// Waits (at most `limit`) for the process to exit; its status.
    async fn exited_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.as_mut().expect("running").try_wait().unwrap() {
                self.child = None;
                return Some(status);
            }
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }

    async fn post(&self, path: &str, body: &Value) -> Value {
        let r = reqwest::Client::new()
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().await.unwrap()
    }

    /// Starts a scenario-evaluation run (a scheduler invocation): its id.
    async fn start_run(&self) -> String {
        let run = self.post("/api/v1/scheduler-invocations", &json!({})).await;
        run["id"].as_str().unwrap().to_owned()
    }
}

/// Runs the binary to completion with `args` (a one-shot command).
fn run_command(url: &str, args: &[&str]) {
    let out = Command::new(BIN)
        .env_clear()
        .env("DATABASE_URL", url)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn store(db: &TestDb) -> Store {
    Store::open(db.url(), 2).unwrap()
}

/// Waits until `done` says yes about the run.
async fn wait_for(store: &Store, id: &str, what: &str, done: impl Fn(&Store, &Run) -> bool) -> Run {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let run = store.get_run(id).unwrap().unwrap();
        if done(store, &run) {
            return run;
        }
        assert!(
            Instant::now() < deadline,
            "waited in vain for {what}: {run:?}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn some_batches_committed(store: &Store, id: &str) -> Run {
    wait_for(store, id, "a committed batch", |s, _| {
        !s.batch_results(id).unwrap().is_empty()
    })
    .await
}

async fn finished(store: &Store, id: &str) -> Run {
    let run = wait_for(store, id, "the end of the run", |_, r| {
        r.status != RunStatus::Running
    })
    .await;
    assert_eq!(run.status, RunStatus::Success, "{:?}", run.error_message);
    run
}

/// One column of text rows of `sql` on the database at `url`.
fn texts(url: &str, sql: &str) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
    }
    let rows: Vec<Row> = if url.starts_with("postgres") {
        diesel::sql_query(sql)
            .load(&mut PgConnection::establish(url).unwrap())
            .unwrap()
    } else {
        diesel::sql_query(sql)
            .load(&mut SqliteConnection::establish(url).unwrap())
            .unwrap()
    };
    rows.into_iter().map(|r| r.v).collect()
}

/// What a run decided and enqueued, and its totals and batches: equal for
/// two runs over the same data however they were processed.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    users_evaluated: i64,
    notifications_dispatched: i64,
    batches: usize,
    decisions: Vec<String>,
    notifications: Vec<String>,
}

fn outcome(db: &TestDb, run: &Run) -> Outcome {
    let s = store(db);
    let results = s.batch_results(&run.id).unwrap();
    assert_eq!(
        Some(results.len() as i64),
        run.planned_batches,
        "every planned batch committed once"
    );
    assert_eq!(
        results.iter().map(|b| b.user_count).sum::<i64>(),
        run.users_evaluated,
        "the totals are the sum of the batches"
    );
    assert_eq!(
        results.iter().map(|b| b.notifications_sent).sum::<i64>(),
        run.notifications_dispatched
    );
    let id = &run.id;
    Outcome {
        users_evaluated: run.users_evaluated,
        notifications_dispatched: run.notifications_dispatched,
        batches: results.len(),
        decisions: texts(
            db.url(),
            &format!(
                "SELECT user_id || ' ' || scenario_type || ' ' || reason_code AS v FROM evaluations WHERE run_id = '{id}' ORDER BY v"
            ),
        ),
        notifications: texts(
            db.url(),
            &format!("SELECT dedupe_key AS v FROM notifications WHERE run_id = '{id}' ORDER BY v"),
        ),
    }
}

/// The instances that committed the run's batches.
fn claimers(db: &TestDb, id: &str) -> Vec<String> {
    texts(
        db.url(),
        &format!("SELECT DISTINCT claimed_by AS v FROM run_batches WHERE run_id = '{id}'"),
    )
}

/// The outcome of a clean run, on one instance, over `db`.
async fn clean_run(db: &TestDb) -> Outcome {
    shared_run(db, 1, &[]).await.0
}

/// The outcome of a run over `db` with `n` instances started with `args`,
/// and the instances that committed its batches.
async fn shared_run(db: &TestDb, n: usize, args: &[&str]) -> (Outcome, Vec<String>) {
    let mut instances = Vec::new();
    for _ in 0..n {
        instances.push(Instance::spawn(db.url(), args).ready().await);
    }
    let id = instances[0].start_run().await;
    let run = finished(&store(db), &id).await;
    drop(instances);
    (outcome(db, &run), claimers(db, &id))
}

/// A database with the demo mentors, and a copy of it for a clean run.
fn seeded(db: &TestDb) -> TestDb {
    run_command(db.url(), &["demo-data", "--mentors", MENTORS]);
    db.copy()
}

/// (e) Two instances started at the same moment on an empty database both
/// come up: one migrates, the other waits for it.
async fn instances_started_together_on_an_empty_database_both_come_up(db: &TestDb) {
    let a = Instance::spawn(db.url(), &[]);
    let b = Instance::spawn(db.url(), &[]);
    let (a, b) = (a.ready().await, b.ready().await);
    drop((a, b));
}

#[actix_web::test]
async fn instances_started_together_on_an_empty_postgres_database_both_come_up() {
    let Some(db) = TestDb::postgres_empty() else {
        return;
    };
    instances_started_together_on_an_empty_database_both_come_up(&db).await;
}

#[actix_web::test]
async fn instances_started_together_on_an_empty_sqlite_database_both_come_up() {
    instances_started_together_on_an_empty_database_both_come_up(&TestDb::sqlite()).await;
}

/// (a) A job due every second, for 20 s across three instances: each
/// instant is recorded exactly once, and every instant from the first to
/// the last is accounted for (fired, or recorded skipped or missed).
#[actix_web::test]
async fn a_per_second_job_across_three_instances_fires_each_instant_once() {
    let Some(db) = TestDb::postgres() else { return };
    let mut instances = Vec::new();
    for _ in 0..3 {
        instances.push(Instance::spawn(db.url(), &[]));
    }
    let mut ready = Vec::new();
    for i in instances {
        ready.push(i.ready().await);
    }
    let job = ready[0]
        .post(
            "/api/v1/cron/jobs",
            &json!({"name": "every-second", "schedule": "* * * * * *", "handler": "pause_auto_lift", "enabled": true}),
        )
        .await;
    let job_id = job["job_id"].as_str().unwrap().to_owned();
    actix_web::rt::time::sleep(Duration::from_secs(20)).await;
    let logs: String = ready.iter().map(Instance::logged).collect();
    drop(ready);

    let filter = RunFilter {
        job_id: Some(job_id),
        ..RunFilter::default()
    };
    let (runs, _) = store(&db).list_runs(&filter, 0, 1000).unwrap();
    let mut fired: BTreeMap<i64, usize> = BTreeMap::new();
    let mut covered = BTreeSet::new();
    for run in &runs {
        let at = run.scheduled_for.unwrap().timestamp();
        *fired.entry(at).or_default() += 1;
        covered.insert(at);
        if run.status == RunStatus::Missed {
            let summary = run.result_summary.as_ref().unwrap();
            let first = chrono::DateTime::parse_from_rfc3339(summary["first"].as_str().unwrap())
                .unwrap()
                .timestamp();
            covered.extend(first..=at);
        }
    }
    assert!(!fired.is_empty(), "no run of {job:#}:\n{}", logs);
    let duplicates: Vec<_> = fired.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        duplicates.is_empty(),
        "instants fired twice: {duplicates:?}"
    );
    let (first, last) = (*fired.keys().next().unwrap(), *fired.keys().last().unwrap());
    assert!(last - first >= 10, "fired from {first} to {last} only");
    let gaps: Vec<i64> = (first..=last).filter(|t| !covered.contains(t)).collect();
    assert!(gaps.is_empty(), "instants never accounted for: {gaps:?}");
}

/// (b) Three instances; the one processing a run is SIGKILLed in the
/// middle of it. Another takes the run over when its lease lapses and
/// finishes it with exactly the totals, batches, decisions and
/// notifications of a clean single-instance run over the same data.
#[actix_web::test]
async fn a_run_whose_instance_is_killed_ends_as_a_clean_run_would() {
    let Some(db) = TestDb::postgres() else { return };
    let clean = seeded(&db);
    let args = ["--lease-seconds", "5"];
    let mut a = Instance::spawn(db.url(), &args).ready().await;
    let b = Instance::spawn(db.url(), &args).ready().await;
    let c = Instance::spawn(db.url(), &args).ready().await;
    let id = a.start_run().await;
    let s = store(&db);
    let before = some_batches_committed(&s, &id).await;
    a.kill();
    assert_eq!(before.lease_epoch, 0);
    let run = finished(&s, &id).await;
    assert_eq!(run.lease_epoch, 1, "taken over once");
    drop((b, c));
    let committers = claimers(&db, &id);
    assert!(
        committers.len() > 1,
        "one instance committed every batch: {committers:?}"
    );
    assert_eq!(outcome(&db, &run), clean_run(&clean).await);
}

/// (point 1) A run over the same data gives the same decisions,
/// notifications, totals and batches with 1, 2 and 3 instances, however
/// its batches are shared among them, and whether each instance commits
/// on one thread or on two (PostgreSQL's default).
#[actix_web::test]
async fn a_run_gives_the_same_results_with_one_two_and_three_instances() {
    let Some(db) = TestDb::postgres() else { return };
    let two = seeded(&db);
    let three = db.copy();
    let (one, _) = shared_run(&db, 1, &["--commit-threads", "1"]).await;
    let (with_two, _) = shared_run(&two, 2, &[]).await;
    let (with_three, committers) = shared_run(&three, 3, &[]).await;
    assert_eq!(with_two, one);
    assert_eq!(with_three, one);
    eprintln!("batches committed by {} instance(s) of 3", committers.len());
}

/// (c) SIGTERM during a run: the instance exits within its drain time,
/// and another instance finishes the run without waiting for the lease
/// (300 s here) to lapse.
#[actix_web::test]
async fn a_run_whose_instance_gets_sigterm_is_handed_over_at_once() {
    let Some(db) = TestDb::postgres() else { return };
    run_command(db.url(), &["demo-data", "--mentors", MENTORS]);
    let args = ["--lease-seconds", "300", "--drain-seconds", "10"];
    let mut a = Instance::spawn(db.url(), &args).ready().await;
    let b = Instance::spawn(db.url(), &args).ready().await;
    let id = a.start_run().await;
    let s = store(&db);
    some_batches_committed(&s, &id).await;
    a.terminate();
    let status = a
        .exited_within(Duration::from_secs(15))
        .await
        .unwrap_or_else(|| panic!("no exit within the drain time:\n{}", a.logged()));
    assert!(status.success(), "{status:?}:\n{}", a.logged());
    assert!(
        a.logged().contains("released the run's lease"),
        "{}",
        a.logged()
    );
    let run = finished(&s, &id).await;
    assert_eq!(run.lease_epoch, 1, "taken over once");
    drop(b);
    outcome(&db, &run);
}

/// (d) SQLite: the only instance is killed during a run and started again;
/// the run resumes and ends with the totals of a clean run.
#[actix_web::test]
async fn a_sqlite_run_killed_and_restarted_ends_as_a_clean_run_would() {
    let db = TestDb::sqlite();
    let clean = seeded(&db);
    let args = ["--lease-seconds", "5"];
    let mut a = Instance::spawn(db.url(), &args).ready().await;
    let id = a.start_run().await;
    let s = store(&db);
    some_batches_committed(&s, &id).await;
    a.kill();
    let again = Instance::spawn(db.url(), &args).ready().await;
    let run = finished(&s, &id).await;
    assert_eq!(run.lease_epoch, 1, "taken over once");
    drop(again);
    drop(s);
    assert_eq!(outcome(&db, &run), clean_run(&clean).await);
}
