//! `/api/v1/scenario-trigger-evaluations`: the nine endpoints of the
//! scenario-trigger-evaluations contract (docs/api.md), at the canonical path
//! and at the doubled contract path; the decisions follow docs/rules.md.

use chrono::TimeDelta;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    EVALS, EVALS_DOUBLED, T0, TestApp, api_tests, assert_error, assert_keys, id_of, keys, string,
    total, valid_list,
};

const EVALUATION_KEYS: [&str; 11] = [
    "id",
    "user_id",
    "scenario_type",
    "should_notify",
    "evaluated_at",
    "evaluation_metadata",
    "reason",
    "reason_code",
    "run_id",
    "batch_index",
    "dry_run",
];

const SHOULD_NOTIFY_KEYS: [&str; 8] = [
    "user_id",
    "scenario_type",
    "should_notify",
    "cooldown_satisfied",
    "preference_enabled",
    "evaluated_at",
    "reason",
    "reason_code",
];

const MILESTONE_TYPES: [&str; 4] = [
    "first_session_completed",
    "sessions_10",
    "sessions_50",
    "one_year_active",
];

api_tests!(
    inactivity_evaluation_answers_the_contract_example,
    a_repeated_inactivity_evaluation_inside_the_cooldown_does_not_notify,
    certification_expiry_evaluation_answers_the_contract_example,
    milestone_evaluation_answers_the_contract_example_once,
    a_milestone_reached_without_an_event_is_achieved_at_its_first_evaluation,
    days_inactive_counts_calendar_days_not_24_hour_periods,
    a_mentor_never_active_counts_from_created_at,
    a_paused_mentor_is_never_notified,
    the_generic_create_evaluates_each_scenario_type,
    a_milestone_without_milestone_type_is_422_listing_the_types,
    an_unknown_scenario_type_is_422_listing_the_valid_ones,
    an_unknown_milestone_type_is_422_listing_the_types,
    thresholds_out_of_bounds_are_422_out_of_range,
    lead_times_out_of_bounds_are_422_out_of_range,
    an_evaluation_body_without_user_id_is_400_invalid_body,
    evaluating_an_unknown_user_is_404_not_found,
    a_dry_run_is_recorded_and_does_not_count_for_the_cooldown,
    should_notify_answers_the_contract_example_and_records_nothing,
    should_notify_reports_the_cooldown_after_a_fired_evaluation,
    should_notify_reports_a_disabled_preference,
    should_notify_for_an_unknown_user_is_404,
    should_notify_rejects_bad_parameters,
    evaluations_are_listed_newest_first,
    the_evaluation_list_filters_by_every_documented_field,
    a_malformed_boolean_filter_is_400_malformed_query,
    the_evaluation_list_rejects_pages_and_limits_out_of_bounds,
    an_evaluation_list_page_past_the_end_is_an_empty_200_with_the_total,
    a_cursor_walks_the_evaluation_list_with_its_filters_and_total,
    getting_an_evaluation_returns_it_and_an_unknown_id_is_404,
    overriding_an_evaluation_answers_the_contract_example,
    bad_overrides_are_rejected_and_change_nothing,
    overriding_a_fired_evaluation_to_false_cancels_its_notification,
    deleting_an_evaluation_answers_success_then_404,
    every_evaluation_endpoint_answers_at_the_doubled_contract_path,
);

const USER: &str = "usr_mentor_7821";

async fn evaluate(app: &TestApp, endpoint: &str, body: &Value) -> Value {
    let r = app
        .post(&format!("{EVALS}/evaluate/{endpoint}"), body)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{endpoint}: {:#}", r.body);
    assert_keys(&r.body, &EVALUATION_KEYS);
    r.body
}

async fn should_notify(app: &TestApp, user_id: &str, query: &str) -> Value {
    let r = app
        .get(&format!("{EVALS}/users/{user_id}/should-notify?{query}"))
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "should-notify ?{query}: {:#}",
        r.body
    );
    assert_keys(&r.body, &SHOULD_NOTIFY_KEYS);
    r.body
}

async fn add_certification(app: &TestApp, user_id: &str, id: &str, expires_at: &str) {
    let r = app
        .put(
            &format!("/api/v1/mentors/{user_id}/certifications/{id}"),
            &json!({"name": "Child safety", "expires_at": expires_at, "required": true}),
        )
        .await;
    assert!(r.status.is_success(), "{:#}", r.body);
}

async fn inactivity_evaluation_answers_the_contract_example(app: &TestApp) {
    app.create_mentor(USER).await;
    let body = evaluate(
        app,
        "inactivity",
        &json!({"user_id": USER, "threshold_days": 7}),
    )
    .await;
    assert!(string(&body, "id").starts_with("trg_"), "{body:#}");
    assert_eq!(body["user_id"], USER);
    assert_eq!(body["scenario_type"], "inactivity");
    assert_eq!(body["should_notify"], true);
    assert_eq!(body["evaluated_at"], T0);
    assert_eq!(
        body["evaluation_metadata"],
        json!({"threshold_days": 7, "days_inactive": 9, "last_active_at": "2026-03-16T14:22:00Z"})
    );
    assert_eq!(
        body["reason"],
        "User inactive for 9 days; threshold 7 days; cooldown 3 days satisfied"
    );
    assert_eq!(body["reason_code"], "threshold_reached");
    assert_eq!(body["run_id"], Value::Null);
    assert_eq!(body["dry_run"], false);

    let stored = app.get(&format!("{EVALS}/{}", id_of(&body))).await;
    assert_eq!(stored.status, StatusCode::OK);
    assert_eq!(stored.body, body);
}

