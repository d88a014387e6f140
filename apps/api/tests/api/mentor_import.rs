//! `POST /api/v1/mentors/import` (docs/api.md, "NDJSON import"): all
//! or nothing, line numbers in the 422, the content type, the body limits,
//! and a mentor's history surviving an update.

// Test code: a malformed answer is a failed test, so panicking is the point.
#![allow(clippy::expect_used)]

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    Backend, EVALS, T0, TestApp, api_tests, assert_error, assert_keys, spawn_app_with, total,
};

api_tests!(
    an_import_creates_new_mentors_updates_existing_ones_and_counts_each,
    an_import_updates_only_the_fields_a_line_gives,
    an_import_keeps_a_mentors_evaluations_notifications_milestones_and_activity,
    an_import_creates_or_replaces_listed_certifications_and_keeps_the_others,
    an_import_patches_preferences_like_the_preferences_put,
    a_bad_first_middle_or_last_line_is_422_with_its_number_and_writes_nothing,
    each_bad_line_carries_the_error_its_single_endpoint_would_give,
    more_than_100_bad_lines_list_the_first_100_and_say_more_were_cut,
    a_user_id_twice_in_one_file_fails_the_later_line,
    an_import_follows_the_paused_mentor_rules_of_the_put,
    a_new_mentor_without_org_id_is_a_bad_line,
    blank_lines_are_skipped_and_still_counted,
    an_empty_file_imports_nothing,
    another_content_type_is_415_and_writes_nothing,
    a_declared_length_over_256_mib_is_413_before_the_body_is_read,
    a_file_over_the_1_mib_json_limit_imports_fine,
    a_line_over_the_json_body_limit_is_a_bad_line,
    the_import_path_leaves_a_mentor_named_import_reachable,
);

const IMPORT: &str = "/api/v1/mentors/import";

/// NDJSON of the given lines.
fn ndjson(lines: &[Value]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// Every mentor, as the list shows them (up to 100).
async fn all_mentors(app: &TestApp) -> Value {
    let r = app.get("/api/v1/mentors?limit=100").await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    r.body
}

/// Asserts an import answer of 200 with these counts.
fn assert_imported(r: &crate::helpers::Resp, created: u64, updated: u64) {
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(
        r.body,
        json!({"imported": created + updated, "created": created, "updated": updated})
    );
}

/// The `details` of a 422 `invalid_lines`, after checking its shape.
fn invalid_lines(r: &crate::helpers::Resp) -> Value {
    let details = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_lines");
    assert_keys(&details, &["errors", "error_count", "truncated"]);
    for e in details["errors"].as_array().expect("errors is a list") {
        assert_keys(e, &["line", "error"]);
        assert_keys(&e["error"], &["code", "message", "details"]);
    }
    details
}

/// `(line, code)` of each listed error.
fn line_codes(details: &Value) -> Vec<(u64, String)> {
    details["errors"]
        .as_array()
        .expect("errors is a list")
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().expect("line is a number"),
                e["error"]["code"]
                    .as_str()
                    .expect("code is a string")
                    .to_owned(),
            )
        })
        .collect()
}

async fn an_import_creates_new_mentors_updates_existing_ones_and_counts_each(app: &TestApp) {
    app.create_mentor("usr_existing").await;
    let body = ndjson(&[
        json!({"user_id": "usr_new_1", "org_id": "org_oslo_01", "last_active_at": "2026-03-16T14:22:00Z"}),
        json!({"user_id": "usr_existing", "sessions_count": 4}),
        json!({"user_id": "usr_new_2", "org_id": "org_bergen_02", "status": "inactive", "created_at": "2025-01-10T00:00:00+01:00"}),
    ]);

    let r = app.import(body).await;

    assert_imported(&r, 2, 1);
    let list = all_mentors(app).await;
    assert_eq!(total(&list), 3);
    let new_1 = app.mentor("usr_new_1").await.body;
    assert_eq!(new_1["org_id"], "org_oslo_01");
    assert_eq!(new_1["status"], "active");
    assert_eq!(new_1["last_active_at"], "2026-03-16T14:22:00Z");
    assert_eq!(new_1["created_at"], T0);
    let new_2 = app.mentor("usr_new_2").await.body;
    assert_eq!(new_2["status"], "inactive");
    assert_eq!(new_2["created_at"], "2025-01-09T23:00:00Z");
    let existing = app.mentor("usr_existing").await.body;
    assert_eq!(existing["sessions_count"], 4);

    // The same file again: every mentor exists now.
    let again = app
        .import(ndjson(&[
            json!({"user_id": "usr_new_1"}),
            json!({"user_id": "usr_existing"}),
            json!({"user_id": "usr_new_2"}),
        ]))
        .await;
    assert_imported(&again, 0, 3);
}

