//! The certification jobs over the in-memory store, end to end through the
//! scenario engine's services: auto-pause, reminders once per stage, dry
//! runs, auto-lift, the report, cancellation.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed call is a failed test"
)]

use std::sync::Arc;

use cert_expiry::{ExpiryJobs, JobError, RunContext};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use scenario_engine::adapters::{FixedClock, InMemoryStore, UlidIds};
use scenario_engine::rules::{Certification, MentorStatus, PauseReason, Rules};
use scenario_engine::service::{
    EvaluationFilter, EvaluationRepository, EvaluationService, MentorRepository, MentorService,
    MentorUpsert, PageRequest,
};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 26, 2, 0, 0).unwrap()
}

struct World {
    store: Arc<InMemoryStore>,
    mentors: MentorService,
    jobs: ExpiryJobs,
}

fn world() -> World {
    let store = Arc::new(InMemoryStore::default());
    let clock = Arc::new(FixedClock::new(now()));
    let evaluations = EvaluationService::new(
        store.clone(),
        clock.clone(),
        Arc::new(UlidIds::new()),
        Rules::default(),
    );
    World {
        mentors: MentorService::new(store.clone(), clock),
        jobs: ExpiryJobs::new(store.clone(), evaluations),
        store,
    }
}

fn add(w: &World, user: &str, certs: &[(&str, i64, bool)]) {
    let upsert = MentorUpsert {
        org_id: Some("org_oslo_01".into()),
        ..MentorUpsert::default()
    };
    w.mentors.upsert(user, upsert).unwrap();
    for (id, days, required) in certs {
        let cert = Certification {
            certification_id: (*id).into(),
            name: format!("{id} course"),
            issued_at: None,
            expires_at: now() + TimeDelta::days(*days),
            required: *required,
        };
        w.mentors.put_certification(user, cert).unwrap();
    }
}

fn ctx<'a>(dry_run: bool, at: DateTime<Utc>, cancelled: &'a dyn Fn() -> bool) -> RunContext<'a> {
    RunContext {
        run_id: "run_test",
        dry_run,
        now: at,
        cancelled,
        report_error: &|user, e| panic!("{user}: {e}"),
    }
}

#[test]
fn the_nightly_check_pauses_expired_required_and_reminds_within_the_lead_time() {
    let w = world();
    add(&w, "usr_expired", &[("cert_a", -2, true)]);
    add(&w, "usr_optional", &[("cert_b", -2, false)]);
    add(&w, "usr_soon", &[("cert_c", 14, true)]);
    add(&w, "usr_far", &[("cert_d", 200, true)]);
    add(&w, "usr_none", &[]);
    let summary = w
        .jobs
        .expiry_check(&ctx(false, now(), &|| false), 30)
        .unwrap();
    assert_eq!(summary.mentors_checked, 5);
    assert_eq!(summary.expired_found, 1);
    assert_eq!(summary.auto_paused, 1);
    assert_eq!(summary.reminders_sent, 1);
    assert_eq!(summary.errors, 0);
    let paused = w.mentors.get("usr_expired").unwrap().mentor;
    assert_eq!(paused.status, MentorStatus::Paused);
    assert_eq!(
        paused.pause.unwrap().reason,
        PauseReason::CertificationExpired
    );
    assert_eq!(
        w.mentors.get("usr_optional").unwrap().mentor.status,
        MentorStatus::Active
    );
    let notifications = w.store.notifications();
    assert_eq!(notifications.len(), 1);
    assert_eq!(notifications[0].notification.user_id, "usr_soon");
    // Every mentor with certifications has a recorded decision under the run.
    let filter = EvaluationFilter {
        run_id: Some("run_test".into()),
        ..EvaluationFilter::default()
    };
    let recorded = w
        .store
        .list_evaluations(
            &filter,
            PageRequest {
                page: 1,
                limit: 100,
            },
        )
        .unwrap();
    assert_eq!(recorded.total, 4);

    // The next night: nothing new to pause, the same stage is not sent twice.
    let again = w
        .jobs
        .expiry_check(&ctx(false, now() + TimeDelta::days(1), &|| false), 30)
        .unwrap();
    assert_eq!(
        (again.auto_paused, again.reminders_sent, again.expired_found),
        (0, 0, 1)
    );
    assert_eq!(w.store.notifications().len(), 1);
}