async fn a_repeated_inactivity_evaluation_inside_the_cooldown_does_not_notify(app: &TestApp) {
    app.create_mentor(USER).await;
    let first = app.evaluate_inactivity(USER, 7).await;
    assert_eq!(first["should_notify"], true);

    let second = app.evaluate_inactivity(USER, 7).await;
    assert_eq!(second["should_notify"], false);
    assert_eq!(second["reason_code"], "cooldown_active");
    assert_eq!(
        second["evaluation_metadata"]["days_inactive"], 9,
        "the numbers are still reported"
    );
    assert_ne!(second["id"], first["id"]);

    app.advance(TimeDelta::days(3) - TimeDelta::seconds(1));
    let still = app.evaluate_inactivity(USER, 7).await;
    assert_eq!(still["reason_code"], "cooldown_active");

    app.set_now("2026-03-28T08:00:00Z");
    let third = app.evaluate_inactivity(USER, 7).await;
    assert_eq!(third["should_notify"], true, "{third:#}");
    assert_eq!(third["reason_code"], "threshold_reached");
    assert_eq!(third["evaluation_metadata"]["days_inactive"], 12);
    assert_eq!(third["evaluated_at"], "2026-03-28T08:00:00Z");
}

async fn certification_expiry_evaluation_answers_the_contract_example(app: &TestApp) {
    app.set_now("2026-03-26T09:22:00Z");
    app.create_mentor(USER).await;
    add_certification(app, USER, "cert_safety_003", "2026-04-25T00:00:00Z").await;

    let body = evaluate(
        app,
        "certification-expiry",
        &json!({"user_id": USER, "lead_time_days": 30}),
    )
    .await;
    assert_eq!(body["scenario_type"], "certification_expiry");
    assert_eq!(body["should_notify"], true, "{body:#}");
    assert_eq!(body["reason_code"], "expiry_within_lead_time");
    assert_eq!(body["evaluated_at"], "2026-03-26T09:22:00Z");
    let meta = &body["evaluation_metadata"];
    assert_eq!(meta["lead_time_days"], 30);
    assert_eq!(meta["certification_id"], "cert_safety_003");
    assert_eq!(meta["expiry_date"], "2026-04-25T00:00:00Z");
    assert_eq!(meta["days_until_expiry"], 30);

    // A repeated expiry-stage evaluation is already_notified, inside the
    // cooldown or after it (docs/rules.md, "The checks, in order").
    let again = evaluate(
        app,
        "certification-expiry",
        &json!({"user_id": USER, "lead_time_days": 30}),
    )
    .await;
    assert_eq!(again["should_notify"], false);
    assert_eq!(again["reason_code"], "already_notified");

    // A new stage (the lead time itself is one) inside the cooldown waits.
    app.set_now("2026-03-27T09:22:00Z");
    let stage_29 = evaluate(
        app,
        "certification-expiry",
        &json!({"user_id": USER, "lead_time_days": 29}),
    )
    .await;
    assert_eq!(stage_29["evaluation_metadata"]["days_until_expiry"], 29);
    assert_eq!(stage_29["should_notify"], false);
    assert_eq!(stage_29["reason_code"], "cooldown_active");

    app.set_now("2026-03-30T09:22:00Z");
    let stage_30 = evaluate(
        app,
        "certification-expiry",
        &json!({"user_id": USER, "lead_time_days": 30}),
    )
    .await;
    assert_eq!(stage_30["evaluation_metadata"]["days_until_expiry"], 26);
    assert_eq!(stage_30["should_notify"], false);
    assert_eq!(stage_30["reason_code"], "already_notified");

    // Stage 14 is a new reminder.
    app.set_now("2026-04-11T09:22:00Z");
    let stage_14 = evaluate(
        app,
        "certification-expiry",
        &json!({"user_id": USER, "lead_time_days": 30}),
    )
    .await;
    assert_eq!(stage_14["evaluation_metadata"]["days_until_expiry"], 14);
    assert_eq!(stage_14["should_notify"], true, "{stage_14:#}");
}

