//! End to end through HTTP with the scheduler loop running: a per-second job
//! fires as the test clock advances (the test moves the clock and wakes the
//! loop, as "Time in tests" in docs/architecture.md describes, so nothing here
//! depends on real-time sleeps beyond polling with a deadline), and the
//! certification jobs pause a mentor whose required certification expired and
//! lift the pause once it is renewed.

use std::time::Duration;

use chrono::TimeDelta;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{CRON, SCHEDULER, TestApp, api_tests, rows, string};

api_tests!(
    a_per_second_job_fires_as_the_clock_advances_and_its_runs_show_in_the_api,
    an_expired_required_certification_pauses_and_renewing_it_lifts_the_pause,
);

async fn a_per_second_job_fires_as_the_clock_advances_and_its_runs_show_in_the_api(app: &TestApp) {
    let job = app
        .create_job("every second", "*/1 * * * * *", "pause_auto_lift")
        .await;
    let id = string(&job, "job_id");
    let detail = app.get(&format!("{CRON}/{id}")).await.body;
    assert_eq!(detail["next_trigger_at"], "2026-03-25T08:00:01Z");
    let scheduler = actix_web::rt::spawn(runtime::scheduler_loop(app.runtime.clone()));
    for second in 1..=3 {
        app.advance(TimeDelta::seconds(1));
        app.runtime.jobs_changed();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let runs = app.get(&format!("{CRON}/{id}/runs")).await.body;
            let finished = rows(&runs)
                .iter()
                .filter(|r| r["status"] == "success")
                .count();
            if finished >= second {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "firing {second} not seen: {runs:#}"
            );
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
    }
    scheduler.abort();
    let runs = app.get(&format!("/api/v1/runs?job_id={id}")).await.body;
    let mut instants: Vec<String> = rows(&runs)
        .iter()
        .map(|r| string(r, "scheduled_for"))
        .collect();
    instants.sort();
    assert_eq!(
        instants,
        [
            "2026-03-25T08:00:01Z",
            "2026-03-25T08:00:02Z",
            "2026-03-25T08:00:03Z"
        ]
    );
    for r in rows(&runs) {
        assert_eq!(r["trigger"], "schedule");
        assert_eq!(r["result_summary"]["pauses_lifted"], 0);
    }
    let detail = app.get(&format!("{CRON}/{id}")).await.body;
    assert_eq!(detail["next_trigger_at"], "2026-03-25T08:00:04Z");
    assert_eq!(detail["last_triggered_at"], "2026-03-25T08:00:03Z");
}