async fn an_import_updates_only_the_fields_a_line_gives(app: &TestApp) {
    let before = app
        .create_mentor_with(
            "usr_mentor_7821",
            &json!({"org_id": "org_oslo_01", "last_active_at": "2026-03-16T14:22:00Z",
                    "sessions_count": 12, "first_session_at": "2025-02-01T17:00:00Z",
                    "created_at": "2025-01-10T00:00:00Z"}),
        )
        .await;
    app.advance(chrono::TimeDelta::hours(1));

    let r = app
        .import(ndjson(&[json!({
            "user_id": "usr_mentor_7821", "org_id": "org_bergen_02",
            "created_at": "2020-01-01T00:00:00Z"
        })]))
        .await;

    assert_imported(&r, 0, 1);
    let after = app.mentor("usr_mentor_7821").await.body;
    let mut expected = before.clone();
    expected["org_id"] = json!("org_bergen_02");
    expected["updated_at"] = json!("2026-03-25T09:00:00Z");
    assert_eq!(
        after, expected,
        "created_at is for creates only, as in the PUT"
    );
}

async fn an_import_keeps_a_mentors_evaluations_notifications_milestones_and_activity(
    app: &TestApp,
) {
    app.create_mentor("usr_mentor_7821").await;
    let activity = json!({"occurred_at": "2026-03-10T17:00:00Z", "kind": "session_completed", "event_id": "ev_1"});
    let r = app
        .post("/api/v1/mentors/usr_mentor_7821/activity", &activity)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    let milestone =
        json!({"user_id": "usr_mentor_7821", "milestone_type": "first_session_completed"});
    let fired = app
        .post(&format!("{EVALS}/evaluate/milestone"), &milestone)
        .await;
    assert_eq!(fired.body["should_notify"], true, "{:#}", fired.body);
    app.advance(chrono::TimeDelta::days(4));
    assert_eq!(
        app.evaluate_inactivity("usr_mentor_7821", 7).await["should_notify"],
        true
    );

    let r = app
        .import(ndjson(&[
            json!({"user_id": "usr_mentor_7821", "org_id": "org_bergen_02", "last_active_at": "2026-03-01T00:00:00Z"}),
        ]))
        .await;
    assert_imported(&r, 0, 1);

    // The evaluations are still listed, and their notifications still count:
    // the inactivity cooldown holds and the milestone stays once-only.
    assert_eq!(app.evaluation_total("user_id=usr_mentor_7821").await, 2);
    let again = app.evaluate_inactivity("usr_mentor_7821", 7).await;
    assert_eq!(again["reason_code"], "cooldown_active", "{again:#}");
    let again = app
        .post(&format!("{EVALS}/evaluate/milestone"), &milestone)
        .await;
    assert_eq!(
        again.body["reason_code"], "already_notified",
        "{:#}",
        again.body
    );
    // The activity event is remembered: the same event is a replay.
    let replay = app
        .post("/api/v1/mentors/usr_mentor_7821/activity", &activity)
        .await;
    assert_eq!(replay.status, StatusCode::OK, "{:#}", replay.body);
    let m = app.mentor("usr_mentor_7821").await.body;
    assert_eq!(m["sessions_count"], 1, "kept: the line gave no count");
    assert_eq!(m["org_id"], "org_bergen_02");
}

