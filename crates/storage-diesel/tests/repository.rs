//! The repository contract: `MentorRepository` and `EvaluationRepository`
//! (scenario-engine `repo.rs`) as every implementation must honour them.
//!
//! Each case is a plain function generic over the store. [`contract_tests!`]
//! runs every case on the in-memory reference store, on SQLite and on
//! PostgreSQL, so that a failure names the case and the backend, for example
//! `postgres::activity_event_replay_changes_nothing`. Where the contract is
//! end to end (cooldown, once-only), the cases go through `EvaluationService`
//! on a fixed clock.

// Everything in this binary is test code, but clippy's
// `allow-unwrap-in-tests` covers only `#[test]` functions, not the generic
// cases and helpers they call.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed call is a failed test"
)]

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};

use chrono::{DateTime, TimeDelta, Utc};
use scenario_engine::rules::{
    Certification, Mentor, MentorStatus, MilestoneType, Pause, PauseReason, Preferences,
    ReasonCode, Rules, Scenario, ScenarioType,
};
use scenario_engine::service::{
    ActivityOutcome, BatchRequest, EvaluationFilter, EvaluationOverride, ImportCounts, ImportFeed,
    ImportLine, MentorFilter, MentorImport, MentorRecord, MentorUpsert, PageRequest,
    PreferencesPatch, SESSION_COMPLETED, StoreError,
};

use common::{
    ORG, OutboxRow, Repo, Services, cert, create, evaluation, event, id_carrying, ids, in_org,
    key_named, last_active, no_rows, notification, recorded, t0, user_ids, utc,
};

/// Expands case names into `mod memory`, `mod sqlite` and `mod postgres`,
/// one `#[test]` per case and backend, so that cargo prints
/// `postgres::activity_event_replay_changes_nothing`.
///
/// A case may name backends on which it is a known bug, with the reason:
/// `case [postgres = "bug: ..."]` marks only that backend's test
/// `#[ignore]`, so the case still runs everywhere else and
/// `cargo test -- --ignored` shows the bug.
macro_rules! contract_tests {
    ($($case:ident $([$($backend:ident = $reason:literal),* $(,)?])?),* $(,)?) => {
        mod memory {
            $(
                backend_test!(memory, [$($($backend = $reason),*)?], $case, {
                    let store = std::sync::Arc::new(scenario_engine::adapters::InMemoryStore::default());
                    super::$case(&store);
                });
            )*
        }

        mod sqlite {
            $(
                backend_test!(sqlite, [$($($backend = $reason),*)?], $case, {
                    let db = storage_diesel::testdb::TestDb::sqlite();
                    let store = std::sync::Arc::new(storage_diesel::Store::open(db.url(), 4).unwrap());
                    super::$case(&store);
                });
            )*
        }

        mod postgres {
            $(
                backend_test!(postgres, [$($($backend = $reason),*)?], $case, {
                    let Some(db) = storage_diesel::testdb::TestDb::postgres() else { return };
                    let store = std::sync::Arc::new(storage_diesel::Store::open(db.url(), 4).unwrap());
                    super::$case(&store);
                });
            )*
        }
    };
}

/// One `#[test]` of `contract_tests!`: `#[ignore]`d when `$target` is in the
/// list of known bugs.
macro_rules! backend_test {
    ($target:ident, [], $case:ident, $body:block) => {
        #[test]
        fn $case() $body
    };
    (memory, [memory = $reason:literal $(, $b:ident = $r:literal)*], $case:ident, $body:block) => {
        #[test]
        #[ignore = $reason]
        fn $case() $body
    };
    (sqlite, [sqlite = $reason:literal $(, $b:ident = $r:literal)*], $case:ident, $body:block) => {
        #[test]
        #[ignore = $reason]
        fn $case() $body
    };
    (postgres, [postgres = $reason:literal $(, $b:ident = $r:literal)*], $case:ident, $body:block) => {
        #[test]
        #[ignore = $reason]
        fn $case() $body
    };
    ($target:ident, [$other:ident = $reason:literal $(, $b:ident = $r:literal)*], $case:ident, $body:block) => {
        backend_test!($target, [$($b = $r),*], $case, $body);
    };
}

contract_tests![
    // Mentors
    upsert_creates_a_mentor_with_defaults_and_says_it_was_created,
    upsert_creates_with_the_given_fields,
    upsert_of_an_existing_mentor_updates_only_the_given_fields_and_keeps_created_at,
    upsert_never_deletes_and_reinserts_the_mentor,
    create_without_org_id_is_an_error_and_writes_nothing,
    get_of_an_unknown_mentor_is_none,
    list_filters_by_org_and_status_and_orders_by_user_id,
    list_orders_user_ids_bytewise,
    list_pages_with_the_total_and_a_page_past_the_end_is_empty,
    list_includes_each_mentors_certifications_sorted_by_id,
    mentors_after_pages_by_user_id_with_a_status_filter,
    // Activity
    activity_moves_last_active_at_forward_never_back,
    session_completed_counts_a_session_and_keeps_the_earliest_first_session,
    sessions_1_10_and_50_record_milestones_at_the_events_time,
    a_session_reaching_a_count_from_an_upserted_count_records_its_milestone,
    activity_event_replay_changes_nothing,
    activity_event_id_with_a_different_body_is_a_conflict_and_changes_nothing,
    activity_replay_and_conflict_leave_updated_at_alone,
    activity_of_an_unknown_mentor_is_none,
    // Certifications, preferences, status
    put_certification_creates_then_replaces,
    delete_certification_says_whether_it_existed,
    certifications_of_an_unknown_mentor_are_none,
    writing_a_certification_never_changes_status_or_pause,
    preferences_patch_keeps_omitted_switches,
    preferences_of_an_unknown_mentor_are_none,
    set_status_with_a_pause_stores_it_and_active_clears_it,
    set_status_of_an_unknown_mentor_is_none,
    // Import
    import_creates_and_updates_and_counts_each,
    import_keeps_history_pause_and_unlisted_certifications,
    import_of_many_chunks_writes_every_mentor_and_certification,
    import_failing_in_a_late_chunk_writes_nothing_and_still_reads_every_chunk,
    import_of_a_feed_failed_from_the_start_only_reads,
    // Erasure
    delete_mentor_erases_every_record_about_them,
    delete_of_an_unknown_mentor_returns_false,
    // Evaluations and the outbox
    record_evaluation_with_a_taken_dedupe_key_is_a_conflict_and_writes_nothing,
    record_evaluation_of_a_mentor_that_is_gone_fails_and_writes_nothing,
    load_subject_of_an_unknown_mentor_is_none,
    history_counts_pending_notifications_and_keeps_cancelled_keys_taken,
    override_replaces_metadata_and_should_notify,
    override_to_false_cancels_the_pending_notification_and_true_never_enqueues,
    override_of_an_unknown_evaluation_is_none,
    delete_evaluation_keeps_its_notification_without_evaluation_id,
    get_of_an_unknown_evaluation_is_none,
    list_evaluations_is_newest_first_with_id_breaking_ties,
    list_evaluations_filters_by_each_field,
    list_evaluations_pages_with_the_total,
    time_ranges_and_retention_hold_rows_whose_id_lies_just_after_their_instant,
    // End to end through EvaluationService
    inactivity_fires_for_the_contract_example_then_answers_cooldown_active,
    inactivity_with_cooldown_zero_answers_already_notified_the_same_day,
    dry_run_records_enqueues_nothing_and_does_not_count_for_cooldown,
    milestone_fires_once_then_answers_already_notified,
    milestone_first_seen_by_an_evaluation_is_recorded_at_the_evaluation_time,
    certification_expiry_fires_once_per_stage,
    // Concurrency
    concurrent_notifications_with_one_dedupe_key_enqueue_exactly_once,
    concurrent_session_events_on_one_mentor_count_every_session,
    concurrent_replays_of_one_event_count_it_once,
    concurrent_upserts_of_one_new_mentor_create_it_once,
];

const USER: &str = "usr_mentor_7821";

fn page(page: u32, limit: u32) -> PageRequest {
    PageRequest { page, limit }
}

fn all() -> PageRequest {
    page(1, 100)
}

fn by_user(user_id: &str) -> EvaluationFilter {
    EvaluationFilter {
        user_id: Some(user_id.to_owned()),
        ..EvaluationFilter::default()
    }
}

fn milestones<S: Repo>(s: &S, user_id: &str) -> [Option<DateTime<Utc>>; 4] {
    s.load_subject(user_id)
        .unwrap()
        .unwrap()
        .milestones_achieved_at
}

fn mentor<S: Repo>(s: &S, user_id: &str) -> MentorRecord {
    s.get_mentor(user_id).unwrap().unwrap()
}

// ---------------------------------------------------------------- mentors

fn upsert_creates_a_mentor_with_defaults_and_says_it_was_created<S: Repo>(s: &Arc<S>) {
    let (record, created) = s.upsert_mentor(USER, &in_org(), t0()).unwrap();

    assert!(created);
    let expected = MentorRecord {
        mentor: Mentor {
            user_id: USER.to_owned(),
            org_id: ORG.to_owned(),
            status: MentorStatus::Active,
            pause: None,
            last_active_at: None,
            sessions_count: 0,
            first_session_at: None,
            created_at: t0(),
            updated_at: t0(),
        },
        certifications: Vec::new(),
        preferences: Preferences {
            all: true,
            inactivity: true,
            milestone: true,
            certification_expiry: true,
        },
    };
    assert_eq!(record, expected);
    assert_eq!(s.get_mentor(USER).unwrap(), Some(expected));
}

fn upsert_creates_with_the_given_fields<S: Repo>(s: &Arc<S>) {
    let upsert = MentorUpsert {
        org_id: Some(ORG.to_owned()),
        status: Some(MentorStatus::Inactive),
        last_active_at: Some(last_active()),
        sessions_count: Some(12),
        first_session_at: Some(utc(2025, 2, 1, 17, 0, 0)),
        created_at: Some(utc(2025, 1, 10, 0, 0, 0)),
    };

    let (record, created) = s.upsert_mentor(USER, &upsert, t0()).unwrap();

    assert!(created);
    let m = &record.mentor;
    assert_eq!(m.status, MentorStatus::Inactive);
    assert_eq!(m.last_active_at, Some(last_active()));
    assert_eq!(m.sessions_count, 12);
    assert_eq!(m.first_session_at, Some(utc(2025, 2, 1, 17, 0, 0)));
    assert_eq!(m.created_at, utc(2025, 1, 10, 0, 0, 0));
    assert_eq!(m.updated_at, t0());
    assert_eq!(mentor(&**s, USER), record);
}

