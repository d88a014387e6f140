//! `Store::expiring_required_certifications` (the dashboard's "expiring
//! soon" read) on SQLite and PostgreSQL: required certifications in the
//! window only, soonest first, ties by mentor then certification, paged,
//! with their mentor's status and pause.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed call is a failed test"
)]

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use scenario_engine::adapters::FixedClock;
use scenario_engine::rules::{Certification, PauseReason};
use scenario_engine::service::{MentorService, MentorUpsert, PageRequest};
use storage_diesel::Store;
use storage_diesel::testdb::TestDb;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 25, 8, 0, 0).unwrap()
}

fn cert(id: &str, expires_at: DateTime<Utc>, required: bool) -> Certification {
    Certification {
        certification_id: id.to_owned(),
        name: format!("name of {id}"),
        issued_at: None,
        expires_at,
        required,
    }
}

fn the_window_is_read_soonest_first_and_paged(store: Store) {
    let mentors = MentorService::new(Arc::new(store.clone()), Arc::new(FixedClock::new(now())));
    for user in ["usr_b", "usr_a", "usr_c"] {
        let upsert = MentorUpsert {
            org_id: Some("org_oslo_01".to_owned()),
            ..MentorUpsert::default()
        };
        mentors.upsert(user, upsert).unwrap();
    }
    let day = TimeDelta::days(1);
    for (user, id, at, required) in [
        ("usr_b", "cert_tie", now() + day * 5, true),
        ("usr_a", "cert_tie_z", now() + day * 5, true),
        ("usr_a", "cert_tie_a", now() + day * 5, true),
        ("usr_c", "cert_first", now() + day, true),
        ("usr_c", "cert_optional", now() + day * 2, false),
        ("usr_c", "cert_expired", now() - day, true),
        ("usr_b", "cert_edge", now() + day * 30, true),
        ("usr_a", "cert_now", now(), true),
    ] {
        mentors
            .put_certification(user, cert(id, at, required))
            .unwrap();
    }
    mentors.pause("usr_c", PauseReason::Admin, None).unwrap();

    let all = store
        .expiring_required_certifications(
            now(),
            now() + day * 30,
            PageRequest {
                page: 1,
                limit: 100,
            },
        )
        .unwrap();
    let order: Vec<(&str, &str)> = all
        .rows
        .iter()
        .map(|c| (c.user_id.as_str(), c.certification_id.as_str()))
        .collect();
    // From `now` inclusive to the end exclusive; optional and expired ones left out.
    assert_eq!(
        order,
        [
            ("usr_a", "cert_now"),
            ("usr_c", "cert_first"),
            ("usr_a", "cert_tie_a"),
            ("usr_a", "cert_tie_z"),
            ("usr_b", "cert_tie"),
        ]
    );
    assert_eq!(all.total, 5);
    let first = &all.rows[1];
    assert_eq!(first.org_id, "org_oslo_01");
    assert_eq!(first.status, "paused");
    assert_eq!(first.pause_reason.as_deref(), Some("admin"));
    assert_eq!(first.name, "name of cert_first");
    assert_eq!(first.expires_at, now() + day);
    assert_eq!(all.rows[0].status, "active");
    assert_eq!(all.rows[0].pause_reason, None);

    let page = store
        .expiring_required_certifications(
            now(),
            now() + day * 31,
            PageRequest { page: 2, limit: 4 },
        )
        .unwrap();
    assert_eq!(page.total, 6);
    let ids: Vec<&str> = page
        .rows
        .iter()
        .map(|c| c.certification_id.as_str())
        .collect();
    assert_eq!(ids, ["cert_tie", "cert_edge"]);
}

#[test]
fn sqlite_the_window_is_read_soonest_first_and_paged() {
    let db = TestDb::sqlite();
    the_window_is_read_soonest_first_and_paged(Store::open(db.url(), 2).unwrap());
}

#[test]
fn postgres_the_window_is_read_soonest_first_and_paged() {
    let Some(db) = TestDb::postgres() else {
        return;
    };
    the_window_is_read_soonest_first_and_paged(Store::open(db.url(), 2).unwrap());
}
