//! `/api/v1/runs`: the runs of every job, their cancellation and the weekly
//! expiry report download (docs/api.md, "Jobs and runs"; beyond the
//! contracts).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    CERT_CRON, CRON, INVOCATIONS, RUNS, TestApp, api_tests, assert_error, assert_keys, column,
    rows, string, total, valid_list,
};

api_tests!(
    runs_are_listed_newest_first_and_filtered,
    bad_run_filters_are_refused_listing_the_valid_values,
    a_run_has_its_fields_and_batch_results,
    a_long_runs_batch_results_come_in_windows,
    cancel_stops_a_running_run_once_and_refuses_finished_ones,
    a_weekly_report_run_downloads_as_json_and_csv,
    other_runs_have_no_report,
    keys_no_job_or_run_can_have_are_404_never_500,
);

/// Every field of a run.
const RUN_FIELDS: [&str; 17] = [
    "id",
    "job_id",
    "job_name",
    "kind",
    "trigger",
    "triggered_by",
    "reason",
    "scheduled_for",
    "dry_run",
    "status",
    "invoked_at",
    "completed_at",
    "duration_ms",
    "users_evaluated",
    "notifications_dispatched",
    "result_summary",
    "error_message",
];

async fn trigger(app: &TestApp, job_id: &str, body: &Value) -> String {
    let r = app.post(&format!("{CRON}/{job_id}/trigger"), body).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:#}", r.body);
    let run_id = string(&r.body, "run_id");
    app.finished_run(&run_id).await;
    run_id
}

fn ids(list: &Value) -> Vec<String> {
    column(list, "id")
}

async fn list(app: &TestApp, query: &str) -> Value {
    let r = app.get(&format!("{RUNS}?{query}")).await;
    assert_eq!(r.status, StatusCode::OK, "?{query}: {:#}", r.body);
    r.body
}

async fn runs_are_listed_newest_first_and_filtered(app: &TestApp) {
    let cert = string(
        &app.create_job("nightly", "0 2 * * *", "executeExpiryCheck")
            .await,
        "job_id",
    );
    let lift = string(
        &app.create_job("lift", "0 6 * * *", "pause_auto_lift").await,
        "job_id",
    );
    // Instants with milliseconds are written in whole seconds.
    app.clock
        .set(crate::helpers::at("2026-03-25T08:00:00.750Z"));
    let r = app
        .post(
            &format!("{CRON}/{cert}/trigger"),
            &json!({"triggered_by": "coordinator-007", "reason": "audit"}),
        )
        .await;
    assert_eq!(
        r.body["triggered_at"], "2026-03-25T08:00:00Z",
        "{:#}",
        r.body
    );
    let manual = string(&r.body, "run_id");
    app.finished_run(&manual).await;
    app.set_now("2026-03-25T09:00:00Z");
    let dry = trigger(app, &lift, &json!({"dry_run": true})).await;
    // The scheduler fires the certification job at 02:00 the next night.
    app.set_now("2026-03-26T02:00:30Z");
    app.runtime.tick();
    let scheduled = list(app, "trigger=schedule").await;
    assert_eq!(total(&scheduled), 1, "{scheduled:#}");
    let scheduled = string(&scheduled["data"][0], "id");
    let run = app.finished_run(&scheduled).await;
    assert_eq!(run["scheduled_for"], "2026-03-26T02:00:00Z");
    assert_eq!(run["invoked_at"], "2026-03-26T02:00:30Z");
    app.set_now("2026-03-26T03:00:00Z");
    let holder = app.hold_lock(&lift);

    let all = list(app, "").await;
    assert_eq!(
        ids(&all),
        [
            holder.as_str(),
            scheduled.as_str(),
            dry.as_str(),
            manual.as_str()
        ],
        "newest first"
    );
    assert_eq!(
        all["pagination"],
        json!({"page": 1, "limit": 20, "total": 4})
    );
    for run in rows(&all) {
        assert_keys(run, &RUN_FIELDS);
    }
    let m = &all["data"][3];
    assert_eq!(m["invoked_at"], "2026-03-25T08:00:00Z");
    assert_eq!(m["completed_at"], "2026-03-25T08:00:00Z");
    assert_eq!(m["triggered_by"], "coordinator-007");
    assert_eq!(m["reason"], "audit");
    assert_eq!(m["trigger"], "manual");
    assert_eq!(m["kind"], "certification_expiry_check");
    assert_eq!(m["job_name"], "nightly");

    assert_eq!(
        ids(&list(app, &format!("job_id={cert}")).await),
        [scheduled.as_str(), manual.as_str()]
    );
    assert_eq!(
        ids(&list(app, "kind=executeExpiryCheck").await),
        [scheduled.as_str(), manual.as_str()]
    );
    assert_eq!(
        ids(&list(app, "kind=pause_auto_lift").await),
        [holder.as_str(), dry.as_str()]
    );
    assert_eq!(ids(&list(app, "status=running").await), [holder.as_str()]);
    assert_eq!(
        ids(&list(app, "status=success").await),
        [scheduled.as_str(), dry.as_str(), manual.as_str()]
    );
    assert_eq!(
        ids(&list(app, "trigger=manual").await),
        [holder.as_str(), dry.as_str(), manual.as_str()]
    );
    assert_eq!(
        ids(&list(app, &format!("job_id={lift}&status=success&trigger=manual")).await),
        [dry.as_str()]
    );
    assert_eq!(
        ids(&list(app, "limit=2&page=2").await),
        [dry.as_str(), manual.as_str()]
    );
    let past = list(app, "limit=2&page=3").await;
    assert_eq!(ids(&past), Vec::<String>::new());
    assert_eq!(total(&past), 4);
    assert_eq!(total(&list(app, "job_id=job_nothing").await), 0);
}