async fn milestone_evaluation_answers_the_contract_example_once(app: &TestApp) {
    app.create_mentor(USER).await;
    let r = app
        .post(
            &format!("/api/v1/mentors/{USER}/activity"),
            &json!({"occurred_at": "2026-03-26T09:00:00Z", "kind": "session_completed", "event_id": "evt_s1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    app.set_now("2026-03-26T09:21:00Z");

    let body = evaluate(
        app,
        "milestone",
        &json!({"user_id": USER, "milestone_type": "first_session_completed"}),
    )
    .await;
    assert_eq!(body["scenario_type"], "milestone");
    assert_eq!(body["should_notify"], true, "{body:#}");
    assert_eq!(body["reason_code"], "milestone_reached");
    assert_eq!(body["evaluated_at"], "2026-03-26T09:21:00Z");
    assert_eq!(
        body["evaluation_metadata"],
        json!({"milestone_type": "first_session_completed", "achieved_at": "2026-03-26T09:00:00Z", "sessions_count": 1})
    );

    let again = evaluate(
        app,
        "milestone",
        &json!({"user_id": USER, "milestone_type": "first_session_completed"}),
    )
    .await;
    assert_eq!(again["should_notify"], false);
    assert_eq!(again["reason_code"], "already_notified");
    assert_eq!(
        again["evaluation_metadata"]["achieved_at"],
        "2026-03-26T09:00:00Z"
    );

    app.set_now("2026-06-01T09:00:00Z");
    let later = evaluate(
        app,
        "milestone",
        &json!({"user_id": USER, "milestone_type": "first_session_completed"}),
    )
    .await;
    assert_eq!(later["should_notify"], false);
    assert_eq!(later["reason_code"], "already_notified", "once, ever");

    let not_yet = evaluate(
        app,
        "milestone",
        &json!({"user_id": USER, "milestone_type": "sessions_10"}),
    )
    .await;
    assert_eq!(not_yet["should_notify"], false);
    assert_eq!(not_yet["reason_code"], "milestone_not_reached");
    assert_eq!(not_yet["evaluation_metadata"]["achieved_at"], Value::Null);
}

async fn a_milestone_reached_without_an_event_is_achieved_at_its_first_evaluation(app: &TestApp) {
    app.create_mentor_with(
        USER,
        &json!({"org_id": "org_oslo_01", "sessions_count": 12, "first_session_at": "2025-03-01T10:00:00Z"}),
    )
    .await;
    // A dry run sees it reached but records nothing.
    let dry = evaluate(
        app,
        "milestone",
        &json!({"user_id": USER, "milestone_type": "sessions_10", "dry_run": true}),
    )
    .await;
    assert_eq!(dry["evaluation_metadata"]["achieved_at"], T0);

    app.advance(TimeDelta::hours(1));
    let first = evaluate(
        app,
        "milestone",
        &json!({"user_id": USER, "milestone_type": "sessions_10"}),
    )
    .await;
    assert_eq!(first["should_notify"], true, "{first:#}");
    assert_eq!(
        first["evaluation_metadata"],
        json!({"milestone_type": "sessions_10", "achieved_at": "2026-03-25T09:00:00Z", "sessions_count": 12})
    );

    app.advance(TimeDelta::days(5));
    let later = evaluate(
        app,
        "milestone",
        &json!({"user_id": USER, "milestone_type": "sessions_10"}),
    )
    .await;
    assert_eq!(later["reason_code"], "already_notified");
    assert_eq!(
        later["evaluation_metadata"]["achieved_at"], "2026-03-25T09:00:00Z",
        "achieved_at is recorded once"
    );

    // one_year_active is reached on the anniversary of the first session.
    let year = evaluate(
        app,
        "milestone",
        &json!({"user_id": USER, "milestone_type": "one_year_active"}),
    )
    .await;
    assert_eq!(year["should_notify"], true, "{year:#}");
    assert_eq!(
        year["evaluation_metadata"]["achieved_at"],
        "2026-03-01T10:00:00Z"
    );
}

async fn days_inactive_counts_calendar_days_not_24_hour_periods(app: &TestApp) {
    app.create_mentor_with(
        USER,
        &json!({"org_id": "org_oslo_01", "last_active_at": "2026-03-24T23:59:00Z"}),
    )
    .await;
    app.set_now("2026-03-25T00:01:00Z");
    let body = app.evaluate_inactivity(USER, 1).await;
    assert_eq!(body["evaluation_metadata"]["days_inactive"], 1);
    assert_eq!(body["should_notify"], true, "{body:#}");

    let body = app.evaluate_inactivity(USER, 2).await;
    assert_eq!(body["evaluation_metadata"]["days_inactive"], 1);
    assert_eq!(body["reason_code"], "threshold_not_reached");
    assert_eq!(body["should_notify"], false);
}

async fn a_mentor_never_active_counts_from_created_at(app: &TestApp) {
    app.create_mentor_with(
        USER,
        &json!({"org_id": "org_oslo_01", "created_at": "2026-03-10T12:00:00Z"}),
    )
    .await;
    let body = app.evaluate_inactivity(USER, 7).await;
    assert_eq!(
        body["evaluation_metadata"],
        json!({"threshold_days": 7, "days_inactive": 15, "last_active_at": null})
    );
    assert_eq!(body["should_notify"], true);
}

async fn a_paused_mentor_is_never_notified(app: &TestApp) {
    app.create_mentor(USER).await;
    let r = app
        .post(
            &format!("/api/v1/mentors/{USER}/pause"),
            &json!({"reason": "admin"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let body = app.evaluate_inactivity(USER, 7).await;
    assert_eq!(body["should_notify"], false);
    assert_eq!(body["reason_code"], "mentor_paused");
    assert_eq!(body["evaluation_metadata"]["days_inactive"], 9);

    app.delete(&format!("/api/v1/mentors/{USER}/pause")).await;
    app.put(
        &format!("/api/v1/mentors/{USER}"),
        &json!({"status": "inactive"}),
    )
    .await;
    let body = app.evaluate_inactivity(USER, 7).await;
    assert_eq!(body["reason_code"], "mentor_inactive");
}

async fn the_generic_create_evaluates_each_scenario_type(app: &TestApp) {
    app.create_mentor(USER).await;
    add_certification(app, USER, "cert_safety_003", "2026-04-10T00:00:00Z").await;
    let cases = [
        (
            json!({"user_id": USER, "scenario_type": "inactivity", "threshold_days": 7}),
            "inactivity",
            vec!["threshold_days", "days_inactive", "last_active_at"],
        ),
        (
            json!({"user_id": USER, "scenario_type": "milestone", "milestone_type": "first_session_completed"}),
            "milestone",
            vec!["milestone_type", "achieved_at", "sessions_count"],
        ),
        (
            json!({"user_id": USER, "scenario_type": "certification_expiry", "lead_time_days": 30}),
            "certification_expiry",
            vec![
                "lead_time_days",
                "certification_id",
                "expiry_date",
                "days_until_expiry",
            ],
        ),
    ];
    for (request, scenario_type, meta_keys) in cases {
        let r = app.post(EVALS, &request).await;
        assert_eq!(r.status, StatusCode::CREATED, "{request}: {:#}", r.body);
        assert_keys(&r.body, &EVALUATION_KEYS);
        assert_eq!(r.body["scenario_type"], scenario_type);
        assert_eq!(r.body["user_id"], USER);
        let got = keys(&r.body["evaluation_metadata"]);
        for k in meta_keys {
            assert!(got.iter().any(|g| g == k), "{k} in {got:?}");
        }
    }
    let inactivity = app.evaluations("scenario_type=inactivity").await;
    assert_eq!(inactivity["data"][0]["should_notify"], true);
    assert_eq!(
        inactivity["data"][0]["evaluation_metadata"],
        json!({"threshold_days": 7, "days_inactive": 9, "last_active_at": "2026-03-16T14:22:00Z"})
    );
    let expiry = app.evaluations("scenario_type=certification_expiry").await;
    assert_eq!(
        expiry["data"][0]["evaluation_metadata"]["days_until_expiry"],
        16
    );
    assert_eq!(app.evaluation_total("").await, 3);

    // Defaults: threshold 7, lead time 30.
    let r = app
        .post(
            EVALS,
            &json!({"user_id": USER, "scenario_type": "inactivity"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["evaluation_metadata"]["threshold_days"], 7);
    let r = app
        .post(
            EVALS,
            &json!({"user_id": USER, "scenario_type": "certification_expiry"}),
        )
        .await;
    assert_eq!(r.body["evaluation_metadata"]["lead_time_days"], 30);
}

async fn a_milestone_without_milestone_type_is_422_listing_the_types(app: &TestApp) {
    app.create_mentor(USER).await;
    let r = app
        .post(
            EVALS,
            &json!({"user_id": USER, "scenario_type": "milestone"}),
        )
        .await;
    let details = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "missing_field");
    assert_eq!(details["field"], "milestone_type");
    assert_eq!(valid_list(&details), MILESTONE_TYPES);

    let r = app
        .post(
            &format!("{EVALS}/evaluate/milestone"),
            &json!({"user_id": USER}),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_body");
    assert_eq!(app.evaluation_total("").await, 0, "nothing written");
}

async fn an_unknown_scenario_type_is_422_listing_the_valid_ones(app: &TestApp) {
    app.create_mentor(USER).await;
    let r = app
        .post(
            EVALS,
            &json!({"user_id": USER, "scenario_type": "birthday"}),
        )
        .await;
    let details = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_value");
    assert_eq!(details["field"], "scenario_type");
    assert_eq!(details["value"], "birthday");
    assert_eq!(
        valid_list(&details),
        ["inactivity", "milestone", "certification_expiry"]
    );
    assert_eq!(app.evaluation_total("").await, 0);
}

async fn an_unknown_milestone_type_is_422_listing_the_types(app: &TestApp) {
    app.create_mentor(USER).await;
    let r = app
        .post(
            &format!("{EVALS}/evaluate/milestone"),
            &json!({"user_id": USER, "milestone_type": "sessions_7"}),
        )
        .await;
    let details = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_value");
    assert_eq!(details["field"], "milestone_type");
    assert_eq!(valid_list(&details), MILESTONE_TYPES);
    let r = app
        .post(
            EVALS,
            &json!({"user_id": USER, "scenario_type": "milestone", "milestone_type": "sessions_7"}),
        )
        .await;
    let details = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_value");
    assert_eq!(valid_list(&details), MILESTONE_TYPES);
    assert_eq!(app.evaluation_total("").await, 0);
}

async fn thresholds_out_of_bounds_are_422_out_of_range(app: &TestApp) {
    app.create_mentor(USER).await;
    for threshold in [0, 3651, -5] {
        let r = app
            .post(
                &format!("{EVALS}/evaluate/inactivity"),
                &json!({"user_id": USER, "threshold_days": threshold}),
            )
            .await;
        let details = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "out_of_range");
        assert_eq!(details["field"], "threshold_days");
        assert_eq!(details["value"], threshold);
        assert_eq!(details["min"], 1);
        assert_eq!(details["max"], 3650);
        let r = app
            .post(
                EVALS,
                &json!({"user_id": USER, "scenario_type": "inactivity", "threshold_days": threshold}),
            )
            .await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "out_of_range");
    }
    for edge in [1, 3650] {
        let body = app.evaluate_inactivity(USER, edge).await;
        assert_eq!(body["evaluation_metadata"]["threshold_days"], edge);
    }
    assert_eq!(
        app.evaluation_total("").await,
        2,
        "only the in-range calls wrote"
    );
    let r = app
        .post(
            &format!("{EVALS}/evaluate/inactivity"),
            &json!({"user_id": USER, "threshold_days": 7.5}),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_body");
}

async fn lead_times_out_of_bounds_are_422_out_of_range(app: &TestApp) {
    app.create_mentor(USER).await;
    for lead in [-1, 3651] {
        let r = app
            .post(
                &format!("{EVALS}/evaluate/certification-expiry"),
                &json!({"user_id": USER, "lead_time_days": lead}),
            )
            .await;
        let details = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "out_of_range");
        assert_eq!(details["field"], "lead_time_days");
        assert_eq!(details["min"], 0);
        let r = app
            .post(
                EVALS,
                &json!({"user_id": USER, "scenario_type": "certification_expiry", "lead_time_days": lead}),
            )
            .await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "out_of_range");
    }
    assert_eq!(app.evaluation_total("").await, 0);
    let body = evaluate(
        app,
        "certification-expiry",
        &json!({"user_id": USER, "lead_time_days": 0}),
    )
    .await;
    assert_eq!(body["evaluation_metadata"]["lead_time_days"], 0);
    assert_eq!(body["reason_code"], "no_certification");
}

async fn an_evaluation_body_without_user_id_is_400_invalid_body(app: &TestApp) {
    app.create_mentor(USER).await;
    for (path, body) in [
        (EVALS.to_owned(), json!({"scenario_type": "inactivity"})),
        (EVALS.to_owned(), json!({"user_id": USER})),
        (
            format!("{EVALS}/evaluate/inactivity"),
            json!({"threshold_days": 7}),
        ),
        (
            format!("{EVALS}/evaluate/certification-expiry"),
            json!({"user_id": 7821}),
        ),
    ] {
        let r = app.post(&path, &body).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "invalid_body");
    }
    let r = app
        .post(
            &format!("{EVALS}/evaluate/inactivity"),
            &json!({"user_id": USER, "threshold": 7}),
        )
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_field");
    assert_eq!(app.evaluation_total("").await, 0);
}

async fn evaluating_an_unknown_user_is_404_not_found(app: &TestApp) {
    for (path, body) in [
        (
            format!("{EVALS}/evaluate/inactivity"),
            json!({"user_id": "usr_nobody", "threshold_days": 7}),
        ),
        (
            format!("{EVALS}/evaluate/milestone"),
            json!({"user_id": "usr_nobody", "milestone_type": "sessions_10"}),
        ),
        (
            format!("{EVALS}/evaluate/certification-expiry"),
            json!({"user_id": "usr_nobody", "lead_time_days": 30}),
        ),
        (
            EVALS.to_owned(),
            json!({"user_id": "usr_nobody", "scenario_type": "inactivity"}),
        ),
    ] {
        let r = app.post(&path, &body).await;
        let details = assert_error(&r, StatusCode::NOT_FOUND, "not_found");
        assert_eq!(details["user_id"], "usr_nobody", "{path}");
    }
    assert_eq!(app.evaluation_total("").await, 0);
}

async fn a_dry_run_is_recorded_and_does_not_count_for_the_cooldown(app: &TestApp) {
    app.create_mentor(USER).await;
    let dry = evaluate(
        app,
        "inactivity",
        &json!({"user_id": USER, "threshold_days": 7, "dry_run": true}),
    )
    .await;
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["should_notify"], true, "the decision is computed");
    assert_eq!(
        should_notify(app, USER, "").await["cooldown_satisfied"],
        true,
        "a dry run enqueues nothing"
    );

    let real = app.evaluate_inactivity(USER, 7).await;
    assert_eq!(real["dry_run"], false);
    assert_eq!(real["should_notify"], true, "{real:#}");
    assert_eq!(real["reason_code"], "threshold_reached");

    let dry_after = app
        .post(
            EVALS,
            &json!({"user_id": USER, "scenario_type": "inactivity", "dry_run": true}),
        )
        .await;
    assert_eq!(dry_after.status, StatusCode::CREATED);
    assert_eq!(dry_after.body["dry_run"], true);
    assert_eq!(dry_after.body["reason_code"], "cooldown_active");

    // Milestones: a dry run does not use up the once-only key either.
    app.put(
        &format!("/api/v1/mentors/{USER}"),
        &json!({"sessions_count": 1}),
    )
    .await;
    let dry = evaluate(
        app,
        "milestone",
        &json!({"user_id": USER, "milestone_type": "first_session_completed", "dry_run": true}),
    )
    .await;
    assert_eq!(dry["should_notify"], true);
    let real = evaluate(
        app,
        "milestone",
        &json!({"user_id": USER, "milestone_type": "first_session_completed"}),
    )
    .await;
    assert_eq!(real["should_notify"], true, "{real:#}");

    assert_eq!(app.evaluation_total("dry_run=true").await, 3);
    assert_eq!(app.evaluation_total("dry_run=false").await, 2);
}

async fn should_notify_answers_the_contract_example_and_records_nothing(app: &TestApp) {
    app.create_mentor(USER).await;
    app.evaluate_inactivity("usr_mentor_7821", 30).await;
    let before = app.evaluation_total("").await;

    let body = should_notify(app, USER, "").await;
    assert_eq!(
        body,
        json!({
            "user_id": USER,
            "scenario_type": "inactivity",
            "should_notify": true,
            "cooldown_satisfied": true,
            "preference_enabled": true,
            "evaluated_at": T0,
            "reason": "User inactive for 9 days; threshold 7 days; cooldown 3 days satisfied",
            "reason_code": "threshold_reached",
        })
    );
    // Asked twice, it still says yes: nothing was enqueued.
    let again = should_notify(app, USER, "scenario_type=inactivity&threshold_days=7").await;
    assert_eq!(again, body);
    assert_eq!(app.evaluation_total("").await, before, "read-only");

    let milestone = should_notify(
        app,
        USER,
        "scenario_type=milestone&milestone_type=first_session_completed",
    )
    .await;
    assert_eq!(milestone["scenario_type"], "milestone");
    assert_eq!(milestone["reason_code"], "milestone_not_reached");
    let expiry = should_notify(app, USER, "scenario_type=certification_expiry").await;
    assert_eq!(expiry["reason_code"], "no_certification");
    assert_eq!(app.evaluation_total("").await, before, "read-only");
}

async fn should_notify_reports_the_cooldown_after_a_fired_evaluation(app: &TestApp) {
    app.create_mentor(USER).await;
    app.evaluate_inactivity(USER, 7).await;
    let body = should_notify(app, USER, "").await;
    assert_eq!(body["should_notify"], false);
    assert_eq!(body["cooldown_satisfied"], false);
    assert_eq!(body["preference_enabled"], true);
    assert_eq!(body["reason_code"], "cooldown_active");

    app.advance(TimeDelta::days(3));
    let body = should_notify(app, USER, "").await;
    assert_eq!(body["cooldown_satisfied"], true);
    assert_eq!(body["should_notify"], true);
}

async fn should_notify_reports_a_disabled_preference(app: &TestApp) {
    app.create_mentor(USER).await;
    let prefs = format!("/api/v1/mentors/{USER}/preferences");
    app.put(&prefs, &json!({"inactivity": false})).await;
    let body = should_notify(app, USER, "").await;
    assert_eq!(body["preference_enabled"], false);
    assert_eq!(body["should_notify"], false);
    assert_eq!(body["cooldown_satisfied"], true);
    assert_eq!(body["reason_code"], "preference_disabled");

    app.put(&prefs, &json!({"inactivity": true, "all": false}))
        .await;
    let body = should_notify(app, USER, "").await;
    assert_eq!(
        body["preference_enabled"], false,
        "the master switch mutes all"
    );
    let recorded = app.evaluate_inactivity(USER, 7).await;
    assert_eq!(recorded["should_notify"], false);
    assert_eq!(recorded["reason_code"], "preference_disabled");
}

async fn should_notify_for_an_unknown_user_is_404(app: &TestApp) {
    let r = app
        .get(&format!("{EVALS}/users/usr_nobody/should-notify"))
        .await;
    let details = assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(details["user_id"], "usr_nobody");
}

async fn should_notify_rejects_bad_parameters(app: &TestApp) {
    app.create_mentor(USER).await;
    let base = format!("{EVALS}/users/{USER}/should-notify");
    let r = app.get(&format!("{base}?scenario_type=milestone")).await;
    let details = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "missing_field");
    assert_eq!(valid_list(&details), MILESTONE_TYPES);
    let r = app.get(&format!("{base}?scenario_type=birthday")).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_value");
    let r = app
        .get(&format!(
            "{base}?scenario_type=milestone&milestone_type=sessions_7"
        ))
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_value");
    let r = app.get(&format!("{base}?threshold_days=0")).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "out_of_range");
    let r = app.get(&format!("{base}?threshold_days=seven")).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "malformed_query");
    let r = app
        .get(&format!(
            "{base}?scenario_type=certification_expiry&lead_time_days=-1"
        ))
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "out_of_range");
}