async fn an_import_creates_or_replaces_listed_certifications_and_keeps_the_others(app: &TestApp) {
    app.create_mentor("usr_mentor_7821").await;
    app.certify(
        "usr_mentor_7821",
        "cert_first_aid",
        "2027-01-01T00:00:00Z",
        false,
    )
    .await;
    app.certify(
        "usr_mentor_7821",
        "cert_safety_003",
        "2026-04-10T00:00:00Z",
        true,
    )
    .await;

    let r = app
        .import(ndjson(&[
            json!({"user_id": "usr_mentor_7821", "certifications": [
                {"certification_id": "cert_safety_003", "name": "Child safety", "expires_at": "2027-04-10T00:00:00+02:00", "required": true},
                {"certification_id": "cert_mentoring", "name": "Mentoring", "expires_at": "2027-06-01T00:00:00Z", "issued_at": "2026-01-01T00:00:00Z"},
            ]}),
            json!({"user_id": "usr_new", "org_id": "org_oslo_01", "certifications": [
                {"certification_id": "cert_first_aid", "name": "First aid", "expires_at": "2026-12-01T00:00:00Z"},
            ]}),
        ]))
        .await;

    assert_imported(&r, 1, 1);
    let certs = app.mentor("usr_mentor_7821").await.body["certifications"].clone();
    assert_eq!(
        certs,
        json!([
            {"certification_id": "cert_first_aid", "name": "Safeguarding", "issued_at": null, "expires_at": "2027-01-01T00:00:00Z", "required": false},
            {"certification_id": "cert_mentoring", "name": "Mentoring", "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-06-01T00:00:00Z", "required": false},
            {"certification_id": "cert_safety_003", "name": "Child safety", "issued_at": null, "expires_at": "2027-04-09T22:00:00Z", "required": true},
        ])
    );
    let new = app.mentor("usr_new").await.body;
    assert_eq!(
        new["certifications"][0]["certification_id"],
        "cert_first_aid"
    );
}