async fn an_expired_required_certification_pauses_and_renewing_it_lifts_the_pause(app: &TestApp) {
    app.create_mentor("usr_mentor_4402").await;
    app.certify(
        "usr_mentor_4402",
        "cert_safety_003",
        "2026-03-20T00:00:00Z",
        true,
    )
    .await;
    let nightly = app
        .post(
            SCHEDULER,
            &json!({"job_name": "expiry", "cron_expression": "0 2 * * *", "handler": "executeExpiryCheck", "is_active": true}),
        )
        .await;
    assert_eq!(nightly.status, StatusCode::CREATED, "{:#}", nightly.body);
    let lift = app
        .post(
            SCHEDULER,
            &json!({"job_name": "lift", "cron_expression": "0 6 * * *", "handler": "pause_auto_lift", "is_active": true}),
        )
        .await;
    assert_eq!(lift.status, StatusCode::CREATED, "{:#}", lift.body);

    let run = app
        .post(
            &format!("{SCHEDULER}/expiry/trigger"),
            &json!({"triggered_by": "coordinator-007"}),
        )
        .await;
    assert_eq!(run.status, StatusCode::ACCEPTED, "{:#}", run.body);
    let run = app.finished_run(&string(&run.body, "run_id")).await;
    assert_eq!(run["status"], "success", "{run:#}");
    assert_eq!(run["result_summary"]["auto_paused"], 1);
    let mentor = app.mentor("usr_mentor_4402").await.body;
    assert_eq!(mentor["status"], "paused");
    assert_eq!(mentor["pause"]["reason"], "certification_expired");

    // Still expired: the auto-lift leaves the pause.
    let run = app
        .post(&format!("{SCHEDULER}/lift/trigger"), &json!({}))
        .await;
    let run = app.finished_run(&string(&run.body, "run_id")).await;
    assert_eq!(run["result_summary"]["pauses_lifted"], 0, "{run:#}");
    assert_eq!(app.mentor("usr_mentor_4402").await.body["status"], "paused");

    // Renewed: the next auto-lift lifts it. Writing the certification itself
    // never changes the pause.
    let renewed = app
        .put(
            "/api/v1/mentors/usr_mentor_4402/certifications/cert_safety_003",
            &json!({"name": "Safeguarding", "expires_at": "2027-03-20T00:00:00Z", "required": true}),
        )
        .await;
    assert_eq!(renewed.status, StatusCode::OK, "{:#}", renewed.body);
    assert_eq!(app.mentor("usr_mentor_4402").await.body["status"], "paused");
    let run = app
        .post(&format!("{SCHEDULER}/lift/trigger"), &json!({}))
        .await;
    let run = app.finished_run(&string(&run.body, "run_id")).await;
    assert_eq!(run["status"], "success");
    assert_eq!(run["result_summary"]["pauses_lifted"], 1);
    let mentor = app.mentor("usr_mentor_4402").await.body;
    assert_eq!(mentor["status"], "active");
    assert!(mentor["pause"].is_null());
    let last = app.get(&format!("{SCHEDULER}/lift/last-result")).await.body;
    assert_eq!(last["result_summary"]["pauses_lifted"], 1);
}

/// The bounded run pool, on a server with one run thread.
mod run_pool {
    use std::time::Duration;

    use chrono::TimeDelta;

    use crate::helpers::{
        Backend, CRON, Options, TestApp, backend_tests, rows, spawn_app_with, string,
    };

    backend_tests!(more_due_jobs_than_run_threads_all_complete);

    /// Five jobs due at the same second on a server with one run thread: the
    /// runs wait their turn, none is refused or lost, all finish.
    async fn more_due_jobs_than_run_threads_all_complete(backend: Backend) {
        let options = Options {
            run_threads: Some(1),
            ..Options::default()
        };
        let Some(app) = spawn_app_with(backend, options).await else {
            return;
        };
        let ids: Vec<String> = create_due_jobs(&app).await;
        let scheduler = actix_web::rt::spawn(runtime::scheduler_loop(app.runtime.clone()));
        app.advance(TimeDelta::seconds(1));
        app.runtime.jobs_changed();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        for id in &ids {
            loop {
                let runs = app.get(&format!("{CRON}/{id}/runs")).await.body;
                if rows(&runs).iter().any(|r| r["status"] == "success") {
                    break;
                }
                assert!(std::time::Instant::now() < deadline, "{id}: {runs:#}");
                actix_web::rt::time::sleep(Duration::from_millis(20)).await;
            }
        }
        scheduler.abort();
        let all = app.get("/api/v1/runs?limit=100").await.body;
        let runs: Vec<_> = rows(&all)
            .iter()
            .filter(|r| ids.iter().any(|id| r["job_id"] == id.as_str()))
            .collect();
        assert_eq!(runs.len(), ids.len(), "{all:#}");
        assert!(runs.iter().all(|r| r["status"] == "success"), "{all:#}");
        app.stop().await;
    }

    async fn create_due_jobs(app: &TestApp) -> Vec<String> {
        let mut ids = Vec::new();
        for i in 0..5 {
            let job = app
                .create_job(&format!("due {i}"), "*/1 * * * * *", "pause_auto_lift")
                .await;
            ids.push(string(&job, "job_id"));
        }
        ids
    }
}
