//! `/api/v1/scheduler-invocations` (the scheduler-invocations contract,
//! docs/api.md): runs over generated mentors with their batch arithmetic, the
//! cooldown on a second run, dry runs, external runs fed batch by batch, the
//! state machine of `PUT`, `DELETE`, `active-peer-mentors`, and
//! `Idempotency-Key`.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed call is a failed test"
)]

use chrono::TimeDelta;
use reqwest::StatusCode;
use runtime::SCENARIO_LOCK;
use scenario_engine::rules::{Mentor, MentorStatus, Pause, PauseReason, Preferences};
use scenario_engine::service::MentorRecord;
use serde_json::{Value, json};

use crate::helpers::{
    EVALS, INVOCATIONS, INVOCATIONS_DOUBLED, T0, TestApp, api_tests, assert_error, assert_has,
    assert_keys, at, column, rows, string, total, valid_list,
};

api_tests!(
    a_run_over_a_few_hundred_mentors_has_the_right_batches_and_totals,
    a_second_run_inside_the_cooldown_dispatches_nothing_new,
    a_dry_run_records_every_decision_and_enqueues_nothing,
    a_post_while_a_scenario_run_holds_the_lock_is_409_with_the_holder,
    the_list_is_newest_first_filtered_by_status_and_paged,
    an_unknown_or_other_kind_of_run_is_404,
    an_external_run_takes_batches_until_it_is_finished_by_put,
    a_batch_result_counts_the_mentors_evaluated_as_the_run_total_does,
    evaluation_batch_refuses_bad_user_id_lists_and_writes_nothing,
    evaluation_batch_refuses_unknown_finished_and_service_run_runs,
    evaluation_batch_reports_cooldown_per_user_across_batches,
    put_follows_the_state_machine,
    put_refuses_bad_bodies_with_422_or_400,
    delete_refuses_a_running_run_and_keeps_the_notifications_of_a_finished_one,
    active_peer_mentors_are_paged_in_user_id_order_with_their_total,
    active_peer_mentors_refuse_limits_out_of_range,
    a_repeated_post_with_the_same_idempotency_key_starts_one_run,
    a_repeated_batch_with_the_same_idempotency_key_is_evaluated_once,
    the_doubled_contract_paths_answer_like_the_canonical_ones,
    a_run_wakes_the_notification_worker_so_its_reminders_go_out_at_once,
);

/// `n` active mentors `usr_gen_0000`..., all last active 9 days before
/// [`T0`] (so each gets an inactivity reminder), and `paused` paused ones
/// after them, inserted in one go.
fn seed(app: &TestApp, n: usize, paused: usize) {
    let now = at(T0);
    let records: Vec<MentorRecord> = (0..n + paused)
        .map(|i| {
            let is_paused = i >= n;
            MentorRecord {
                mentor: Mentor {
                    user_id: format!("usr_gen_{i:04}"),
                    org_id: if i % 2 == 0 {
                        "org_oslo_01"
                    } else {
                        "org_bergen_02"
                    }
                    .into(),
                    status: if is_paused {
                        MentorStatus::Paused
                    } else {
                        MentorStatus::Active
                    },
                    pause: is_paused.then(|| Pause {
                        reason: PauseReason::Admin,
                        since: now - TimeDelta::days(1),
                        until: None,
                    }),
                    last_active_at: Some(now - TimeDelta::days(9)),
                    sessions_count: 0,
                    first_session_at: None,
                    created_at: now - TimeDelta::days(100),
                    updated_at: now - TimeDelta::days(1),
                },
                certifications: Vec::new(),
                preferences: Preferences::default(),
            }
        })
        .collect();
    app.store.bulk_insert_mentors(records).unwrap();
}

/// Starts an invocation; asserts the 202.
async fn start(app: &TestApp, body: &Value) -> Value {
    let r = app.post(INVOCATIONS, body).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "start: {:#}", r.body);
    r.body
}

