//! Recorded answers of the three job views (`/api/v1/scheduler/jobs`,
//! `/api/v1/cron/jobs`, `/api/v1/certification-cron`): the exact bytes of
//! each body, field order included, with generated ids replaced by stable
//! placeholders (`job_#1`, `run_#1`, ...). The views share one set of
//! handlers; these files prove that every view still answers exactly as
//! recorded.
//!
//! A difference fails the test and prints both texts. After a deliberate
//! change of a wire shape, record again with
//! `UPDATE_SNAPSHOTS=1 cargo test -p mentor-scheduler-api --test api snapshots::sqlite`
//! and review the diff of `tests/api/snapshots/` like code.

// Test support: a snapshot that cannot be written or read is a failed test.
#![allow(clippy::expect_used)]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use reqwest::Method;
use serde_json::json;

use crate::helpers::{CERT_CRON, CRON, Resp, SCHEDULER, TestApp, api_tests, id_of, string};

api_tests!(
    the_scheduler_view_answers_as_recorded,
    the_cron_view_answers_as_recorded,
    the_certification_view_answers_as_recorded,
);

/// The answers of one test, in order, with ids made stable.
#[derive(Default)]
struct Transcript {
    text: String,
    ids: HashMap<String, String>,
    counts: HashMap<&'static str, usize>,
}

impl Transcript {
    /// Records `label`, the status and the body of `r`.
    fn record(&mut self, label: &str, r: &Resp) {
        let body = self.stable(&r.text);
        let _ = writeln!(self.text, "== {label} {} ==\n{body}", r.status.as_u16());
    }

    /// `text` with every `job_`/`run_` id replaced by its placeholder,
    /// numbered by first appearance.
    fn stable(&mut self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        'scan: while !rest.is_empty() {
            for prefix in ["job_", "run_"] {
                if let Some(id) = rest.get(..prefix.len() + 26)
                    && id.starts_with(prefix)
                    && id[prefix.len()..]
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
                {
                    let next = self.counts.entry(prefix).or_default();
                    let placeholder = self
                        .ids
                        .entry(id.to_owned())
                        .or_insert_with(|| {
                            *next += 1;
                            format!("{prefix}#{next}")
                        })
                        .clone();
                    out.push_str(&placeholder);
                    rest = &rest[id.len()..];
                    continue 'scan;
                }
            }
            let c = rest.chars().next().unwrap_or_default();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
        out
    }

    /// Compares with `tests/api/snapshots/{name}.txt`, or writes it when
    /// `UPDATE_SNAPSHOTS` is set.
    fn check(&self, name: &str) {
        let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/api/snapshots")
            .join(format!("{name}.txt"));
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::create_dir_all(file.parent().expect("a parent")).expect("mkdir");
            std::fs::write(&file, &self.text).expect("write the snapshot");
            return;
        }
        let recorded = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
        if recorded != self.text {
            let line = recorded
                .lines()
                .zip(self.text.lines())
                .position(|(a, b)| a != b)
                .unwrap_or_else(|| recorded.lines().count().min(self.text.lines().count()));
            panic!(
                "{} differs from the recorded answers (first at line {}):\n--- recorded\n{recorded}\n--- now\n{}",
                file.display(),
                line + 1,
                self.text
            );
        }
    }
}

async fn the_scheduler_view_answers_as_recorded(app: &TestApp) {
    let mut t = Transcript::default();
    let r = app
        .post(
            SCHEDULER,
            &json!({
                "job_name": "weekly expiry report",
                "cron_expression": "0 9 * * 1",
                "handler": "generateWeeklyExpiryReport",
                "timezone": "Europe/Oslo",
                "params": {"days": 14}
            }),
        )
        .await;
    t.record("create", &r);
    let job = format!("{SCHEDULER}/weekly%20expiry%20report");
    t.record("get", &app.get(&job).await);
    t.record("list", &app.get(SCHEDULER).await);
    t.record(
        "last-result before any run",
        &app.get(&format!("{job}/last-result")).await,
    );
    let r = app
        .post(
            &format!("{job}/trigger"),
            &json!({"triggered_by": "coordinator-007", "reason": "snapshot"}),
        )
        .await;
    t.record("trigger", &r);
    app.finished_run(&string(&r.body, "run_id")).await;
    t.record("last-result", &app.get(&format!("{job}/last-result")).await);
    t.record("get after the run", &app.get(&job).await);
    t.record("runs", &app.get(&format!("{job}/runs")).await);
    let r = app
        .put(
            &job,
            &json!({"cron_expression": "30 7 * * 1-5", "is_active": false}),
        )
        .await;
    t.record("update", &r);
    let id = id_of(&r.body);
    app.hold_lock(&id);
    t.record(
        "trigger while locked",
        &app.post_empty(&format!("{job}/trigger")).await,
    );
    let r = app
        .post(
            SCHEDULER,
            &json!({"job_name": "x", "cron_expression": "0 9 * * *"}),
        )
        .await;
    t.record("create without handler", &r);
    let r = app
        .post(
            SCHEDULER,
            &json!({"job_name": "x", "cron_expression": "0 9 * * *", "handler": "pause_auto_lift", "name": "y"}),
        )
        .await;
    t.record("create with an unknown field", &r);
    t.record("get unknown", &app.get(&format!("{SCHEDULER}/nope")).await);
    t.record("delete", &app.delete(&job).await);
    t.check("scheduler");
}