/// Five evaluations a minute apart, oldest first:
/// 0 usr_a inactivity fires; 1 usr_a inactivity cooldown_active;
/// 2 usr_b milestone not reached; 3 usr_b inactivity dry run (fires);
/// 4 usr_a certification_expiry no_certification.
async fn five_evaluations(app: &TestApp) -> Vec<String> {
    app.create_mentor("usr_a").await;
    app.create_mentor("usr_b").await;
    let requests = [
        json!({"user_id": "usr_a", "scenario_type": "inactivity"}),
        json!({"user_id": "usr_a", "scenario_type": "inactivity"}),
        json!({"user_id": "usr_b", "scenario_type": "milestone", "milestone_type": "sessions_10"}),
        json!({"user_id": "usr_b", "scenario_type": "inactivity", "dry_run": true}),
        json!({"user_id": "usr_a", "scenario_type": "certification_expiry"}),
    ];
    let mut ids = Vec::new();
    for request in requests {
        let r = app.post(EVALS, &request).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
        ids.push(id_of(&r.body));
        app.advance(TimeDelta::minutes(1));
    }
    ids
}

fn ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .map(|rows| rows.iter().map(id_of).collect())
        .unwrap_or_default()
}

fn newest_first(all: &[String], picks: &[usize]) -> Vec<String> {
    let mut v: Vec<String> = picks.iter().map(|&i| all[i].clone()).collect();
    v.reverse();
    v
}