fn upsert_of_an_existing_mentor_updates_only_the_given_fields_and_keeps_created_at<S: Repo>(
    s: &Arc<S>,
) {
    let first = MentorUpsert {
        org_id: Some(ORG.to_owned()),
        last_active_at: Some(last_active()),
        sessions_count: Some(4),
        first_session_at: Some(utc(2025, 2, 1, 17, 0, 0)),
        created_at: Some(utc(2025, 1, 10, 0, 0, 0)),
        ..MentorUpsert::default()
    };
    let (before, _) = s.upsert_mentor(USER, &first, t0()).unwrap();
    let later = t0() + TimeDelta::hours(1);

    let change = MentorUpsert {
        status: Some(MentorStatus::Inactive),
        sessions_count: Some(5),
        ..MentorUpsert::default()
    };
    let (after, created) = s.upsert_mentor(USER, &change, later).unwrap();

    assert!(!created);
    let expected = MentorRecord {
        mentor: Mentor {
            status: MentorStatus::Inactive,
            sessions_count: 5,
            updated_at: later,
            ..before.mentor.clone()
        },
        ..before.clone()
    };
    assert_eq!(after, expected);
    assert_eq!(mentor(&**s, USER), expected);

    // `created_at` is taken on create only; a new organisation is taken.
    let even_later = later + TimeDelta::hours(1);
    let move_org = MentorUpsert {
        org_id: Some("org_bergen_02".to_owned()),
        created_at: Some(utc(2020, 1, 1, 0, 0, 0)),
        ..MentorUpsert::default()
    };
    let (moved, created) = s.upsert_mentor(USER, &move_org, even_later).unwrap();
    assert!(!created);
    assert_eq!(moved.mentor.org_id, "org_bergen_02");
    assert_eq!(moved.mentor.created_at, utc(2025, 1, 10, 0, 0, 0));
    assert_eq!(moved.mentor.last_active_at, Some(last_active()));
    assert_eq!(moved.mentor.sessions_count, 5);
    assert_eq!(moved.mentor.updated_at, even_later);
}

/// A delete-and-reinsert (`REPLACE`) would cascade to everything about the mentor.
fn upsert_never_deletes_and_reinserts_the_mentor<S: Repo>(s: &Arc<S>) {
    create(&**s, USER, t0());
    let expires = utc(2026, 9, 1, 0, 0, 0);
    s.put_certification(USER, &cert("cert_a", expires, true), t0())
        .unwrap();
    s.set_preferences(
        USER,
        &PreferencesPatch {
            milestone: Some(false),
            ..PreferencesPatch::default()
        },
        t0(),
    )
    .unwrap();
    recorded(
        &**s,
        USER,
        &event(Some("ev_1"), SESSION_COMPLETED, last_active()),
        t0(),
    );
    let e = evaluation("trg_1", USER, ScenarioType::Inactivity, true, t0());
    let n = notification("ntf_1", &e, "inactivity:usr_mentor_7821:2026-03-25");
    s.record_evaluation(&e, Some(&n), None).unwrap();

    s.upsert_mentor(USER, &in_org(), t0() + TimeDelta::hours(1))
        .unwrap();

    let record = mentor(&**s, USER);
    assert_eq!(record.certifications, vec![cert("cert_a", expires, true)]);
    assert!(!record.preferences.milestone);
    assert_eq!(record.mentor.sessions_count, 1);
    assert_eq!(s.list_evaluations(&by_user(USER), all()).unwrap().total, 1);
    assert_eq!(s.outbox(USER).len(), 1);
    assert_eq!(
        milestones(&**s, USER)[MilestoneType::FirstSessionCompleted.index()],
        Some(last_active())
    );
    let replay = s
        .record_activity(
            USER,
            &event(Some("ev_1"), SESSION_COMPLETED, last_active()),
            t0(),
        )
        .unwrap();
    assert!(matches!(replay, Some(ActivityOutcome::Replayed(_))));
}

fn create_without_org_id_is_an_error_and_writes_nothing<S: Repo>(s: &Arc<S>) {
    let upsert = MentorUpsert {
        last_active_at: Some(last_active()),
        ..MentorUpsert::default()
    };

    let result = s.upsert_mentor(USER, &upsert, t0());

    assert!(
        matches!(result, Err(StoreError::Backend(_))),
        "got {result:?}"
    );
    assert_eq!(s.get_mentor(USER).unwrap(), None);
    assert_eq!(
        s.list_mentors(&MentorFilter::default(), all())
            .unwrap()
            .total,
        0
    );
    if let Some(rows) = s.rows_about(USER) {
        assert_eq!(rows, no_rows());
    }
}

fn get_of_an_unknown_mentor_is_none<S: Repo>(s: &Arc<S>) {
    create(&**s, "usr_known", t0());

    assert_eq!(s.get_mentor("usr_unknown").unwrap(), None);
}

fn list_filters_by_org_and_status_and_orders_by_user_id<S: Repo>(s: &Arc<S>) {
    let in_org_of = |org: &str, status: Option<MentorStatus>| MentorUpsert {
        org_id: Some(org.to_owned()),
        status,
        ..MentorUpsert::default()
    };
    s.upsert_mentor("usr_c", &in_org_of("org_a", None), t0())
        .unwrap();
    s.upsert_mentor(
        "usr_a",
        &in_org_of("org_a", Some(MentorStatus::Inactive)),
        t0(),
    )
    .unwrap();
    s.upsert_mentor("usr_b", &in_org_of("org_b", None), t0())
        .unwrap();
    s.upsert_mentor("usr_d", &in_org_of("org_a", None), t0())
        .unwrap();
    let pause = Pause {
        reason: PauseReason::Admin,
        since: t0(),
        until: None,
    };
    s.set_status("usr_d", MentorStatus::Paused, Some(&pause), t0())
        .unwrap();

    let list = |org: Option<&str>, status: Option<MentorStatus>| {
        let filter = MentorFilter {
            org_id: org.map(str::to_owned),
            status,
        };
        let paged = s.list_mentors(&filter, all()).unwrap();
        let users: Vec<String> = user_ids(&paged.rows)
            .into_iter()
            .map(str::to_owned)
            .collect();
        (users, paged.total)
    };

    assert_eq!(
        list(None, None),
        (
            vec![
                "usr_a".into(),
                "usr_b".into(),
                "usr_c".into(),
                "usr_d".into()
            ],
            4
        )
    );
    assert_eq!(
        list(Some("org_a"), None),
        (vec!["usr_a".into(), "usr_c".into(), "usr_d".into()], 3)
    );
    assert_eq!(
        list(None, Some(MentorStatus::Active)),
        (vec!["usr_b".into(), "usr_c".into()], 2)
    );
    assert_eq!(
        list(Some("org_a"), Some(MentorStatus::Active)),
        (vec!["usr_c".into()], 1)
    );
    assert_eq!(
        list(None, Some(MentorStatus::Paused)),
        (vec!["usr_d".into()], 1)
    );
    assert_eq!(list(Some("org_none"), None), (vec![], 0));
    // The listed records are the full records.
    let listed = s.list_mentors(&MentorFilter::default(), all()).unwrap();
    assert_eq!(listed.rows[3], mentor(&**s, "usr_d"));
}

/// Paging by `user_id` must be stable and the same on every backend.
fn list_orders_user_ids_bytewise<S: Repo>(s: &Arc<S>) {
    for user in ["usr_a", "usr_B", "Usr_d", "usr-c", "usr_a_2", "usr_a1"] {
        create(&**s, user, t0());
    }

    let paged = s.list_mentors(&MentorFilter::default(), all()).unwrap();

    assert_eq!(
        user_ids(&paged.rows),
        vec!["Usr_d", "usr-c", "usr_B", "usr_a", "usr_a1", "usr_a_2"]
    );
}

fn list_pages_with_the_total_and_a_page_past_the_end_is_empty<S: Repo>(s: &Arc<S>) {
    for i in [3, 1, 5, 2, 4] {
        create(&**s, &format!("usr_{i}"), t0());
    }
    let filter = MentorFilter::default();

    let first = s.list_mentors(&filter, page(1, 2)).unwrap();
    let second = s.list_mentors(&filter, page(2, 2)).unwrap();
    let last = s.list_mentors(&filter, page(3, 2)).unwrap();
    let past = s.list_mentors(&filter, page(4, 2)).unwrap();

    assert_eq!(
        (user_ids(&first.rows), first.total),
        (vec!["usr_1", "usr_2"], 5)
    );
    assert_eq!(
        (user_ids(&second.rows), second.total),
        (vec!["usr_3", "usr_4"], 5)
    );
    assert_eq!((user_ids(&last.rows), last.total), (vec!["usr_5"], 5));
    assert_eq!((past.rows.len(), past.total), (0, 5));
    let org_b = MentorFilter {
        org_id: Some("org_b".to_owned()),
        status: None,
    };
    let none = s.list_mentors(&org_b, page(2, 2)).unwrap();
    assert_eq!((none.rows.len(), none.total), (0, 0));
}

fn list_includes_each_mentors_certifications_sorted_by_id<S: Repo>(s: &Arc<S>) {
    create(&**s, "usr_a", t0());
    create(&**s, "usr_b", t0());
    create(&**s, "usr_c", t0());
    let expires = utc(2026, 9, 1, 0, 0, 0);
    for id in ["cert_z", "cert_a", "cert_m"] {
        s.put_certification("usr_a", &cert(id, expires, false), t0())
            .unwrap();
    }
    s.put_certification("usr_b", &cert("cert_b", expires, true), t0())
        .unwrap();

    let listed = s.list_mentors(&MentorFilter::default(), all()).unwrap();
    let second_page = s
        .list_mentors(&MentorFilter::default(), page(2, 1))
        .unwrap();

    let cert_ids = |r: &MentorRecord| -> Vec<String> {
        r.certifications
            .iter()
            .map(|c| c.certification_id.clone())
            .collect()
    };
    assert_eq!(
        cert_ids(&listed.rows[0]),
        vec!["cert_a", "cert_m", "cert_z"]
    );
    assert_eq!(cert_ids(&listed.rows[1]), vec!["cert_b"]);
    assert_eq!(cert_ids(&listed.rows[2]), Vec::<String>::new());
    assert_eq!(
        listed.rows[0].certifications[0],
        cert("cert_a", expires, false)
    );
    assert_eq!(listed.rows[0], mentor(&**s, "usr_a"));
    assert_eq!(second_page.rows, vec![mentor(&**s, "usr_b")]);
}

// --------------------------------------------------------------- activity

fn activity_moves_last_active_at_forward_never_back<S: Repo>(s: &Arc<S>) {
    let upsert = MentorUpsert {
        last_active_at: Some(last_active()),
        ..in_org()
    };
    s.upsert_mentor(USER, &upsert, t0()).unwrap();
    let forward = last_active() + TimeDelta::days(1);

    let after_login = recorded(&**s, USER, &event(None, "login", forward), t0());
    let after_old = recorded(
        &**s,
        USER,
        &event(
            Some("ev_old"),
            "message_sent",
            last_active() - TimeDelta::days(5),
        ),
        t0(),
    );

    assert_eq!(after_login.mentor.last_active_at, Some(forward));
    assert_eq!(after_old.mentor.last_active_at, Some(forward));
    // Other kinds count no session.
    assert_eq!(after_old.mentor.sessions_count, 0);
    assert_eq!(after_old.mentor.first_session_at, None);
    assert_eq!(after_old, mentor(&**s, USER));
    assert_eq!(milestones(&**s, USER), [None; 4]);
}

fn session_completed_counts_a_session_and_keeps_the_earliest_first_session<S: Repo>(s: &Arc<S>) {
    create(&**s, USER, t0());
    let t3 = utc(2026, 3, 3, 10, 0, 0);
    let t1 = utc(2026, 3, 1, 10, 0, 0);
    let t5 = utc(2026, 3, 5, 10, 0, 0);

    let one = recorded(&**s, USER, &event(None, SESSION_COMPLETED, t3), t0());
    let two = recorded(
        &**s,
        USER,
        &event(Some("ev_early"), SESSION_COMPLETED, t1),
        t0(),
    );
    let three = recorded(&**s, USER, &event(None, SESSION_COMPLETED, t5), t0());

    assert_eq!(
        (
            one.mentor.sessions_count,
            one.mentor.first_session_at,
            one.mentor.last_active_at
        ),
        (1, Some(t3), Some(t3))
    );
    assert_eq!(
        (
            two.mentor.sessions_count,
            two.mentor.first_session_at,
            two.mentor.last_active_at
        ),
        (2, Some(t1), Some(t3))
    );
    assert_eq!(
        (
            three.mentor.sessions_count,
            three.mentor.first_session_at,
            three.mentor.last_active_at
        ),
        (3, Some(t1), Some(t5))
    );
    assert_eq!(three, mentor(&**s, USER));
    // The first session milestone was reached by the first event recorded.
    assert_eq!(milestones(&**s, USER), [Some(t3), None, None, None]);
}