/// Polls the invocation until it is no longer running (real time, 20 s
/// deadline: runs execute on their own threads).
async fn finished(app: &TestApp, id: &str) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let r = app.get(&format!("{INVOCATIONS}/{id}")).await;
        assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
        if r.body["status"] != "running" {
            return r.body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "run {id} still running: {:#}",
            r.body
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A `running` scenario-evaluation run that holds the shared lock and that
/// no thread processes (as another instance's run would); returns its id.
fn hold_scenario_lock(app: &TestApp) -> String {
    let mut run = run_log::Run::start(
        app.runtime.next_id("run"),
        "scenario_evaluation",
        run_log::Trigger::Manual,
        app.runtime.now(),
    );
    run.lease_owner = Some("host-elsewhere".into());
    run.lease_expires_at = Some(app.runtime.now() + TimeDelta::minutes(10));
    app.runtime
        .runs
        .insert_run(&run, Some(SCENARIO_LOCK))
        .unwrap();
    run.id
}

async fn batch(app: &TestApp, run_id: &str, ids: &[&str]) -> crate::helpers::Resp {
    app.post(
        &format!("{INVOCATIONS}/evaluation-batch"),
        &json!({"run_id": run_id, "user_ids": ids}),
    )
    .await
}

async fn a_run_over_a_few_hundred_mentors_has_the_right_batches_and_totals(app: &TestApp) {
    seed(app, 230, 7);
    let started = start(
        app,
        &json!({"reason": "manual_trigger", "triggered_by": "admin_usr_001"}),
    )
    .await;
    assert_has(
        &started,
        &["id", "invoked_at", "status", "triggered_by", "reason"],
    );
    assert_eq!(started["status"], "running");
    assert_eq!(started["triggered_by"], "admin_usr_001");
    assert_eq!(started["reason"], "manual_trigger");
    assert_eq!(started["invoked_at"], T0);
    assert!(string(&started, "id").starts_with("run_"));

    let run = finished(app, &string(&started, "id")).await;
    assert_eq!(run["status"], "success", "{run:#}");
    assert_has(
        &run,
        &[
            "id",
            "invoked_at",
            "status",
            "users_evaluated",
            "notifications_dispatched",
            "duration_ms",
            "error_message",
            "batch_results",
        ],
    );
    assert_eq!(
        run["users_evaluated"], 230,
        "the paused mentors are not planned"
    );
    assert_eq!(
        run["notifications_dispatched"], 230,
        "one inactivity reminder each"
    );
    assert_eq!(run["planned_batches"], 5);
    assert_eq!(run["batch_size"], 50);
    assert!(run["error_message"].is_null());
    let batches = run["batch_results"].as_array().unwrap();
    for b in batches {
        assert_keys(
            b,
            &[
                "batch_index",
                "user_count",
                "notifications_sent",
                "duration_ms",
            ],
        );
    }
    let indices: Vec<i64> = batches
        .iter()
        .map(|b| b["batch_index"].as_i64().unwrap())
        .collect();
    assert_eq!(indices, [0, 1, 2, 3, 4]);
    let sizes: Vec<i64> = batches
        .iter()
        .map(|b| b["user_count"].as_i64().unwrap())
        .collect();
    assert_eq!(sizes, [50, 50, 50, 50, 30]);
    let sent: i64 = batches
        .iter()
        .map(|b| b["notifications_sent"].as_i64().unwrap())
        .sum();
    assert_eq!(sent, 230);

    // Every decision is recorded under the run: one inactivity decision per mentor.
    let id = string(&run, "id");
    let inactivity = app
        .evaluation_total(&format!("run_id={id}&scenario_type=inactivity"))
        .await;
    assert_eq!(inactivity, 230);
    let fired = app
        .evaluation_total(&format!("run_id={id}&should_notify=true"))
        .await;
    assert_eq!(fired, 230);
}

async fn a_second_run_inside_the_cooldown_dispatches_nothing_new(app: &TestApp) {
    seed(app, 120, 0);
    let first = start(app, &json!({})).await;
    let first = finished(app, &string(&first, "id")).await;
    assert_eq!(first["notifications_dispatched"], 120);

    // A day later: a new local date (a new inactivity key), but inside the
    // 3-day cooldown of the pending reminders.
    app.advance(TimeDelta::days(1));
    let second = start(app, &json!({"batch_size": 40})).await;
    let second = finished(app, &string(&second, "id")).await;
    assert_eq!(second["status"], "success", "{second:#}");
    assert_eq!(second["users_evaluated"], 120);
    assert_eq!(second["notifications_dispatched"], 0);
    let sizes: Vec<i64> = second["batch_results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["user_count"].as_i64().unwrap())
        .collect();
    assert_eq!(sizes, [40, 40, 40]);
    let id = string(&second, "id");
    let cooled = app
        .evaluation_total(&format!(
            "run_id={id}&scenario_type=inactivity&reason_code=cooldown_active"
        ))
        .await;
    assert_eq!(cooled, 120);
}

async fn a_dry_run_records_every_decision_and_enqueues_nothing(app: &TestApp) {
    seed(app, 60, 0);
    let dry = start(app, &json!({"dry_run": true})).await;
    assert_eq!(dry["dry_run"], true);
    let dry = finished(app, &string(&dry, "id")).await;
    assert_eq!(dry["status"], "success");
    assert_eq!(dry["users_evaluated"], 60);
    assert_eq!(dry["notifications_dispatched"], 0);
    let id = string(&dry, "id");
    assert_eq!(
        app.evaluation_total(&format!(
            "run_id={id}&scenario_type=inactivity&dry_run=true"
        ))
        .await,
        60
    );
    // Nothing was enqueued, so a real run right after notifies everyone.
    let real = start(app, &json!({})).await;
    let real = finished(app, &string(&real, "id")).await;
    assert_eq!(real["notifications_dispatched"], 60);
}

async fn a_post_while_a_scenario_run_holds_the_lock_is_409_with_the_holder(app: &TestApp) {
    let holder = hold_scenario_lock(app);
    let r = app
        .post(INVOCATIONS, &json!({"triggered_by": "admin_usr_001"}))
        .await;
    let details = assert_error_with_lock(&r);
    assert_eq!(details["run_id"], holder.as_str());
    assert_eq!(r.body["lock_acquired"], false);
    assert_eq!(r.body["run_id"], holder.as_str());
    // Only the holder exists.
    let list = app.get(INVOCATIONS).await.body;
    assert_eq!(column(&list, "id"), [holder]);
    // An external run takes no lock.
    let external = start(app, &json!({"external": true})).await;
    assert_eq!(external["external"], true);
    assert_eq!(external["status"], "running");
}

/// A lock conflict: 409 `lock_held` with the error body plus the holder at
/// the top level. Returns `details`.
fn assert_error_with_lock(r: &crate::helpers::Resp) -> Value {
    assert_eq!(r.status, StatusCode::CONFLICT, "{:#}", r.body);
    assert_eq!(r.body["error"]["code"], "lock_held");
    assert_keys(&r.body["error"], &["code", "message", "details"]);
    r.body["error"]["details"].clone()
}

async fn the_list_is_newest_first_filtered_by_status_and_paged(app: &TestApp) {
    let mut ids = Vec::new();
    for _ in 0..3 {
        let r = start(app, &json!({"external": true})).await;
        ids.push(string(&r, "id"));
        app.advance(TimeDelta::minutes(1));
    }
    let r = app
        .put(
            &format!("{INVOCATIONS}/{}", ids[0]),
            &json!({"status": "failed", "error_message": "OpenAI rate limit exceeded at batch 2"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);

    let all = app.get(INVOCATIONS).await;
    assert_eq!(all.status, StatusCode::OK);
    assert_keys(&all.body, &["data", "pagination"]);
    assert_eq!(total(&all.body), 3);
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(column(&all.body, "id"), newest_first);
    for row in rows(&all.body) {
        assert_has(
            row,
            &[
                "id",
                "invoked_at",
                "status",
                "users_evaluated",
                "notifications_dispatched",
                "duration_ms",
                "error_message",
            ],
        );
    }
    let failed = app.get(&format!("{INVOCATIONS}?status=failed")).await.body;
    assert_eq!(column(&failed, "id"), [ids[0].clone()]);
    assert_eq!(
        rows(&failed)[0]["error_message"],
        "OpenAI rate limit exceeded at batch 2"
    );
    let page2 = app.get(&format!("{INVOCATIONS}?page=2&limit=2")).await.body;
    assert_eq!(column(&page2, "id"), [ids[0].clone()]);
    assert_eq!(
        page2["pagination"],
        json!({"page": 2, "limit": 2, "total": 3})
    );
    let past = app.get(&format!("{INVOCATIONS}?page=9")).await.body;
    assert!(rows(&past).is_empty());

    let d = assert_error(
        &app.get(&format!("{INVOCATIONS}?status=done")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_value",
    );
    assert!(valid_list(&d).contains(&"running".to_owned()));
    assert_error(
        &app.get(&format!("{INVOCATIONS}?limit=101")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "out_of_range",
    );
    assert_error(
        &app.get(&format!("{INVOCATIONS}?page=x")).await,
        StatusCode::BAD_REQUEST,
        "malformed_query",
    );
}

async fn an_unknown_or_other_kind_of_run_is_404(app: &TestApp) {
    assert_error(
        &app.get(&format!("{INVOCATIONS}/run_nope")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    // A certification run is a run, but no scheduler invocation.
    let job = app
        .create_job("expiry", "0 2 * * *", "certification_expiry_check")
        .await;
    let r = app
        .post(
            &format!("/api/v1/cron/jobs/{}/trigger", string(&job, "job_id")),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:#}", r.body);
    let run_id = string(&r.body, "run_id");
    app.finished_run(&run_id).await;
    for r in [
        app.get(&format!("{INVOCATIONS}/{run_id}")).await,
        app.put(
            &format!("{INVOCATIONS}/{run_id}"),
            &json!({"status": "cancelled"}),
        )
        .await,
        app.delete(&format!("{INVOCATIONS}/{run_id}")).await,
        batch(app, &run_id, &["usr_a"]).await,
    ] {
        assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    }
    assert_eq!(
        total(&app.get(INVOCATIONS).await.body),
        0,
        "no invocation listed"
    );
}

async fn an_external_run_takes_batches_until_it_is_finished_by_put(app: &TestApp) {
    seed(app, 4, 0);
    let run = start(
        app,
        &json!({"external": true, "triggered_by": "orchestrator"}),
    )
    .await;
    let id = string(&run, "id");
    assert_eq!(run["external"], true);

    let first = batch(
        app,
        &id,
        &["usr_gen_0000", "usr_gen_0001", "usr_mentor_5503"],
    )
    .await;
    assert_eq!(first.status, StatusCode::OK, "{:#}", first.body);
    assert_has(
        &first.body,
        &[
            "run_id",
            "batch_index",
            "users_evaluated",
            "notifications_dispatched",
            "duration_ms",
            "results",
        ],
    );
    assert_eq!(first.body["run_id"], id.as_str());
    assert_eq!(first.body["batch_index"], 0);
    assert_eq!(first.body["users_evaluated"], 2);
    assert_eq!(first.body["notifications_dispatched"], 2);
    let results = first.body["results"].as_array().unwrap();
    for r in results {
        assert_has(r, &["user_id", "scenario_type", "notified"]);
    }
    let inactivity: Vec<&Value> = results
        .iter()
        .filter(|r| r["scenario_type"] == "inactivity")
        .collect();
    assert_eq!(inactivity.len(), 2);
    assert!(inactivity.iter().all(|r| r["notified"] == true));
    let unknown = results
        .iter()
        .find(|r| r["user_id"] == "usr_mentor_5503")
        .unwrap();
    assert_eq!(unknown["notified"], false);
    assert_eq!(unknown["reason"], "unknown_user");
    assert_eq!(unknown["reason_code"], "unknown_user");

    let second = batch(app, &id, &["usr_gen_0002"]).await;
    assert_eq!(second.status, StatusCode::OK, "{:#}", second.body);
    assert_eq!(second.body["batch_index"], 1);

    let detail = app.get(&format!("{INVOCATIONS}/{id}")).await.body;
    assert_eq!(detail["status"], "running");
    assert_eq!(detail["users_evaluated"], 3);
    assert_eq!(detail["notifications_dispatched"], 3);
    let sizes: Vec<(i64, i64)> = detail["batch_results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["batch_index"].as_i64().unwrap(),
                b["user_count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(sizes, [(0, 2), (1, 1)], "the unknown id counts nowhere");

    app.advance(TimeDelta::seconds(4));
    let done = app
        .put(
            &format!("{INVOCATIONS}/{id}"),
            &json!({"status": "success"}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{:#}", done.body);
    assert_has(&done.body, &["id", "status", "error_message", "invoked_at"]);
    assert_eq!(done.body["status"], "success");
    assert_eq!(done.body["duration_ms"], 4000);
    assert_eq!(done.body["users_evaluated"], 3, "the totals stay");

    let after = batch(app, &id, &["usr_gen_0003"]).await;
    let d = assert_error(&after, StatusCode::CONFLICT, "run_finished");
    assert_eq!(d["status"], "success");
}

/// An id that names no mentor is a result of its batch, not a mentor
/// evaluated: the batch result's `user_count` counts what the answer's and
/// the run's `users_evaluated` count (a paused mentor is evaluated), so a
/// run's total is the sum of its batches'.
async fn a_batch_result_counts_the_mentors_evaluated_as_the_run_total_does(app: &TestApp) {
    // usr_gen_0000 is active, usr_gen_0001 paused.
    seed(app, 1, 1);
    let run = start(app, &json!({"external": true})).await;
    let id = string(&run, "id");
    let r = batch(app, &id, &["usr_gen_0000", "usr_gen_0001", "usr_nobody"]).await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(r.body["users_evaluated"], 2);
    let results = r.body["results"].as_array().unwrap();
    let unknown: Vec<&Value> = results
        .iter()
        .filter(|r| r["reason_code"] == "unknown_user")
        .collect();
    assert_eq!(unknown.len(), 1, "{results:#?}");
    assert_eq!(unknown[0]["user_id"], "usr_nobody");
    assert!(
        results
            .iter()
            .any(|r| r["user_id"] == "usr_gen_0001" && r["reason_code"] == "mentor_paused"),
        "{results:#?}"
    );

    let detail = app.get(&format!("{INVOCATIONS}/{id}")).await.body;
    assert_eq!(detail["users_evaluated"], 2);
    let counts: Vec<i64> = detail["batch_results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["user_count"].as_i64().unwrap())
        .collect();
    assert_eq!(counts, [2]);
    assert_eq!(
        counts.iter().sum::<i64>(),
        detail["users_evaluated"].as_i64().unwrap()
    );
}

async fn evaluation_batch_refuses_bad_user_id_lists_and_writes_nothing(app: &TestApp) {
    seed(app, 2, 0);
    let id = string(&start(app, &json!({"external": true})).await, "id");
    let path = format!("{INVOCATIONS}/evaluation-batch");
    assert_error(
        &batch(app, &id, &[]).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
    );
    let many: Vec<String> = (0..501).map(|i| format!("usr_{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let d = assert_error(
        &batch(app, &id, &many).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "out_of_range",
    );
    assert_eq!(d["max"], 500);
    let d = assert_error(
        &batch(app, &id, &["usr_gen_0000", "usr_gen_0000"]).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
    );
    assert_eq!(d["duplicate"], "usr_gen_0000");
    let d = assert_error(
        &app.post(&path, &json!({"user_ids": ["usr_gen_0000"]}))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    );
    assert_eq!(d["field"], "run_id");
    assert_error(
        &app.post(&path, &json!({"run_id": id, "user_ids": "usr_gen_0000"}))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    );
    assert_error(
        &app.post(
            &path,
            &json!({"run_id": id, "user_ids": ["usr_gen_0000"], "dry": true}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_field",
    );
    assert_error(
        &app.raw(
            reqwest::Method::POST,
            &path,
            Some("application/json"),
            Some(b"{nope".to_vec()),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    );
    // Nothing was written: the next good batch is still the first.
    let ok = batch(app, &id, &["usr_gen_0000"]).await;
    assert_eq!(ok.status, StatusCode::OK, "{:#}", ok.body);
    assert_eq!(ok.body["batch_index"], 0);
    assert_eq!(
        app.evaluation_total(&format!("run_id={id}&scenario_type=inactivity"))
            .await,
        1
    );
}

async fn evaluation_batch_refuses_unknown_finished_and_service_run_runs(app: &TestApp) {
    seed(app, 1, 0);
    assert_error(
        &batch(app, "run_01HSCHED99", &["usr_gen_0000"]).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let processed = hold_scenario_lock(app);
    let d = assert_error(
        &batch(app, &processed, &["usr_gen_0000"]).await,
        StatusCode::CONFLICT,
        "run_not_external",
    );
    assert_eq!(d["run_id"], processed.as_str());
    let external = string(&start(app, &json!({"external": true})).await, "id");
    let r = app
        .put(
            &format!("{INVOCATIONS}/{external}"),
            &json!({"status": "cancelled"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_error(
        &batch(app, &external, &["usr_gen_0000"]).await,
        StatusCode::CONFLICT,
        "run_finished",
    );
    assert_eq!(
        app.evaluation_total("scenario_type=inactivity").await,
        0,
        "nothing evaluated"
    );
}

async fn evaluation_batch_reports_cooldown_per_user_across_batches(app: &TestApp) {
    seed(app, 2, 0);
    let id = string(&start(app, &json!({"external": true})).await, "id");
    let first = batch(app, &id, &["usr_gen_0000"]).await.body;
    assert_eq!(first["notifications_dispatched"], 1);
    let second = batch(app, &id, &["usr_gen_0000", "usr_gen_0001"])
        .await
        .body;
    assert_eq!(second["batch_index"], 1);
    assert_eq!(second["users_evaluated"], 2);
    assert_eq!(second["notifications_dispatched"], 1);
    let of = |user: &str| {
        second["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["user_id"] == user && r["scenario_type"] == "inactivity")
            .cloned()
            .unwrap()
    };
    assert_eq!(of("usr_gen_0000")["notified"], false);
    assert_eq!(of("usr_gen_0000")["reason"], "cooldown_active");
    assert_eq!(of("usr_gen_0001")["notified"], true);
    assert_eq!(of("usr_gen_0001")["reason"], "threshold_reached");
    let run = app.get(&format!("{INVOCATIONS}/{id}")).await.body;
    assert_eq!(run["users_evaluated"], 3, "each batch adds its users");
    assert_eq!(run["notifications_dispatched"], 2);
}

async fn put_follows_the_state_machine(app: &TestApp) {
    // A run the service processes: cancelled or failed, never success.
    let processed = hold_scenario_lock(app);
    let path = format!("{INVOCATIONS}/{processed}");
    let d = assert_error(
        &app.put(&path, &json!({"status": "success"})).await,
        StatusCode::CONFLICT,
        "invalid_transition",
    );
    assert_eq!(d["to"], "success");
    let noted = app
        .put(&path, &json!({"error_message": "slow upstream"}))
        .await;
    assert_eq!(noted.status, StatusCode::OK, "{:#}", noted.body);
    assert_eq!(noted.body["status"], "running");
    assert_eq!(noted.body["error_message"], "slow upstream");
    let cancelled = app.put(&path, &json!({"status": "cancelled"})).await;
    assert_eq!(cancelled.status, StatusCode::OK, "{:#}", cancelled.body);
    assert_eq!(cancelled.body["status"], "cancelled");
    // The lock is free again.
    let next = start(app, &json!({})).await;
    finished(app, &string(&next, "id")).await;

    // Repeating a finished run's status changes nothing; anything else is a 409.
    let again = app.put(&path, &json!({"status": "cancelled"})).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["completed_at"], cancelled.body["completed_at"]);
    for body in [
        json!({"status": "running"}),
        json!({"status": "success"}),
        json!({"status": "failed"}),
        json!({"error_message": "something else"}),
    ] {
        assert_error(
            &app.put(&path, &body).await,
            StatusCode::CONFLICT,
            "invalid_transition",
        );
    }
    let stored = app.get(&path).await.body;
    assert_eq!(stored["status"], "cancelled");
    assert_eq!(stored["error_message"], "slow upstream");

    // An external run may succeed.
    let external = string(&start(app, &json!({"external": true})).await, "id");
    let ok = app
        .put(
            &format!("{INVOCATIONS}/{external}"),
            &json!({"status": "success"}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.body["status"], "success");
}

async fn put_refuses_bad_bodies_with_422_or_400(app: &TestApp) {
    let id = string(&start(app, &json!({"external": true})).await, "id");
    let path = format!("{INVOCATIONS}/{id}");
    let d = assert_error(
        &app.put(&path, &json!({"status": "done"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_value",
    );
    assert_eq!(
        valid_list(&d),
        ["running", "success", "failed", "cancelled"]
    );
    assert_error(
        &app.put(&path, &json!({"status": "skipped"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_value",
    );
    assert_error(
        &app.put(&path, &json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
    );
    assert_error(
        &app.put(&path, &json!({"status": "failed", "reason": "x"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_field",
    );
    assert_error(
        &app.put(&path, &json!({"status": 3})).await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    );
    assert_error(
        &app.put(&path, &json!({"error_message": "x".repeat(2001)}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
    );
    assert_eq!(
        app.get(&path).await.body["status"],
        "running",
        "nothing changed"
    );
    // The POST's own bounds.
    for (body, code) in [
        (json!({"batch_size": 0}), "out_of_range"),
        (json!({"batch_size": 501}), "out_of_range"),
        (json!({"external": true, "batch_size": 10}), "invalid_value"),
        (json!({"triggered_by": "a\u{7}b"}), "invalid_id"),
        (json!({"force": true}), "unknown_field"),
    ] {
        assert_error(
            &app.post(INVOCATIONS, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
        );
    }
    assert_error(
        &app.post(INVOCATIONS, &json!({"dry_run": "yes"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    );
    assert_eq!(
        total(&app.get(INVOCATIONS).await.body),
        1,
        "no run was started"
    );
}

async fn delete_refuses_a_running_run_and_keeps_the_notifications_of_a_finished_one(app: &TestApp) {
    seed(app, 3, 0);
    let id = string(&start(app, &json!({"external": true})).await, "id");
    let r = batch(app, &id, &["usr_gen_0000", "usr_gen_0001", "usr_gen_0002"]).await;
    assert_eq!(r.body["notifications_dispatched"], 3);
    let path = format!("{INVOCATIONS}/{id}");
    let d = assert_error(
        &app.delete(&path).await,
        StatusCode::CONFLICT,
        "run_running",
    );
    assert_eq!(d["run_id"], id.as_str());
    app.put(&path, &json!({"status": "success"})).await;
    let gone = app.delete(&path).await;
    assert_eq!(gone.status, StatusCode::OK, "{:#}", gone.body);
    assert_eq!(gone.body, json!({"success": true, "deleted_id": id}));
    assert_error(&app.get(&path).await, StatusCode::NOT_FOUND, "not_found");
    assert_error(&app.delete(&path).await, StatusCode::NOT_FOUND, "not_found");
    // Its notifications stay: the next evaluation still sees the cooldown.
    let again = app
        .post(
            &format!("{EVALS}/evaluate/inactivity"),
            &json!({"user_id": "usr_gen_0001"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.body["reason_code"], "cooldown_active");
}

async fn active_peer_mentors_are_paged_in_user_id_order_with_their_total(app: &TestApp) {
    seed(app, 7, 2);
    let path = format!("{INVOCATIONS}/active-peer-mentors");
    let all = app.get(&path).await;
    assert_eq!(all.status, StatusCode::OK, "{:#}", all.body);
    assert_has(&all.body, &["active_peer_mentors", "total"]);
    assert_eq!(all.body["total"], 7, "paused mentors are not active");
    assert_eq!(all.body["limit"], 1000);
    let list = all.body["active_peer_mentors"].as_array().unwrap();
    assert_eq!(list.len(), 7);
    assert_keys(&list[0], &["user_id", "org_id", "last_active_at"]);
    assert_eq!(list[0]["user_id"], "usr_gen_0000");
    assert_eq!(list[0]["org_id"], "org_oslo_01");
    assert_eq!(list[0]["last_active_at"], "2026-03-16T08:00:00Z");
    let ids: Vec<&str> = list
        .iter()
        .map(|m| m["user_id"].as_str().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted);

    let page = app.get(&format!("{path}?limit=3&page=3")).await.body;
    assert_eq!(page["total"], 7);
    assert_eq!(page["active_peer_mentors"].as_array().unwrap().len(), 1);
    assert_eq!(page["active_peer_mentors"][0]["user_id"], "usr_gen_0006");
    let oslo = app.get(&format!("{path}?org_id=org_oslo_01")).await.body;
    assert_eq!(oslo["total"], 4);
    let past = app.get(&format!("{path}?page=5&limit=5000")).await.body;
    assert_eq!(past["total"], 7);
    assert!(past["active_peer_mentors"].as_array().unwrap().is_empty());
}

async fn active_peer_mentors_refuse_limits_out_of_range(app: &TestApp) {
    let path = format!("{INVOCATIONS}/active-peer-mentors");
    for q in ["limit=0", "limit=5001", "page=0"] {
        assert_error(
            &app.get(&format!("{path}?{q}")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "out_of_range",
        );
    }
    for q in ["limit=ten", "status=active"] {
        assert_error(
            &app.get(&format!("{path}?{q}")).await,
            StatusCode::BAD_REQUEST,
            "malformed_query",
        );
    }
}

/// `POST path` with an `Idempotency-Key`: the status, whether the answer
/// was given back from a first request, and the body.
async fn post_with_key(
    app: &TestApp,
    path: &str,
    key: &str,
    body: &Value,
) -> (StatusCode, bool, Value) {
    let r = app
        .http
        .post(format!("{}{path}", app.base))
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    let replayed = r.headers().get("Idempotent-Replayed").is_some();
    (r.status(), replayed, r.json::<Value>().await.unwrap())
}

async fn a_repeated_post_with_the_same_idempotency_key_starts_one_run(app: &TestApp) {
    let body = json!({"external": true, "reason": "nightly orchestrator"});
    let (s1, replayed1, first) = post_with_key(app, INVOCATIONS, "key-1", &body).await;
    assert_eq!(s1, StatusCode::ACCEPTED);
    assert!(!replayed1);
    app.advance(TimeDelta::hours(23));
    let reordered = json!({"reason": "nightly orchestrator", "external": true});
    let (s2, replayed2, second) = post_with_key(app, INVOCATIONS, "key-1", &reordered).await;
    assert_eq!(s2, StatusCode::ACCEPTED);
    assert!(replayed2, "the first answer, given back");
    assert_eq!(second, first);
    assert_eq!(total(&app.get(INVOCATIONS).await.body), 1);

    let (s3, _, reused) =
        post_with_key(app, INVOCATIONS, "key-1", &json!({"external": true})).await;
    assert_eq!(s3, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reused["error"]["code"], "idempotency_key_reused");
    // Past the 24 hours the key is free again.
    app.advance(TimeDelta::hours(2));
    let (s4, replayed4, third) = post_with_key(app, INVOCATIONS, "key-1", &body).await;
    assert_eq!(s4, StatusCode::ACCEPTED);
    assert!(!replayed4);
    assert_ne!(third["id"], first["id"]);
    // A failed request keeps no answer: the key can be used again.
    let (bad, _, _) = post_with_key(app, INVOCATIONS, "key-2", &json!({"batch_size": 0})).await;
    assert_eq!(bad, StatusCode::UNPROCESSABLE_ENTITY);
    let (s5, _, _) = post_with_key(app, INVOCATIONS, "key-2", &json!({"external": true})).await;
    assert_eq!(s5, StatusCode::ACCEPTED);
    let (empty_key, _, e) = post_with_key(app, INVOCATIONS, "", &json!({})).await;
    assert_eq!(empty_key, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["code"], "invalid_value");
    assert_eq!(total(&app.get(INVOCATIONS).await.body), 3);
}

async fn a_repeated_batch_with_the_same_idempotency_key_is_evaluated_once(app: &TestApp) {
    seed(app, 2, 0);
    let id = string(&start(app, &json!({"external": true})).await, "id");
    let body = json!({"run_id": id, "user_ids": ["usr_gen_0000", "usr_gen_0001"]});
    let path = format!("{INVOCATIONS}/evaluation-batch");
    let (s1, _, first) = post_with_key(app, &path, "batch-0", &body).await;
    let (s2, replayed, second) = post_with_key(app, &path, "batch-0", &body).await;
    assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK));
    assert!(replayed);
    assert_eq!(first, second);
    let run = app.get(&format!("{INVOCATIONS}/{id}")).await.body;
    assert_eq!(run["users_evaluated"], 2, "evaluated once");
    assert_eq!(run["batch_results"].as_array().unwrap().len(), 1);
}

async fn the_doubled_contract_paths_answer_like_the_canonical_ones(app: &TestApp) {
    seed(app, 2, 0);
    let r = app
        .post(INVOCATIONS_DOUBLED, &json!({"external": true}))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:#}", r.body);
    let id = string(&r.body, "id");
    let b = app
        .post(
            &format!("{INVOCATIONS_DOUBLED}/evaluation-batch"),
            &json!({"run_id": id, "user_ids": ["usr_gen_0000"]}),
        )
        .await;
    assert_eq!(b.status, StatusCode::OK, "{:#}", b.body);
    let list = app.get(INVOCATIONS_DOUBLED).await.body;
    assert_eq!(total(&list), 1);
    let detail = app.get(&format!("{INVOCATIONS_DOUBLED}/{id}")).await.body;
    assert_eq!(detail["batch_results"].as_array().unwrap().len(), 1);
    let active = app
        .get(&format!("{INVOCATIONS_DOUBLED}/active-peer-mentors"))
        .await
        .body;
    assert_eq!(active["total"], 2);
    let done = app
        .put(
            &format!("{INVOCATIONS_DOUBLED}/{id}"),
            &json!({"status": "success"}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK);
    let gone = app.delete(&format!("{INVOCATIONS_DOUBLED}/{id}")).await;
    assert_eq!(gone.body["deleted_id"], id.as_str());
}

async fn a_run_wakes_the_notification_worker_so_its_reminders_go_out_at_once(app: &TestApp) {
    seed(app, 60, 0);
    // The worker is idle before the run: nothing pending, so it sleeps up
    // to its one-minute poll unless something wakes it.
    let worker = actix_web::rt::spawn(app.delivery.clone().run());
    let run = start(app, &json!({"batch_size": 20})).await;
    let id = string(&run, "id");
    finished(app, &id).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let delivered = app
            .get(&format!(
                "/api/v1/notifications?run_id={id}&status=delivered"
            ))
            .await
            .body;
        if total(&delivered) == 60 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the run's reminders were not delivered within 20 s: {delivered:#}"
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    app.delivery.shutdown();
    worker.await.unwrap();
}