async fn evaluations_are_listed_newest_first(app: &TestApp) {
    let mut created = five_evaluations(app).await;
    // Three more within one second: the id breaks the tie.
    for _ in 0..3 {
        let r = app
            .post(
                EVALS,
                &json!({"user_id": "usr_b", "scenario_type": "certification_expiry"}),
            )
            .await;
        created.push(id_of(&r.body));
    }
    let list = app.evaluations("").await;
    assert_keys(&list, &["data", "pagination"]);
    assert_eq!(
        list["pagination"],
        json!({"page": 1, "limit": 20, "total": 8})
    );
    assert_keys(&list["data"][0], &EVALUATION_KEYS);
    let mut expected = created.clone();
    expected.reverse();
    assert_eq!(ids(&list), expected);
}

async fn the_evaluation_list_filters_by_every_documented_field(app: &TestApp) {
    let all = five_evaluations(app).await;
    let cases: [(&str, &[usize]); 13] = [
        ("user_id=usr_a", &[0, 1, 4]),
        ("user_id=usr_b", &[2, 3]),
        ("user_id=usr_nobody", &[]),
        ("scenario_type=inactivity", &[0, 1, 3]),
        ("scenario_type=milestone", &[2]),
        ("should_notify=true", &[0, 3]),
        ("should_notify=false", &[1, 2, 4]),
        ("reason_code=cooldown_active", &[1]),
        ("reason_code=threshold_reached", &[0, 3]),
        ("dry_run=true", &[3]),
        ("dry_run=false", &[0, 1, 2, 4]),
        (
            "from=2026-03-25T08:01:00Z&to=2026-03-25T10:03:00%2B02:00",
            &[1, 2, 3],
        ),
        (
            "user_id=usr_a&scenario_type=inactivity&should_notify=false",
            &[1],
        ),
    ];
    for (query, picks) in cases {
        let list = app.evaluations(query).await;
        assert_eq!(ids(&list), newest_first(&all, picks), "?{query}");
        assert_eq!(total(&list), picks.len() as u64, "?{query}");
    }
    let r = app.get(&format!("{EVALS}?reason_code=bogus")).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_value");
    let r = app.get(&format!("{EVALS}?scenario_type=birthday")).await;
    let details = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_value");
    assert_eq!(
        valid_list(&details),
        ["inactivity", "milestone", "certification_expiry"]
    );
    let r = app.get(&format!("{EVALS}?from=yesterday")).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value");
}