fn sessions_1_10_and_50_record_milestones_at_the_events_time<S: Repo>(s: &Arc<S>) {
    create(&**s, USER, t0());
    let at = |n: i64| utc(2026, 1, 1, 0, 0, 0) + TimeDelta::hours(n);

    for n in 1..=50 {
        let id = format!("ev_{n}");
        let record = recorded(
            &**s,
            USER,
            &event(Some(&id), SESSION_COMPLETED, at(n)),
            t0(),
        );
        assert_eq!(record.mentor.sessions_count, u32::try_from(n).unwrap());
    }
    // Sessions past a milestone never move its time.
    recorded(&**s, USER, &event(None, SESSION_COMPLETED, at(51)), t0());

    assert_eq!(
        milestones(&**s, USER),
        [Some(at(1)), Some(at(10)), Some(at(50)), None]
    );
    let m = mentor(&**s, USER).mentor;
    assert_eq!(m.sessions_count, 51);
    assert_eq!(m.first_session_at, Some(at(1)));
    assert_eq!(m.last_active_at, Some(at(51)));
}

fn a_session_reaching_a_count_from_an_upserted_count_records_its_milestone<S: Repo>(s: &Arc<S>) {
    let upsert = MentorUpsert {
        sessions_count: Some(9),
        ..in_org()
    };
    s.upsert_mentor(USER, &upsert, t0()).unwrap();
    let at = utc(2026, 3, 20, 17, 0, 0);

    let record = recorded(&**s, USER, &event(None, SESSION_COMPLETED, at), t0());

    assert_eq!(record.mentor.sessions_count, 10);
    assert_eq!(milestones(&**s, USER), [None, Some(at), None, None]);
}

/// The record as a replay or conflict must leave it, apart from
/// `updated_at` (pinned by `activity_replay_and_conflict_leave_updated_at_alone`).
fn ignoring_updated_at(mut record: MentorRecord) -> MentorRecord {
    record.mentor.updated_at = DateTime::UNIX_EPOCH;
    record
}

fn activity_event_replay_changes_nothing<S: Repo>(s: &Arc<S>) {
    create(&**s, USER, t0());
    let e = event(Some("ev_1"), SESSION_COMPLETED, last_active());
    let first = recorded(&**s, USER, &e, t0());
    let subject_before = s.load_subject(USER).unwrap().unwrap();

    let replay = s
        .record_activity(USER, &e, t0() + TimeDelta::hours(1))
        .unwrap();

    assert_eq!(first.mentor.sessions_count, 1);
    match replay {
        Some(ActivityOutcome::Replayed(record)) => {
            assert_eq!(record.mentor.sessions_count, 1);
            assert_eq!(
                ignoring_updated_at(record),
                ignoring_updated_at(first.clone())
            );
        }
        other => panic!("expected Replayed, got {other:?}"),
    }
    assert_eq!(
        ignoring_updated_at(mentor(&**s, USER)),
        ignoring_updated_at(first)
    );
    let subject_after = s.load_subject(USER).unwrap().unwrap();
    assert_eq!(
        subject_after.milestones_achieved_at,
        subject_before.milestones_achieved_at
    );
    assert_eq!(subject_after.history, subject_before.history);
}

fn activity_event_id_with_a_different_body_is_a_conflict_and_changes_nothing<S: Repo>(s: &Arc<S>) {
    create(&**s, USER, t0());
    let e = event(Some("ev_1"), SESSION_COMPLETED, last_active());
    let first = recorded(&**s, USER, &e, t0());
    let later = t0() + TimeDelta::hours(1);

    let other_kind = s
        .record_activity(USER, &event(Some("ev_1"), "login", last_active()), later)
        .unwrap();
    let other_time = s
        .record_activity(
            USER,
            &event(
                Some("ev_1"),
                SESSION_COMPLETED,
                last_active() + TimeDelta::days(2),
            ),
            later,
        )
        .unwrap();

    assert_eq!(other_kind, Some(ActivityOutcome::Conflict));
    assert_eq!(other_time, Some(ActivityOutcome::Conflict));
    assert_eq!(
        ignoring_updated_at(mentor(&**s, USER)),
        ignoring_updated_at(first)
    );
    assert_eq!(
        milestones(&**s, USER),
        [Some(last_active()), None, None, None]
    );
    // The original body still replays.
    let replay = s.record_activity(USER, &e, later).unwrap();
    assert!(
        matches!(replay, Some(ActivityOutcome::Replayed(_))),
        "got {replay:?}"
    );
}

/// "Changing nothing" includes the row's `updated_at`: a retried delivery
/// is not a change of the mentor.
fn activity_replay_and_conflict_leave_updated_at_alone<S: Repo>(s: &Arc<S>) {
    create(&**s, USER, t0());
    let e = event(Some("ev_1"), SESSION_COMPLETED, last_active());
    let first = recorded(&**s, USER, &e, t0());

    let replay = s
        .record_activity(USER, &e, t0() + TimeDelta::hours(1))
        .unwrap();
    let after_replay = mentor(&**s, USER);
    let conflict = s
        .record_activity(
            USER,
            &event(Some("ev_1"), "login", last_active()),
            t0() + TimeDelta::hours(2),
        )
        .unwrap();
    let after_conflict = mentor(&**s, USER);

    assert_eq!(replay, Some(ActivityOutcome::Replayed(first.clone())));
    assert_eq!(after_replay, first);
    assert_eq!(conflict, Some(ActivityOutcome::Conflict));
    assert_eq!(after_conflict, first);
}

fn activity_of_an_unknown_mentor_is_none<S: Repo>(s: &Arc<S>) {
    create(&**s, USER, t0());

    let outcome = s
        .record_activity(
            "usr_unknown",
            &event(Some("ev_1"), SESSION_COMPLETED, last_active()),
            t0(),
        )
        .unwrap();

    assert_eq!(outcome, None);
    assert_eq!(s.get_mentor("usr_unknown").unwrap(), None);
    // The event id was not taken for anybody.
    recorded(
        &**s,
        USER,
        &event(Some("ev_1"), SESSION_COMPLETED, last_active()),
        t0(),
    );
}

// ------------------------------------- certifications, preferences, status

fn put_certification_creates_then_replaces<S: Repo>(s: &Arc<S>) {
    create(&**s, USER, t0());
    let original = cert("cert_safety_003", utc(2026, 4, 25, 0, 0, 0), true);
    let renewed = scenario_engine::rules::Certification {
        name: "Child safety (renewed)".to_owned(),
        issued_at: None,
        expires_at: utc(2027, 4, 25, 0, 0, 0),
        required: false,
        ..original.clone()
    };

    let created = s.put_certification(USER, &original, t0()).unwrap();
    let after_create = mentor(&**s, USER).certifications;
    let replaced = s
        .put_certification(USER, &renewed, t0() + TimeDelta::hours(1))
        .unwrap();

    assert_eq!(created, Some(true));
    assert_eq!(after_create, vec![original]);
    assert_eq!(replaced, Some(false));
    assert_eq!(mentor(&**s, USER).certifications, vec![renewed]);
}

fn delete_certification_says_whether_it_existed<S: Repo>(s: &Arc<S>) {
    create(&**s, USER, t0());
    let expires = utc(2026, 4, 25, 0, 0, 0);
    s.put_certification(USER, &cert("cert_a", expires, true), t0())
        .unwrap();
    s.put_certification(USER, &cert("cert_b", expires, false), t0())
        .unwrap();

    assert_eq!(s.delete_certification(USER, "cert_a").unwrap(), Some(true));
    assert_eq!(s.delete_certification(USER, "cert_a").unwrap(), Some(false));
    assert_eq!(
        s.delete_certification(USER, "cert_never").unwrap(),
        Some(false)
    );
    assert_eq!(
        mentor(&**s, USER).certifications,
        vec![cert("cert_b", expires, false)]
    );
}

fn certifications_of_an_unknown_mentor_are_none<S: Repo>(s: &Arc<S>) {
    create(&**s, USER, t0());
    let c = cert("cert_a", utc(2026, 4, 25, 0, 0, 0), true);
    s.put_certification(USER, &c, t0()).unwrap();

    assert_eq!(s.put_certification("usr_unknown", &c, t0()).unwrap(), None);
    assert_eq!(
        s.delete_certification("usr_unknown", "cert_a").unwrap(),
        None
    );
    assert_eq!(s.get_mentor("usr_unknown").unwrap(), None);
    assert_eq!(mentor(&**s, USER).certifications, vec![c]);
}

fn writing_a_certification_never_changes_status_or_pause<S: Repo>(s: &Arc<S>) {
    create(&**s, USER, t0());
    let expired = cert("cert_safety_003", utc(2026, 3, 1, 0, 0, 0), true);
    s.put_certification(USER, &expired, t0()).unwrap();
    let pause = Pause {
        reason: PauseReason::CertificationExpired,
        since: utc(2026, 3, 2, 2, 0, 0),
        until: None,
    };
    s.set_status(USER, MentorStatus::Paused, Some(&pause), t0())
        .unwrap();

    let renewed = cert("cert_safety_003", utc(2027, 3, 1, 0, 0, 0), true);
    s.put_certification(USER, &renewed, t0()).unwrap();
    s.put_certification(
        USER,
        &cert("cert_other", utc(2027, 1, 1, 0, 0, 0), false),
        t0(),
    )
    .unwrap();
    s.delete_certification(USER, "cert_other").unwrap();

    let m = mentor(&**s, USER).mentor;
    assert_eq!(m.status, MentorStatus::Paused);
    assert_eq!(m.pause, Some(pause));
}

fn preferences_patch_keeps_omitted_switches<S: Repo>(s: &Arc<S>) {
    create(&**s, USER, t0());

    let mute_milestones = PreferencesPatch {
        milestone: Some(false),
        ..PreferencesPatch::default()
    };
    let first = s.set_preferences(USER, &mute_milestones, t0()).unwrap();
    let mute_all = PreferencesPatch {
        all: Some(false),
        inactivity: Some(true),
        ..PreferencesPatch::default()
    };
    let second = s.set_preferences(USER, &mute_all, t0()).unwrap();
    let nothing = s
        .set_preferences(USER, &PreferencesPatch::default(), t0())
        .unwrap();

    let expected_first = Preferences {
        milestone: false,
        ..Preferences::default()
    };
    let expected_second = Preferences {
        all: false,
        inactivity: true,
        milestone: false,
        certification_expiry: true,
    };
    assert_eq!(first, Some(expected_first));
    assert_eq!(second, Some(expected_second));
    assert_eq!(nothing, Some(expected_second));
    assert_eq!(mentor(&**s, USER).preferences, expected_second);
}

fn preferences_of_an_unknown_mentor_are_none<S: Repo>(s: &Arc<S>) {
    let patch = PreferencesPatch {
        all: Some(false),
        ..PreferencesPatch::default()
    };

    assert_eq!(
        s.set_preferences("usr_unknown", &patch, t0()).unwrap(),
        None
    );
    assert_eq!(s.get_mentor("usr_unknown").unwrap(), None);
}

