//! `/api/v1/scheduler/jobs` (contract `nightly-scheduler.txt`): every job,
//! keyed by its name, at the canonical and the doubled path.

use chrono::TimeDelta;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    CERT_CRON, CRON, SCHEDULER, SCHEDULER_DOUBLED, T0, TestApp, api_tests, assert_error,
    assert_has, assert_keys, column, row, string, total,
};

api_tests!(
    the_contract_endpoints_answer_with_the_contract_fields,
    a_name_with_spaces_works_url_encoded,
    names_with_reserved_characters_work_percent_encoded,
    last_result_is_the_newest_finished_run_and_404_before_any,
    put_changes_expression_zone_params_flag_and_name,
    a_disabled_job_has_no_next_run_and_can_still_be_triggered,
    invalid_jobs_are_refused_with_the_spec_codes_and_nothing_is_written,
    trigger_while_the_lock_is_held_is_409_with_the_job_name,
);

/// Everything the scheduler view shows of a job.
const JOB_FIELDS: [&str; 13] = [
    "job_name",
    "cron_expression",
    "is_active",
    "last_run_at",
    "last_run_status",
    "next_run_at",
    "id",
    "timezone",
    "handler",
    "status",
    "params",
    "created_at",
    "updated_at",
];

/// What `last-result` and the runs list show of a run.
const RUN_FIELDS: [&str; 12] = [
    "job_name",
    "run_id",
    "started_at",
    "completed_at",
    "status",
    "result_summary",
    "trigger",
    "triggered_by",
    "reason",
    "dry_run",
    "duration_ms",
    "error_message",
];

fn path(base: &str, name: &str) -> String {
    format!("{base}/{}", name.replace(' ', "%20"))
}

