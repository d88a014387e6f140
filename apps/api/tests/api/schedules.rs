//! `GET /api/v1/schedules/preview` (docs/api.md, "Jobs and runs"; beyond the
//! contracts): the scheduler's own rules, DST included, and the `upcoming` of
//! job details.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{CRON, SCHEDULER, TestApp, api_tests, assert_error, assert_keys, string};

api_tests!(
    a_fixed_time_in_a_spring_forward_gap_fires_when_the_gap_ends,
    a_repeated_hour_fires_once_for_fixed_times_and_twice_for_intervals,
    defaults_are_utc_now_and_ten_instants,
    bad_previews_are_refused,
    a_job_detail_shows_the_same_upcoming_instants_as_the_preview,
);

const PREVIEW: &str = "/api/v1/schedules/preview";

async fn a_fixed_time_in_a_spring_forward_gap_fires_when_the_gap_ends(app: &TestApp) {
    // 02:30 does not exist in New York on 2027-03-14: the clock jumps from
    // 02:00 EST to 03:00 EDT, and the job fires then (07:00 UTC).
    let r = app
        .get(&format!(
            "{PREVIEW}?expression=30%202%20*%20*%20*&timezone=America/New_York&from=2027-03-13T12:00:00Z&count=3"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_keys(&r.body, &["expression", "timezone", "description", "next"]);
    assert_eq!(r.body["expression"], "30 2 * * *");
    assert_eq!(r.body["timezone"], "America/New_York");
    assert_eq!(r.body["description"], "At 02:30 every day");
    assert_eq!(
        r.body["next"],
        json!([
            "2027-03-14T07:00:00Z",
            "2027-03-15T06:30:00Z",
            "2027-03-16T06:30:00Z"
        ])
    );
    // A list in the hour field is fixed-time too (croner alone would skip it).
    let r = app
        .get(&format!(
            "{PREVIEW}?expression=30%202,14%20*%20*%20*&timezone=America/New_York&from=2027-03-14T00:00:00Z&count=2"
        ))
        .await;
    assert_eq!(
        r.body["next"],
        json!(["2027-03-14T07:00:00Z", "2027-03-14T18:30:00Z"]),
        "{:#}",
        r.body
    );
}

async fn a_repeated_hour_fires_once_for_fixed_times_and_twice_for_intervals(app: &TestApp) {
    // 01:30 happens twice in New York on 2027-11-07 (EDT, then EST).
    let r = app
        .get(&format!(
            "{PREVIEW}?expression=30%201,14%20*%20*%20*&timezone=America/New_York&from=2027-11-07T00:00:00Z&count=2"
        ))
        .await;
    assert_eq!(
        r.body["next"],
        json!(["2027-11-07T05:30:00Z", "2027-11-07T19:30:00Z"]),
        "{:#}",
        r.body
    );
    let r = app
        .get(&format!(
            "{PREVIEW}?expression=30%20*%20*%20*%20*&timezone=America/New_York&from=2027-11-07T04:00:00Z&count=3"
        ))
        .await;
    assert_eq!(
        r.body["next"],
        json!([
            "2027-11-07T04:30:00Z",
            "2027-11-07T05:30:00Z",
            "2027-11-07T06:30:00Z"
        ]),
        "{:#}",
        r.body
    );
}

async fn defaults_are_utc_now_and_ten_instants(app: &TestApp) {
    // From the test clock, 2026-03-25T08:00:00Z, strictly after it.
    let r = app.get(&format!("{PREVIEW}?expression=@daily")).await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(r.body["timezone"], "UTC");
    assert_eq!(r.body["expression"], "@daily");
    let next = r.body["next"].as_array().cloned().unwrap_or_default();
    assert_eq!(next.len(), 10);
    assert_eq!(next[0], "2026-03-26T00:00:00Z");
    assert_eq!(next[9], "2026-04-04T00:00:00Z");
    let r = app
        .get(&format!(
            "{PREVIEW}?expression=0%208%20*%20*%20*&from=2026-03-25T10:00:00%2B02:00&count=1"
        ))
        .await;
    assert_eq!(
        r.body["next"],
        json!(["2026-03-26T08:00:00Z"]),
        "offsets are read: {:#}",
        r.body
    );
    let r = app
        .get(&format!(
            "{PREVIEW}?expression=*/20%20*%20*%20*%20*%20*&count=100"
        ))
        .await;
    assert_eq!(r.body["next"].as_array().map(Vec::len), Some(100));
    assert_eq!(r.body["next"][0], "2026-03-25T08:00:20Z");
}

async fn bad_previews_are_refused(app: &TestApp) {
    let r = app
        .get(&format!("{PREVIEW}?expression=0%2025%20*%20*%20*"))
        .await;
    let details = assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_cron");
    assert_eq!(details["expression"], "0 25 * * *");
    assert_error(
        &app.get(&format!(
            "{PREVIEW}?expression=0%202%20*%20*%20*&timezone=Mars/Olympus"
        ))
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_timezone",
    );
    for count in ["0", "101", "-3"] {
        let details = assert_error(
            &app.get(&format!("{PREVIEW}?expression=@hourly&count={count}"))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "out_of_range",
        );
        assert_eq!(details["field"], "count");
    }
    assert_error(
        &app.get(&format!("{PREVIEW}?expression=@hourly&from=yesterday"))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
    );
    for query in [
        "",
        "?expression=@hourly&count=ten",
        "?expression=@hourly&zone=UTC",
    ] {
        assert_error(
            &app.get(&format!("{PREVIEW}{query}")).await,
            StatusCode::BAD_REQUEST,
            "malformed_query",
        );
    }
}

async fn a_job_detail_shows_the_same_upcoming_instants_as_the_preview(app: &TestApp) {
    let r = app
        .post(
            CRON,
            &json!({"name": "ny", "schedule": "30 2 * * *", "handler": "pause_auto_lift", "timezone": "America/New_York"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    let id = string(&r.body, "job_id");
    app.set_now("2027-03-13T12:00:00Z");
    let detail = app.get(&format!("{CRON}/{id}")).await.body;
    let preview = app
        .get(&format!(
            "{PREVIEW}?expression=30%202%20*%20*%20*&timezone=America/New_York&count=5"
        ))
        .await
        .body;
    assert_eq!(detail["upcoming"], preview["next"]);
    assert_eq!(detail["upcoming"][0], "2027-03-14T07:00:00Z");
    assert_eq!(
        app.get(&format!("{SCHEDULER}/ny")).await.body["upcoming"],
        preview["next"]
    );
}