fn set_status_with_a_pause_stores_it_and_active_clears_it<S: Repo>(s: &Arc<S>) {
    create(&**s, USER, t0());
    let requested = Pause {
        reason: PauseReason::Requested,
        since: utc(2026, 3, 25, 8, 0, 0),
        until: Some(utc(2026, 4, 15, 0, 0, 0)),
    };

    let paused = s
        .set_status(USER, MentorStatus::Paused, Some(&requested), t0())
        .unwrap()
        .unwrap();
    assert_eq!(paused.mentor.status, MentorStatus::Paused);
    assert_eq!(paused.mentor.pause, Some(requested.clone()));
    assert_eq!(mentor(&**s, USER), paused);

    let admin = Pause {
        reason: PauseReason::Admin,
        since: utc(2026, 3, 26, 9, 30, 0),
        until: None,
    };
    let later = t0() + TimeDelta::days(1);
    let repaused = s
        .set_status(USER, MentorStatus::Paused, Some(&admin), later)
        .unwrap()
        .unwrap();
    assert_eq!(repaused.mentor.pause, Some(admin));
    assert_eq!(repaused.mentor.updated_at, later);

    let lifted = s
        .set_status(USER, MentorStatus::Active, None, later)
        .unwrap()
        .unwrap();
    assert_eq!(lifted.mentor.status, MentorStatus::Active);
    assert_eq!(lifted.mentor.pause, None);
    assert_eq!(mentor(&**s, USER), lifted);

    let retired = s
        .set_status(USER, MentorStatus::Inactive, None, later)
        .unwrap()
        .unwrap();
    assert_eq!(
        (retired.mentor.status, retired.mentor.pause),
        (MentorStatus::Inactive, None)
    );
}

fn set_status_of_an_unknown_mentor_is_none<S: Repo>(s: &Arc<S>) {
    let pause = Pause {
        reason: PauseReason::Admin,
        since: t0(),
        until: None,
    };

    assert_eq!(
        s.set_status("usr_unknown", MentorStatus::Paused, Some(&pause), t0())
            .unwrap(),
        None
    );
    assert_eq!(
        s.set_status("usr_unknown", MentorStatus::Active, None, t0())
            .unwrap(),
        None
    );
}

// ---------------------------------------------------------------- erasure

/// A mentor with evaluations, notifications (so dedupe keys), certifications,
/// activity events and milestones, all made through the services.
fn mentor_with_history<S: Repo>(services: &Services, s: &Arc<S>, user_id: &str) {
    let upsert = MentorUpsert {
        last_active_at: Some(last_active()),
        ..in_org()
    };
    services.mentors.upsert(user_id, upsert).unwrap();
    services
        .mentors
        .put_certification(
            user_id,
            cert("cert_safety_003", utc(2026, 4, 10, 0, 0, 0), true),
        )
        .unwrap();
    recorded(
        &**s,
        user_id,
        &event(Some("ev_1"), SESSION_COMPLETED, utc(2026, 3, 10, 17, 0, 0)),
        t0(),
    );
    for scenario in [
        Scenario::inactivity(Some(7)).unwrap(),
        Scenario::Milestone {
            milestone_type: MilestoneType::FirstSessionCompleted,
        },
        Scenario::certification_expiry(None).unwrap(),
    ] {
        assert!(services.evaluate(user_id, scenario).should_notify);
    }
    assert_eq!(s.outbox(user_id).len(), 3);
}

// ---------------------------------------------------------------- import

/// A feed over lines given up front: what `MentorService::import` hands
/// storage, minus the parsing. It fails when `admit` sees `fail_at`, or
/// from the start when `failed` is set, and records what storage asked.
struct TestFeed {
    lines: std::vec::IntoIter<ImportLine>,
    fail_at: Option<u64>,
    failed: bool,
    /// Every line admitted, and whether storage said it existed.
    admitted: Vec<(u64, bool)>,
    /// The size of every chunk handed out.
    chunks: Vec<usize>,
}

impl TestFeed {
    fn new(mentors: Vec<MentorImport>) -> Self {
        Self {
            lines: (1..)
                .zip(mentors)
                .map(|(line, mentor)| ImportLine { line, mentor })
                .collect::<Vec<_>>()
                .into_iter(),
            fail_at: None,
            failed: false,
            admitted: Vec::new(),
            chunks: Vec::new(),
        }
    }
}

impl ImportFeed for TestFeed {
    fn next_chunk(&mut self, max: usize) -> Vec<ImportLine> {
        let chunk: Vec<ImportLine> = self.lines.by_ref().take(max).collect();
        if !chunk.is_empty() {
            self.chunks.push(chunk.len());
        }
        chunk
    }

    fn admit(&mut self, chunk: &[ImportLine], existing: &[Option<&Mentor>]) {
        assert_eq!(chunk.len(), existing.len());
        for (l, e) in chunk.iter().zip(existing) {
            if let Some(m) = e {
                assert_eq!(
                    m.user_id, l.mentor.user_id,
                    "existing[i] is chunk[i]'s mentor"
                );
            }
            self.admitted.push((l.line, e.is_some()));
            if self.fail_at == Some(l.line) {
                self.failed = true;
            }
        }
    }

    fn failed(&self) -> bool {
        self.failed
    }
}

fn import_line(user_id: &str, upsert: MentorUpsert) -> MentorImport {
    MentorImport {
        user_id: user_id.to_owned(),
        upsert,
        ..MentorImport::default()
    }
}

fn mentor_count<S: Repo>(s: &S) -> u64 {
    s.list_mentors(&MentorFilter::default(), page(1, 1))
        .unwrap()
        .total
}

fn import_creates_and_updates_and_counts_each<S: Repo>(s: &Arc<S>) {
    let upsert = MentorUpsert {
        last_active_at: Some(last_active()),
        created_at: Some(utc(2025, 1, 10, 0, 0, 0)),
        ..in_org()
    };
    let (before, _) = s.upsert_mentor(USER, &upsert, t0()).unwrap();
    let later = t0() + TimeDelta::hours(2);
    let mut feed = TestFeed::new(vec![
        import_line(
            "usr_new",
            MentorUpsert {
                org_id: Some("org_bergen_02".into()),
                sessions_count: Some(4),
                ..MentorUpsert::default()
            },
        ),
        import_line(
            USER,
            MentorUpsert {
                status: Some(MentorStatus::Inactive),
                sessions_count: Some(12),
                created_at: Some(utc(2020, 1, 1, 0, 0, 0)),
                ..MentorUpsert::default()
            },
        ),
    ]);

    let counts = s.import_mentors(&mut feed, later).unwrap();

    assert_eq!(
        counts,
        Some(ImportCounts {
            created: 1,
            updated: 1
        })
    );
    assert_eq!(feed.admitted, [(1, false), (2, true)]);
    let updated = mentor(&**s, USER);
    let expected = Mentor {
        status: MentorStatus::Inactive,
        sessions_count: 12,
        updated_at: later,
        ..before.mentor
    };
    assert_eq!(updated.mentor, expected, "created_at and the rest are kept");
    let created = mentor(&**s, "usr_new");
    assert_eq!(
        created,
        MentorRecord {
            mentor: Mentor {
                user_id: "usr_new".into(),
                org_id: "org_bergen_02".into(),
                status: MentorStatus::Active,
                pause: None,
                last_active_at: None,
                sessions_count: 4,
                first_session_at: None,
                created_at: later,
                updated_at: later,
            },
            certifications: vec![],
            preferences: Preferences::default(),
        }
    );
}

fn import_keeps_history_pause_and_unlisted_certifications<S: Repo>(s: &Arc<S>) {
    let services = Services::new(s, t0(), Rules::default());
    mentor_with_history(&services, s, USER);
    s.put_certification(
        USER,
        &cert("cert_first_aid", utc(2027, 1, 1, 0, 0, 0), false),
        t0(),
    )
    .unwrap();
    s.set_preferences(
        USER,
        &PreferencesPatch {
            inactivity: Some(false),
            ..PreferencesPatch::default()
        },
        t0(),
    )
    .unwrap();
    let pause = Pause {
        reason: PauseReason::Admin,
        since: t0(),
        until: None,
    };
    s.set_status(USER, MentorStatus::Paused, Some(&pause), t0())
        .unwrap();
    let before_rows = s.rows_about(USER);
    let subject_before = s.load_subject(USER).unwrap().unwrap();
    let renewed = Certification {
        name: "Safety, renewed".into(),
        ..cert("cert_safety_003", utc(2027, 4, 10, 0, 0, 0), true)
    };
    let added = cert("cert_mentoring", utc(2027, 6, 1, 0, 0, 0), false);
    let later = t0() + TimeDelta::days(1);
    let mut feed = TestFeed::new(vec![MentorImport {
        certifications: vec![renewed.clone(), added.clone()],
        preferences: PreferencesPatch {
            milestone: Some(false),
            ..PreferencesPatch::default()
        },
        ..import_line(
            USER,
            MentorUpsert {
                sessions_count: Some(9),
                ..MentorUpsert::default()
            },
        )
    }]);

    let counts = s.import_mentors(&mut feed, later).unwrap();

    assert_eq!(
        counts,
        Some(ImportCounts {
            created: 0,
            updated: 1
        })
    );
    let after = mentor(&**s, USER);
    assert_eq!(after.mentor.sessions_count, 9);
    assert_eq!(after.mentor.status, MentorStatus::Paused);
    assert_eq!(
        after.mentor.pause,
        Some(pause),
        "an import never lifts a pause"
    );
    assert_eq!(
        after.certifications,
        vec![
            cert("cert_first_aid", utc(2027, 1, 1, 0, 0, 0), false),
            added,
            renewed
        ],
        "listed ones created or replaced, the unlisted one kept, by id"
    );
    assert_eq!(
        after.preferences,
        Preferences {
            inactivity: false,
            milestone: false,
            ..Preferences::default()
        },
        "a patch: the switches not named keep their value"
    );
    // The history is untouched: same rows, milestones and notification facts.
    if let Some(rows) = before_rows {
        let mut expected = rows.clone();
        for (table, n) in &mut expected {
            if *table == "certifications" {
                *n += 1;
            }
        }
        assert_eq!(s.rows_about(USER), Some(expected));
    }
    let subject_after = s.load_subject(USER).unwrap().unwrap();
    assert_eq!(
        subject_after.milestones_achieved_at,
        subject_before.milestones_achieved_at
    );
    assert_eq!(subject_after.history, subject_before.history);
    assert_eq!(s.outbox(USER).len(), 3);
    assert_eq!(s.list_evaluations(&by_user(USER), all()).unwrap().total, 3);
    let replay = s
        .record_activity(
            USER,
            &event(Some("ev_1"), SESSION_COMPLETED, utc(2026, 3, 10, 17, 0, 0)),
            later,
        )
        .unwrap();
    assert!(
        matches!(replay, Some(ActivityOutcome::Replayed(_))),
        "{replay:?}"
    );
}

