//! `/api/v1/cron/jobs` (contract `cron-jobs.txt`): every job, keyed by id,
//! at the canonical and the doubled path; one registry behind three views.

use chrono::TimeDelta;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    CERT_CRON, CRON, CRON_DOUBLED, SCHEDULER, T0, TestApp, api_tests, assert_error, assert_has,
    assert_keys, row, string, total, valid_list,
};

api_tests!(
    the_contract_endpoints_answer_with_the_contract_fields,
    a_job_created_in_one_view_is_visible_in_the_others,
    disabling_clears_the_next_run_in_every_view_and_enabling_recomputes_it,
    trigger_while_the_lock_is_held_is_409_with_the_holder,
    deleting_a_job_cancels_its_running_run_and_keeps_the_history,
    invalid_jobs_are_refused_with_the_spec_codes,
);

/// Everything this view shows of a job.
const JOB_FIELDS: [&str; 13] = [
    "job_id",
    "name",
    "schedule",
    "status",
    "last_triggered_at",
    "next_trigger_at",
    "last_run_status",
    "enabled",
    "timezone",
    "handler",
    "params",
    "created_at",
    "updated_at",
];

async fn the_contract_endpoints_answer_with_the_contract_fields(app: &TestApp) {
    for (base, name) in [
        (CRON, "Daily Reminder Check"),
        (CRON_DOUBLED, "Daily Reminder Check 2"),
    ] {
        // POST: the contract's request.
        let r = app
            .post(
                base,
                &json!({"name": name, "schedule": "0 8 * * *", "handler": "reminder_scheduler", "enabled": true}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{base}: {:#}", r.body);
        assert_keys(&r.body, &JOB_FIELDS);
        assert_eq!(r.body["name"], name);
        assert_eq!(r.body["schedule"], "0 8 * * *");
        assert_eq!(r.body["status"], "active");
        assert_eq!(r.body["created_at"], T0);
        assert_eq!(r.body["handler"], "scenario_evaluation", "canonical name");
        // T0 is 08:00 itself: the next firing is tomorrow's.
        assert_eq!(r.body["next_trigger_at"], "2026-03-26T08:00:00Z");
        let id = string(&r.body, "job_id");
        let one_path = format!("{base}/{id}");

        // GET list.
        let list = app.get(base).await;
        assert_eq!(list.status, StatusCode::OK, "{:#}", list.body);
        assert_keys(&list.body, &["data", "pagination"]);
        let item = row(&list.body, "job_id", &id);
        assert_keys(&item, &JOB_FIELDS);

        // GET one.
        let r = app.get(&one_path).await;
        assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
        let mut detail_fields = JOB_FIELDS.to_vec();
        detail_fields.extend(["lock_acquired", "last_run_duration_ms", "upcoming"]);
        assert_keys(&r.body, &detail_fields);
        assert_eq!(r.body["lock_acquired"], false);
        assert_eq!(r.body["last_triggered_at"], Value::Null);
        assert_eq!(r.body["last_run_duration_ms"], Value::Null);
        assert_eq!(r.body["upcoming"][4], "2026-03-30T08:00:00Z");

        // PUT: the contract's request.
        app.advance(TimeDelta::minutes(24));
        let r = app
            .put(
                &one_path,
                &json!({"schedule": "0 7 * * *", "enabled": true}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
        assert_has(&r.body, &["job_id", "schedule", "status", "updated_at"]);
        assert_eq!(r.body["schedule"], "0 7 * * *");
        assert_eq!(r.body["status"], "active");
        assert_eq!(r.body["updated_at"], "2026-03-25T08:24:00Z");
        assert_eq!(r.body["next_trigger_at"], "2026-03-26T07:00:00Z");

        // POST trigger: no body in the contract.
        app.advance(TimeDelta::minutes(1));
        let r = app.post_empty(&format!("{one_path}/trigger")).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{:#}", r.body);
        assert_has(
            &r.body,
            &[
                "job_id",
                "triggered_at",
                "lock_acquired",
                "run_id",
                "status",
            ],
        );
        assert_eq!(r.body["job_id"], id.as_str());
        assert_eq!(r.body["triggered_at"], "2026-03-25T08:25:00Z");
        assert_eq!(r.body["lock_acquired"], true);
        assert_eq!(r.body["status"], "running");
        let run_id = string(&r.body, "run_id");
        let run = app.finished_run(&run_id).await;
        assert!(
            matches!(run["status"].as_str(), Some("success" | "failed")),
            "{run:#}"
        );

        // GET one: the run is the last one now.
        let r = app.get(&one_path).await;
        assert_eq!(
            r.body["last_triggered_at"], "2026-03-25T08:25:00Z",
            "{:#}",
            r.body
        );
        assert_eq!(r.body["last_run_status"], run["status"]);
        assert_eq!(
            r.body["last_run_duration_ms"], 0,
            "the fixed clock stood still"
        );
        assert_eq!(r.body["lock_acquired"], false);

        // GET runs (beyond the contract).
        let r = app.get(&format!("{one_path}/runs")).await;
        assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
        assert_eq!(total(&r.body), 1);
        assert_has(
            &r.body["data"][0],
            &[
                "run_id",
                "job_id",
                "started_at",
                "completed_at",
                "status",
                "result_summary",
                "duration_ms",
            ],
        );
        assert_eq!(r.body["data"][0]["run_id"], run_id.as_str());

        // DELETE.
        let r = app.delete(&one_path).await;
        assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
        assert_eq!(r.body, json!({"deleted": true, "job_id": id}));
        assert_error(
            &app.get(&one_path).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        app.set_now(T0);
    }
}

async fn a_job_created_in_one_view_is_visible_in_the_others(app: &TestApp) {
    // A certification job through the cron view, with the contract alias.
    let job = app
        .create_job(
            "certification-expiry-nightly",
            "0 2 * * *",
            "executeExpiryCheck",
        )
        .await;
    let id = string(&job, "job_id");
    let cert = app.get(&format!("{CERT_CRON}/{id}")).await;
    assert_eq!(cert.status, StatusCode::OK, "{:#}", cert.body);
    assert_eq!(cert.body["name"], "certification-expiry-nightly");
    assert_eq!(cert.body["cron_expression"], "0 2 * * *");
    assert_eq!(cert.body["next_run_at"], job["next_trigger_at"]);
    let sched = app
        .get(&format!("{SCHEDULER}/certification-expiry-nightly"))
        .await;
    assert_eq!(sched.body["id"], id.as_str(), "{:#}", sched.body);
    assert_eq!(sched.body["handler"], "certification_expiry_check");

    // A change through one view shows in the others.
    let r = app
        .put(
            &format!("{SCHEDULER}/certification-expiry-nightly"),
            &json!({"cron_expression": "30 1 * * *"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(
        app.get(&format!("{CRON}/{id}")).await.body["schedule"],
        "30 1 * * *"
    );
    assert_eq!(
        app.get(&format!("{CERT_CRON}/{id}")).await.body["next_run_at"],
        "2026-03-26T01:30:00Z"
    );

    // A run started through one view is the last run in all three.
    let r = app
        .post(&format!("{CERT_CRON}/{id}/execute"), &json!({}))
        .await;
    let run_id = string(&r.body, "run_id");
    app.finished_run(&run_id).await;
    assert_eq!(
        app.get(&format!("{CRON}/{id}")).await.body["last_triggered_at"],
        T0
    );
    assert_eq!(
        app.get(&format!(
            "{SCHEDULER}/certification-expiry-nightly/last-result"
        ))
        .await
        .body["run_id"],
        run_id.as_str()
    );
    assert_eq!(total(&app.get(&format!("{CRON}/{id}/runs")).await.body), 1);

    // A reminder job is in two views only.
    let reminder = app
        .create_job("Daily Reminder Check", "0 8 * * *", "reminder_scheduler")
        .await;
    let reminder_id = string(&reminder, "job_id");
    assert_eq!(
        app.get(&format!("{SCHEDULER}/Daily%20Reminder%20Check"))
            .await
            .body["id"],
        reminder_id.as_str()
    );
    assert_error(
        &app.get(&format!("{CERT_CRON}/{reminder_id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    // Deleting through one view removes it from all.
    let r = app.delete(&format!("{CERT_CRON}/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_error(
        &app.get(&format!("{CRON}/{id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &app.get(&format!("{SCHEDULER}/certification-expiry-nightly"))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

async fn disabling_clears_the_next_run_in_every_view_and_enabling_recomputes_it(app: &TestApp) {
    let job = app
        .create_job("nightly", "0 2 * * *", "certification_expiry_check")
        .await;
    let id = string(&job, "job_id");
    let r = app
        .put(&format!("{CRON}/{id}"), &json!({"enabled": false}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(r.body["status"], "disabled");
    assert_eq!(r.body["enabled"], false);
    assert_eq!(r.body["next_trigger_at"], Value::Null);

    let cron = app.get(&format!("{CRON}/{id}")).await.body;
    assert_eq!(cron["next_trigger_at"], Value::Null);
    assert_eq!(cron["upcoming"], json!([]));
    let cert = app.get(&format!("{CERT_CRON}/{id}")).await.body;
    assert_eq!(cert["status"], "disabled");
    assert_eq!(cert["next_run_at"], Value::Null);
    assert_eq!(cert["upcoming"], json!([]));
    let sched = app.get(&format!("{SCHEDULER}/nightly")).await.body;
    assert_eq!(sched["is_active"], false);
    assert_eq!(sched["status"], "disabled");
    assert_eq!(sched["next_run_at"], Value::Null);
    for list in [
        app.get(CRON).await.body,
        app.get(SCHEDULER).await.body,
        app.get(CERT_CRON).await.body,
    ] {
        assert_eq!(list["data"][0]["status"], "disabled", "{list:#}");
    }
    assert_eq!(
        app.get(CRON).await.body["data"][0]["next_trigger_at"],
        Value::Null
    );
    assert_eq!(
        app.get(SCHEDULER).await.body["data"][0]["next_run_at"],
        Value::Null
    );

    // A manual trigger of a disabled job is allowed.
    let r = app.post_empty(&format!("{CRON}/{id}/trigger")).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:#}", r.body);
    assert_eq!(
        app.finished_run(&string(&r.body, "run_id")).await["status"],
        "success"
    );

    // Enabling recomputes from now.
    app.set_now("2026-03-27T03:00:00Z");
    let r = app
        .put(&format!("{CERT_CRON}/{id}"), &json!({"enabled": true}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(r.body["status"], "active");
    assert_eq!(r.body["next_run_at"], "2026-03-28T02:00:00Z");
    assert_eq!(
        app.get(&format!("{CRON}/{id}")).await.body["upcoming"][0],
        "2026-03-28T02:00:00Z"
    );
}

async fn trigger_while_the_lock_is_held_is_409_with_the_holder(app: &TestApp) {
    let job = app.create_job("lift", "0 6 * * *", "pause_auto_lift").await;
    let id = string(&job, "job_id");
    let holder = app.hold_lock(&id);
    assert_eq!(
        app.get(&format!("{CRON}/{id}")).await.body["lock_acquired"],
        true
    );

    for path in [
        format!("{CRON}/{id}/trigger"),
        format!("{CRON_DOUBLED}/{id}/trigger"),
    ] {
        let r = app.post_empty(&path).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{path}: {:#}", r.body);
        assert_eq!(
            r.body,
            json!({
                "error": {
                    "code": "lock_held",
                    "message": format!("job `{id}` is already running (run `{holder}`)"),
                    "details": {"job_id": id, "run_id": holder}
                },
                "job_id": id,
                "lock_acquired": false,
                "run_id": holder
            })
        );
    }
    // The holder is untouched and no other run was recorded.
    assert_eq!(app.run(&holder).await["status"], "running");
    assert_eq!(total(&app.get(&format!("{CRON}/{id}/runs")).await.body), 1);

    let r = app
        .post_empty(&format!("/api/v1/runs/{holder}/cancel"))
        .await;
    assert_eq!(r.body["status"], "cancelled", "{:#}", r.body);
    assert_eq!(
        app.get(&format!("{CRON}/{id}")).await.body["lock_acquired"],
        false
    );
    let r = app.post_empty(&format!("{CRON}/{id}/trigger")).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:#}", r.body);
    app.finished_run(&string(&r.body, "run_id")).await;

    // All scenario-evaluation jobs share one lock.
    let a = app
        .create_job("reminders a", "0 8 * * *", "scenario_evaluation")
        .await;
    let b = app
        .create_job("reminders b", "0 9 * * *", "reminder_scheduler")
        .await;
    let holder = app.hold_lock(&string(&a, "job_id"));
    let b_id = string(&b, "job_id");
    let r = app.post_empty(&format!("{CRON}/{b_id}/trigger")).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:#}", r.body);
    assert_eq!(r.body["job_id"], b_id.as_str());
    assert_eq!(r.body["run_id"], holder.as_str());
    assert_eq!(
        app.get(&format!("{CRON}/{b_id}")).await.body["lock_acquired"],
        true
    );
}

async fn deleting_a_job_cancels_its_running_run_and_keeps_the_history(app: &TestApp) {
    let job = app.create_job("lift", "0 6 * * *", "pause_auto_lift").await;
    let id = string(&job, "job_id");
    let holder = app.hold_lock(&id);
    app.advance(TimeDelta::seconds(5));
    let r = app.delete(&format!("{CRON}/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    let run = app.run(&holder).await;
    assert_eq!(run["status"], "cancelled", "{run:#}");
    assert_eq!(run["completed_at"], "2026-03-25T08:00:05Z");
    assert_eq!(run["duration_ms"], 5000);
    assert_eq!(run["job_id"], id.as_str());
    assert_eq!(run["job_name"], "lift");
    let runs = app.get(&format!("/api/v1/runs?job_id={id}")).await;
    assert_eq!(total(&runs.body), 1, "{:#}", runs.body);
}

async fn invalid_jobs_are_refused_with_the_spec_codes(app: &TestApp) {
    let ok = json!({"name": "a", "schedule": "0 2 * * *", "handler": "pause_auto_lift"});
    assert_eq!(app.post(CRON, &ok).await.status, StatusCode::CREATED);
    let with = |field: &str, value: Value| {
        let mut body = ok.clone();
        body["name"] = json!("b");
        body[field] = value;
        body
    };
    assert_error(
        &app.post(CRON, &ok).await,
        StatusCode::CONFLICT,
        "duplicate_name",
    );
    let details = assert_error(
        &app.post(CRON, &with("handler", json!("sendEmails"))).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_handler",
    );
    assert_eq!(
        valid_list(&details),
        [
            "scenario_evaluation",
            "certification_expiry_check",
            "pause_auto_lift",
            "weekly_expiry_report",
            "run_log_retention"
        ]
    );
    let r = app.post(CRON, &with("schedule", json!("0 2 * *"))).await;
    let details = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_cron");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains(&string(&details, "reason"))),
        "the message carries the parser's explanation: {:#}",
        r.body
    );
    assert_error(
        &app.post(CRON, &with("schedule", json!("0 0 31 2 *"))).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_cron",
    );
    let details = assert_error(
        &app.post(CRON, &with("timezone", json!("America/Gotham")))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_timezone",
    );
    assert_eq!(details["timezone"], "America/Gotham");
    assert_error(
        &app.post(CRON, &with("cron_expression", json!("0 2 * * *")))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_field",
    );
    assert_error(
        &app.post(CRON, &with("schedule", json!(5))).await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    );
    assert_error(
        &app.post(CRON, &with("name", Value::Null)).await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    );
    let id = string(&app.get(CRON).await.body["data"][0], "job_id");
    let path = format!("{CRON}/{id}");
    assert_error(
        &app.put(&path, &json!({"handler": "scenario_evaluation"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "handler_immutable",
    );
    assert_error(
        &app.put(&path, &json!({"enabled": false, "colour": "red"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_field",
    );
    assert_error(
        &app.put(&path, &json!({"enabled": "false"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    );
    assert_error(
        &app.put(&path, &json!({"timezone": "Nowhere"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_timezone",
    );
    assert_error(
        &app.put(&format!("{CRON}/job_nothing"), &json!({"enabled": false}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &app.post_empty(&format!("{CRON}/job_nothing/trigger")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &app.delete(&format!("{CRON}/job_nothing")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    // A rename onto another job's name is a duplicate.
    app.post(
        CRON,
        &json!({"name": "c", "schedule": "0 3 * * *", "handler": "pause_auto_lift"}),
    )
    .await;
    assert_error(
        &app.put(&path, &json!({"name": "c"})).await,
        StatusCode::CONFLICT,
        "duplicate_name",
    );
    // Nothing changed.
    let r = app.get(&path).await;
    assert_eq!(r.body["name"], "a");
    assert_eq!(r.body["status"], "active");
    assert_eq!(r.body["timezone"], "UTC");
    assert_eq!(total(&app.get(CRON).await.body), 2);
}
