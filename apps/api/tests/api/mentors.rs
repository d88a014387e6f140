//! `/api/v1/mentors`: upsert, read, list, activity, certifications,
//! preferences, pauses and erasure (docs/api.md, "Mentors").

use chrono::TimeDelta;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    EVALS, T0, TestApp, api_tests, assert_error, assert_keys, id_of, string, total, valid_list,
};

const MENTOR_KEYS: [&str; 11] = [
    "user_id",
    "org_id",
    "status",
    "pause",
    "last_active_at",
    "sessions_count",
    "first_session_at",
    "created_at",
    "updated_at",
    "certifications",
    "preferences",
];

api_tests!(
    putting_a_new_mentor_creates_it_with_201_and_defaults,
    putting_an_existing_mentor_updates_it_with_200,
    creating_a_mentor_without_org_id_is_422_missing_field_and_writes_nothing,
    timestamps_with_offsets_come_back_in_utc_truncated_to_seconds,
    status_paused_in_a_put_is_422_and_writes_nothing,
    an_unknown_status_is_422_unknown_value_listing_the_valid_ones,
    a_negative_sessions_count_is_422_out_of_range,
    an_unknown_field_in_a_mentor_body_is_422_unknown_field,
    a_field_of_the_wrong_type_is_400_invalid_body,
    a_malformed_timestamp_is_422,
    a_malformed_user_id_is_422_invalid_id,
    getting_an_unknown_mentor_is_404_not_found,
    ids_no_database_can_store_are_not_found_or_422_never_500,
    mentors_are_listed_by_user_id_filtered_by_org_and_status_and_paged,
    a_mentor_list_page_past_the_end_is_an_empty_200,
    a_mentor_list_with_an_unknown_status_is_422,
    the_first_delivery_of_an_activity_event_is_201_and_a_replay_is_200,
    an_event_id_reused_with_a_different_body_is_409_event_conflict,
    a_conflicting_or_replayed_activity_event_changes_nothing,
    activity_never_moves_last_active_at_back,
    session_completed_activity_counts_a_session,
    activity_without_kind_is_400_and_an_overlong_kind_is_422,
    activity_for_an_unknown_mentor_is_404,
    a_certification_is_created_with_201_then_replaced_with_200,
    a_certification_is_deleted_with_200_then_404,
    a_certification_without_a_name_is_400_and_writes_nothing,
    a_certification_for_an_unknown_mentor_is_404,
    preferences_are_updated_partially,
    preferences_of_an_unknown_mentor_are_404,
    a_requested_pause_with_a_future_end_pauses_the_mentor,
    a_pause_with_reason_certification_expired_is_422,
    a_pause_ending_in_the_past_is_422,
    a_pause_with_an_unknown_reason_is_422_listing_the_valid_ones,
    putting_status_active_on_a_paused_mentor_is_409_mentor_paused,
    lifting_a_pause_makes_the_mentor_active_again,
    deleting_a_mentor_erases_it_and_every_evaluation_about_it,
    a_recreated_mentor_starts_with_a_clean_history,
    deleting_an_unknown_mentor_is_404,
);

fn path(user_id: &str) -> String {
    format!("/api/v1/mentors/{user_id}")
}