fn import_of_many_chunks_writes_every_mentor_and_certification<S: Repo>(s: &Arc<S>) {
    let n = 2_500;
    let lines: Vec<MentorImport> = (0..n)
        .map(|i| MentorImport {
            certifications: vec![
                cert("cert_a", utc(2027, 1, 1, 0, 0, 0), true),
                cert("cert_b", utc(2027, 2, 1, 0, 0, 0), false),
            ],
            ..import_line(&format!("usr_bulk_{i:05}"), in_org())
        })
        .collect();
    let mut feed = TestFeed::new(lines);

    let counts = s.import_mentors(&mut feed, t0()).unwrap();

    assert_eq!(
        counts,
        Some(ImportCounts {
            created: n,
            updated: 0
        })
    );
    assert!(feed.chunks.len() >= 2, "chunks {:?}", feed.chunks);
    assert_eq!(feed.chunks.iter().sum::<usize>(), 2_500);
    assert_eq!(mentor_count(&**s), n);
    let last = mentor(&**s, "usr_bulk_02499");
    assert_eq!(last.certifications.len(), 2);
    assert_eq!(last.mentor.org_id, ORG);
}

fn import_failing_in_a_late_chunk_writes_nothing_and_still_reads_every_chunk<S: Repo>(s: &Arc<S>) {
    let before = create(&**s, USER, t0());
    let mut lines: Vec<MentorImport> = (0..2_500)
        .map(|i| import_line(&format!("usr_bulk_{i:05}"), in_org()))
        .collect();
    lines[0] = import_line(
        USER,
        MentorUpsert {
            sessions_count: Some(7),
            ..MentorUpsert::default()
        },
    );
    let mut feed = TestFeed::new(lines);
    feed.fail_at = Some(2_400);

    let counts = s
        .import_mentors(&mut feed, t0() + TimeDelta::hours(1))
        .unwrap();

    assert_eq!(counts, None);
    assert_eq!(feed.admitted.len(), 2_500, "every line is still checked");
    assert_eq!(mentor_count(&**s), 1);
    assert_eq!(s.get_mentor("usr_bulk_00001").unwrap(), None);
    assert_eq!(
        mentor(&**s, USER),
        before,
        "the first chunk's update is rolled back"
    );
}

fn import_of_a_feed_failed_from_the_start_only_reads<S: Repo>(s: &Arc<S>) {
    create(&**s, USER, t0());
    let mut feed = TestFeed::new(vec![
        import_line("usr_new", in_org()),
        import_line(USER, in_org()),
    ]);
    feed.failed = true;

    let counts = s.import_mentors(&mut feed, t0()).unwrap();

    assert_eq!(counts, None);
    assert_eq!(feed.admitted, [(1, false), (2, true)]);
    assert_eq!(s.get_mentor("usr_new").unwrap(), None);
}

fn delete_mentor_erases_every_record_about_them<S: Repo>(s: &Arc<S>) {
    let services = Services::new(s, t0(), Rules::default());
    mentor_with_history(&services, s, USER);
    mentor_with_history(&services, s, "usr_other");
    // A run's batch: three more evaluations each (one per scenario type),
    // and batch decision rows.
    let ids = vec![USER.to_owned(), "usr_other".to_owned()];
    let report = services
        .batches
        .evaluate_batch(BatchRequest::new("run_erasure", 0, ids))
        .unwrap();
    assert_eq!(report.users_evaluated, 2);

    assert!(s.delete_mentor(USER).unwrap());

    assert_eq!(s.get_mentor(USER).unwrap(), None);
    assert_eq!(s.load_subject(USER).unwrap(), None);
    let left = s.list_evaluations(&by_user(USER), all()).unwrap();
    assert_eq!((left.rows.len(), left.total), (0, 0));
    assert_eq!(s.outbox(USER), Vec::<OutboxRow>::new());
    if let Some(rows) = s.rows_about(USER) {
        assert_eq!(rows, no_rows());
    }
    // Nobody else's records went with them.
    assert_eq!(
        s.list_evaluations(&by_user("usr_other"), all())
            .unwrap()
            .total,
        3 + 3
    );
    assert_eq!(s.outbox("usr_other").len(), 3);
    if let Some(rows) = s.rows_about("usr_other") {
        assert!(rows.contains(&("evaluations", 6)), "{rows:?}");
    }
    assert_eq!(mentor(&**s, "usr_other").certifications.len(), 1);

    // Re-created with the same id, the mentor starts afresh.
    create(&**s, USER, t0());
    let subject = s.load_subject(USER).unwrap().unwrap();
    assert_eq!(subject.history.taken_keys, Vec::<String>::new());
    assert_eq!(subject.history.last_notified_at, [None; 3]);
    assert_eq!(subject.milestones_achieved_at, [None; 4]);
    assert_eq!(subject.record.certifications, vec![]);
    assert_eq!(subject.record.mentor.sessions_count, 0);
    let again = s
        .record_activity(
            USER,
            &event(Some("ev_1"), "login", utc(2026, 3, 10, 17, 0, 0)),
            t0(),
        )
        .unwrap();
    assert!(
        matches!(again, Some(ActivityOutcome::Recorded(_))),
        "got {again:?}"
    );
    // The day's inactivity key is free again.
    let fresh = services.evaluate(USER, Scenario::inactivity(Some(7)).unwrap());
    assert!(fresh.should_notify, "{}", fresh.reason);
}

fn delete_of_an_unknown_mentor_returns_false<S: Repo>(s: &Arc<S>) {
    create(&**s, USER, t0());

    assert!(!s.delete_mentor("usr_unknown").unwrap());
    assert!(s.delete_mentor(USER).unwrap());
    assert!(!s.delete_mentor(USER).unwrap());
}

// -------------------------------------------------- evaluations and outbox

/// The mentor was erased after the evaluation read them: the write fails
/// whole, as a foreign key fails it (on PostgreSQL the writer checks it,
/// `links.rs`).
fn record_evaluation_of_a_mentor_that_is_gone_fails_and_writes_nothing<S: Repo>(s: &Arc<S>) {
    create(&**s, USER, t0());
    let key = "milestone:usr_gone:sessions_10";
    // Without a notification, then with one.
    let quiet = evaluation("trg_0", "usr_gone", ScenarioType::Milestone, false, t0());
    let result = s.record_evaluation(&quiet, None, None);
    assert!(
        matches!(result, Err(StoreError::Backend(_))),
        "got {result:?}"
    );
    assert_eq!(s.get_evaluation("trg_0").unwrap(), None);

    let gone = evaluation("trg_1", "usr_gone", ScenarioType::Milestone, true, t0());
    let result = s.record_evaluation(&gone, Some(&notification("ntf_1", &gone, key)), None);

    assert!(
        matches!(result, Err(StoreError::Backend(_))),
        "got {result:?}"
    );
    assert_eq!(s.get_evaluation("trg_1").unwrap(), None);
    assert_eq!(s.outbox("usr_gone"), Vec::<OutboxRow>::new());
    // The key is free: nothing of the failed write stayed.
    let kept = evaluation("trg_2", USER, ScenarioType::Milestone, true, t0());
    s.record_evaluation(&kept, Some(&notification("ntf_2", &kept, key)), None)
        .unwrap();
}

fn record_evaluation_with_a_taken_dedupe_key_is_a_conflict_and_writes_nothing<S: Repo>(s: &Arc<S>) {
    create(&**s, USER, t0());
    let key = "milestone:usr_mentor_7821:sessions_10";
    let first = evaluation("trg_1", USER, ScenarioType::Milestone, true, t0());
    s.record_evaluation(&first, Some(&notification("ntf_1", &first, key)), None)
        .unwrap();

    let later = t0() + TimeDelta::days(5);
    let second = evaluation("trg_2", USER, ScenarioType::Milestone, true, later);
    let result = s.record_evaluation(
        &second,
        Some(&notification("ntf_2", &second, key)),
        Some((MilestoneType::Sessions10, later)),
    );

    assert!(
        matches!(
            result,
            Err(StoreError::Conflict("notifications.dedupe_key"))
        ),
        "got {result:?}"
    );
    assert_eq!(s.get_evaluation("trg_2").unwrap(), None);
    assert_eq!(s.list_evaluations(&by_user(USER), all()).unwrap().total, 1);
    assert_eq!(
        s.outbox(USER).into_iter().map(|n| n.id).collect::<Vec<_>>(),
        vec!["ntf_1"]
    );
    assert_eq!(milestones(&**s, USER), [None; 4]);
    let history = s.load_subject(USER).unwrap().unwrap().history;
    assert_eq!(history.last_notified_at, [None, Some(t0()), None]);
}

fn load_subject_of_an_unknown_mentor_is_none<S: Repo>(s: &Arc<S>) {
    create(&**s, USER, t0());

    assert_eq!(s.load_subject("usr_unknown").unwrap(), None);
}

fn history_counts_pending_notifications_and_keeps_cancelled_keys_taken<S: Repo>(s: &Arc<S>) {
    create(&**s, USER, t0());
    create(&**s, "usr_other", t0());
    let t1 = utc(2026, 3, 20, 8, 0, 0);
    let t2 = utc(2026, 3, 22, 8, 0, 0);
    let t3 = utc(2026, 3, 21, 8, 0, 0);
    let keys = [
        "inactivity:usr_mentor_7821:2026-03-20",
        "inactivity:usr_mentor_7821:2026-03-22",
        "milestone:usr_mentor_7821:first_session_completed",
    ];
    let e1 = evaluation("trg_1", USER, ScenarioType::Inactivity, true, t1);
    let e2 = evaluation("trg_2", USER, ScenarioType::Inactivity, true, t2);
    let e3 = evaluation("trg_3", USER, ScenarioType::Milestone, true, t3);
    let e4 = evaluation("trg_4", USER, ScenarioType::CertificationExpiry, false, t2);
    let other = evaluation(
        "trg_5",
        "usr_other",
        ScenarioType::CertificationExpiry,
        true,
        t2,
    );
    s.record_evaluation(&e2, Some(&notification("ntf_2", &e2, keys[1])), None)
        .unwrap();
    s.record_evaluation(&e1, Some(&notification("ntf_1", &e1, keys[0])), None)
        .unwrap();
    s.record_evaluation(&e3, Some(&notification("ntf_3", &e3, keys[2])), None)
        .unwrap();
    s.record_evaluation(&e4, None, None).unwrap();
    let other_key = "certification_expiry:usr_other:cert_a:2026-04-25T00:00:00Z:30";
    s.record_evaluation(
        &other,
        Some(&notification("ntf_5", &other, other_key)),
        None,
    )
    .unwrap();
    let taken = |s: &S| -> BTreeSet<String> {
        s.load_subject(USER)
            .unwrap()
            .unwrap()
            .history
            .taken_keys
            .into_iter()
            .collect()
    };
    let all_keys: BTreeSet<String> = keys.iter().map(|k| (*k).to_owned()).collect();

    let history = s.load_subject(USER).unwrap().unwrap().history;
    assert_eq!(history.user_id, USER);
    assert_eq!(history.last_notified_at, [Some(t2), Some(t3), None]);
    assert_eq!(taken(s), all_keys);

    // Cancelling the newest inactivity notification falls back to the older one...
    let no = EvaluationOverride {
        should_notify: Some(false),
        evaluation_metadata: None,
    };
    s.override_evaluation("trg_2", &no, t0()).unwrap().unwrap();
    let history = s.load_subject(USER).unwrap().unwrap().history;
    assert_eq!(history.last_notified_at, [Some(t1), Some(t3), None]);

    // ...and cancelling that one too leaves no cooldown, but every key stays taken.
    s.override_evaluation("trg_1", &no, t0()).unwrap().unwrap();
    let history = s.load_subject(USER).unwrap().unwrap().history;
    assert_eq!(history.last_notified_at, [None, Some(t3), None]);
    assert_eq!(taken(s), all_keys);
    let statuses: Vec<_> = s.outbox(USER).into_iter().map(|n| n.status).collect();
    use scenario_engine::service::NotificationStatus::{Cancelled, Delivered, Failed, Pending};
    assert_eq!(statuses, vec![Cancelled, Cancelled, Pending]);

    // Where the backend has a delivery worker's statuses: delivered counts,
    // failed does not, and neither frees the key.
    if s.set_notification_status("ntf_3", Delivered) {
        let history = s.load_subject(USER).unwrap().unwrap().history;
        assert_eq!(history.last_notified_at, [None, Some(t3), None]);
        assert!(s.set_notification_status("ntf_3", Failed));
        let history = s.load_subject(USER).unwrap().unwrap().history;
        assert_eq!(history.last_notified_at, [None, None, None]);
        assert_eq!(taken(s), all_keys);
    }
}