async fn bad_run_filters_are_refused_listing_the_valid_values(app: &TestApp) {
    let details = assert_error(
        &app.get(&format!("{RUNS}?status=done")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_value",
    );
    assert_eq!(details["field"], "status");
    assert_eq!(
        valid_list(&details),
        [
            "running",
            "success",
            "failed",
            "cancelled",
            "skipped",
            "missed"
        ]
    );
    let details = assert_error(
        &app.get(&format!("{RUNS}?trigger=cron")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_value",
    );
    assert_eq!(valid_list(&details), ["schedule", "manual"]);
    let details = assert_error(
        &app.get(&format!("{RUNS}?kind=emails")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_value",
    );
    assert_eq!(details["field"], "kind");
    assert_eq!(valid_list(&details).len(), 5);
    for (query, code, status) in [
        ("page=0", "out_of_range", StatusCode::UNPROCESSABLE_ENTITY),
        (
            "limit=101",
            "out_of_range",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("limit=ten", "malformed_query", StatusCode::BAD_REQUEST),
        ("sort=asc", "malformed_query", StatusCode::BAD_REQUEST),
    ] {
        assert_error(&app.get(&format!("{RUNS}?{query}")).await, status, code);
    }
}

async fn a_run_has_its_fields_and_batch_results(app: &TestApp) {
    let job = string(
        &app.create_job("nightly", "0 2 * * *", "certification_expiry_check")
            .await,
        "job_id",
    );
    let run_id = trigger(app, &job, &json!({})).await;
    let run = app.run(&run_id).await;
    let mut fields = RUN_FIELDS.to_vec();
    fields.push("batch_results");
    assert_keys(&run, &fields);
    assert_eq!(run["id"], run_id.as_str());
    assert_eq!(run["job_id"], job.as_str());
    assert_eq!(run["status"], "success");
    assert_eq!(run["scheduled_for"], Value::Null);
    assert_eq!(run["duration_ms"], 0);
    assert_eq!(run["error_message"], Value::Null);
    assert_eq!(run["batch_results"], json!([]));
    assert_eq!(run["result_summary"]["mentors_checked"], 0);
    assert_error(
        &app.get(&format!("{RUNS}/run_nothing")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

async fn a_long_runs_batch_results_come_in_windows(app: &TestApp) {
    // An external run fed five batches: results 0 to 4.
    let r = app.post(INVOCATIONS, &json!({"external": true})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:#}", r.body);
    let id = string(&r.body, "id");
    for i in 0..5 {
        let b = app
            .post(
                &format!("{INVOCATIONS}/evaluation-batch"),
                &json!({"run_id": id, "user_ids": [format!("usr_nobody_{i}")]}),
            )
            .await;
        assert_eq!(b.status, StatusCode::OK, "{:#}", b.body);
    }
    let indices = |run: &Value| -> Vec<i64> {
        run["batch_results"]
            .as_array()
            .unwrap_or_else(|| panic!("no batch_results in {run:#}"))
            .iter()
            .map(|b| b["batch_index"].as_i64().unwrap_or(-1))
            .collect()
    };
    for base in [INVOCATIONS, RUNS] {
        let whole = app.get(&format!("{base}/{id}")).await;
        assert_eq!(whole.status, StatusCode::OK, "{:#}", whole.body);
        assert_eq!(
            indices(&whole.body),
            [0, 1, 2, 3, 4],
            "{base}: all by default"
        );
        for (query, expected) in [
            ("batch_after=1&batch_limit=2", vec![2, 3]),
            ("batch_after=3", vec![4]),
            ("batch_after=4", vec![]),
            ("batch_limit=3", vec![0, 1, 2]),
            ("batch_after=0&batch_limit=10000", vec![1, 2, 3, 4]),
        ] {
            let r = app.get(&format!("{base}/{id}?{query}")).await;
            assert_eq!(r.status, StatusCode::OK, "{base}?{query}: {:#}", r.body);
            assert_eq!(indices(&r.body), expected, "{base}?{query}");
        }
        // No results at all: the run's own fields, for a cheap poll.
        let bare = app.get(&format!("{base}/{id}?batch_limit=0")).await.body;
        assert_eq!(indices(&bare), Vec::<i64>::new());
        assert_eq!(bare["status"], whole.body["status"]);
        assert_eq!(bare["planned_batches"], whole.body["planned_batches"]);
        // Refused, never clamped.
        for (query, status, code) in [
            (
                "batch_limit=10001",
                StatusCode::UNPROCESSABLE_ENTITY,
                "out_of_range",
            ),
            (
                "batch_limit=-1",
                StatusCode::UNPROCESSABLE_ENTITY,
                "out_of_range",
            ),
            (
                "batch_after=-1",
                StatusCode::UNPROCESSABLE_ENTITY,
                "out_of_range",
            ),
            (
                "batch_after=1000000001",
                StatusCode::UNPROCESSABLE_ENTITY,
                "out_of_range",
            ),
            (
                "batch_limit=all",
                StatusCode::BAD_REQUEST,
                "malformed_query",
            ),
            ("batches=2", StatusCode::BAD_REQUEST, "malformed_query"),
        ] {
            let details = assert_error(
                &app.get(&format!("{base}/{id}?{query}")).await,
                status,
                code,
            );
            if code == "out_of_range" {
                let field = details["field"].as_str().unwrap_or("(none)");
                assert!(query.starts_with(field), "{details}");
            }
        }
    }
}

async fn cancel_stops_a_running_run_once_and_refuses_finished_ones(app: &TestApp) {
    let job = string(
        &app.create_job("lift", "0 6 * * *", "pause_auto_lift").await,
        "job_id",
    );
    let holder = app.hold_lock(&job);
    app.set_now("2026-03-25T08:00:02Z");
    let r = app.post_empty(&format!("{RUNS}/{holder}/cancel")).await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_keys(&r.body, &RUN_FIELDS);
    assert_eq!(r.body["status"], "cancelled");
    assert_eq!(r.body["completed_at"], "2026-03-25T08:00:02Z");
    assert_eq!(r.body["duration_ms"], 2000);
    // Repeating it changes nothing.
    app.set_now("2026-03-25T08:10:00Z");
    let again = app.post_empty(&format!("{RUNS}/{holder}/cancel")).await;
    assert_eq!(again.status, StatusCode::OK, "{:#}", again.body);
    assert_eq!(again.body["completed_at"], "2026-03-25T08:00:02Z");

    let done = trigger(app, &job, &json!({})).await;
    let details = assert_error(
        &app.post_empty(&format!("{RUNS}/{done}/cancel")).await,
        StatusCode::CONFLICT,
        "invalid_transition",
    );
    assert_eq!(details, json!({"from": "success", "to": "cancelled"}));
    assert_eq!(app.run(&done).await["status"], "success");
    assert_error(
        &app.post_empty(&format!("{RUNS}/run_nothing/cancel")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

async fn a_weekly_report_run_downloads_as_json_and_csv(app: &TestApp) {
    app.create_mentor("usr_mentor_7821").await;
    app.certify(
        "usr_mentor_7821",
        "cert_safety_003",
        "2026-04-04T00:00:00Z",
        true,
    )
    .await;
    app.create_mentor_with("usr_mentor_0042", &json!({"org_id": "org_bergen_02"}))
        .await;
    app.certify(
        "usr_mentor_0042",
        "cert_far_away",
        "2026-09-01T00:00:00Z",
        false,
    )
    .await;
    let job = string(
        &app.create_job(
            "weekly-expiry-summary-report",
            "0 8 * * 1",
            "generateWeeklyExpiryReport",
        )
        .await,
        "job_id",
    );
    let run_id = trigger(app, &job, &json!({})).await;
    assert_eq!(app.run(&run_id).await["status"], "success");

    for query in ["", "?format=json"] {
        let r = app.get(&format!("{RUNS}/{run_id}/report{query}")).await;
        assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
        assert!(
            r.content_type
                .as_deref()
                .is_some_and(|c| c.starts_with("application/json"))
        );
        assert_eq!(r.body["total"], 1, "{:#}", r.body);
        assert_eq!(r.body["days"], 30);
        assert_eq!(r.body["organisations"][0]["org_id"], "org_oslo_01");
        let line = &r.body["organisations"][0]["certifications"][0];
        assert_eq!(line["certification_id"], "cert_safety_003");
        assert_eq!(line["days_until_expiry"], 10);
    }
    let r = app.get(&format!("{RUNS}/{run_id}/report?format=csv")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        r.content_type
            .as_deref()
            .is_some_and(|c| c.starts_with("text/csv")),
        "{:?}",
        r.content_type
    );
    assert_eq!(
        r.text,
        "org_id,user_id,certification_id,name,expires_at,days_until_expiry,required\n\
         org_oslo_01,usr_mentor_7821,cert_safety_003,Safeguarding,2026-04-04T00:00:00Z,10,true\n"
    );
    let details = assert_error(
        &app.get(&format!("{RUNS}/{run_id}/report?format=xml")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_value",
    );
    assert_eq!(valid_list(&details), ["json", "csv"]);
}

async fn other_runs_have_no_report(app: &TestApp) {
    let r = app
        .post(
            CERT_CRON,
            &json!({"name": "nightly", "cron_expression": "0 2 * * *"}),
        )
        .await;
    let cert = string(&r.body, "id");
    let cert_run = trigger(app, &cert, &json!({})).await;
    for format in ["json", "csv"] {
        let details = assert_error(
            &app.get(&format!("{RUNS}/{cert_run}/report?format={format}"))
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        assert_eq!(details["run_id"], cert_run.as_str());
    }
    // A weekly report run that is still running has no report yet.
    let weekly = string(
        &app.create_job("weekly", "0 8 * * 1", "weekly_expiry_report")
            .await,
        "job_id",
    );
    let holder = app.hold_lock(&weekly);
    assert_error(
        &app.get(&format!("{RUNS}/{holder}/report")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &app.get(&format!("{RUNS}/run_nothing/report")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

async fn keys_no_job_or_run_can_have_are_404_never_500(app: &TestApp) {
    // PostgreSQL cannot even compare text with a NUL in it: such keys, and
    // over-long ones, are unknown without asking the database.
    let long = "j".repeat(129);
    for key in ["a%00b", "a%01b", long.as_str()] {
        for path in [
            format!("{CRON}/{key}"),
            format!("{CERT_CRON}/{key}"),
            format!("/api/v1/scheduler/jobs/{key}"),
            format!("/api/v1/scheduler/jobs/{key}/last-result"),
            format!("{RUNS}/{key}"),
            format!("{RUNS}/{key}/report"),
        ] {
            assert_error(&app.get(&path).await, StatusCode::NOT_FOUND, "not_found");
        }
        for path in [
            format!("{CRON}/{key}/trigger"),
            format!("{CERT_CRON}/{key}/execute"),
            format!("{RUNS}/{key}/cancel"),
        ] {
            assert_error(
                &app.post_empty(&path).await,
                StatusCode::NOT_FOUND,
                "not_found",
            );
        }
        assert_error(
            &app.delete(&format!("{CRON}/{key}")).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
    }
    assert_error(
        &app.get(&format!("{RUNS}?job_id=a%00b")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_id",
    );
    let job = string(
        &app.create_job("lift", "0 6 * * *", "pause_auto_lift").await,
        "job_id",
    );
    assert_error(
        &app.post(
            &format!("{CRON}/{job}/trigger"),
            &json!({"reason": "a\u{0}b"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
    );
    assert_error(
        &app.post(
            &format!("{CRON}/{job}/trigger"),
            &json!({"reason": "x".repeat(1001)}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
    );
    let r = app
        .post(
            &format!("{CRON}/{job}/trigger"),
            &json!({"reason": "line one\nline two\t(tab)"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:#}", r.body);
    let run = app.finished_run(&string(&r.body, "run_id")).await;
    assert_eq!(run["reason"], "line one\nline two\t(tab)");
}