async fn putting_a_new_mentor_creates_it_with_201_and_defaults(app: &TestApp) {
    let r = app
        .put(
            &path("usr_mentor_7821"),
            &json!({"org_id": "org_oslo_01", "last_active_at": "2026-03-16T14:22:00Z"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    assert_keys(&r.body, &MENTOR_KEYS);
    assert_eq!(
        r.body,
        json!({
            "user_id": "usr_mentor_7821",
            "org_id": "org_oslo_01",
            "status": "active",
            "pause": null,
            "last_active_at": "2026-03-16T14:22:00Z",
            "sessions_count": 0,
            "first_session_at": null,
            "created_at": T0,
            "updated_at": T0,
            "certifications": [],
            "preferences": {"inactivity": true, "milestone": true, "certification_expiry": true, "all": true},
        })
    );
    let got = app.mentor("usr_mentor_7821").await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body, r.body);
}

async fn putting_an_existing_mentor_updates_it_with_200(app: &TestApp) {
    let created = app.create_mentor("usr_mentor_7821").await;
    app.advance(TimeDelta::hours(1));
    let r = app
        .put(
            &path("usr_mentor_7821"),
            &json!({"status": "inactive", "sessions_count": 3}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_keys(&r.body, &MENTOR_KEYS);
    assert_eq!(r.body["org_id"], "org_oslo_01", "org_id is kept");
    assert_eq!(r.body["status"], "inactive");
    assert_eq!(r.body["sessions_count"], 3);
    assert_eq!(r.body["last_active_at"], created["last_active_at"]);
    assert_eq!(r.body["created_at"], T0);
    assert_eq!(r.body["updated_at"], "2026-03-25T09:00:00Z");
    assert_eq!(app.mentor("usr_mentor_7821").await.body, r.body);

    let moved = app
        .put(
            &path("usr_mentor_7821"),
            &json!({"org_id": "org_bergen_02"}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK);
    assert_eq!(moved.body["org_id"], "org_bergen_02");
    assert_eq!(moved.body["status"], "inactive", "status is kept");
}

async fn creating_a_mentor_without_org_id_is_422_missing_field_and_writes_nothing(app: &TestApp) {
    let r = app
        .put(
            &path("usr_mentor_7821"),
            &json!({"last_active_at": "2026-03-16T14:22:00Z"}),
        )
        .await;
    let details = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "missing_field");
    assert_eq!(details["field"], "org_id");
    assert_error(
        &app.mentor("usr_mentor_7821").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let r = app.put(&path("usr_mentor_7821"), &json!({})).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "missing_field");
    assert_eq!(total(&app.get("/api/v1/mentors").await.body), 0);
}

async fn timestamps_with_offsets_come_back_in_utc_truncated_to_seconds(app: &TestApp) {
    let body = app
        .create_mentor_with(
            "usr_mentor_7821",
            &json!({
                "org_id": "org_oslo_01",
                "last_active_at": "2026-03-16T16:22:00+02:00",
                "first_session_at": "2025-02-01T17:00:00.987654Z",
                "created_at": "2025-01-10T05:30:59.999+05:30",
            }),
        )
        .await;
    assert_eq!(body["last_active_at"], "2026-03-16T14:22:00Z");
    assert_eq!(body["first_session_at"], "2025-02-01T17:00:00Z");
    assert_eq!(body["created_at"], "2025-01-10T00:00:59Z");
    let got = app.mentor("usr_mentor_7821").await.body;
    assert_eq!(got["last_active_at"], "2026-03-16T14:22:00Z");
    assert_eq!(got["first_session_at"], "2025-02-01T17:00:00Z");
    assert_eq!(got["created_at"], "2025-01-10T00:00:59Z");

    let r = app
        .put(
            &path("usr_mentor_7821"),
            &json!({"last_active_at": "2026-03-20T09:15:30.5-04:00"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["last_active_at"], "2026-03-20T13:15:30Z");
}

async fn status_paused_in_a_put_is_422_and_writes_nothing(app: &TestApp) {
    let r = app
        .put(
            &path("usr_mentor_7821"),
            &json!({"org_id": "org_oslo_01", "status": "paused"}),
        )
        .await;
    let details = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value");
    assert_eq!(details["field"], "status");
    assert_error(
        &app.mentor("usr_mentor_7821").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    let before = app.create_mentor("usr_mentor_7821").await;
    let r = app
        .put(&path("usr_mentor_7821"), &json!({"status": "paused"}))
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value");
    assert_eq!(app.mentor("usr_mentor_7821").await.body, before);
}

async fn an_unknown_status_is_422_unknown_value_listing_the_valid_ones(app: &TestApp) {
    let r = app
        .put(
            &path("usr_mentor_7821"),
            &json!({"org_id": "org_oslo_01", "status": "sleeping"}),
        )
        .await;
    let details = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_value");
    assert_eq!(details["field"], "status");
    assert_eq!(details["value"], "sleeping");
    let valid = valid_list(&details);
    for s in ["active", "inactive"] {
        assert!(valid.iter().any(|v| v == s), "{s} in {valid:?}");
    }
    assert_error(
        &app.mentor("usr_mentor_7821").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

async fn a_negative_sessions_count_is_422_out_of_range(app: &TestApp) {
    let before = app.create_mentor("usr_mentor_7821").await;
    let r = app
        .put(
            &path("usr_mentor_7821"),
            &json!({"sessions_count": -1, "last_active_at": "2026-03-24T10:00:00Z"}),
        )
        .await;
    let details = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "out_of_range");
    assert_eq!(details["field"], "sessions_count");
    assert_eq!(details["value"], -1);
    assert_eq!(details["min"], 0);
    assert_eq!(
        app.mentor("usr_mentor_7821").await.body,
        before,
        "nothing half-written"
    );
}

async fn an_unknown_field_in_a_mentor_body_is_422_unknown_field(app: &TestApp) {
    let r = app
        .put(
            &path("usr_mentor_7821"),
            &json!({"org_id": "org_oslo_01", "nickname": "Kari"}),
        )
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_field");
    assert_error(
        &app.mentor("usr_mentor_7821").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

async fn a_field_of_the_wrong_type_is_400_invalid_body(app: &TestApp) {
    for (body, field) in [
        (json!({"org_id": 5}), json!("org_id")),
        (
            json!({"org_id": "org_oslo_01", "sessions_count": "three"}),
            json!("sessions_count"),
        ),
        (
            json!({"org_id": "org_oslo_01", "sessions_count": 2.5}),
            json!("sessions_count"),
        ),
        (
            json!({"org_id": "org_oslo_01", "last_active_at": 1_774_425_600}),
            json!("last_active_at"),
        ),
        (json!(["org_oslo_01"]), Value::Null),
    ] {
        let r = app.put(&path("usr_mentor_7821"), &body).await;
        let details = assert_error(&r, StatusCode::BAD_REQUEST, "invalid_body");
        assert_eq!(details["field"], field, "{body}");
    }
    assert_error(
        &app.mentor("usr_mentor_7821").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

async fn a_malformed_timestamp_is_422(app: &TestApp) {
    let r = app
        .put(
            &path("usr_mentor_7821"),
            &json!({"org_id": "org_oslo_01", "last_active_at": "16/03/2026 14:22"}),
        )
        .await;
    let details = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value");
    assert_eq!(details["field"], "last_active_at");
    assert_error(
        &app.mentor("usr_mentor_7821").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

async fn a_malformed_user_id_is_422_invalid_id(app: &TestApp) {
    let long = "u".repeat(129);
    let r = app
        .put(&path(&long), &json!({"org_id": "org_oslo_01"}))
        .await;
    let details = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_id");
    assert_eq!(details["field"], "user_id");
    let r = app
        .put(&path("usr_mentor_7821"), &json!({"org_id": "org\u{7}oslo"}))
        .await;
    let details = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_id");
    assert_eq!(details["field"], "org_id");
    assert_eq!(total(&app.get("/api/v1/mentors").await.body), 0);
}

async fn getting_an_unknown_mentor_is_404_not_found(app: &TestApp) {
    let details = assert_error(
        &app.mentor("usr_nobody").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_eq!(details["user_id"], "usr_nobody");
}

async fn ids_no_database_can_store_are_not_found_or_422_never_500(app: &TestApp) {
    app.create_mentor("usr_mentor_7821").await;
    for path in [
        "/api/v1/mentors/a%00b",
        "/api/v1/scenario-trigger-evaluations/trg%00x",
    ] {
        assert_error(&app.get(path).await, StatusCode::NOT_FOUND, "not_found");
        assert_error(&app.delete(path).await, StatusCode::NOT_FOUND, "not_found");
    }
    let r = app.delete(&cert("usr_mentor_7821", "c%00d")).await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    let r = app
        .put(&path("a%00b"), &json!({"org_id": "org_oslo_01"}))
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_id");
    let r = app
        .post(
            &activity("a%00b"),
            &json!({"occurred_at": "2026-03-24T18:00:00Z", "kind": "login"}),
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    let r = app
        .put(
            &cert("usr_mentor_7821", "c%00d"),
            &json!({"name": "First aid", "expires_at": "2026-09-01T00:00:00Z"}),
        )
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_id");
    for query in ["org_id=a%00b", "user_id=a%00b"] {
        let list = if query.starts_with("org") {
            "/api/v1/mentors"
        } else {
            EVALS
        };
        let r = app.get(&format!("{list}?{query}")).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_id");
    }
    let r = app.get(&format!("{EVALS}/users/a%00b/should-notify")).await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    let r = app
        .post(
            &format!("{EVALS}/evaluate/inactivity"),
            &json!({"user_id": "a\u{0}b"}),
        )
        .await;
    assert_eq!(r.status.as_u16() / 100, 4, "{:#}", r.body);
    assert_eq!(total(&app.get("/api/v1/mentors").await.body), 1);
}

async fn create_listed(app: &TestApp) {
    for (user, org, status) in [
        ("usr_a1", "org_a", "active"),
        ("usr_a2", "org_a", "inactive"),
        ("usr_a3", "org_a", "active"),
        ("usr_b1", "org_b", "active"),
        ("usr_b2", "org_b", "active"),
    ] {
        app.create_mentor_with(user, &json!({"org_id": org, "status": status}))
            .await;
    }
}

fn user_ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .map(|rows| rows.iter().map(|r| string(r, "user_id")).collect())
        .unwrap_or_default()
}

async fn mentors_are_listed_by_user_id_filtered_by_org_and_status_and_paged(app: &TestApp) {
    create_listed(app).await;

    let all = app.get("/api/v1/mentors").await;
    assert_eq!(all.status, StatusCode::OK);
    assert_keys(&all.body, &["data", "pagination"]);
    assert_eq!(
        all.body["pagination"],
        json!({"page": 1, "limit": 20, "total": 5})
    );
    assert_eq!(
        user_ids(&all.body),
        ["usr_a1", "usr_a2", "usr_a3", "usr_b1", "usr_b2"]
    );
    assert_keys(&all.body["data"][0], &MENTOR_KEYS);

    let org_a = app.get("/api/v1/mentors?org_id=org_a").await.body;
    assert_eq!(user_ids(&org_a), ["usr_a1", "usr_a2", "usr_a3"]);
    assert_eq!(total(&org_a), 3);

    let inactive = app.get("/api/v1/mentors?status=inactive").await.body;
    assert_eq!(user_ids(&inactive), ["usr_a2"]);

    let both = app
        .get("/api/v1/mentors?org_id=org_a&status=active")
        .await
        .body;
    assert_eq!(user_ids(&both), ["usr_a1", "usr_a3"]);
    assert_eq!(total(&both), 2);

    let page2 = app.get("/api/v1/mentors?limit=2&page=2").await.body;
    assert_eq!(user_ids(&page2), ["usr_a3", "usr_b1"]);
    assert_eq!(
        page2["pagination"],
        json!({"page": 2, "limit": 2, "total": 5})
    );
    let page3 = app.get("/api/v1/mentors?limit=2&page=3").await.body;
    assert_eq!(user_ids(&page3), ["usr_b2"]);
}

async fn a_mentor_list_page_past_the_end_is_an_empty_200(app: &TestApp) {
    create_listed(app).await;
    let r = app.get("/api/v1/mentors?page=4&limit=2").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body,
        json!({"data": [], "pagination": {"page": 4, "limit": 2, "total": 5}})
    );
    let r = app.get("/api/v1/mentors?org_id=org_none").await;
    assert_eq!(
        r.body,
        json!({"data": [], "pagination": {"page": 1, "limit": 20, "total": 0}})
    );
}

async fn a_mentor_list_with_an_unknown_status_is_422(app: &TestApp) {
    let r = app.get("/api/v1/mentors?status=sleeping").await;
    let details = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_value");
    assert!(valid_list(&details).iter().any(|v| v == "paused"));
    let r = app.get("/api/v1/mentors?limit=0").await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "out_of_range");
    let r = app.get("/api/v1/mentors?page=x").await;
    assert_error(&r, StatusCode::BAD_REQUEST, "malformed_query");
}

fn activity(user_id: &str) -> String {
    format!("/api/v1/mentors/{user_id}/activity")
}

async fn the_first_delivery_of_an_activity_event_is_201_and_a_replay_is_200(app: &TestApp) {
    app.create_mentor("usr_mentor_7821").await;
    let event =
        json!({"occurred_at": "2026-03-24T18:30:00Z", "kind": "message_sent", "event_id": "evt_1"});
    let first = app.post(&activity("usr_mentor_7821"), &event).await;
    assert_eq!(first.status, StatusCode::CREATED, "{:#}", first.body);
    assert_keys(&first.body, &MENTOR_KEYS);
    assert_eq!(first.body["last_active_at"], "2026-03-24T18:30:00Z");

    let replay = app.post(&activity("usr_mentor_7821"), &event).await;
    assert_eq!(replay.status, StatusCode::OK, "{:#}", replay.body);
    assert_eq!(replay.body, first.body);

    // Without an event_id every delivery is new.
    let anonymous = json!({"occurred_at": "2026-03-24T19:00:00Z", "kind": "message_sent"});
    for _ in 0..2 {
        let r = app.post(&activity("usr_mentor_7821"), &anonymous).await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
}

async fn an_event_id_reused_with_a_different_body_is_409_event_conflict(app: &TestApp) {
    app.create_mentor("usr_mentor_7821").await;
    let event = json!({"occurred_at": "2026-03-24T18:30:00Z", "kind": "session_completed", "event_id": "evt_1"});
    let first = app.post(&activity("usr_mentor_7821"), &event).await;
    assert_eq!(first.status, StatusCode::CREATED);
    for other in [
        json!({"occurred_at": "2026-03-24T18:31:00Z", "kind": "session_completed", "event_id": "evt_1"}),
        json!({"occurred_at": "2026-03-24T18:30:00Z", "kind": "message_sent", "event_id": "evt_1"}),
    ] {
        let r = app.post(&activity("usr_mentor_7821"), &other).await;
        let details = assert_error(&r, StatusCode::CONFLICT, "event_conflict");
        assert_eq!(details["event_id"], "evt_1");
    }
    let now = app.mentor("usr_mentor_7821").await.body;
    assert_eq!(now["sessions_count"], 1, "the conflict counted nothing");
    assert_eq!(now["last_active_at"], "2026-03-24T18:30:00Z");
}

async fn a_conflicting_or_replayed_activity_event_changes_nothing(app: &TestApp) {
    app.create_mentor("usr_mentor_7821").await;
    let event = json!({"occurred_at": "2026-03-24T18:30:00Z", "kind": "session_completed", "event_id": "evt_1"});
    let first = app.post(&activity("usr_mentor_7821"), &event).await;
    assert_eq!(first.status, StatusCode::CREATED);
    app.advance(TimeDelta::hours(2));

    let conflict = json!({"occurred_at": "2026-03-24T18:31:00Z", "kind": "session_completed", "event_id": "evt_1"});
    let r = app.post(&activity("usr_mentor_7821"), &conflict).await;
    assert_error(&r, StatusCode::CONFLICT, "event_conflict");
    assert_eq!(
        app.mentor("usr_mentor_7821").await.body,
        first.body,
        "a rejected event must not write (updated_at included)"
    );

    let replay = app.post(&activity("usr_mentor_7821"), &event).await;
    assert_eq!(replay.status, StatusCode::OK);
    assert_eq!(replay.body, first.body, "a replay answers the first answer");
}

async fn activity_never_moves_last_active_at_back(app: &TestApp) {
    app.create_mentor("usr_mentor_7821").await;
    let r = app
        .post(
            &activity("usr_mentor_7821"),
            &json!({"occurred_at": "2026-03-24T10:00:00Z", "kind": "login"}),
        )
        .await;
    assert_eq!(r.body["last_active_at"], "2026-03-24T10:00:00Z");
    let r = app
        .post(
            &activity("usr_mentor_7821"),
            &json!({"occurred_at": "2026-03-20T10:00:00Z", "kind": "login"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["last_active_at"], "2026-03-24T10:00:00Z");
    let r = app
        .post(
            &activity("usr_mentor_7821"),
            &json!({"occurred_at": "2026-03-24T12:00:00+02:00", "kind": "login"}),
        )
        .await;
    assert_eq!(
        r.body["last_active_at"], "2026-03-24T10:00:00Z",
        "same instant"
    );
    assert_eq!(
        app.mentor("usr_mentor_7821").await.body["last_active_at"],
        "2026-03-24T10:00:00Z"
    );
}

async fn session_completed_activity_counts_a_session(app: &TestApp) {
    app.create_mentor("usr_mentor_7821").await;
    let r = app
        .post(
            &activity("usr_mentor_7821"),
            &json!({"occurred_at": "2026-03-24T18:00:00Z", "kind": "session_completed", "event_id": "s1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["sessions_count"], 1);
    assert_eq!(r.body["first_session_at"], "2026-03-24T18:00:00Z");
    // A replay does not count twice; another kind does not count.
    app.post(
        &activity("usr_mentor_7821"),
        &json!({"occurred_at": "2026-03-24T18:00:00Z", "kind": "session_completed", "event_id": "s1"}),
    )
    .await;
    app.post(
        &activity("usr_mentor_7821"),
        &json!({"occurred_at": "2026-03-24T19:00:00Z", "kind": "session_booked"}),
    )
    .await;
    let r = app
        .post(
            &activity("usr_mentor_7821"),
            &json!({"occurred_at": "2026-03-24T20:00:00Z", "kind": "session_completed", "event_id": "s2"}),
        )
        .await;
    assert_eq!(r.body["sessions_count"], 2);
    assert_eq!(r.body["first_session_at"], "2026-03-24T18:00:00Z");
    assert_eq!(r.body["last_active_at"], "2026-03-24T20:00:00Z");
}

async fn activity_without_kind_is_400_and_an_overlong_kind_is_422(app: &TestApp) {
    let before = app.create_mentor("usr_mentor_7821").await;
    let r = app
        .post(
            &activity("usr_mentor_7821"),
            &json!({"occurred_at": "2026-03-24T18:00:00Z"}),
        )
        .await;
    let details = assert_error(&r, StatusCode::BAD_REQUEST, "invalid_body");
    assert_eq!(details["field"], "kind", "the missing field is named");
    let r = app
        .post(
            &activity("usr_mentor_7821"),
            &json!({"occurred_at": "2026-03-24T18:00:00Z", "kind": "k".repeat(65)}),
        )
        .await;
    let details = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value");
    assert_eq!(details["field"], "kind");
    let r = app
        .post(
            &activity("usr_mentor_7821"),
            &json!({"occurred_at": "2026-03-24T18:00:00Z", "kind": ""}),
        )
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value");
    assert_eq!(app.mentor("usr_mentor_7821").await.body, before);
}

async fn activity_for_an_unknown_mentor_is_404(app: &TestApp) {
    let r = app
        .post(
            &activity("usr_nobody"),
            &json!({"occurred_at": "2026-03-24T18:00:00Z", "kind": "login", "event_id": "e1"}),
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    assert_error(
        &app.mentor("usr_nobody").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

fn cert(user_id: &str, certification_id: &str) -> String {
    format!("/api/v1/mentors/{user_id}/certifications/{certification_id}")
}

async fn a_certification_is_created_with_201_then_replaced_with_200(app: &TestApp) {
    app.create_mentor("usr_mentor_7821").await;
    let r = app
        .put(
            &cert("usr_mentor_7821", "cert_safety_003"),
            &json!({"name": "Child safety", "expires_at": "2026-04-25T02:00:00+02:00", "issued_at": "2025-04-25T00:00:00Z", "required": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    assert_eq!(
        r.body,
        json!({
            "user_id": "usr_mentor_7821",
            "certification_id": "cert_safety_003",
            "name": "Child safety",
            "issued_at": "2025-04-25T00:00:00Z",
            "expires_at": "2026-04-25T00:00:00Z",
            "required": true,
        })
    );

    let r = app
        .put(
            &cert("usr_mentor_7821", "cert_safety_003"),
            &json!({"name": "Child safety (renewed)", "expires_at": "2027-04-25T00:00:00Z"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(r.body["required"], false, "required defaults to false");
    assert_eq!(r.body["issued_at"], Value::Null);

    let mentor = app.mentor("usr_mentor_7821").await.body;
    assert_eq!(
        mentor["certifications"],
        json!([{
            "certification_id": "cert_safety_003",
            "name": "Child safety (renewed)",
            "issued_at": null,
            "expires_at": "2027-04-25T00:00:00Z",
            "required": false,
        }])
    );
    assert_eq!(
        mentor["status"], "active",
        "a certification never changes a pause"
    );
}

async fn a_certification_is_deleted_with_200_then_404(app: &TestApp) {
    app.create_mentor("usr_mentor_7821").await;
    let r = app
        .put(
            &cert("usr_mentor_7821", "cert_first_aid"),
            &json!({"name": "First aid", "expires_at": "2026-09-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = app.delete(&cert("usr_mentor_7821", "cert_first_aid")).await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(
        r.body,
        json!({"deleted": true, "user_id": "usr_mentor_7821", "certification_id": "cert_first_aid"})
    );
    assert_eq!(
        app.mentor("usr_mentor_7821").await.body["certifications"],
        json!([])
    );
    let r = app.delete(&cert("usr_mentor_7821", "cert_first_aid")).await;
    let details = assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(details["resource"], "certification");
    let r = app.delete(&cert("usr_nobody", "cert_first_aid")).await;
    let details = assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(details["resource"], "mentor");
}

async fn a_certification_without_a_name_is_400_and_writes_nothing(app: &TestApp) {
    let before = app.create_mentor("usr_mentor_7821").await;
    app.advance(TimeDelta::hours(1));
    let r = app
        .put(
            &cert("usr_mentor_7821", "cert_safety_003"),
            &json!({"expires_at": "2026-04-25T00:00:00Z"}),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_body");
    let r = app
        .put(
            &cert("usr_mentor_7821", "cert_safety_003"),
            &json!({"name": "", "expires_at": "2026-04-25T00:00:00Z"}),
        )
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value");
    let r = app
        .put(
            &cert("usr_mentor_7821", "cert_safety_003"),
            &json!({"name": "Child safety", "expires_at": "soon"}),
        )
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value");
    assert_eq!(app.mentor("usr_mentor_7821").await.body, before);
}

async fn a_certification_for_an_unknown_mentor_is_404(app: &TestApp) {
    let r = app
        .put(
            &cert("usr_nobody", "cert_safety_003"),
            &json!({"name": "Child safety", "expires_at": "2026-04-25T00:00:00Z"}),
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    assert_error(
        &app.mentor("usr_nobody").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

async fn preferences_are_updated_partially(app: &TestApp) {
    app.create_mentor("usr_mentor_7821").await;
    let prefs = "/api/v1/mentors/usr_mentor_7821/preferences";
    let r = app.put(prefs, &json!({"inactivity": false})).await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(
        r.body,
        json!({"inactivity": false, "milestone": true, "certification_expiry": true, "all": true})
    );
    let r = app.put(prefs, &json!({"all": false})).await;
    assert_eq!(
        r.body,
        json!({"inactivity": false, "milestone": true, "certification_expiry": true, "all": false})
    );
    let r = app.put(prefs, &json!({})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        app.mentor("usr_mentor_7821").await.body["preferences"],
        json!({"inactivity": false, "milestone": true, "certification_expiry": true, "all": false})
    );
    let r = app.put(prefs, &json!({"birthday": false})).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_field");
    let r = app.put(prefs, &json!({"milestone": "no"})).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_body");
    assert_eq!(
        app.mentor("usr_mentor_7821").await.body["preferences"]["milestone"],
        true
    );
}

async fn preferences_of_an_unknown_mentor_are_404(app: &TestApp) {
    let r = app
        .put(
            "/api/v1/mentors/usr_nobody/preferences",
            &json!({"all": false}),
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
}

fn pause(user_id: &str) -> String {
    format!("/api/v1/mentors/{user_id}/pause")
}

async fn a_requested_pause_with_a_future_end_pauses_the_mentor(app: &TestApp) {
    app.create_mentor("usr_mentor_7821").await;
    let r = app
        .post(
            &pause("usr_mentor_7821"),
            &json!({"reason": "requested", "until": "2026-04-15T00:00:00+02:00"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_keys(&r.body, &MENTOR_KEYS);
    assert_eq!(r.body["status"], "paused");
    assert_eq!(
        r.body["pause"],
        json!({"reason": "requested", "since": T0, "until": "2026-04-14T22:00:00Z"})
    );
    assert_eq!(app.mentor("usr_mentor_7821").await.body, r.body);
    let paused = app.get("/api/v1/mentors?status=paused").await.body;
    assert_eq!(total(&paused), 1);

    // An admin pause without an end.
    app.create_mentor("usr_mentor_4402").await;
    let r = app
        .post(&pause("usr_mentor_4402"), &json!({"reason": "admin"}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body["pause"],
        json!({"reason": "admin", "since": T0, "until": null})
    );
}

async fn a_pause_with_reason_certification_expired_is_422(app: &TestApp) {
    let before = app.create_mentor("usr_mentor_7821").await;
    let r = app
        .post(
            &pause("usr_mentor_7821"),
            &json!({"reason": "certification_expired"}),
        )
        .await;
    let details = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value");
    assert_eq!(details["field"], "reason");
    assert_eq!(app.mentor("usr_mentor_7821").await.body, before);
}

async fn a_pause_ending_in_the_past_is_422(app: &TestApp) {
    let before = app.create_mentor("usr_mentor_7821").await;
    for until in ["2026-03-24T00:00:00Z", T0] {
        let r = app
            .post(
                &pause("usr_mentor_7821"),
                &json!({"reason": "requested", "until": until}),
            )
            .await;
        let details = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value");
        assert_eq!(details["field"], "until");
    }
    assert_eq!(app.mentor("usr_mentor_7821").await.body, before);
}

async fn a_pause_with_an_unknown_reason_is_422_listing_the_valid_ones(app: &TestApp) {
    let before = app.create_mentor("usr_mentor_7821").await;
    let r = app
        .post(&pause("usr_mentor_7821"), &json!({"reason": "holiday"}))
        .await;
    let details = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_value");
    let valid = valid_list(&details);
    assert!(valid.iter().any(|v| v == "requested"), "{valid:?}");
    assert!(valid.iter().any(|v| v == "admin"), "{valid:?}");
    let r = app
        .post(&pause("usr_nobody"), &json!({"reason": "requested"}))
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(app.mentor("usr_mentor_7821").await.body, before);
}

async fn putting_status_active_on_a_paused_mentor_is_409_mentor_paused(app: &TestApp) {
    app.create_mentor("usr_mentor_7821").await;
    let paused = app
        .post(&pause("usr_mentor_7821"), &json!({"reason": "admin"}))
        .await
        .body;
    for status in ["active", "inactive"] {
        let r = app
            .put(&path("usr_mentor_7821"), &json!({"status": status}))
            .await;
        let details = assert_error(&r, StatusCode::CONFLICT, "mentor_paused");
        assert_eq!(details["user_id"], "usr_mentor_7821");
        assert_eq!(details["pause_reason"], "admin");
    }
    assert_eq!(app.mentor("usr_mentor_7821").await.body, paused);
    // Other fields may still change while paused.
    let r = app
        .put(&path("usr_mentor_7821"), &json!({"sessions_count": 4}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["status"], "paused");
    assert_eq!(r.body["sessions_count"], 4);
}

async fn lifting_a_pause_makes_the_mentor_active_again(app: &TestApp) {
    app.create_mentor("usr_mentor_7821").await;
    app.post(
        &pause("usr_mentor_7821"),
        &json!({"reason": "requested", "until": "2026-04-15T00:00:00Z"}),
    )
    .await;
    app.advance(TimeDelta::days(1));
    let r = app.delete(&pause("usr_mentor_7821")).await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_keys(&r.body, &MENTOR_KEYS);
    assert_eq!(r.body["status"], "active");
    assert_eq!(r.body["pause"], Value::Null);
    assert_eq!(app.mentor("usr_mentor_7821").await.body, r.body);
    // Lifting again changes nothing; an unknown mentor is a 404.
    let again = app.delete(&pause("usr_mentor_7821")).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["status"], "active");
    assert_error(
        &app.delete(&pause("usr_nobody")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

async fn deleting_a_mentor_erases_it_and_every_evaluation_about_it(app: &TestApp) {
    app.create_mentor("usr_mentor_7821").await;
    app.create_mentor("usr_mentor_4402").await;
    app.put(
        &cert("usr_mentor_7821", "cert_safety_003"),
        &json!({"name": "Child safety", "expires_at": "2026-04-20T00:00:00Z"}),
    )
    .await;
    let fired = app.evaluate_inactivity("usr_mentor_7821", 7).await;
    app.evaluate_inactivity("usr_mentor_7821", 7).await;
    app.evaluate_inactivity("usr_mentor_4402", 7).await;
    assert_eq!(app.evaluation_total("user_id=usr_mentor_7821").await, 2);

    let r = app.delete(&path("usr_mentor_7821")).await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(
        r.body,
        json!({"deleted": true, "user_id": "usr_mentor_7821"})
    );
    assert_error(
        &app.mentor("usr_mentor_7821").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_eq!(app.evaluation_total("user_id=usr_mentor_7821").await, 0);
    assert_error(
        &app.get(&format!("{EVALS}/{}", id_of(&fired))).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_eq!(
        app.evaluation_total("").await,
        1,
        "other mentors keep theirs"
    );
    assert_eq!(total(&app.get("/api/v1/mentors").await.body), 1);
}

async fn a_recreated_mentor_starts_with_a_clean_history(app: &TestApp) {
    app.create_mentor("usr_mentor_7821").await;
    let fired = app.evaluate_inactivity("usr_mentor_7821", 7).await;
    assert_eq!(fired["should_notify"], true);
    let cooled = app.evaluate_inactivity("usr_mentor_7821", 7).await;
    assert_eq!(cooled["reason_code"], "cooldown_active");
    app.post(
        &activity("usr_mentor_7821"),
        &json!({"occurred_at": "2026-03-01T10:00:00Z", "kind": "session_completed", "event_id": "s1"}),
    )
    .await;

    assert_eq!(
        app.delete(&path("usr_mentor_7821")).await.status,
        StatusCode::OK
    );
    let recreated = app.create_mentor("usr_mentor_7821").await;
    assert_eq!(recreated["sessions_count"], 0);
    assert_eq!(recreated["certifications"], json!([]));

    let again = app.evaluate_inactivity("usr_mentor_7821", 7).await;
    assert_eq!(again["should_notify"], true, "{again:#}");
    assert_eq!(again["reason_code"], "threshold_reached");
    // The old event id is forgotten too.
    let r = app
        .post(
            &activity("usr_mentor_7821"),
            &json!({"occurred_at": "2026-03-02T10:00:00Z", "kind": "session_completed", "event_id": "s1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
}

async fn deleting_an_unknown_mentor_is_404(app: &TestApp) {
    let r = app.delete(&path("usr_nobody")).await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
}