fn override_replaces_metadata_and_should_notify<S: Repo>(s: &Arc<S>) {
    create(&**s, USER, t0());
    let e = evaluation("trg_1", USER, ScenarioType::Inactivity, false, t0());
    s.record_evaluation(&e, None, None).unwrap();
    let meta = serde_json::json!({ "note": "checked by hand", "days_inactive": 9 });
    let later = t0() + TimeDelta::hours(2);

    let metadata_only = EvaluationOverride {
        should_notify: None,
        evaluation_metadata: meta.as_object().cloned(),
    };
    let first = s
        .override_evaluation("trg_1", &metadata_only, later)
        .unwrap()
        .unwrap();
    assert_eq!(first.evaluation_metadata.to_value(), meta);
    assert!(!first.should_notify);
    assert_eq!(s.get_evaluation("trg_1").unwrap(), Some(first.clone()));

    let notify_only = EvaluationOverride {
        should_notify: Some(true),
        evaluation_metadata: None,
    };
    let second = s
        .override_evaluation("trg_1", &notify_only, later)
        .unwrap()
        .unwrap();
    assert!(second.should_notify);
    assert_eq!(second.evaluation_metadata.to_value(), meta);

    let both = EvaluationOverride {
        should_notify: Some(false),
        evaluation_metadata: serde_json::json!({}).as_object().cloned(),
    };
    let third = s
        .override_evaluation("trg_1", &both, later)
        .unwrap()
        .unwrap();
    assert!(!third.should_notify);
    assert_eq!(third.evaluation_metadata.to_value(), serde_json::json!({}));
    // Everything else is the recorded decision.
    let expected = scenario_engine::service::EvaluationRecord {
        should_notify: false,
        evaluation_metadata: serde_json::json!({}).into(),
        ..e
    };
    assert_eq!(third, expected);
    assert_eq!(s.get_evaluation("trg_1").unwrap(), Some(expected));
}

fn override_to_false_cancels_the_pending_notification_and_true_never_enqueues<S: Repo>(s: &Arc<S>) {
    create(&**s, USER, t0());
    let e = evaluation("trg_1", USER, ScenarioType::Inactivity, true, t0());
    let key = "inactivity:usr_mentor_7821:2026-03-25";
    s.record_evaluation(&e, Some(&notification("ntf_1", &e, key)), None)
        .unwrap();
    let quiet = evaluation("trg_2", USER, ScenarioType::Milestone, false, t0());
    s.record_evaluation(&quiet, None, None).unwrap();
    use scenario_engine::service::NotificationStatus::{Cancelled, Pending};

    let metadata_only = EvaluationOverride {
        should_notify: None,
        evaluation_metadata: serde_json::json!({ "x": 1 }).as_object().cloned(),
    };
    s.override_evaluation("trg_1", &metadata_only, t0())
        .unwrap();
    assert_eq!(s.outbox(USER)[0].status, Pending);

    let no = EvaluationOverride {
        should_notify: Some(false),
        evaluation_metadata: None,
    };
    s.override_evaluation("trg_1", &no, t0()).unwrap();
    let yes = EvaluationOverride {
        should_notify: Some(true),
        evaluation_metadata: None,
    };
    s.override_evaluation("trg_1", &yes, t0()).unwrap();
    s.override_evaluation("trg_2", &yes, t0()).unwrap();

    assert_eq!(
        s.outbox(USER),
        vec![OutboxRow {
            id: "ntf_1".to_owned(),
            dedupe_key: key.to_owned(),
            status: Cancelled,
            evaluation_id: Some("trg_1".to_owned()),
        }]
    );
    assert!(s.get_evaluation("trg_2").unwrap().unwrap().should_notify);

    // Only a pending notification is cancelled: a delivered one stays delivered.
    let e3 = evaluation("trg_3", USER, ScenarioType::Milestone, true, t0());
    s.record_evaluation(
        &e3,
        Some(&notification(
            "ntf_3",
            &e3,
            "milestone:usr_mentor_7821:sessions_10",
        )),
        None,
    )
    .unwrap();
    if s.set_notification_status(
        "ntf_3",
        scenario_engine::service::NotificationStatus::Delivered,
    ) {
        s.override_evaluation("trg_3", &no, t0()).unwrap().unwrap();
        let ntf_3 = s
            .outbox(USER)
            .into_iter()
            .find(|n| n.id == "ntf_3")
            .unwrap();
        assert_eq!(
            ntf_3.status,
            scenario_engine::service::NotificationStatus::Delivered
        );
    }
}

fn override_of_an_unknown_evaluation_is_none<S: Repo>(s: &Arc<S>) {
    create(&**s, USER, t0());
    let change = EvaluationOverride {
        should_notify: Some(false),
        evaluation_metadata: serde_json::json!({ "x": 1 }).as_object().cloned(),
    };

    assert_eq!(
        s.override_evaluation("trg_unknown", &change, t0()).unwrap(),
        None
    );
    assert_eq!(s.get_evaluation("trg_unknown").unwrap(), None);
}

fn delete_evaluation_keeps_its_notification_without_evaluation_id<S: Repo>(s: &Arc<S>) {
    create(&**s, USER, t0());
    let e = evaluation("trg_1", USER, ScenarioType::Inactivity, true, t0());
    let key = "inactivity:usr_mentor_7821:2026-03-25";
    s.record_evaluation(&e, Some(&notification("ntf_1", &e, key)), None)
        .unwrap();

    assert!(s.delete_evaluation("trg_1").unwrap());

    assert_eq!(s.get_evaluation("trg_1").unwrap(), None);
    assert_eq!(
        s.outbox(USER),
        vec![OutboxRow {
            id: "ntf_1".to_owned(),
            dedupe_key: key.to_owned(),
            status: scenario_engine::service::NotificationStatus::Pending,
            evaluation_id: None,
        }]
    );
    // It still counts for the cooldown and its key stays taken.
    let history = s.load_subject(USER).unwrap().unwrap().history;
    assert_eq!(history.last_notified_at, [Some(t0()), None, None]);
    assert_eq!(history.taken_keys, vec![key.to_owned()]);
    assert!(!s.delete_evaluation("trg_1").unwrap());
    assert!(!s.delete_evaluation("trg_unknown").unwrap());
}

fn get_of_an_unknown_evaluation_is_none<S: Repo>(s: &Arc<S>) {
    create(&**s, USER, t0());
    s.record_evaluation(
        &evaluation("trg_1", USER, ScenarioType::Inactivity, false, t0()),
        None,
        None,
    )
    .unwrap();

    assert_eq!(s.get_evaluation("trg_2").unwrap(), None);
}

/// Six evaluations of two mentors, recorded out of order:
///
/// | id | user | scenario | notify | evaluated at | reason code | run | dry |
/// | -- | ---- | -------- | ------ | ------------ | ----------- | --- | --- |
/// | trg_01 | usr_a | inactivity | yes | 03-20 | threshold_reached | run_1 | no |
/// | trg_02 | usr_a | inactivity | no | 03-21 | cooldown_active | run_1 | no |
/// | trg_03 | usr_b | milestone | yes | 03-21 | milestone_reached | - | no |
/// | trg_04 | usr_b | certification_expiry | no | 03-22 | expiry_not_within_lead_time | run_2 | yes |
/// | trg_05 | usr_a | milestone | no | 03-23 | milestone_not_reached | - | yes |
/// | trg_06 | usr_b | inactivity | yes | 03-24 | threshold_reached | run_2 | no |
fn six_evaluations<S: Repo>(s: &S) {
    create(s, "usr_a", t0());
    create(s, "usr_b", t0());
    let day = |d: u32| utc(2026, 3, d, 8, 0, 0);
    let rows = [
        (
            "trg_04",
            "usr_b",
            ScenarioType::CertificationExpiry,
            false,
            day(22),
            "expiry_not_within_lead_time",
            Some("run_2"),
            true,
        ),
        (
            "trg_01",
            "usr_a",
            ScenarioType::Inactivity,
            true,
            day(20),
            "threshold_reached",
            Some("run_1"),
            false,
        ),
        (
            "trg_06",
            "usr_b",
            ScenarioType::Inactivity,
            true,
            day(24),
            "threshold_reached",
            Some("run_2"),
            false,
        ),
        (
            "trg_03",
            "usr_b",
            ScenarioType::Milestone,
            true,
            day(21),
            "milestone_reached",
            None,
            false,
        ),
        (
            "trg_05",
            "usr_a",
            ScenarioType::Milestone,
            false,
            day(23),
            "milestone_not_reached",
            None,
            true,
        ),
        (
            "trg_02",
            "usr_a",
            ScenarioType::Inactivity,
            false,
            day(21),
            "cooldown_active",
            Some("run_1"),
            false,
        ),
    ];
    for (name, user, scenario, notify, at, code, run, dry) in rows {
        let id = &id_carrying("trg", &name["trg_".len()..], at);
        let e = scenario_engine::service::EvaluationRecord {
            reason_code: ReasonCode::parse(code).unwrap(),
            run_id: run.map(str::to_owned),
            dry_run: dry,
            ..evaluation(id, user, scenario, notify, at)
        };
        s.record_evaluation(&e, None, None).unwrap();
    }
}

/// The names (`trg_04`) of a page of evaluations with [`id_carrying`] ids
/// ([`six_evaluations`]), in order.
fn named(rows: &[scenario_engine::service::EvaluationRecord]) -> Vec<String> {
    rows.iter().map(|e| key_named(&e.id)).collect()
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|n| (*n).to_owned()).collect()
}

fn list_evaluations_is_newest_first_with_id_breaking_ties<S: Repo>(s: &Arc<S>) {
    six_evaluations(&**s);

    let listed = s
        .list_evaluations(&EvaluationFilter::default(), all())
        .unwrap();

    assert_eq!(
        named(&listed.rows),
        vec!["trg_06", "trg_05", "trg_04", "trg_03", "trg_02", "trg_01"]
    );
    assert_eq!(listed.total, 6);
    assert_eq!(
        listed.rows[2],
        s.get_evaluation(&listed.rows[2].id).unwrap().unwrap()
    );
    assert_eq!(listed.rows[2].run_id.as_deref(), Some("run_2"));
    assert!(listed.rows[2].dry_run);
}