async fn a_malformed_boolean_filter_is_400_malformed_query(app: &TestApp) {
    for query in ["should_notify=maybe", "dry_run=1", "should_notify=TRUE"] {
        let r = app.get(&format!("{EVALS}?{query}")).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "malformed_query");
    }
}

async fn the_evaluation_list_rejects_pages_and_limits_out_of_bounds(app: &TestApp) {
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("page=0", "page"),
        ("page=-1", "page"),
    ] {
        let r = app.get(&format!("{EVALS}?{query}")).await;
        let details = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "out_of_range");
        assert_eq!(details["field"], field, "?{query}");
    }
    for query in ["limit=abc", "page=1.5", "limit="] {
        let r = app.get(&format!("{EVALS}?{query}")).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "malformed_query");
    }
    let ok = app.evaluations("limit=100&page=1").await;
    assert_eq!(ok["pagination"]["limit"], 100);
}

async fn a_cursor_walks_the_evaluation_list_with_its_filters_and_total(app: &TestApp) {
    let all = five_evaluations(app).await;
    // Page by page through `after`, the last id of each page: the same
    // rows, in the same order, as the whole list.
    let mut walked: Vec<String> = Vec::new();
    let mut query = "limit=2".to_owned();
    loop {
        let page = app.evaluations(&query).await;
        assert_eq!(
            page["pagination"],
            json!({"page": 1, "limit": 2, "total": 5}),
            "?{query}"
        );
        let got = ids(&page);
        let Some(last) = got.last().cloned() else {
            break;
        };
        walked.extend(got);
        query = format!("limit=2&after={last}");
    }
    assert_eq!(walked, newest_first(&all, &[0, 1, 2, 3, 4]));
    // With a filter: its rows after the cursor, its total.
    let after_newest = app
        .evaluations(&format!("user_id=usr_a&after={}", all[4]))
        .await;
    assert_eq!(ids(&after_newest), newest_first(&all, &[0, 1]));
    assert_eq!(total(&after_newest), 3);
    // Pages count from the cursor.
    let second = app
        .evaluations(&format!("limit=2&page=2&after={}", all[4]))
        .await;
    assert_eq!(ids(&second), newest_first(&all, &[0, 1]));
    // A cursor is an id.
    let r = app.get(&format!("{EVALS}?after=")).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_id");
}