async fn an_import_patches_preferences_like_the_preferences_put(app: &TestApp) {
    app.create_mentor("usr_mentor_7821").await;
    let r = app
        .put(
            "/api/v1/mentors/usr_mentor_7821/preferences",
            &json!({"inactivity": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);

    let r = app
        .import(ndjson(&[
            json!({"user_id": "usr_mentor_7821", "preferences": {"milestone": false}}),
            json!({"user_id": "usr_new", "org_id": "org_oslo_01", "preferences": {"all": false}}),
        ]))
        .await;

    assert_imported(&r, 1, 1);
    assert_eq!(
        app.mentor("usr_mentor_7821").await.body["preferences"],
        json!({"inactivity": false, "milestone": false, "certification_expiry": true, "all": true})
    );
    assert_eq!(
        app.mentor("usr_new").await.body["preferences"],
        json!({"inactivity": true, "milestone": true, "certification_expiry": true, "all": false})
    );
}

async fn a_bad_first_middle_or_last_line_is_422_with_its_number_and_writes_nothing(app: &TestApp) {
    let before = app.create_mentor("usr_existing").await;
    let good = |i: usize| json!({"user_id": format!("usr_{i:04}"), "org_id": "org_oslo_01"});
    let bad = json!({"user_id": "usr_bad", "org_id": "org_oslo_01", "sessions_count": -1});
    // 2,500 lines, so the import spans several chunks of the write pass.
    for at in [0, 1_800, 2_499] {
        let mut lines: Vec<Value> = (0..2_500).map(good).collect();
        lines[1] = json!({"user_id": "usr_existing", "sessions_count": 3});
        lines[at] = bad.clone();

        let r = app.import(ndjson(&lines)).await;

        let details = invalid_lines(&r);
        assert_eq!(
            line_codes(&details),
            [(at as u64 + 1, "out_of_range".to_owned())]
        );
        assert_eq!(details["error_count"], 1);
        assert_eq!(details["truncated"], false);
        assert_eq!(
            details["errors"][0]["error"]["details"],
            json!({"field": "sessions_count", "value": -1, "min": 0, "max": 10_000_000})
        );
        assert_eq!(
            total(&all_mentors(app).await),
            1,
            "nothing written (bad line {at})"
        );
        assert_eq!(app.mentor("usr_existing").await.body, before);
    }
}

async fn each_bad_line_carries_the_error_its_single_endpoint_would_give(app: &TestApp) {
    let lines = [
        r#"{"user_id": "usr_a", "org_id": "org_oslo_01"}"#,
        r#"{"user_id": "usr_b", "org_id": "org_oslo_01""#,
        r#"{"user_id": "usr_c", "org_id": "org_oslo_01", "colour": "red"}"#,
        r#"{"user_id": "usr_d", "org_id": "org_oslo_01", "sessions_count": "3"}"#,
        r#"{"org_id": "org_oslo_01"}"#,
        r#"{"user_id": "usr_f", "org_id": "org_oslo_01", "status": "on_leave"}"#,
        r#"{"user_id": "usr_g", "org_id": "org_oslo_01", "status": "paused"}"#,
        r#"{"user_id": "usr_h", "org_id": "org_oslo_01", "last_active_at": "yesterday"}"#,
        r#"{"user_id": "", "org_id": "org_oslo_01"}"#,
        r#"{"user_id": "usr_j", "org_id": "org_oslo_01", "certifications": [{"certification_id": "cert_a", "expires_at": "2027-01-01T00:00:00Z"}]}"#,
        r#"{"user_id": "usr_k", "org_id": "org_oslo_01", "certifications": [{"certification_id": "cert_a", "name": "", "expires_at": "2027-01-01T00:00:00Z"}]}"#,
        r#"{"user_id": "usr_l", "org_id": "org_oslo_01", "certifications": [{"certification_id": "cert_a", "name": "A", "expires_at": "2027-01-01T00:00:00Z"}, {"certification_id": "cert_a", "name": "B", "expires_at": "2027-01-01T00:00:00Z"}]}"#,
        r#"{"user_id": "usr_m", "org_id": "org_oslo_01", "preferences": {"all": "no"}}"#,
        r#"{"user_id": "usr_n", "org_id": "org_oslo_01", "preferences": {"sms": false}}"#,
        r#"[1, 2, 3]"#,
    ];
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();

    let r = app.import(body).await;

    let details = invalid_lines(&r);
    let expected: Vec<(u64, String)> = [
        (2, "invalid_body"),
        (3, "unknown_field"),
        (4, "invalid_body"),
        (5, "invalid_body"),
        (6, "unknown_value"),
        (7, "invalid_value"),
        (8, "invalid_value"),
        (9, "invalid_id"),
        (10, "invalid_body"),
        (11, "invalid_value"),
        (12, "invalid_value"),
        (13, "invalid_body"),
        (14, "unknown_field"),
        (15, "invalid_body"),
    ]
    .into_iter()
    .map(|(l, c)| (l, c.to_owned()))
    .collect();
    assert_eq!(line_codes(&details), expected, "{details:#}");
    assert_eq!(details["error_count"], 14);
    let errors = &details["errors"];
    assert_eq!(errors[3]["error"]["details"], json!({"field": "user_id"}));
    assert_eq!(
        errors[4]["error"]["details"]["valid"],
        json!(["active", "paused", "inactive"])
    );
    assert_eq!(
        errors[8]["error"]["details"],
        json!({"field": "certifications[0]"})
    );
    assert!(
        errors[8]["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("`name`"))
    );
    assert_eq!(errors[9]["error"]["details"], json!({"field": "name"}));
    assert_eq!(
        errors[11]["error"]["details"],
        json!({"field": "preferences.all"})
    );
    assert_eq!(
        total(&all_mentors(app).await),
        0,
        "not even line 1 was written"
    );
}

async fn more_than_100_bad_lines_list_the_first_100_and_say_more_were_cut(app: &TestApp) {
    let mut lines: Vec<String> = (0..300)
        .map(|i| format!(r#"{{"user_id": "usr_{i:04}", "org_id": "org_oslo_01"}}"#))
        .collect();
    // 150 bad lines: every even line from line 1 (lines 1, 3, ..., 299).
    for line in lines.iter_mut().step_by(2) {
        *line = "not json".to_owned();
    }
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();

    let r = app.import(body).await;

    let details = invalid_lines(&r);
    let listed = line_codes(&details);
    assert_eq!(listed.len(), 100);
    assert_eq!(listed.first().map(|l| l.0), Some(1));
    assert_eq!(listed.last().map(|l| l.0), Some(199));
    assert!(listed.iter().all(|(_, c)| c == "invalid_body"));
    assert_eq!(details["error_count"], 150);
    assert_eq!(details["truncated"], true);
    assert_eq!(total(&all_mentors(app).await), 0);
}

async fn a_user_id_twice_in_one_file_fails_the_later_line(app: &TestApp) {
    let r = app
        .import(ndjson(&[
            json!({"user_id": "usr_a", "org_id": "org_oslo_01"}),
            json!({"user_id": "usr_b", "org_id": "org_oslo_01"}),
            json!({"user_id": "usr_a", "sessions_count": 2}),
        ]))
        .await;

    let details = invalid_lines(&r);
    assert_eq!(line_codes(&details), [(3, "duplicate_user_id".to_owned())]);
    assert_eq!(
        details["errors"][0]["error"]["details"],
        json!({"user_id": "usr_a", "first_line": 1})
    );
    assert_eq!(total(&all_mentors(app).await), 0);
}

async fn an_import_follows_the_paused_mentor_rules_of_the_put(app: &TestApp) {
    app.create_mentor("usr_paused").await;
    let r = app
        .post(
            "/api/v1/mentors/usr_paused/pause",
            &json!({"reason": "requested"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);

    // A status change of a paused mentor is refused, as the PUT's 409 ...
    let r = app
        .import(ndjson(&[
            json!({"user_id": "usr_new", "org_id": "org_oslo_01"}),
            json!({"user_id": "usr_paused", "status": "active"}),
        ]))
        .await;
    let details = invalid_lines(&r);
    assert_eq!(line_codes(&details), [(2, "mentor_paused".to_owned())]);
    assert_eq!(
        details["errors"][0]["error"]["details"],
        json!({"user_id": "usr_paused", "pause_reason": "requested"})
    );
    assert_eq!(app.mentor("usr_new").await.status, StatusCode::NOT_FOUND);

    // ... while a line without status updates the paused mentor's other fields.
    let r = app
        .import(ndjson(&[
            json!({"user_id": "usr_paused", "sessions_count": 5}),
        ]))
        .await;
    assert_imported(&r, 0, 1);
    let m = app.mentor("usr_paused").await.body;
    assert_eq!(m["status"], "paused");
    assert_eq!(m["pause"]["reason"], "requested");
    assert_eq!(m["sessions_count"], 5);
}

async fn a_new_mentor_without_org_id_is_a_bad_line(app: &TestApp) {
    app.create_mentor("usr_known").await;
    let r = app
        .import(ndjson(&[
            json!({"user_id": "usr_known", "sessions_count": 1}),
            json!({"user_id": "usr_unknown", "sessions_count": 1}),
        ]))
        .await;
    let details = invalid_lines(&r);
    assert_eq!(line_codes(&details), [(2, "missing_field".to_owned())]);
    assert_eq!(
        details["errors"][0]["error"]["details"],
        json!({"field": "org_id"})
    );
    assert_eq!(app.mentor("usr_known").await.body["sessions_count"], 0);
}

async fn blank_lines_are_skipped_and_still_counted(app: &TestApp) {
    let body = "\n{\"user_id\": \"usr_a\", \"org_id\": \"org_oslo_01\"}\r\n  \n\n{\"user_id\": \"usr_b\"}\n\n";

    let r = app.import(body).await;

    let details = invalid_lines(&r);
    assert_eq!(line_codes(&details), [(5, "missing_field".to_owned())]);
    let ok = app
        .import("\n{\"user_id\": \"usr_a\", \"org_id\": \"org_oslo_01\"}\r\n  \n")
        .await;
    assert_imported(&ok, 1, 0);
}

async fn an_empty_file_imports_nothing(app: &TestApp) {
    assert_imported(&app.import("").await, 0, 0);
    assert_imported(&app.import("\n\n").await, 0, 0);
}

async fn another_content_type_is_415_and_writes_nothing(app: &TestApp) {
    let line = br#"{"user_id": "usr_a", "org_id": "org_oslo_01"}"#.to_vec();
    for content_type in [Some("application/json"), Some("text/plain"), None] {
        let r = app
            .raw(Method::POST, IMPORT, content_type, Some(line.clone()))
            .await;
        let details = assert_error(
            &r,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        );
        assert_eq!(
            details,
            json!({"expected": "application/x-ndjson", "content_type": content_type})
        );
    }
    let with_charset = app
        .raw(
            Method::POST,
            IMPORT,
            Some("Application/X-NDJSON; charset=utf-8"),
            Some(line),
        )
        .await;
    assert_imported(&with_charset, 1, 0);
}

async fn a_declared_length_over_256_mib_is_413_before_the_body_is_read(app: &TestApp) {
    let head = format!(
        "POST {IMPORT} HTTP/1.1\r\nContent-Type: application/x-ndjson\r\nContent-Length: {}",
        (256 << 20) + 1
    );
    let (status, body) = app.raw_http(&head, Vec::new(), false).await;
    assert_eq!(status, 413, "{body:#}");
    assert_eq!(body["error"]["code"], "payload_too_large");
    assert_eq!(body["error"]["details"], json!({"limit_bytes": 256 << 20}));
}

async fn a_file_over_the_1_mib_json_limit_imports_fine(app: &TestApp) {
    let lines: Vec<Value> = (0..12_000)
        .map(|i| {
            json!({"user_id": format!("usr_bulk_{i:05}"), "org_id": "org_oslo_01",
                   "last_active_at": "2026-03-16T14:22:00Z", "sessions_count": i % 60})
        })
        .collect();
    let body = ndjson(&lines);
    assert!(body.len() > 1 << 20, "{} bytes", body.len());

    let r = app.import(body).await;

    assert_imported(&r, 12_000, 0);
    assert_eq!(total(&all_mentors(app).await), 12_000);
    assert_eq!(
        app.mentor("usr_bulk_11999").await.body["sessions_count"],
        11_999 % 60
    );
}

async fn a_line_over_the_json_body_limit_is_a_bad_line(app: &TestApp) {
    let long_name = "x".repeat(1 << 20);
    let body = format!(
        "{{\"user_id\": \"usr_a\", \"org_id\": \"org_oslo_01\"}}\n{{\"user_id\": \"usr_b\", \"org_id\": \"{long_name}\"}}\n{{\"user_id\": \"usr_c\", \"org_id\": \"org_oslo_01\"}}\n"
    );
    let r = app.import(body).await;
    let details = invalid_lines(&r);
    assert_eq!(line_codes(&details), [(2, "line_too_long".to_owned())]);
    assert_eq!(
        details["errors"][0]["error"]["details"],
        json!({"limit_bytes": 1 << 20})
    );
}

async fn the_import_path_leaves_a_mentor_named_import_reachable(app: &TestApp) {
    // `import` is a valid platform id: PUT, GET and DELETE still reach it.
    app.create_mentor("import").await;
    let got = app.mentor("import").await;
    assert_eq!(got.status, StatusCode::OK, "{:#}", got.body);
    assert_eq!(got.body["user_id"], "import");
    assert_eq!(
        app.delete("/api/v1/mentors/import").await.status,
        StatusCode::OK
    );
    // Other mentors have no POST.
    let r = app
        .raw(
            Method::POST,
            "/api/v1/mentors/usr_a",
            Some("application/x-ndjson"),
            None,
        )
        .await;
    assert_error(&r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
}

/// Cases that need a smaller import limit than the default 256 MiB.
macro_rules! small_limit_tests {
    ($($name:ident),* $(,)?) => {
        mod small_limit {
            $(
                mod $name {
                    #[actix_web::test]
                    async fn sqlite() {
                        super::super::with_small_limit(super::super::Backend::Sqlite, super::super::$name).await;
                    }
                    #[actix_web::test]
                    async fn postgres() {
                        super::super::with_small_limit(super::super::Backend::Postgres, super::super::$name).await;
                    }
                }
            )*
        }
    };
}

small_limit_tests!(
    a_streamed_body_over_the_import_limit_is_413_and_writes_nothing,
    a_streamed_body_within_the_import_limit_imports,
);

/// The import limit of [`small_limit_tests!`]: 64 KiB.
const SMALL_LIMIT: usize = 64 << 10;

async fn with_small_limit<F: AsyncFnOnce(&TestApp)>(backend: Backend, case: F) {
    let Some(app) = spawn_app_with(
        backend,
        crate::helpers::Options {
            max_import_bytes: Some(SMALL_LIMIT),
            ..crate::helpers::Options::default()
        },
    )
    .await
    else {
        return;
    };
    case(&app).await;
    app.stop().await;
}

/// About `bytes` of valid NDJSON.
fn lines_of_about(bytes: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while out.len() < bytes {
        out.extend_from_slice(
            format!("{{\"user_id\": \"usr_{i:06}\", \"org_id\": \"org_oslo_01\"}}\n").as_bytes(),
        );
        i += 1;
    }
    out
}

async fn a_streamed_body_over_the_import_limit_is_413_and_writes_nothing(app: &TestApp) {
    let head = format!(
        "POST {IMPORT} HTTP/1.1\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked"
    );
    // No Content-Length: the limit is found while streaming.
    let (status, body) = app
        .raw_http(&head, lines_of_about(4 * SMALL_LIMIT), true)
        .await;
    assert_eq!(status, 413, "{body:#}");
    assert_eq!(body["error"]["code"], "payload_too_large");
    assert_eq!(
        body["error"]["details"],
        json!({"limit_bytes": SMALL_LIMIT})
    );
    // reqwest sends a Content-Length: refused before reading.
    let r = app.import(lines_of_about(2 * SMALL_LIMIT)).await;
    assert_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert_eq!(total(&all_mentors(app).await), 0);
}

async fn a_streamed_body_within_the_import_limit_imports(app: &TestApp) {
    let head = format!(
        "POST {IMPORT} HTTP/1.1\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked"
    );
    let body = lines_of_about(SMALL_LIMIT - 100);
    let n = body.iter().filter(|&&b| b == b'\n').count() as u64;
    let (status, answer) = app.raw_http(&head, body, true).await;
    assert_eq!(status, 200, "{answer:#}");
    assert_eq!(answer, json!({"imported": n, "created": n, "updated": 0}));
}