async fn the_cron_view_answers_as_recorded(app: &TestApp) {
    let mut t = Transcript::default();
    let r = app
        .post(
            CRON,
            &json!({
                "name": "lift pauses",
                "schedule": "*/15 * * * *",
                "handler": "pause_auto_lift",
                "enabled": true
            }),
        )
        .await;
    t.record("create", &r);
    let job = format!("{CRON}/{}", string(&r.body, "job_id"));
    t.record("get", &app.get(&job).await);
    t.record(
        "list",
        &app.get(&format!("{CRON}?handler=pause_auto_lift")).await,
    );
    let r = app
        .post(&format!("{job}/trigger"), &json!({"dry_run": true}))
        .await;
    t.record("trigger", &r);
    app.finished_run(&string(&r.body, "run_id")).await;
    t.record("get after the run", &app.get(&job).await);
    t.record("runs", &app.get(&format!("{job}/runs")).await);
    let r = app
        .put(
            &job,
            &json!({"schedule": "0 */2 * * *", "timezone": "America/New_York"}),
        )
        .await;
    t.record("update", &r);
    app.hold_lock(&string(&r.body, "job_id"));
    t.record(
        "trigger while locked",
        &app.post_empty(&format!("{job}/trigger")).await,
    );
    let r = app
        .put(&job, &json!({"handler": "run_log_retention"}))
        .await;
    t.record("update the handler", &r);
    let r = app
        .raw(
            Method::PUT,
            &job,
            Some("application/json"),
            Some(b"{}".to_vec()),
        )
        .await;
    t.record("update nothing", &r);
    let r = app
        .post(
            CRON,
            &json!({"name": 5, "schedule": "0 9 * * *", "handler": "pause_auto_lift"}),
        )
        .await;
    t.record("create with a number for a name", &r);
    t.record("delete", &app.delete(&job).await);
    t.record("get deleted", &app.get(&job).await);
    t.check("cron");
}

async fn the_certification_view_answers_as_recorded(app: &TestApp) {
    let mut t = Transcript::default();
    let r = app
        .post(
            CERT_CRON,
            &json!({
                "name": "nightly expiry check",
                "cron_expression": "0 2 * * *",
                "timezone": "Europe/Berlin",
                "params": {"lead_time_days": 14}
            }),
        )
        .await;
    t.record("create", &r);
    let job = format!("{CERT_CRON}/{}", id_of(&r.body));
    t.record("get", &app.get(&job).await);
    t.record("list", &app.get(CERT_CRON).await);
    let r = app.post_empty(&format!("{job}/execute")).await;
    t.record("execute", &r);
    app.finished_run(&string(&r.body, "run_id")).await;
    t.record("get after the run", &app.get(&job).await);
    t.record("runs", &app.get(&format!("{job}/runs?limit=5")).await);
    let r = app
        .put(&job, &json!({"enabled": false, "name": "renamed check"}))
        .await;
    t.record("update", &r);
    app.hold_lock(&id_of(&r.body));
    t.record(
        "execute while locked",
        &app.post_empty(&format!("{job}/execute")).await,
    );
    // A job of another handler is not found in this view.
    let other = app
        .create_job("other", "0 3 * * *", "run_log_retention")
        .await;
    let other = format!("{CERT_CRON}/{}", string(&other, "job_id"));
    t.record("get a job of another handler", &app.get(&other).await);
    let r = app
        .post(
            CERT_CRON,
            &json!({"name": "x", "cron_expression": "61 * * * *"}),
        )
        .await;
    t.record("create with a bad expression", &r);
    t.record("delete", &app.delete(&job).await);
    t.check("certification");
}
