//! Fencing of run leases (run-log `repo.rs`): the epoch that grows at every
//! takeover, renewals and ends that hold only for the current epoch, the
//! release of a draining process, the list of every lapsed lease, and a
//! batch written under a lost lease, on every store that keeps runs.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed call is a failed test"
)]

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use run_log::{Run, RunRepository, RunStatus, Trigger};
use scenario_engine::service::{BatchRepository, BatchWrite, LeaseFence, StoreError};

#[macro_use]
mod three_stores;

three_store_tests![
    run_log::InMemoryRuns::default() =>
    each_takeover_moves_the_epoch_up_and_fences_the_previous_holder,
    a_released_lease_is_taken_over_at_once,
    every_lapsed_lease_is_listed_oldest_first_however_many,
];

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 26, 2, 0, 0).unwrap()
}

fn held_run(id: &str, owner: &str, until: DateTime<Utc>) -> Run {
    let mut r = Run::start(id.into(), "scenario_evaluation", Trigger::Manual, t0());
    r.lease_owner = Some(owner.into());
    r.lease_expires_at = Some(until);
    r
}

fn each_takeover_moves_the_epoch_up_and_fences_the_previous_holder<S: RunRepository>(s: &Arc<S>) {
    let lapse = t0() + TimeDelta::seconds(30);
    s.insert_run(&held_run("run_1", "ins_a", lapse), None)
        .unwrap();
    assert_eq!(s.get_run("run_1").unwrap().unwrap().lease_epoch, 0);
    let held = s.renew_lease("run_1", "ins_a", 0, lapse).unwrap().unwrap();
    assert!(held.held);

    let after = lapse + TimeDelta::seconds(1);
    let until = after + TimeDelta::seconds(30);
    assert_eq!(
        s.take_over_lease("run_1", "ins_b", after, until).unwrap(),
        Some(1)
    );
    // The previous holder's renewal, status read and end all see it lost.
    let renewal = s
        .renew_lease("run_1", "ins_a", 0, until + TimeDelta::hours(1))
        .unwrap()
        .unwrap();
    assert_eq!(renewal.status, RunStatus::Running);
    assert!(!renewal.held, "the lease moved to another process");
    let stored = s.get_run("run_1").unwrap().unwrap();
    assert_eq!(stored.lease_expires_at, Some(until), "not extended");
    assert_eq!(stored.lease_epoch, 1);
    let mut stale = held_run("run_1", "ins_a", lapse);
    stale.finish(RunStatus::Success, after, None).unwrap();
    assert!(
        !s.finish_run(&stale).unwrap(),
        "a stale epoch cannot end the run"
    );
    // The same process taking its own run back is a new epoch too.
    let later = until + TimeDelta::seconds(1);
    assert_eq!(
        s.take_over_lease("run_1", "ins_b", later, later + TimeDelta::seconds(30))
            .unwrap(),
        Some(2)
    );
    assert!(
        !s.renew_lease("run_1", "ins_b", 1, later)
            .unwrap()
            .unwrap()
            .held
    );
    // An update of the run from a copy never moves the epoch back.
    assert!(s.update_run(&stale).unwrap());
    assert_eq!(s.get_run("run_1").unwrap().unwrap().lease_epoch, 2);
}

fn a_released_lease_is_taken_over_at_once<S: RunRepository>(s: &Arc<S>) {
    let until = t0() + TimeDelta::seconds(30);
    s.insert_run(&held_run("run_1", "ins_a", until), None)
        .unwrap();
    let now = t0() + TimeDelta::seconds(5);
    assert!(
        !s.release_lease("run_1", "ins_b", 0, now).unwrap(),
        "not the holder"
    );
    assert!(
        !s.release_lease("run_1", "ins_a", 1, now).unwrap(),
        "not the epoch"
    );
    assert!(
        s.take_over_lease("run_1", "ins_b", now, now + TimeDelta::seconds(30))
            .unwrap()
            .is_none(),
        "held until released"
    );
    assert!(s.release_lease("run_1", "ins_a", 0, now).unwrap());
    assert_eq!(s.expired_leases(now, 10).unwrap().len(), 1);
    assert_eq!(
        s.take_over_lease("run_1", "ins_b", now, now + TimeDelta::seconds(30))
            .unwrap(),
        Some(1)
    );
}