#[test]
fn a_dry_run_counts_what_it_would_do_and_changes_nothing() {
    let w = world();
    add(&w, "usr_expired", &[("cert_a", -2, true)]);
    add(&w, "usr_soon", &[("cert_c", 14, true)]);
    let summary = w
        .jobs
        .expiry_check(&ctx(true, now(), &|| false), 30)
        .unwrap();
    assert_eq!((summary.auto_paused, summary.reminders_sent), (1, 1));
    assert_eq!(
        w.mentors.get("usr_expired").unwrap().mentor.status,
        MentorStatus::Active
    );
    assert!(w.store.notifications().is_empty());
    let filter = EvaluationFilter {
        dry_run: Some(true),
        ..EvaluationFilter::default()
    };
    assert_eq!(
        w.store
            .list_evaluations(
                &filter,
                PageRequest {
                    page: 1,
                    limit: 100
                }
            )
            .unwrap()
            .total,
        2
    );
    // A real run afterwards still does everything: dry runs never count.
    let real = w
        .jobs
        .expiry_check(&ctx(false, now(), &|| false), 30)
        .unwrap();
    assert_eq!((real.auto_paused, real.reminders_sent), (1, 1));
}

#[test]
fn auto_lift_lifts_renewed_and_ended_requested_pauses_only() {
    let w = world();
    add(&w, "usr_expired", &[("cert_a", -2, true)]);
    w.jobs
        .expiry_check(&ctx(false, now(), &|| false), 30)
        .unwrap();
    add(&w, "usr_break", &[]);
    w.mentors
        .pause(
            "usr_break",
            PauseReason::Requested,
            Some(now() + TimeDelta::hours(1)),
        )
        .unwrap();
    add(&w, "usr_admin", &[]);
    w.mentors
        .pause("usr_admin", PauseReason::Admin, None)
        .unwrap();

    let later = now() + TimeDelta::hours(4);
    let before = w.jobs.auto_lift(&ctx(false, later, &|| false)).unwrap();
    assert_eq!(
        (before.mentors_checked, before.pauses_lifted),
        (3, 1),
        "only the ended break"
    );
    assert_eq!(
        w.mentors.get("usr_break").unwrap().mentor.status,
        MentorStatus::Active
    );

    // Renewing the certification lets the next auto-lift lift the expiry pause.
    let renewed = Certification {
        certification_id: "cert_a".into(),
        name: "renewed".into(),
        issued_at: None,
        expires_at: now() + TimeDelta::days(365),
        required: true,
    };
    w.mentors.put_certification("usr_expired", renewed).unwrap();
    let dry = w.jobs.auto_lift(&ctx(true, later, &|| false)).unwrap();
    assert_eq!(dry.pauses_lifted, 1);
    assert_eq!(
        w.mentors.get("usr_expired").unwrap().mentor.status,
        MentorStatus::Paused,
        "dry run"
    );
    let after = w.jobs.auto_lift(&ctx(false, later, &|| false)).unwrap();
    assert_eq!((after.mentors_checked, after.pauses_lifted), (2, 1));
    let lifted = w.mentors.get("usr_expired").unwrap().mentor;
    assert_eq!((lifted.status, lifted.pause), (MentorStatus::Active, None));
    assert_eq!(
        w.mentors.get("usr_admin").unwrap().mentor.status,
        MentorStatus::Paused
    );
}

#[test]
fn the_weekly_report_lists_certifications_expiring_within_the_horizon() {
    let w = world();
    add(&w, "usr_1", &[("cert_a", 3, true), ("cert_b", 60, false)]);
    add(&w, "usr_2", &[("cert_c", 29, false), ("cert_d", -1, true)]);
    let report = w
        .jobs
        .weekly_report(&ctx(false, now(), &|| false), 30, chrono_tz::UTC)
        .unwrap();
    assert_eq!(report.total(), 2);
    assert_eq!(
        report.to_json()["organisations"][0]["org_id"],
        "org_oslo_01"
    );
}

#[test]
fn a_cancelled_run_stops_between_pages() {
    let w = world();
    add(&w, "usr_1", &[("cert_a", 3, true)]);
    let err = w
        .jobs
        .expiry_check(&ctx(false, now(), &|| true), 30)
        .unwrap_err();
    assert!(matches!(err, JobError::Cancelled));
    assert!(w.store.notifications().is_empty());
}

#[test]
fn mentors_are_streamed_in_pages_past_the_page_size() {
    let w = world();
    let n = cert_expiry::PAGE_SIZE as usize * 2 + 7;
    for i in 0..n {
        w.store
            .upsert_mentor(
                &format!("usr_{i:05}"),
                &MentorUpsert {
                    org_id: Some("org".into()),
                    ..MentorUpsert::default()
                },
                now(),
            )
            .unwrap();
    }
    let summary = w
        .jobs
        .expiry_check(&ctx(false, now(), &|| false), 30)
        .unwrap();
    assert_eq!(summary.mentors_checked, n as u64);
}