fn list_evaluations_filters_by_each_field<S: Repo>(s: &Arc<S>) {
    six_evaluations(&**s);
    let day = |d: u32| utc(2026, 3, d, 8, 0, 0);
    let list = |f: EvaluationFilter| -> (Vec<String>, u64) {
        let paged = s.list_evaluations(&f, all()).unwrap();
        (named(&paged.rows), paged.total)
    };
    let expect = |v: &[&str]| -> (Vec<String>, u64) {
        (v.iter().map(|i| (*i).to_owned()).collect(), v.len() as u64)
    };
    let none = EvaluationFilter::default;

    assert_eq!(
        list(by_user("usr_a")),
        expect(&["trg_05", "trg_02", "trg_01"])
    );
    assert_eq!(
        list(EvaluationFilter {
            scenario_type: Some(ScenarioType::Inactivity),
            ..none()
        }),
        expect(&["trg_06", "trg_02", "trg_01"])
    );
    assert_eq!(
        list(EvaluationFilter {
            should_notify: Some(true),
            ..none()
        }),
        expect(&["trg_06", "trg_03", "trg_01"])
    );
    assert_eq!(
        list(EvaluationFilter {
            run_id: Some("run_1".to_owned()),
            ..none()
        }),
        expect(&["trg_02", "trg_01"])
    );
    assert_eq!(
        list(EvaluationFilter {
            reason_code: Some(ReasonCode::ThresholdReached),
            ..none()
        }),
        expect(&["trg_06", "trg_01"])
    );
    assert_eq!(
        list(EvaluationFilter {
            dry_run: Some(true),
            ..none()
        }),
        expect(&["trg_05", "trg_04"])
    );
    assert_eq!(
        list(EvaluationFilter {
            dry_run: Some(false),
            ..none()
        }),
        expect(&["trg_06", "trg_03", "trg_02", "trg_01"])
    );
    // `from` and `to` are inclusive.
    assert_eq!(
        list(EvaluationFilter {
            from: Some(day(21)),
            ..none()
        }),
        expect(&["trg_06", "trg_05", "trg_04", "trg_03", "trg_02"])
    );
    assert_eq!(
        list(EvaluationFilter {
            to: Some(day(21)),
            ..none()
        }),
        expect(&["trg_03", "trg_02", "trg_01"])
    );
    assert_eq!(
        list(EvaluationFilter {
            from: Some(day(21)),
            to: Some(day(22)),
            ..none()
        }),
        expect(&["trg_04", "trg_03", "trg_02"])
    );
    assert_eq!(
        list(EvaluationFilter {
            user_id: Some("usr_b".to_owned()),
            should_notify: Some(true),
            run_id: Some("run_2".to_owned()),
            ..none()
        }),
        expect(&["trg_06"])
    );
    assert_eq!(list(by_user("usr_unknown")), expect(&[]));
    assert_eq!(
        list(EvaluationFilter {
            run_id: Some("run_unknown".to_owned()),
            ..none()
        }),
        expect(&[])
    );
}

fn list_evaluations_pages_with_the_total<S: Repo>(s: &Arc<S>) {
    six_evaluations(&**s);
    let filter = EvaluationFilter::default();

    let first = s.list_evaluations(&filter, page(1, 4)).unwrap();
    let second = s.list_evaluations(&filter, page(2, 4)).unwrap();
    let past = s.list_evaluations(&filter, page(3, 4)).unwrap();
    let filtered = s.list_evaluations(&by_user("usr_b"), page(2, 2)).unwrap();
    let filtered_past = s.list_evaluations(&by_user("usr_b"), page(3, 2)).unwrap();
    let nobody = s.list_evaluations(&by_user("usr_z"), page(1, 2)).unwrap();

    assert_eq!(
        (named(&first.rows), first.total),
        (names(&["trg_06", "trg_05", "trg_04", "trg_03"]), 6)
    );
    assert_eq!(
        (named(&second.rows), second.total),
        (names(&["trg_02", "trg_01"]), 6)
    );
    assert_eq!((past.rows.len(), past.total), (0, 6));
    assert_eq!(
        (named(&filtered.rows), filtered.total),
        (names(&["trg_03"]), 3)
    );
    assert_eq!((filtered_past.rows.len(), filtered_past.total), (0, 3));
    assert_eq!((nobody.rows.len(), nobody.total), (0, 0));
}

/// Ids carry their instant (migration 000009), and the time filters and
/// retention read ranges of ids; rows written before it have ids taken
/// from the wall clock just after their instant, and stay in range.
fn time_ranges_and_retention_hold_rows_whose_id_lies_just_after_their_instant<S: Repo>(s: &Arc<S>) {
    create(&**s, "usr_a", t0());
    let at = utc(2026, 3, 21, 8, 0, 0);
    let seconds = TimeDelta::seconds;
    let record = |key: &str, id_at: DateTime<Utc>, evaluated_at: DateTime<Utc>| {
        let id = id_carrying("trg", key, id_at);
        let e = evaluation(&id, "usr_a", ScenarioType::Inactivity, false, evaluated_at);
        s.record_evaluation(&e, None, None).unwrap();
    };
    record("now", at, at);
    record("legacy", at + seconds(30), at);
    record("later", at + seconds(120), at + seconds(120));
    let list = |from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>| {
        let f = EvaluationFilter {
            from,
            to,
            ..EvaluationFilter::default()
        };
        let paged = s.list_evaluations(&f, all()).unwrap();
        (named(&paged.rows), paged.total)
    };

    assert_eq!(list(None, Some(at)), (names(&["trg_legacy", "trg_now"]), 2));
    assert_eq!(
        list(Some(at), Some(at)),
        (names(&["trg_legacy", "trg_now"]), 2)
    );
    assert_eq!(
        list(Some(at + TimeDelta::milliseconds(1)), None),
        (names(&["trg_later"]), 1)
    );

    assert_eq!(
        s.prune_evaluations_before(at + seconds(1), 1000).unwrap(),
        2
    );
    assert_eq!(list(None, None), (names(&["trg_later"]), 1));
}

// ------------------------------------------------------------- end to end

fn contract_example_mentor(services: &Services) {
    let upsert = MentorUpsert {
        last_active_at: Some(last_active()),
        ..in_org()
    };
    services.mentors.upsert(USER, upsert).unwrap();
}

fn inactivity_fires_for_the_contract_example_then_answers_cooldown_active<S: Repo>(s: &Arc<S>) {
    let services = Services::new(s, t0(), Rules::default());
    contract_example_mentor(&services);
    let inactivity = Scenario::inactivity(Some(7)).unwrap();

    let first = services.evaluate(USER, inactivity);
    let second = services.evaluate(USER, inactivity);

    assert!(first.should_notify);
    assert_eq!(first.reason_code.as_str(), "threshold_reached");
    assert_eq!(first.evaluated_at, t0());
    assert_eq!(first.evaluation_metadata.to_value()["days_inactive"], 9);
    assert_eq!(first.evaluation_metadata.to_value()["threshold_days"], 7);
    assert_eq!(
        first.evaluation_metadata.to_value()["last_active_at"],
        "2026-03-16T14:22:00Z"
    );
    assert_eq!(s.get_evaluation(&first.id).unwrap(), Some(first.clone()));
    assert!(!second.should_notify);
    assert_eq!(second.reason_code.as_str(), "cooldown_active");
    let outbox = s.outbox(USER);
    assert_eq!(outbox.len(), 1, "{outbox:?}");
    assert_eq!(
        outbox[0].dedupe_key,
        "inactivity:usr_mentor_7821:2026-03-25"
    );
    assert_eq!(outbox[0].evaluation_id.as_deref(), Some(first.id.as_str()));
    assert_eq!(
        outbox[0].status,
        scenario_engine::service::NotificationStatus::Pending
    );
    let listed = s.list_evaluations(&by_user(USER), all()).unwrap();
    assert_eq!(
        ids(&listed.rows),
        vec![second.id.as_str(), first.id.as_str()]
    );
    let history = s.load_subject(USER).unwrap().unwrap().history;
    assert_eq!(history.last_notified_at, [Some(t0()), None, None]);
}

fn inactivity_with_cooldown_zero_answers_already_notified_the_same_day<S: Repo>(s: &Arc<S>) {
    let rules = Rules {
        cooldown_days: 0,
        ..Rules::default()
    };
    let services = Services::new(s, t0(), rules);
    contract_example_mentor(&services);
    let inactivity = Scenario::inactivity(Some(7)).unwrap();

    let first = services.evaluate(USER, inactivity);
    services.clock.advance(TimeDelta::hours(15));
    let same_day = services.evaluate(USER, inactivity);
    services.clock.advance(TimeDelta::hours(1));
    let next_day = services.evaluate(USER, inactivity);

    assert!(first.should_notify);
    assert!(!same_day.should_notify);
    assert_eq!(same_day.reason_code.as_str(), "already_notified");
    assert!(next_day.should_notify, "{}", next_day.reason);
    let keys: Vec<String> = s.outbox(USER).into_iter().map(|n| n.dedupe_key).collect();
    assert_eq!(
        keys.into_iter().collect::<BTreeSet<_>>(),
        BTreeSet::from([
            "inactivity:usr_mentor_7821:2026-03-25".to_owned(),
            "inactivity:usr_mentor_7821:2026-03-26".to_owned(),
        ])
    );
}

fn dry_run_records_enqueues_nothing_and_does_not_count_for_cooldown<S: Repo>(s: &Arc<S>) {
    let services = Services::new(s, t0(), Rules::default());
    contract_example_mentor(&services);
    let inactivity = Scenario::inactivity(Some(7)).unwrap();

    let dry = services.evaluate_with(USER, inactivity, true);

    assert!(dry.dry_run);
    assert_eq!(s.get_evaluation(&dry.id).unwrap(), Some(dry.clone()));
    assert_eq!(s.outbox(USER), Vec::<OutboxRow>::new());
    let history = s.load_subject(USER).unwrap().unwrap().history;
    assert_eq!(history.last_notified_at, [None; 3]);
    assert!(history.taken_keys.is_empty());
    let dry_again = services.evaluate_with(USER, inactivity, true);
    assert_eq!(dry_again.reason_code, dry.reason_code);

    let real = services.evaluate(USER, inactivity);

    assert!(real.should_notify);
    assert!(!real.dry_run);
    assert_eq!(real.reason_code.as_str(), "threshold_reached");
    assert_eq!(s.outbox(USER).len(), 1);
    let dry_runs = EvaluationFilter {
        dry_run: Some(true),
        ..by_user(USER)
    };
    assert_eq!(s.list_evaluations(&dry_runs, all()).unwrap().total, 2);
}

fn milestone_fires_once_then_answers_already_notified<S: Repo>(s: &Arc<S>) {
    let services = Services::new(s, t0(), Rules::default());
    services.mentors.upsert(USER, in_org()).unwrap();
    let session = utc(2026, 3, 20, 17, 0, 0);
    recorded(
        &**s,
        USER,
        &event(Some("ev_1"), SESSION_COMPLETED, session),
        t0(),
    );
    let first_session = Scenario::Milestone {
        milestone_type: MilestoneType::FirstSessionCompleted,
    };

    let first = services.evaluate(USER, first_session);
    let inside_cooldown = services.evaluate(USER, first_session);
    services.clock.advance(TimeDelta::days(4));
    let after_cooldown = services.evaluate(USER, first_session);
    services.clock.advance(TimeDelta::days(400));
    let a_year_later = services.evaluate(USER, first_session);

    assert!(first.should_notify);
    assert_eq!(first.reason_code.as_str(), "milestone_reached");
    assert_eq!(
        first.evaluation_metadata.to_value()["achieved_at"],
        "2026-03-20T17:00:00Z"
    );
    assert_eq!(first.evaluation_metadata.to_value()["sessions_count"], 1);
    // A repeated milestone answers already_notified, even inside the
    // cooldown (docs/rules.md, "The checks, in order").
    assert!(!inside_cooldown.should_notify);
    assert_eq!(inside_cooldown.reason_code.as_str(), "already_notified");
    assert!(!after_cooldown.should_notify);
    assert_eq!(after_cooldown.reason_code.as_str(), "already_notified");
    assert_eq!(a_year_later.reason_code.as_str(), "already_notified");
    let outbox = s.outbox(USER);
    assert_eq!(outbox.len(), 1);
    assert_eq!(
        outbox[0].dedupe_key,
        "milestone:usr_mentor_7821:first_session_completed"
    );
}