async fn an_evaluation_list_page_past_the_end_is_an_empty_200_with_the_total(app: &TestApp) {
    let all = five_evaluations(app).await;
    let page2 = app.evaluations("limit=2&page=2").await;
    assert_eq!(ids(&page2), newest_first(&all, &[1, 2]));
    assert_eq!(
        page2["pagination"],
        json!({"page": 2, "limit": 2, "total": 5})
    );
    let page3 = app.evaluations("limit=2&page=3").await;
    assert_eq!(ids(&page3), [all[0].clone()]);
    let past = app.evaluations("limit=2&page=4").await;
    assert_eq!(
        past,
        json!({"data": [], "pagination": {"page": 4, "limit": 2, "total": 5}})
    );
}

async fn getting_an_evaluation_returns_it_and_an_unknown_id_is_404(app: &TestApp) {
    app.create_mentor(USER).await;
    let created = app.evaluate_inactivity(USER, 7).await;
    let r = app.get(&format!("{EVALS}/{}", id_of(&created))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, created);
    let r = app.get(&format!("{EVALS}/trg_01HXYZ123")).await;
    let details = assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(details["resource"], "evaluation");
    assert_eq!(details["id"], "trg_01HXYZ123");
}

async fn overriding_an_evaluation_answers_the_contract_example(app: &TestApp) {
    app.create_mentor(USER).await;
    let created = app.evaluate_inactivity(USER, 7).await;
    let id = id_of(&created);
    app.advance(TimeDelta::hours(1));
    let r = app
        .put(
            &format!("{EVALS}/{id}"),
            &json!({
                "should_notify": false,
                "evaluation_metadata": {"threshold_days": 7, "days_inactive": 9, "override_reason": "manual_suppression"},
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_keys(&r.body, &EVALUATION_KEYS);
    assert_eq!(r.body["id"], id.as_str());
    assert_eq!(r.body["user_id"], USER);
    assert_eq!(r.body["scenario_type"], "inactivity");
    assert_eq!(r.body["should_notify"], false);
    assert_eq!(r.body["evaluated_at"], T0, "evaluated_at is kept");
    assert_eq!(
        r.body["evaluation_metadata"],
        json!({"threshold_days": 7, "days_inactive": 9, "override_reason": "manual_suppression"})
    );
    assert_eq!(app.get(&format!("{EVALS}/{id}")).await.body, r.body);

    // Metadata alone: should_notify is kept.
    let r = app
        .put(
            &format!("{EVALS}/{id}"),
            &json!({"evaluation_metadata": {"note": "checked"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["should_notify"], false);
    assert_eq!(r.body["evaluation_metadata"], json!({"note": "checked"}));
}

async fn bad_overrides_are_rejected_and_change_nothing(app: &TestApp) {
    app.create_mentor(USER).await;
    let created = app.evaluate_inactivity(USER, 7).await;
    let path = format!("{EVALS}/{}", id_of(&created));
    let cases = [
        (json!({}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_value"),
        (
            json!({"evaluation_metadata": [1, 2]}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            json!({"evaluation_metadata": "suppressed"}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            json!({"should_notify": "no"}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            json!({"should_notify": false, "reason": "manual"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_field",
        ),
    ];
    for (body, status, code) in cases {
        let r = app.put(&path, &body).await;
        assert_error(&r, status, code);
    }
    assert_eq!(app.get(&path).await.body, created, "nothing half-written");
    assert_eq!(
        should_notify(app, USER, "").await["cooldown_satisfied"],
        false,
        "the notification is still pending"
    );
    let r = app
        .put(
            &format!("{EVALS}/trg_01HXYZ123"),
            &json!({"should_notify": false}),
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
}

async fn overriding_a_fired_evaluation_to_false_cancels_its_notification(app: &TestApp) {
    app.create_mentor(USER).await;
    let fired = app.evaluate_inactivity(USER, 7).await;
    assert_eq!(
        should_notify(app, USER, "").await["cooldown_satisfied"],
        false
    );
    let r = app
        .put(
            &format!("{EVALS}/{}", id_of(&fired)),
            &json!({"should_notify": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(
        r.body["evaluation_metadata"], fired["evaluation_metadata"],
        "metadata kept"
    );
    let after = should_notify(app, USER, "").await;
    assert_eq!(after["cooldown_satisfied"], true, "{after:#}");
    // Today's once-only key stays taken: the suppressed reminder is not re-sent today.
    assert_eq!(after["reason_code"], "already_notified");

    // Setting it back to true never enqueues.
    let r = app
        .put(
            &format!("{EVALS}/{}", id_of(&fired)),
            &json!({"should_notify": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["should_notify"], true);
    assert_eq!(
        should_notify(app, USER, "").await["cooldown_satisfied"],
        true
    );

    // The next day it fires, although a live notification would still hold the 3-day cooldown.
    app.advance(TimeDelta::days(1));
    let next_day = app.evaluate_inactivity(USER, 7).await;
    assert_eq!(next_day["should_notify"], true, "{next_day:#}");
    assert_eq!(next_day["reason_code"], "threshold_reached");
}

async fn deleting_an_evaluation_answers_success_then_404(app: &TestApp) {
    app.create_mentor(USER).await;
    let fired = app.evaluate_inactivity(USER, 7).await;
    let other = app.evaluate_inactivity(USER, 7).await;
    let id = id_of(&fired);
    let r = app.delete(&format!("{EVALS}/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(r.body, json!({"success": true, "deleted_id": id}));
    assert_error(
        &app.get(&format!("{EVALS}/{id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &app.delete(&format!("{EVALS}/{id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_eq!(ids(&app.evaluations("").await), [id_of(&other)]);
    // The notification it enqueued stays, so the cooldown still holds.
    assert_eq!(
        should_notify(app, USER, "").await["cooldown_satisfied"],
        false
    );
}

/// Sends the same request to the canonical and the doubled path; both must
/// answer the same status with the same shape. Returns both bodies.
async fn both_paths(
    app: &TestApp,
    method: Method,
    suffix: &str,
    body: Option<&Value>,
    status: StatusCode,
) -> (Value, Value) {
    let mut answers = Vec::new();
    for base in [EVALS, EVALS_DOUBLED] {
        let bytes = body.map(|b| b.to_string().into_bytes());
        let r = app
            .raw(
                method.clone(),
                &format!("{base}{suffix}"),
                Some("application/json"),
                bytes,
            )
            .await;
        assert_eq!(r.status, status, "{method} {base}{suffix}: {:#}", r.body);
        answers.push(r.body);
    }
    let doubled = answers.pop().unwrap_or_default();
    let canonical = answers.pop().unwrap_or_default();
    assert_eq!(
        keys(&canonical),
        keys(&doubled),
        "{method} {suffix}: same shape"
    );
    (canonical, doubled)
}

async fn every_evaluation_endpoint_answers_at_the_doubled_contract_path(app: &TestApp) {
    app.create_mentor(USER).await;
    app.put(
        &format!("/api/v1/mentors/{USER}"),
        &json!({"sessions_count": 1}),
    )
    .await;
    add_certification(app, USER, "cert_safety_003", "2026-04-24T00:00:00Z").await;

    // 1-4: the three evaluate/* and the generic create.
    let (inactivity, doubled) = both_paths(
        app,
        Method::POST,
        "/evaluate/inactivity",
        Some(&json!({"user_id": USER, "threshold_days": 7})),
        StatusCode::CREATED,
    )
    .await;
    assert_keys(&doubled, &EVALUATION_KEYS);
    assert_eq!(doubled["scenario_type"], "inactivity");
    assert_eq!(
        keys(&inactivity["evaluation_metadata"]),
        keys(&doubled["evaluation_metadata"])
    );
    let (_, doubled) = both_paths(
        app,
        Method::POST,
        "/evaluate/milestone",
        Some(&json!({"user_id": USER, "milestone_type": "first_session_completed"})),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(doubled["scenario_type"], "milestone");
    let (_, doubled) = both_paths(
        app,
        Method::POST,
        "/evaluate/certification-expiry",
        Some(&json!({"user_id": USER, "lead_time_days": 30})),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(doubled["scenario_type"], "certification_expiry");
    assert_eq!(
        doubled["evaluation_metadata"]["certification_id"],
        "cert_safety_003"
    );
    let (created, doubled) = both_paths(
        app,
        Method::POST,
        "",
        Some(&json!({"user_id": USER, "scenario_type": "inactivity"})),
        StatusCode::CREATED,
    )
    .await;
    assert!(string(&doubled, "id").starts_with("trg_"));

    // 5: list.
    let (list, doubled) = both_paths(app, Method::GET, "?limit=5", None, StatusCode::OK).await;
    assert_eq!(list, doubled);
    assert_eq!(total(&doubled), 8);

    // 6: get.
    let id = id_of(&created);
    let (one, doubled) =
        both_paths(app, Method::GET, &format!("/{id}"), None, StatusCode::OK).await;
    assert_eq!(one, doubled);

    // 7: should-notify.
    let (answer, doubled) = both_paths(
        app,
        Method::GET,
        &format!("/users/{USER}/should-notify"),
        None,
        StatusCode::OK,
    )
    .await;
    assert_eq!(answer, doubled);
    assert_keys(&doubled, &SHOULD_NOTIFY_KEYS);

    // 8: override.
    let (_, doubled) = both_paths(
        app,
        Method::PUT,
        &format!("/{id}"),
        Some(&json!({"should_notify": false, "evaluation_metadata": {"override_reason": "manual_suppression"}})),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        doubled["evaluation_metadata"],
        json!({"override_reason": "manual_suppression"})
    );

    // 9: delete, once at each path.
    let canonical = app.delete(&format!("{EVALS}/{id}")).await;
    assert_eq!(canonical.status, StatusCode::OK);
    let other = id_of(&inactivity);
    let doubled = app.delete(&format!("{EVALS_DOUBLED}/{other}")).await;
    assert_eq!(doubled.status, StatusCode::OK, "{:#}", doubled.body);
    assert_eq!(doubled.body, json!({"success": true, "deleted_id": other}));
    assert_eq!(keys(&canonical.body), keys(&doubled.body));

    // Errors look the same at both paths too.
    let missing = app.get(&format!("{EVALS_DOUBLED}/{id}")).await;
    assert_error(&missing, StatusCode::NOT_FOUND, "not_found");
    let r = app
        .post(
            &format!("{EVALS_DOUBLED}/evaluate/inactivity"),
            &json!({"user_id": USER, "threshold_days": 0}),
        )
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "out_of_range");
}
