//! `/api/v1/certification-cron` (contract `certification-cron.txt`): the
//! certification expiry check jobs, keyed by id, at the canonical and the
//! doubled path; the expiry check end to end.

use chrono::TimeDelta;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    CERT_CRON, CERT_CRON_DOUBLED, CRON, SCHEDULER, T0, TestApp, api_tests, assert_error,
    assert_has, assert_keys, row, string, total,
};

api_tests!(
    the_contract_endpoints_answer_with_the_contract_fields,
    only_certification_expiry_jobs_are_shown_here,
    execute_pauses_a_mentor_whose_required_certification_expired,
    a_dry_run_execute_records_the_run_and_changes_no_mentor,
    execute_while_the_lock_is_held_is_409_with_the_cron_id,
    invalid_bodies_are_refused,
);

/// Everything this view shows of a job.
const JOB_FIELDS: [&str; 13] = [
    "id",
    "name",
    "cron_expression",
    "status",
    "last_run_at",
    "last_run_status",
    "next_run_at",
    "created_at",
    "updated_at",
    "enabled",
    "timezone",
    "handler",
    "params",
];

async fn the_contract_endpoints_answer_with_the_contract_fields(app: &TestApp) {
    for (base, name) in [
        (CERT_CRON, "nightly_expiry_check"),
        (CERT_CRON_DOUBLED, "nightly_expiry_check_2"),
    ] {
        // POST: the contract's request.
        let r = app
            .post(
                base,
                &json!({"name": name, "cron_expression": "0 2 * * *", "enabled": true}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{base}: {:#}", r.body);
        assert_keys(&r.body, &JOB_FIELDS);
        assert_eq!(r.body["name"], name);
        assert_eq!(r.body["cron_expression"], "0 2 * * *");
        assert_eq!(r.body["status"], "active");
        assert_eq!(r.body["next_run_at"], "2026-03-26T02:00:00Z");
        assert_eq!(r.body["created_at"], T0);
        assert_eq!(r.body["handler"], "certification_expiry_check");
        let id = string(&r.body, "id");
        assert!(id.starts_with("job_"), "{id}");
        let one_path = format!("{base}/{id}");

        // GET list.
        let list = app.get(base).await;
        assert_eq!(list.status, StatusCode::OK, "{:#}", list.body);
        assert_keys(&list.body, &["data", "pagination"]);
        let item = row(&list.body, "id", &id);
        assert_keys(&item, &JOB_FIELDS);

        // GET one: `last_run_result` is null before any run.
        let r = app.get(&one_path).await;
        assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
        let mut detail_fields = JOB_FIELDS.to_vec();
        detail_fields.extend(["last_run_result", "lock_acquired", "upcoming"]);
        assert_keys(&r.body, &detail_fields);
        assert_eq!(r.body["last_run_result"], Value::Null);
        assert_eq!(r.body["upcoming"].as_array().map(Vec::len), Some(5));
        assert_eq!(r.body["upcoming"][0], "2026-03-26T02:00:00Z");

        // PUT: the contract's request.
        app.advance(TimeDelta::minutes(1));
        let r = app
            .put(
                &one_path,
                &json!({"cron_expression": "0 3 * * *", "enabled": true}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
        assert_has(
            &r.body,
            &[
                "id",
                "cron_expression",
                "status",
                "next_run_at",
                "updated_at",
            ],
        );
        assert_eq!(r.body["cron_expression"], "0 3 * * *");
        assert_eq!(r.body["status"], "active");
        assert_eq!(r.body["next_run_at"], "2026-03-26T03:00:00Z");
        assert_eq!(r.body["updated_at"], "2026-03-25T08:01:00Z");

        // POST execute: the contract's request.
        let r = app
            .post(&format!("{one_path}/execute"), &json!({"dry_run": false}))
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{:#}", r.body);
        assert_has(&r.body, &["run_id", "cron_id", "triggered_at", "status"]);
        assert_eq!(r.body["cron_id"], id.as_str());
        assert_eq!(r.body["triggered_at"], "2026-03-25T08:01:00Z");
        assert_eq!(r.body["status"], "running");
        let run_id = string(&r.body, "run_id");
        assert_eq!(app.finished_run(&run_id).await["status"], "success");

        // GET runs.
        let r = app.get(&format!("{one_path}/runs")).await;
        assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
        assert_keys(&r.body, &["data", "pagination"]);
        assert_eq!(total(&r.body), 1);
        let run = &r.body["data"][0];
        assert_has(
            run,
            &[
                "run_id",
                "cron_id",
                "started_at",
                "completed_at",
                "status",
                "result",
            ],
        );
        assert_eq!(run["run_id"], run_id.as_str());
        assert_eq!(run["cron_id"], id.as_str());
        assert_eq!(run["started_at"], "2026-03-25T08:01:00Z");
        assert_eq!(run["completed_at"], "2026-03-25T08:01:00Z");
        assert_eq!(run["status"], "success");
        let summary = json!({"mentors_checked": 0, "expired_found": 0, "auto_paused": 0, "reminders_sent": 0, "errors": 0});
        assert_eq!(run["result"], summary);

        // GET one again: the last run and its result.
        let r = app.get(&one_path).await;
        assert_eq!(r.body["last_run_at"], "2026-03-25T08:01:00Z");
        assert_eq!(r.body["last_run_status"], "success");
        assert_eq!(r.body["last_run_result"], summary);

        // DELETE.
        let r = app.delete(&one_path).await;
        assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
        assert_eq!(r.body, json!({"deleted": true, "id": id}));
        assert_error(
            &app.get(&one_path).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        assert_eq!(app.run(&run_id).await["status"], "success", "history stays");
        app.set_now(T0);
    }
}

async fn only_certification_expiry_jobs_are_shown_here(app: &TestApp) {
    // A reminder job registered through the cron view...
    let reminder = app
        .create_job("Daily Reminder Check", "0 8 * * *", "reminder_scheduler")
        .await;
    let reminder_id = string(&reminder, "job_id");
    // ...is not a certification-cron job: every endpoint answers 404.
    let path = format!("{CERT_CRON}/{reminder_id}");
    assert_error(&app.get(&path).await, StatusCode::NOT_FOUND, "not_found");
    assert_error(
        &app.put(&path, &json!({"enabled": false})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &app.post(&format!("{path}/execute"), &json!({})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &app.get(&format!("{path}/runs")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(&app.delete(&path).await, StatusCode::NOT_FOUND, "not_found");
    // The refused calls changed nothing.
    let r = app.get(&format!("{CRON}/{reminder_id}")).await;
    assert_eq!(r.body["status"], "active", "{:#}", r.body);
    assert_eq!(total(&app.get("/api/v1/runs").await.body), 0);

    // A certification job created here is in all three views.
    let r = app
        .post(
            CERT_CRON,
            &json!({"name": "nightly_expiry_check", "cron_expression": "0 2 * * *", "timezone": "Europe/Oslo", "params": {"lead_time_days": 14}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    let id = string(&r.body, "id");
    assert_eq!(r.body["next_run_at"], "2026-03-26T01:00:00Z");
    let cron = app.get(&format!("{CRON}/{id}")).await;
    assert_eq!(cron.status, StatusCode::OK, "{:#}", cron.body);
    assert_eq!(cron.body["name"], "nightly_expiry_check");
    assert_eq!(cron.body["schedule"], "0 2 * * *");
    assert_eq!(cron.body["next_trigger_at"], "2026-03-26T01:00:00Z");
    assert_eq!(cron.body["handler"], "certification_expiry_check");
    assert_eq!(cron.body["params"], json!({"lead_time_days": 14}));
    let sched = app.get(&format!("{SCHEDULER}/nightly_expiry_check")).await;
    assert_eq!(sched.status, StatusCode::OK, "{:#}", sched.body);
    assert_eq!(sched.body["id"], id.as_str());
    assert_eq!(sched.body["timezone"], "Europe/Oslo");
    assert_eq!(sched.body["is_active"], true);

    // Only it is listed here; both are listed in the other views.
    let list = app.get(CERT_CRON).await;
    assert_eq!(total(&list.body), 1, "{:#}", list.body);
    assert_eq!(list.body["data"][0]["id"], id.as_str());
    assert_eq!(total(&app.get(CRON).await.body), 2);
    assert_eq!(total(&app.get(SCHEDULER).await.body), 2);
    assert_error(
        &app.get(&format!("{CERT_CRON}/job_nothing")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

/// A mentor whose required certification expired yesterday, and one whose
/// optional certification expired (never paused for it).
async fn mentors_with_expired_certifications(app: &TestApp) {
    app.create_mentor("usr_mentor_7821").await;
    app.certify(
        "usr_mentor_7821",
        "cert_safety_003",
        "2026-03-24T00:00:00Z",
        true,
    )
    .await;
    app.create_mentor("usr_mentor_0042").await;
    app.certify(
        "usr_mentor_0042",
        "cert_first_aid",
        "2026-03-24T00:00:00Z",
        false,
    )
    .await;
}

async fn execute_pauses_a_mentor_whose_required_certification_expired(app: &TestApp) {
    mentors_with_expired_certifications(app).await;
    let r = app
        .post(
            CERT_CRON,
            &json!({"name": "nightly", "cron_expression": "0 2 * * *"}),
        )
        .await;
    let id = string(&r.body, "id");
    let r = app.post_empty(&format!("{CERT_CRON}/{id}/execute")).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:#}", r.body);
    let run = app.finished_run(&string(&r.body, "run_id")).await;
    assert_eq!(run["status"], "success", "{run:#}");
    assert_eq!(run["kind"], "certification_expiry_check");
    assert_eq!(run["dry_run"], false);
    let summary = &run["result_summary"];
    assert_keys(
        summary,
        &[
            "mentors_checked",
            "expired_found",
            "auto_paused",
            "reminders_sent",
            "errors",
        ],
    );
    assert_eq!(summary["mentors_checked"], 2, "{summary:#}");
    assert_eq!(summary["expired_found"], 1);
    assert_eq!(summary["auto_paused"], 1);
    assert_eq!(summary["errors"], 0);

    let mentor = app.mentor("usr_mentor_7821").await.body;
    assert_eq!(mentor["status"], "paused", "{mentor:#}");
    assert_eq!(mentor["pause"]["reason"], "certification_expired");
    assert_eq!(mentor["pause"]["since"], T0);
    assert_eq!(app.mentor("usr_mentor_0042").await.body["status"], "active");

    let detail = app.get(&format!("{CERT_CRON}/{id}")).await.body;
    assert_eq!(detail["last_run_result"], *summary);
}

async fn a_dry_run_execute_records_the_run_and_changes_no_mentor(app: &TestApp) {
    mentors_with_expired_certifications(app).await;
    let r = app
        .post(
            CERT_CRON,
            &json!({"name": "nightly", "cron_expression": "0 2 * * *"}),
        )
        .await;
    let id = string(&r.body, "id");
    let r = app
        .post(
            &format!("{CERT_CRON}/{id}/execute"),
            &json!({"dry_run": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:#}", r.body);
    let run = app.finished_run(&string(&r.body, "run_id")).await;
    assert_eq!(run["status"], "success", "{run:#}");
    assert_eq!(run["dry_run"], true);
    // It computes what it would do...
    assert_eq!(run["result_summary"]["expired_found"], 1, "{run:#}");
    // ...and does none of it.
    let mentor = app.mentor("usr_mentor_7821").await.body;
    assert_eq!(mentor["status"], "active", "{mentor:#}");
    assert_eq!(mentor["pause"], Value::Null);
    let runs = app.get(&format!("{CERT_CRON}/{id}/runs")).await.body;
    assert_eq!(runs["data"][0]["dry_run"], true);
}

async fn execute_while_the_lock_is_held_is_409_with_the_cron_id(app: &TestApp) {
    let r = app
        .post(
            CERT_CRON,
            &json!({"name": "nightly", "cron_expression": "0 2 * * *"}),
        )
        .await;
    let id = string(&r.body, "id");
    let holder = app.hold_lock(&id);
    let r = app
        .post(
            &format!("{CERT_CRON_DOUBLED}/{id}/execute"),
            &json!({"dry_run": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:#}", r.body);
    assert_keys(
        &r.body,
        &[
            "error",
            "job_id",
            "lock_acquired",
            "run_id",
            "id",
            "cron_id",
        ],
    );
    assert_keys(&r.body["error"], &["code", "message", "details"]);
    assert_eq!(r.body["error"]["code"], "lock_held");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains(&holder))
    );
    assert_eq!(
        r.body["error"]["details"],
        json!({"job_id": id, "run_id": holder})
    );
    assert_eq!(r.body["job_id"], id.as_str());
    assert_eq!(r.body["lock_acquired"], false);
    assert_eq!(r.body["run_id"], holder.as_str());
    assert_eq!(r.body["id"], id.as_str());
    assert_eq!(r.body["cron_id"], id.as_str());
    assert_eq!(
        app.get(&format!("{CERT_CRON}/{id}")).await.body["lock_acquired"],
        true
    );

    // Once the holder is cancelled, the lock is free.
    let r = app
        .post_empty(&format!("/api/v1/runs/{holder}/cancel"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    let r = app
        .post(&format!("{CERT_CRON}/{id}/execute"), &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:#}", r.body);
    app.finished_run(&string(&r.body, "run_id")).await;
    assert_eq!(
        app.get(&format!("{CERT_CRON}/{id}")).await.body["lock_acquired"],
        false
    );
}

async fn invalid_bodies_are_refused(app: &TestApp) {
    // The handler is not this view's to choose.
    assert_error(
        &app.post(
            CERT_CRON,
            &json!({"name": "x", "cron_expression": "0 2 * * *", "handler": "pause_auto_lift"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_field",
    );
    assert_error(
        &app.post(
            CERT_CRON,
            &json!({"name": "x", "cron_expression": "61 * * * *"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_cron",
    );
    assert_error(
        &app.post(
            CERT_CRON,
            &json!({"name": "x", "cron_expression": "0 2 * * *", "timezone": "Europe/Atlantis"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_timezone",
    );
    assert_error(
        &app.post(
            CERT_CRON,
            &json!({"name": "x", "cron_expression": "0 2 * * *", "enabled": 1}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    );
    let r = app
        .post(
            CERT_CRON,
            &json!({"name": "x", "cron_expression": "0 2 * * *"}),
        )
        .await;
    let id = string(&r.body, "id");
    assert_error(
        &app.post(
            CERT_CRON,
            &json!({"name": "x", "cron_expression": "0 4 * * *"}),
        )
        .await,
        StatusCode::CONFLICT,
        "duplicate_name",
    );
    let path = format!("{CERT_CRON}/{id}");
    assert_error(
        &app.put(&path, &json!({"handler": "weekly_expiry_report"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "handler_immutable",
    );
    assert_error(
        &app.put(&path, &json!({"schedule": "0 4 * * *"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_field",
    );
    assert_error(
        &app.put(&path, &json!({"cron_expression": "bogus"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_cron",
    );
    let r = app.get(&path).await;
    assert_eq!(
        r.body["cron_expression"], "0 2 * * *",
        "unchanged: {:#}",
        r.body
    );
    assert_eq!(r.body["updated_at"], T0);
    assert_eq!(total(&app.get(CERT_CRON).await.body), 1);
}