fn milestone_first_seen_by_an_evaluation_is_recorded_at_the_evaluation_time<S: Repo>(s: &Arc<S>) {
    let services = Services::new(s, t0(), Rules::default());
    let upsert = MentorUpsert {
        sessions_count: Some(12),
        ..in_org()
    };
    services.mentors.upsert(USER, upsert).unwrap();
    let sessions_10 = Scenario::Milestone {
        milestone_type: MilestoneType::Sessions10,
    };

    let dry = services.evaluate_with(USER, sessions_10, true);
    let after_dry = milestones(&**s, USER);
    services.clock.advance(TimeDelta::hours(1));
    let first = services.evaluate(USER, sessions_10);
    services.clock.advance(TimeDelta::days(5));
    let later = services.evaluate(USER, sessions_10);

    assert!(dry.should_notify);
    assert_eq!(after_dry, [None; 4], "a dry run records no milestone");
    let seen = t0() + TimeDelta::hours(1);
    assert!(first.should_notify);
    assert_eq!(
        first.evaluation_metadata.to_value()["achieved_at"],
        "2026-03-25T09:00:00Z"
    );
    assert_eq!(milestones(&**s, USER), [None, Some(seen), None, None]);
    assert_eq!(later.reason_code.as_str(), "already_notified");
    assert_eq!(
        later.evaluation_metadata.to_value()["achieved_at"],
        "2026-03-25T09:00:00Z"
    );
}

fn certification_expiry_fires_once_per_stage<S: Repo>(s: &Arc<S>) {
    let services = Services::new(s, utc(2026, 3, 26, 9, 22, 0), Rules::default());
    services.mentors.upsert(USER, in_org()).unwrap();
    let expires = utc(2026, 4, 25, 0, 0, 0);
    services
        .mentors
        .put_certification(USER, cert("cert_safety_003", expires, true))
        .unwrap();
    let expiry = Scenario::certification_expiry(None).unwrap();

    let stage_30 = services.evaluate(USER, expiry);
    let again_now = services.evaluate(USER, expiry);
    services.clock.advance(TimeDelta::days(4));
    let day_26 = services.evaluate(USER, expiry);
    services.clock.set(utc(2026, 4, 11, 9, 22, 0));
    let stage_14 = services.evaluate(USER, expiry);
    services.clock.advance(TimeDelta::days(4));
    let day_10 = services.evaluate(USER, expiry);
    services.clock.set(utc(2026, 4, 18, 9, 22, 0));
    let stage_7 = services.evaluate(USER, expiry);

    assert!(stage_30.should_notify);
    assert_eq!(
        stage_30.evaluation_metadata.to_value()["days_until_expiry"],
        30
    );
    assert_eq!(
        stage_30.evaluation_metadata.to_value()["certification_id"],
        "cert_safety_003"
    );
    assert!(!again_now.should_notify);
    assert_eq!(again_now.reason_code.as_str(), "already_notified");
    assert_eq!(day_26.reason_code.as_str(), "already_notified");
    assert!(stage_14.should_notify, "{}", stage_14.reason);
    assert_eq!(
        stage_14.evaluation_metadata.to_value()["days_until_expiry"],
        14
    );
    assert_eq!(day_10.reason_code.as_str(), "already_notified");
    assert!(stage_7.should_notify, "{}", stage_7.reason);
    let keys: BTreeSet<String> = s.outbox(USER).into_iter().map(|n| n.dedupe_key).collect();
    let key = |stage: u32| {
        format!("certification_expiry:usr_mentor_7821:cert_safety_003:2026-04-25T00:00:00Z:{stage}")
    };
    assert_eq!(keys, BTreeSet::from([key(30), key(14), key(7)]));
}

// ------------------------------------------------------------ concurrency

fn concurrent_notifications_with_one_dedupe_key_enqueue_exactly_once<S: Repo>(s: &Arc<S>) {
    create(&**s, USER, t0());
    const ROUNDS: usize = 20;

    for round in 0..ROUNDS {
        let key = format!("milestone:usr_mentor_7821:round_{round}");
        let barrier = Barrier::new(2);
        let results: Vec<Result<(), StoreError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = ["a", "b"]
                .into_iter()
                .map(|side| {
                    let (key, barrier) = (&key, &barrier);
                    scope.spawn(move || {
                        let e = evaluation(
                            &format!("trg_{round:02}_{side}"),
                            USER,
                            ScenarioType::Milestone,
                            true,
                            t0(),
                        );
                        let n = notification(&format!("ntf_{round:02}_{side}"), &e, key);
                        barrier.wait();
                        s.record_evaluation(&e, Some(&n), None)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });

        let won = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(won, 1, "round {round}: {results:?}");
        let lost = results.iter().find(|r| r.is_err());
        assert!(
            matches!(
                lost,
                Some(Err(StoreError::Conflict("notifications.dedupe_key")))
            ),
            "round {round}: {results:?}"
        );
    }

    assert_eq!(s.outbox(USER).len(), ROUNDS);
    assert_eq!(
        s.list_evaluations(&by_user(USER), all()).unwrap().total,
        ROUNDS as u64
    );
}

fn concurrent_session_events_on_one_mentor_count_every_session<S: Repo>(s: &Arc<S>) {
    create(&**s, USER, t0());
    const THREADS: i64 = 8;
    const EVENTS: i64 = 25;
    let base = utc(2026, 1, 1, 0, 0, 0);

    std::thread::scope(|scope| {
        for t in 0..THREADS {
            scope.spawn(move || {
                for i in 0..EVENTS {
                    let n = t * EVENTS + i;
                    // Half with an event id, half without.
                    let id = format!("ev_{t}_{i}");
                    let id = (i % 2 == 0).then_some(id.as_str());
                    let at = base + TimeDelta::minutes(n);
                    recorded(&**s, USER, &event(id, SESSION_COMPLETED, at), t0());
                }
            });
        }
    });

    let m = mentor(&**s, USER).mentor;
    assert_eq!(m.sessions_count, 200);
    assert_eq!(m.first_session_at, Some(base));
    assert_eq!(
        m.last_active_at,
        Some(base + TimeDelta::minutes(THREADS * EVENTS - 1))
    );
    let reached = milestones(&**s, USER);
    assert!(reached[..3].iter().all(Option::is_some), "{reached:?}");
    assert_eq!(reached[3], None);
}

fn concurrent_replays_of_one_event_count_it_once<S: Repo>(s: &Arc<S>) {
    create(&**s, USER, t0());
    let e = event(Some("ev_once"), SESSION_COMPLETED, last_active());
    let barrier = Barrier::new(8);

    let outcomes: Vec<Option<ActivityOutcome>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    s.record_activity(USER, &e, t0()).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    let recorded_once = outcomes
        .iter()
        .filter(|o| matches!(o, Some(ActivityOutcome::Recorded(_))))
        .count();
    let replayed = outcomes
        .iter()
        .filter(|o| matches!(o, Some(ActivityOutcome::Replayed(_))))
        .count();
    assert_eq!((recorded_once, replayed), (1, 7), "{outcomes:?}");
    assert_eq!(mentor(&**s, USER).mentor.sessions_count, 1);
}

fn concurrent_upserts_of_one_new_mentor_create_it_once<S: Repo>(s: &Arc<S>) {
    for round in 0..10 {
        let user = format!("usr_race_{round}");
        let barrier = Barrier::new(4);
        let results: Vec<Result<(MentorRecord, bool), StoreError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        barrier.wait();
                        s.upsert_mentor(&user, &in_org(), t0())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });

        assert!(
            results.iter().all(Result::is_ok),
            "round {round}: {results:?}"
        );
        let created = results
            .iter()
            .filter(|r| matches!(r, Ok((_, true))))
            .count();
        assert_eq!(created, 1, "round {round}: {results:?}");
    }
    assert_eq!(
        s.list_mentors(&MentorFilter::default(), all())
            .unwrap()
            .total,
        10
    );
}

fn mentors_after_pages_by_user_id_with_a_status_filter<S: Repo>(s: &Arc<S>) {
    let s = &**s;
    for id in ["usr_c", "usr_a", "usr_B", "usr_d", "usr_b"] {
        create(s, id, t0());
    }
    s.set_status("usr_b", MentorStatus::Inactive, None, t0())
        .unwrap();
    s.put_certification("usr_c", &cert("cert_1", t0(), true), t0())
        .unwrap();
    let ids = |after: Option<&str>, status, limit| {
        s.mentors_after(after, status, limit)
            .unwrap()
            .into_iter()
            .map(|r| r.mentor.user_id)
            .collect::<Vec<_>>()
    };
    // Bytewise order: uppercase sorts before lowercase.
    assert_eq!(ids(None, None, 2), ["usr_B", "usr_a"]);
    assert_eq!(ids(Some("usr_a"), None, 2), ["usr_b", "usr_c"]);
    assert_eq!(ids(Some("usr_c"), None, 10), ["usr_d"]);
    assert!(ids(Some("usr_d"), None, 10).is_empty());
    assert_eq!(
        ids(None, Some(MentorStatus::Active), 10),
        ["usr_B", "usr_a", "usr_c", "usr_d"]
    );
    assert_eq!(ids(None, Some(MentorStatus::Inactive), 10), ["usr_b"]);
    let page = s.mentors_after(Some("usr_b"), None, 1).unwrap();
    assert_eq!(page[0].certifications.len(), 1, "certifications come along");
}

/// PostgreSQL, where erasure keeps the evaluations' link itself
/// (`links.rs`): a writer holding a mentor as a batch does (a key-share
/// lock) and adding an evaluation makes the erasure of that mentor wait,
/// and the erasure then takes the writer's row too.
#[test]
fn erasure_waits_for_a_writer_holding_the_mentor_and_erases_its_rows() {
    use common::Probe;
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use diesel::sql_types::Text;
    use scenario_engine::service::{EvaluationRepository, MentorRepository};

    let Some(db) = storage_diesel::testdb::TestDb::postgres() else {
        return;
    };
    let store = Arc::new(storage_diesel::Store::open(db.url(), 2).unwrap());
    create(&*store, USER, t0());
    let mut writer = diesel::PgConnection::establish(db.url()).unwrap();
    writer.batch_execute("BEGIN").unwrap();
    diesel::sql_query("SELECT user_id FROM mentors WHERE user_id = $1 FOR KEY SHARE")
        .bind::<Text, _>(USER)
        .execute(&mut writer)
        .unwrap();
    diesel::sql_query(
        "INSERT INTO evaluations (id, user_id, scenario_type, should_notify, evaluated_at, \
         evaluation_metadata, reason, reason_code, run_id, dry_run) \
         VALUES ('trg_held', $1, 'inactivity', false, 0, '{}', 'held', 'threshold_not_reached', NULL, false)",
    )
    .bind::<Text, _>(USER)
    .execute(&mut writer)
    .unwrap();

    let eraser = {
        let store = store.clone();
        std::thread::spawn(move || store.delete_mentor(USER).unwrap())
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(!eraser.is_finished(), "the erasure waits for the writer");
    writer.batch_execute("COMMIT").unwrap();
    assert!(eraser.join().unwrap(), "the mentor was erased");

    assert_eq!(store.get_evaluation("trg_held").unwrap(), None);
    assert_eq!(store.rows_about(USER), Some(no_rows()));
}