fn every_lapsed_lease_is_listed_oldest_first_however_many<S: RunRepository>(s: &Arc<S>) {
    // 150 lapsed runs, more than one page of the old reaper's 100, and
    // some that are held or finished.
    for i in 0..150 {
        let lapse = t0() + TimeDelta::seconds(150 - i);
        s.insert_run(&held_run(&format!("run_{i:03}"), "ins_gone", lapse), None)
            .unwrap();
    }
    let now = t0() + TimeDelta::seconds(200);
    s.insert_run(
        &held_run("run_held", "ins_a", now + TimeDelta::seconds(1)),
        None,
    )
    .unwrap();
    let mut done = held_run("run_done", "ins_gone", t0());
    done.finish(RunStatus::Success, t0(), None).unwrap();
    s.insert_run(&done, None).unwrap();

    let first = s.expired_leases(now, 100).unwrap();
    assert_eq!(first.len(), 100);
    assert_eq!(first[0].id, "run_149", "the longest lapsed first");
    // Taking them over moves their leases past `now`: the next call finds the rest.
    for r in &first {
        assert!(
            s.take_over_lease(&r.id, "ins_b", now, now + TimeDelta::seconds(30))
                .unwrap()
                .is_some()
        );
    }
    let rest = s.expired_leases(now, 100).unwrap();
    assert_eq!(rest.len(), 50);
    assert!(rest.iter().all(|r| r.id.starts_with("run_0")));
    for r in &rest {
        s.take_over_lease(&r.id, "ins_b", now, now + TimeDelta::seconds(30))
            .unwrap();
    }
    assert!(s.expired_leases(now, 100).unwrap().is_empty());
}

/// A batch prepared under a lease that another process then took over is
/// refused whole: no batch result, no totals.
fn a_batch_under_a_lost_lease_writes_nothing(s: &storage_diesel::Store) {
    let until = t0() + TimeDelta::seconds(30);
    s.insert_run(&held_run("run_1", "ins_a", until), None)
        .unwrap();
    let batch = |index: i64, epoch: i64| BatchWrite {
        run_id: "run_1".into(),
        batch_index: index,
        users_evaluated: 3,
        duration_ms: 1,
        entries: Vec::new(),
        lease: Some(LeaseFence {
            owner: "ins_a".into(),
            epoch,
        }),
    };
    s.record_batch(&batch(0, 0)).unwrap();
    let after = until + TimeDelta::seconds(1);
    s.take_over_lease("run_1", "ins_b", after, after + TimeDelta::seconds(30))
        .unwrap()
        .unwrap();
    assert!(matches!(
        s.record_batch(&batch(1, 0)),
        Err(StoreError::Conflict("runs.lease"))
    ));
    assert!(matches!(
        s.record_batches(&[batch(2, 0), batch(3, 0)]),
        Err(StoreError::Conflict("runs.lease"))
    ));
    let indices: Vec<i64> = s
        .batch_results("run_1")
        .unwrap()
        .iter()
        .map(|b| b.batch_index)
        .collect();
    assert_eq!(indices, [0]);
    assert_eq!(s.get_run("run_1").unwrap().unwrap().users_evaluated, 3);
    // The new holder's batches are written.
    let mut ours = batch(1, 1);
    ours.lease = Some(LeaseFence {
        owner: "ins_b".into(),
        epoch: 1,
    });
    s.record_batch(&ours).unwrap();
    assert_eq!(s.get_run("run_1").unwrap().unwrap().users_evaluated, 6);
}

#[test]
fn a_batch_under_a_lost_lease_writes_nothing_on_sqlite() {
    let db = storage_diesel::testdb::TestDb::sqlite();
    a_batch_under_a_lost_lease_writes_nothing(&storage_diesel::Store::open(db.url(), 4).unwrap());
}

#[test]
fn a_batch_under_a_lost_lease_writes_nothing_on_postgres() {
    let Some(db) = storage_diesel::testdb::TestDb::postgres() else {
        return;
    };
    a_batch_under_a_lost_lease_writes_nothing(&storage_diesel::Store::open(db.url(), 4).unwrap());
}