async fn the_contract_endpoints_answer_with_the_contract_fields(app: &TestApp) {
    for (base, name) in [
        (SCHEDULER, "weekly-expiry-summary-report"),
        (SCHEDULER_DOUBLED, "weekly-expiry-summary-report-2"),
    ] {
        // POST: the contract's request, exactly.
        let r = app
            .post(
                base,
                &json!({
                    "job_name": name,
                    "cron_expression": "0 8 * * 1",
                    "handler": "generateWeeklyExpiryReport",
                    "is_active": true
                }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{base}: {:#}", r.body);
        assert_keys(&r.body, &JOB_FIELDS);
        assert_eq!(r.body["job_name"], name);
        assert_eq!(r.body["cron_expression"], "0 8 * * 1");
        assert_eq!(r.body["is_active"], true);
        assert_eq!(r.body["created_at"], T0);
        // T0 is a Wednesday; the next Monday 08:00 UTC.
        assert_eq!(r.body["next_run_at"], "2026-03-30T08:00:00Z");
        assert_eq!(r.body["handler"], "weekly_expiry_report", "canonical name");
        assert_eq!(r.body["status"], "active");
        assert_eq!(r.body["timezone"], "UTC");
        assert_eq!(r.body["last_run_at"], Value::Null);

        // GET list.
        let list = app.get(base).await;
        assert_eq!(list.status, StatusCode::OK, "{:#}", list.body);
        assert_keys(&list.body, &["data", "pagination"]);
        assert_keys(&list.body["pagination"], &["page", "limit", "total"]);
        let item = row(&list.body, "job_name", name);
        assert_keys(&item, &JOB_FIELDS);

        // GET one (beyond the contract): the job, its lock and `upcoming`.
        let one = app.get(&path(base, name)).await;
        assert_eq!(one.status, StatusCode::OK, "{:#}", one.body);
        let mut detail_fields = JOB_FIELDS.to_vec();
        detail_fields.extend(["lock_acquired", "upcoming"]);
        assert_keys(&one.body, &detail_fields);
        assert_eq!(one.body["lock_acquired"], false);
        assert_eq!(
            one.body["upcoming"],
            json!([
                "2026-03-30T08:00:00Z",
                "2026-04-06T08:00:00Z",
                "2026-04-13T08:00:00Z",
                "2026-04-20T08:00:00Z",
                "2026-04-27T08:00:00Z"
            ])
        );

        // POST trigger: the contract's request.
        let r = app
            .post(
                &format!("{}/trigger", path(base, name)),
                &json!({"triggered_by": "coordinator-007", "dry_run": false}),
            )
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{:#}", r.body);
        assert_has(&r.body, &["job_name", "triggered_at", "run_id", "status"]);
        assert_eq!(r.body["job_name"], name);
        assert_eq!(r.body["triggered_at"], T0);
        assert_eq!(r.body["status"], "running");
        let run_id = string(&r.body, "run_id");
        assert!(run_id.starts_with("run_"), "{run_id}");
        let run = app.finished_run(&run_id).await;
        assert_eq!(run["status"], "success", "{run:#}");
        assert_eq!(run["triggered_by"], "coordinator-007");

        // GET last-result.
        let r = app.get(&format!("{}/last-result", path(base, name))).await;
        assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
        assert_keys(&r.body, &RUN_FIELDS);
        assert_eq!(r.body["job_name"], name);
        assert_eq!(r.body["run_id"], run_id.as_str());
        assert_eq!(r.body["started_at"], T0);
        assert_eq!(r.body["completed_at"], T0);
        assert_eq!(r.body["status"], "success");
        assert_eq!(r.body["result_summary"]["days"], 30);
        assert_eq!(r.body["result_summary"]["total"], 0);

        // The list now shows the run.
        let list = app.get(base).await;
        let item = row(&list.body, "job_name", name);
        assert_eq!(item["last_run_at"], T0);
        assert_eq!(item["last_run_status"], "success");

        // GET runs (beyond the contract).
        let r = app.get(&format!("{}/runs", path(base, name))).await;
        assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
        assert_eq!(total(&r.body), 1);
        assert_keys(&r.body["data"][0], &RUN_FIELDS);
        assert_eq!(r.body["data"][0]["run_id"], run_id.as_str());

        // DELETE.
        app.advance(TimeDelta::minutes(5));
        let r = app.delete(&path(base, name)).await;
        assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
        assert_has(&r.body, &["deleted", "job_name", "cancelled_at"]);
        assert_eq!(r.body["deleted"], true);
        assert_eq!(r.body["job_name"], name);
        assert_eq!(r.body["cancelled_at"], "2026-03-25T08:05:00Z");
        assert_error(
            &app.get(&path(base, name)).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        assert_error(
            &app.delete(&path(base, name)).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        // The run history stays.
        assert_eq!(app.run(&run_id).await["status"], "success");
        app.set_now(T0);
    }
}

async fn a_name_with_spaces_works_url_encoded(app: &TestApp) {
    let name = "Daily Reminder Check";
    let r = app
        .post(
            SCHEDULER,
            &json!({"job_name": name, "cron_expression": "0 8 * * *", "handler": "reminder_scheduler", "is_active": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    assert_eq!(r.body["handler"], "scenario_evaluation");
    let id = string(&r.body, "id");
    let encoded = format!("{SCHEDULER}/Daily%20Reminder%20Check");

    let one = app.get(&encoded).await;
    assert_eq!(one.status, StatusCode::OK, "{:#}", one.body);
    assert_eq!(one.body["job_name"], name);
    assert_eq!(one.body["id"], id.as_str());
    // `+` is not a space in a path.
    assert_error(
        &app.get(&format!("{SCHEDULER}/Daily+Reminder+Check")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    let r = app
        .put(&encoded, &json!({"cron_expression": "0 9 * * *"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(r.body["next_run_at"], "2026-03-25T09:00:00Z");

    let r = app.post(&format!("{encoded}/trigger"), &json!({})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:#}", r.body);
    let run = app.finished_run(&string(&r.body, "run_id")).await;
    assert_eq!(run["job_name"], name);
    let r = app.get(&format!("{encoded}/runs")).await;
    assert_eq!(total(&r.body), 1, "{:#}", r.body);
    let r = app.get(&format!("{encoded}/last-result")).await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);

    // The same job in the cron view, by id.
    let r = app.get(&format!("{CRON}/{id}")).await;
    assert_eq!(r.body["name"], name, "{:#}", r.body);

    let r = app.delete(&encoded).await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(r.body["job_name"], name);
    assert_error(
        &app.get(&format!("{CRON}/{id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

async fn last_result_is_the_newest_finished_run_and_404_before_any(app: &TestApp) {
    let job = app
        .create_job("pause-auto-lift-check", "0 6 * * *", "pause_auto_lift")
        .await;
    let path = format!("{SCHEDULER}/pause-auto-lift-check");
    let details = assert_error(
        &app.get(&format!("{path}/last-result")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_eq!(details["job_name"], "pause-auto-lift-check", "{details:#}");

    let first = app.post_empty(&format!("{path}/trigger")).await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{:#}", first.body);
    let first = string(&first.body, "run_id");
    app.finished_run(&first).await;
    app.advance(TimeDelta::hours(1));
    let second = app
        .post(&format!("{path}/trigger"), &json!({"dry_run": true}))
        .await;
    let second = string(&second.body, "run_id");
    app.finished_run(&second).await;
    // A run still going is not a result yet.
    app.advance(TimeDelta::hours(1));
    let holder = app.hold_lock(&string(&job, "job_id"));

    let r = app.get(&format!("{path}/last-result")).await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(r.body["run_id"], second.as_str());
    assert_eq!(r.body["dry_run"], true);
    assert_eq!(r.body["started_at"], "2026-03-25T09:00:00Z");
    assert_eq!(
        r.body["result_summary"],
        json!({"mentors_checked": 0, "pauses_lifted": 0, "errors": 0})
    );
    let runs = app.get(&format!("{path}/runs")).await;
    assert_eq!(total(&runs.body), 3);
    assert_eq!(
        column(&runs.body, "run_id"),
        [holder.as_str(), second.as_str(), first.as_str()],
        "newest first"
    );
    let page = app.get(&format!("{path}/runs?limit=1&page=3")).await;
    assert_eq!(page.body["data"][0]["run_id"], first.as_str());
    assert_eq!(
        page.body["pagination"],
        json!({"page": 3, "limit": 1, "total": 3})
    );
    assert_error(
        &app.get(&format!("{path}/runs?limit=0")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "out_of_range",
    );
    assert_error(
        &app.get(&format!("{SCHEDULER}/nobody/last-result")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &app.get(&format!("{SCHEDULER}/nobody/runs")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

async fn put_changes_expression_zone_params_flag_and_name(app: &TestApp) {
    app.create_job(
        "certification-expiry-nightly",
        "0 2 * * *",
        "executeExpiryCheck",
    )
    .await;
    let path = format!("{SCHEDULER}/certification-expiry-nightly");
    app.advance(TimeDelta::minutes(30));
    let r = app
        .put(
            &path,
            &json!({"cron_expression": "0 3 * * *", "timezone": "Europe/Oslo", "params": {"lead_time_days": 14}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_keys(&r.body, &JOB_FIELDS);
    assert_eq!(r.body["cron_expression"], "0 3 * * *");
    assert_eq!(r.body["timezone"], "Europe/Oslo");
    // 03:00 in Oslo (UTC+1 until the 29th) is 02:00 UTC.
    assert_eq!(r.body["next_run_at"], "2026-03-26T02:00:00Z");
    assert_eq!(r.body["params"], json!({"lead_time_days": 14}));
    assert_eq!(r.body["updated_at"], "2026-03-25T08:30:00Z");
    assert_eq!(r.body["created_at"], T0);
    assert_eq!(r.body["handler"], "certification_expiry_check");

    // The handler may be named (alias or canonical) but not changed.
    let r = app
        .put(
            &path,
            &json!({"handler": "executeExpiryCheck", "is_active": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    let details = assert_error(
        &app.put(&path, &json!({"handler": "pause_auto_lift"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "handler_immutable",
    );
    assert_eq!(details["handler"], "certification_expiry_check");

    // Rename: the old name is gone, the new one answers, the id stays.
    let r = app
        .put(&path, &json!({"job_name": "Nightly expiry check"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    let id = string(&r.body, "id");
    assert_error(&app.get(&path).await, StatusCode::NOT_FOUND, "not_found");
    let r = app
        .get(&format!("{SCHEDULER}/Nightly%20expiry%20check"))
        .await;
    assert_eq!(r.body["id"], id.as_str(), "{:#}", r.body);
    assert_eq!(r.body["params"], json!({"lead_time_days": 14}));

    // Nothing to change is a 422.
    assert_error(
        &app.put(&format!("{SCHEDULER}/Nightly%20expiry%20check"), &json!({}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
    );
    assert_error(
        &app.put(&format!("{SCHEDULER}/nobody"), &json!({"is_active": false}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

async fn a_disabled_job_has_no_next_run_and_can_still_be_triggered(app: &TestApp) {
    let r = app
        .post(
            SCHEDULER,
            &json!({"job_name": "lift", "cron_expression": "0 6 * * *", "handler": "pause_auto_lift", "is_active": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    assert_eq!(r.body["is_active"], false);
    assert_eq!(r.body["status"], "disabled");
    assert_eq!(r.body["next_run_at"], Value::Null);
    let one = app.get(&format!("{SCHEDULER}/lift")).await;
    assert_eq!(one.body["upcoming"], json!([]));

    let r = app
        .post(&format!("{SCHEDULER}/lift/trigger"), &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:#}", r.body);
    let run = app.finished_run(&string(&r.body, "run_id")).await;
    assert_eq!(run["status"], "success");
    assert_eq!(run["trigger"], "manual");

    app.set_now("2026-03-25T07:00:00Z");
    app.advance(TimeDelta::days(1));
    let r = app
        .put(&format!("{SCHEDULER}/lift"), &json!({"is_active": true}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(r.body["status"], "active");
    assert_eq!(
        r.body["next_run_at"], "2026-03-27T06:00:00Z",
        "recomputed from now"
    );
}

async fn invalid_jobs_are_refused_with_the_spec_codes_and_nothing_is_written(app: &TestApp) {
    let ok =
        json!({"job_name": "a", "cron_expression": "0 2 * * *", "handler": "executeExpiryCheck"});
    assert_eq!(app.post(SCHEDULER, &ok).await.status, StatusCode::CREATED);
    let with = |field: &str, value: Value| {
        let mut body = ok.clone();
        body["job_name"] = json!("b");
        body[field] = value;
        body
    };
    let details = assert_error(
        &app.post(SCHEDULER, &ok).await,
        StatusCode::CONFLICT,
        "duplicate_name",
    );
    assert_eq!(details["name"], "a");
    let details = assert_error(
        &app.post(SCHEDULER, &with("cron_expression", json!("0 25 * * *")))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_cron",
    );
    assert_eq!(details["expression"], "0 25 * * *");
    assert!(
        details["reason"].as_str().is_some_and(|r| !r.is_empty()),
        "{details:#}"
    );
    assert_error(
        &app.post(SCHEDULER, &with("timezone", json!("Mars/Olympus")))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_timezone",
    );
    assert_error(
        &app.post(SCHEDULER, &with("handler", json!("sendBirthdayCards")))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_handler",
    );
    assert_error(
        &app.post(SCHEDULER, &with("job_name", json!("   "))).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
    );
    assert_error(
        &app.post(SCHEDULER, &with("name", json!("b"))).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_field",
    );
    let details = assert_error(
        &app.post(SCHEDULER, &with("is_active", json!("yes"))).await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    );
    assert_eq!(details["field"], "is_active");
    let details = assert_error(
        &app.post(
            SCHEDULER,
            &json!({"job_name": "b", "handler": "pause_auto_lift"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    );
    assert_eq!(details["field"], "cron_expression");
    assert_error(
        &app.post(SCHEDULER, &with("params", json!([1]))).await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    );
    // Triggers validate their body too.
    assert_error(
        &app.post(&format!("{SCHEDULER}/a/trigger"), &json!({"dry_run": "no"}))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    );
    assert_error(
        &app.post(&format!("{SCHEDULER}/a/trigger"), &json!({"force": true}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_field",
    );
    assert_error(
        &app.post(
            &format!("{SCHEDULER}/a/trigger"),
            &json!({"triggered_by": ""}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_id",
    );
    assert_error(
        &app.post(&format!("{SCHEDULER}/nobody/trigger"), &json!({}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &app.get(&format!("{SCHEDULER}?handler=nope")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_handler",
    );
    // Params the handler's runs would refuse (SPEC 7: absurd thresholds,
    // unknown time zones), on create and on update.
    for (params, field, problem) in [
        (
            json!({"lead_time_days": -5}),
            "params.lead_time_days",
            "must be an integer between 0 and 3650, got -5",
        ),
        (
            json!({"lead_time_days": "30"}),
            "params.lead_time_days",
            "must be an integer between 0 and 3650, got \"30\"",
        ),
        (
            json!({"evaluation_timezone": "Mars/Olympus"}),
            "params.evaluation_timezone",
            "is not a known time zone: `Mars/Olympus`",
        ),
    ] {
        let details = assert_error(
            &app.post(SCHEDULER, &with("params", params.clone())).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_params",
        );
        assert_eq!(details, json!({"field": field, "problem": problem}));
        let details = assert_error(
            &app.put(&format!("{SCHEDULER}/a"), &json!({"params": params}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_params",
        );
        assert_eq!(details["field"], field);
    }
    let other = json!({"job_name": "b", "cron_expression": "0 2 * * *", "handler": "reminder_scheduler", "params": {"batch_size": 501}});
    let r = app.post(SCHEDULER, &other).await;
    let details = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_params");
    assert_eq!(details["field"], "params.batch_size");
    assert_eq!(
        r.body["error"]["message"],
        "params.batch_size must be an integer between 1 and 500, got 501"
    );
    let r = app.get(&format!("{SCHEDULER}/a")).await;
    assert_eq!(
        r.body["params"],
        json!({}),
        "the refused PUTs changed nothing"
    );
    // Keys a handler does not read are kept as given.
    let r = app
        .put(
            &format!("{SCHEDULER}/a"),
            &json!({"params": {"lead_time_days": 0, "note": "weekend crew"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(
        r.body["params"],
        json!({"lead_time_days": 0, "note": "weekend crew"})
    );

    // Nothing was written: one job, never run.
    let list = app.get(SCHEDULER).await;
    assert_eq!(total(&list.body), 1, "{:#}", list.body);
    assert_eq!(total(&app.get("/api/v1/runs").await.body), 0);
    assert_eq!(total(&app.get(CERT_CRON).await.body), 1);
    assert_eq!(
        total(
            &app.get(&format!("{SCHEDULER}?handler=executeExpiryCheck"))
                .await
                .body
        ),
        1
    );
    assert_eq!(
        total(
            &app.get(&format!("{SCHEDULER}?handler=pause_auto_lift"))
                .await
                .body
        ),
        0
    );
}

async fn trigger_while_the_lock_is_held_is_409_with_the_job_name(app: &TestApp) {
    let job = app
        .create_job("Nightly Expiry", "0 2 * * *", "certification_expiry_check")
        .await;
    let job_id = string(&job, "job_id");
    let holder = app.hold_lock(&job_id);
    let r = app
        .post(
            &format!("{SCHEDULER}/Nightly%20Expiry/trigger"),
            &json!({"dry_run": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:#}", r.body);
    assert_keys(
        &r.body,
        &["error", "job_id", "lock_acquired", "run_id", "job_name"],
    );
    assert_eq!(r.body["error"]["code"], "lock_held");
    assert_eq!(
        r.body["error"]["details"],
        json!({"job_id": job_id, "run_id": holder})
    );
    assert_eq!(r.body["job_id"], job_id.as_str());
    assert_eq!(r.body["lock_acquired"], false);
    assert_eq!(r.body["run_id"], holder.as_str());
    assert_eq!(r.body["job_name"], "Nightly Expiry");
    assert_eq!(
        app.get(&format!("{SCHEDULER}/Nightly%20Expiry")).await.body["lock_acquired"],
        true
    );
    // Nothing was started.
    let runs = app.get(&format!("{SCHEDULER}/Nightly%20Expiry/runs")).await;
    assert_eq!(total(&runs.body), 1, "{:#}", runs.body);
}

/// Every byte but ASCII letters and digits percent-encoded.
fn percent_encode(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn names_with_reserved_characters_work_percent_encoded(app: &TestApp) {
    for name in [
        "a/b",
        "50% off",
        "what?",
        "x#y",
        "ünï cødé",
        "trigger",
        "a/b/trigger",
    ] {
        let r = app
            .post(
                SCHEDULER,
                &json!({"job_name": name, "cron_expression": "0 8 * * *", "handler": "pause_auto_lift"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{name}: {:#}", r.body);
        let path = format!("{SCHEDULER}/{}", percent_encode(name));
        let one = app.get(&path).await;
        assert_eq!(one.status, StatusCode::OK, "{name}: {:#}", one.body);
        assert_eq!(one.body["job_name"], name);
        let r = app.post_empty(&format!("{path}/trigger")).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{name}: {:#}", r.body);
        assert_eq!(r.body["job_name"], name);
        app.finished_run(&string(&r.body, "run_id")).await;
        let r = app.get(&format!("{path}/last-result")).await;
        assert_eq!(r.body["job_name"], name, "{:#}", r.body);
    }
    let r = app
        .delete(&format!("{SCHEDULER}/{}", percent_encode("a/b")))
        .await;
    assert_eq!(r.body["job_name"], "a/b", "{:#}", r.body);
    let names = column(&app.get(SCHEDULER).await.body, "job_name");
    assert!(
        !names.iter().any(|n| n == "a/b") && names.iter().any(|n| n == "a/b/trigger"),
        "{names:?}"
    );
}
