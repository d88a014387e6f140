//! `pagination.total` of unfiltered lists on the in-memory store, SQLite
//! and PostgreSQL. SQLite and PostgreSQL read it from the row counts their
//! triggers keep (migration 000013), a filtered list counts its rows: both
//! must agree with the rows through inserts, a mentor's erasure (its rows
//! go by cascade) and pruning. And a database upgraded to the migration
//! with rows already in it starts from their count.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed call is a failed test"
)]

#[allow(
    dead_code,
    reason = "shared with repository.rs; this binary uses part of it"
)]
mod common;

use std::sync::Arc;

use chrono::TimeDelta;
use diesel::connection::SimpleConnection;
use scenario_engine::rules::{MentorStatus, ScenarioType};
use scenario_engine::service::{
    EvaluationFilter, EvaluationRepository, MentorFilter, NotificationFilter, NotificationStatus,
    Outbox, PageRequest,
};
use storage_diesel::Store;
use storage_diesel::testdb::TestDb;

use common::{Repo, create, evaluation, id_carrying, notification, t0};

#[macro_use]
mod three_stores;

three_store_tests![
    scenario_engine::adapters::InMemoryStore::default() =>
    unfiltered_totals_follow_inserts_erasure_and_pruning,
];

/// What the lists need: mentors, evaluations and the outbox.
trait Listed: Repo + Outbox {}
impl<T: Repo + Outbox> Listed for T {}

const ONE: PageRequest = PageRequest { page: 1, limit: 1 };

/// The unfiltered totals of mentors, evaluations and notifications, each
/// checked against the sum of its filtered totals, which count rows.
fn totals<S: Listed>(s: &S) -> (u64, u64, u64) {
    let mentors = s.list_mentors(&MentorFilter::default(), ONE).unwrap().total;
    let by_status: u64 = MentorStatus::ALL
        .iter()
        .map(|&status| {
            let f = MentorFilter {
                status: Some(status),
                ..MentorFilter::default()
            };
            s.list_mentors(&f, ONE).unwrap().total
        })
        .sum();
    assert_eq!(mentors, by_status, "mentors");
    let evaluations = s
        .list_evaluations(&EvaluationFilter::default(), ONE)
        .unwrap()
        .total;
    let by_decision: u64 = [true, false]
        .iter()
        .map(|&should| {
            let f = EvaluationFilter {
                should_notify: Some(should),
                ..EvaluationFilter::default()
            };
            s.list_evaluations(&f, ONE).unwrap().total
        })
        .sum();
    assert_eq!(evaluations, by_decision, "evaluations");
    let notifications = s
        .list_notifications(&NotificationFilter::default(), ONE)
        .unwrap()
        .total;
    let by_status: u64 = NotificationStatus::ALL
        .iter()
        .map(|&status| {
            let f = NotificationFilter {
                status: Some(status),
                ..NotificationFilter::default()
            };
            s.list_notifications(&f, ONE).unwrap().total
        })
        .sum();
    assert_eq!(notifications, by_status, "notifications");
    (mentors, evaluations, notifications)
}

fn unfiltered_totals_follow_inserts_erasure_and_pruning<S: Listed>(s: &Arc<S>) {
    assert_eq!(totals(&**s), (0, 0, 0));
    for user in ["usr_a", "usr_b", "usr_c"] {
        create(&**s, user, t0());
    }
    let old = t0() - TimeDelta::days(200);
    for (i, (user, at, notify)) in [
        ("usr_a", old, true),
        ("usr_a", t0(), true),
        ("usr_b", old, false),
        ("usr_b", t0(), true),
        ("usr_c", t0(), false),
    ]
    .into_iter()
    .enumerate()
    {
        let key = format!("k{i}");
        let e = evaluation(
            &id_carrying("trg", &key, at),
            user,
            ScenarioType::Inactivity,
            notify,
            at,
        );
        let n = notify.then(|| notification(&id_carrying("ntf", &key, at), &e, &key));
        s.record_evaluation(&e, n.as_ref(), None).unwrap();
    }
    assert_eq!(totals(&**s), (3, 5, 3));

    // Erasure takes the mentor's evaluations and notifications with it.
    assert!(s.delete_mentor("usr_a").unwrap());
    assert_eq!(totals(&**s), (2, 3, 1));

    // Pruning takes old evaluations; their notifications stay.
    assert_eq!(
        s.prune_evaluations_before(t0() - TimeDelta::days(100), 100)
            .unwrap(),
        1
    );
    assert_eq!(totals(&**s), (2, 2, 1));
}

/// Takes migrations 000014 and 000013 back out of `url`'s database (`downs`
/// in that order), as if the rows had been written by the version before
/// them, and opens it again.
fn upgraded(url: &str, downs: [&str; 2]) -> Store {
    let store = Store::open(url, 2).unwrap();
    {
        let mut conn = store.conn().unwrap();
        for down in downs {
            conn.batch_execute(down).unwrap();
        }
        conn.batch_execute(
            "DELETE FROM __diesel_schema_migrations \
             WHERE version IN ('20261206000013', '20261206000014')",
        )
        .unwrap();
    }
    drop(store);
    Store::open(url, 2).unwrap()
}

/// The jobs' kept total, and the jobs there are.
fn job_totals(store: &Store) -> (u64, u64) {
    use scheduler_core::JobRepository;
    let (rows, total) = store.list(1, 100, None).unwrap();
    (total, rows.len() as u64)
}

fn an_upgrade_counts_the_rows_already_there(db: &TestDb, downs: [&str; 2]) {
    let store = Store::open(db.url(), 2).unwrap();
    for user in ["usr_a", "usr_b"] {
        create(&store, user, t0());
    }
    let e = evaluation("trg_1", "usr_a", ScenarioType::Inactivity, true, t0());
    store
        .record_evaluation(&e, Some(&notification("ntf_1", &e, "k1")), None)
        .unwrap();
    for (id, name) in [("job_a", "nightly-a"), ("job_b", "nightly-b")] {
        use scheduler_core::{Handler, Job, JobName, JobRepository, Schedule};
        let job = Job::new(
            id.to_owned(),
            JobName::parse(name).unwrap(),
            Schedule::parse("0 2 * * *", "UTC").unwrap(),
            Handler::PauseAutoLift,
            t0(),
        );
        store.insert(&job).unwrap();
    }
    assert_eq!(job_totals(&store), (2, 2));
    drop(store);
    let store = upgraded(db.url(), downs);
    assert_eq!(totals(&store), (2, 1, 1));
    assert_eq!(job_totals(&store), (2, 2));
    create(&store, "usr_c", t0());
    assert_eq!(totals(&store), (3, 1, 1));
}

#[test]
fn an_upgraded_sqlite_database_counts_the_rows_already_there() {
    an_upgrade_counts_the_rows_already_there(
        &TestDb::sqlite(),
        [
            include_str!("../../../migrations/sqlite/2026-12-06-000014_job_count/down.sql"),
            include_str!("../../../migrations/sqlite/2026-12-06-000013_row_counts/down.sql"),
        ],
    );
}

#[test]
fn an_upgraded_postgres_database_counts_the_rows_already_there() {
    let Some(db) = TestDb::postgres() else { return };
    an_upgrade_counts_the_rows_already_there(
        &db,
        [
            include_str!("../../../migrations/postgres/2026-12-06-000014_job_count/down.sql"),
            include_str!("../../../migrations/postgres/2026-12-06-000013_row_counts/down.sql"),
        ],
    );
}
