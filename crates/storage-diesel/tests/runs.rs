//! The `RunRepository` contract (run-log `repo.rs`) on the in-memory store,
//! SQLite and PostgreSQL: the lock of one running run per lock key, one run
//! per scheduled instant, filters, paging, updates and retention.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed call is a failed test"
)]

use std::sync::{Arc, Barrier};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use run_log::{PlannedBatch, Run, RunFilter, RunRepository, RunStatus, StoreError, Trigger};
use scenario_engine::service::{BatchRepository, BatchWrite};

#[macro_use]
mod three_stores;

three_store_tests![
    run_log::InMemoryRuns::default() =>
    a_second_running_run_with_the_same_lock_is_a_conflict_until_the_first_finishes,
    runs_without_a_lock_key_never_conflict,
    each_scheduled_instant_of_a_job_is_recorded_once,
    a_run_round_trips_every_field,
    lists_are_newest_first_filtered_and_paged,
    update_of_an_unknown_run_says_so,
    deleting_a_run_removes_it_and_leaves_no_batch_results,
    retention_prunes_finished_runs_before_the_cutoff_and_keeps_running_ones,
    racing_claims_of_one_lock_let_exactly_one_run_in,
    the_lease_is_renewed_only_by_its_owner_and_reports_the_stored_status,
    finishing_never_overwrites_a_run_cancelled_meanwhile,
    finishing_keeps_the_totals_batches_wrote_meanwhile,
    a_plan_is_read_in_index_order_without_its_finished_batches,
    a_plan_index_planned_twice_is_a_conflict_that_writes_nothing,
    a_plan_goes_with_its_run_and_can_be_cleared,
    the_next_batch_index_is_one_past_the_last_finished_batch,
    only_a_lapsed_lease_is_taken_over_and_only_once,
    the_last_finished_run_of_a_job_is_its_newest_that_did_work,
];

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 26, 2, 0, 0).unwrap()
}

fn run(id: &str, at: DateTime<Utc>) -> Run {
    Run::start(id.into(), "certification_expiry_check", Trigger::Manual, at)
}

fn a_second_running_run_with_the_same_lock_is_a_conflict_until_the_first_finishes<
    S: RunRepository,
>(
    s: &Arc<S>,
) {
    let mut first = run("run_1", t0());
    s.insert_run(&first, Some("job_1")).unwrap();
    let second = run("run_2", t0());
    assert!(matches!(
        s.insert_run(&second, Some("job_1")),
        Err(StoreError::Conflict("runs.lock"))
    ));
    assert!(s.get_run("run_2").unwrap().is_none(), "nothing written");
    assert_eq!(s.running_with_lock("job_1").unwrap().unwrap().id, "run_1");
    s.insert_run(&run("run_3", t0()), Some("job_2")).unwrap();
    first
        .finish(RunStatus::Success, t0() + TimeDelta::seconds(5), None)
        .unwrap();
    assert!(s.update_run(&first).unwrap());
    assert!(s.running_with_lock("job_1").unwrap().is_none());
    s.insert_run(&second, Some("job_1")).unwrap();
}

fn runs_without_a_lock_key_never_conflict<S: RunRepository>(s: &Arc<S>) {
    s.insert_run(&run("run_1", t0()), None).unwrap();
    s.insert_run(&run("run_2", t0()), None).unwrap();
    // A finished run does not hold its lock key.
    let mut skipped = run("run_3", t0());
    skipped.finish(RunStatus::Cancelled, t0(), None).unwrap();
    s.insert_run(&skipped, Some("job_1")).unwrap();
    s.insert_run(&run("run_4", t0()), Some("job_1")).unwrap();
}

fn each_scheduled_instant_of_a_job_is_recorded_once<S: RunRepository>(s: &Arc<S>) {
    let scheduled = |id: &str, job: &str, at| {
        let mut r = run(id, at);
        r.trigger = Trigger::Schedule;
        r.job_id = Some(job.into());
        r.scheduled_for = Some(at);
        r
    };
    s.insert_run(&scheduled("run_1", "job_1", t0()), None)
        .unwrap();
    assert!(matches!(
        s.insert_run(&scheduled("run_2", "job_1", t0()), None),
        Err(StoreError::Conflict("runs.job_instant"))
    ));
    s.insert_run(&scheduled("run_3", "job_2", t0()), None)
        .unwrap();
    s.insert_run(
        &scheduled("run_4", "job_1", t0() + TimeDelta::days(1)),
        None,
    )
    .unwrap();
}

fn a_run_round_trips_every_field<S: RunRepository>(s: &Arc<S>) {
    let mut r = run("run_1", t0());
    r.job_id = Some("job_1".into());
    r.job_name = Some("certification-expiry-nightly".into());
    r.trigger = Trigger::Schedule;
    r.triggered_by = Some("coordinator-007".into());
    r.reason = Some("manual_trigger".into());
    r.scheduled_for = Some(t0());
    r.dry_run = true;
    r.external = true;
    r.users_evaluated = 148;
    r.notifications_dispatched = 23;
    r.result_summary = Some(serde_json::json!({"mentors_checked": 87, "errors": 0}));
    r.lease_owner = Some("host-a".into());
    r.lease_expires_at = Some(t0() + TimeDelta::seconds(30));
    s.insert_run(&r, Some("job_1")).unwrap();
    assert_eq!(s.get_run("run_1").unwrap().unwrap(), r);
    r.finish(
        RunStatus::Failed,
        t0() + TimeDelta::milliseconds(4210),
        Some("boom".into()),
    )
    .unwrap();
    assert!(s.update_run(&r).unwrap());
    let back = s.get_run("run_1").unwrap().unwrap();
    assert_eq!(back, r);
    assert_eq!(back.duration_ms, Some(4210));
    assert_eq!(back.lease_owner, None);
}

fn lists_are_newest_first_filtered_and_paged<S: RunRepository>(s: &Arc<S>) {
    for i in 0..5 {
        let mut r = run(&format!("run_{i}"), t0() + TimeDelta::minutes(i));
        r.job_id = Some(if i % 2 == 0 { "job_a" } else { "job_b" }.into());
        if i == 4 {
            r.kind = "scenario_evaluation".into();
            r.trigger = Trigger::Schedule;
        }
        if i < 2 {
            r.finish(RunStatus::Success, t0() + TimeDelta::hours(1), None)
                .unwrap();
        }
        s.insert_run(&r, None).unwrap();
    }
    let ids = |f: &RunFilter, offset, limit| {
        let (rows, total) = s.list_runs(f, offset, limit).unwrap();
        (rows.into_iter().map(|r| r.id).collect::<Vec<_>>(), total)
    };
    assert_eq!(
        ids(&RunFilter::default(), 0, 2),
        (vec!["run_4".to_owned(), "run_3".into()], 5)
    );
    assert_eq!(
        ids(&RunFilter::default(), 4, 2),
        (vec!["run_0".to_owned()], 5)
    );
    assert_eq!(ids(&RunFilter::default(), 10, 2), (vec![], 5));
    let by_job = RunFilter {
        job_id: Some("job_b".into()),
        ..RunFilter::default()
    };
    assert_eq!(
        ids(&by_job, 0, 20),
        (vec!["run_3".to_owned(), "run_1".into()], 2)
    );
    let by_kind = RunFilter {
        kind: Some("scenario_evaluation".into()),
        ..RunFilter::default()
    };
    assert_eq!(ids(&by_kind, 0, 20).1, 1);
    let by_status = RunFilter {
        status: Some(RunStatus::Success),
        ..RunFilter::default()
    };
    assert_eq!(
        ids(&by_status, 0, 20),
        (vec!["run_1".to_owned(), "run_0".into()], 2)
    );
    let by_trigger = RunFilter {
        trigger: Some(Trigger::Schedule),
        ..RunFilter::default()
    };
    assert_eq!(ids(&by_trigger, 0, 20), (vec!["run_4".to_owned()], 1));
}

fn update_of_an_unknown_run_says_so<S: RunRepository>(s: &Arc<S>) {
    assert!(!s.update_run(&run("run_x", t0())).unwrap());
    assert!(s.get_run("run_x").unwrap().is_none());
}

fn deleting_a_run_removes_it_and_leaves_no_batch_results<S: RunRepository>(s: &Arc<S>) {
    s.insert_run(&run("run_1", t0()), None).unwrap();
    assert!(s.delete_run("run_1").unwrap());
    assert!(!s.delete_run("run_1").unwrap());
    assert!(s.get_run("run_1").unwrap().is_none());
    assert!(s.batch_results("run_1").unwrap().is_empty());
}

fn retention_prunes_finished_runs_before_the_cutoff_and_keeps_running_ones<S: RunRepository>(
    s: &Arc<S>,
) {
    let mut old_done = run("run_old_done", t0() - TimeDelta::days(200));
    old_done
        .finish(RunStatus::Success, t0() - TimeDelta::days(200), None)
        .unwrap();
    s.insert_run(&old_done, None).unwrap();
    s.insert_run(
        &run("run_old_running", t0() - TimeDelta::days(200)),
        Some("job_1"),
    )
    .unwrap();
    let mut recent = run("run_recent", t0() - TimeDelta::days(2));
    recent.finish(RunStatus::Failed, t0(), None).unwrap();
    s.insert_run(&recent, None).unwrap();
    assert_eq!(s.prune_runs_before(t0() - TimeDelta::days(180)).unwrap(), 1);
    assert!(s.get_run("run_old_done").unwrap().is_none());
    assert!(s.get_run("run_old_running").unwrap().is_some());
    assert!(s.get_run("run_recent").unwrap().is_some());
}

fn racing_claims_of_one_lock_let_exactly_one_run_in<S: RunRepository + 'static>(s: &Arc<S>) {
    for round in 0..10 {
        let barrier = Arc::new(Barrier::new(4));
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let (s, barrier) = (Arc::clone(s), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    barrier.wait();
                    s.insert_run(
                        &run(&format!("run_{round}_{i}"), t0()),
                        Some(&format!("job_{round}")),
                    )
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "round {round}: {results:?}"
        );
        assert!(
            results
                .iter()
                .all(|r| r.is_ok() || matches!(r, Err(StoreError::Conflict("runs.lock"))))
        );
    }
}

fn the_lease_is_renewed_only_by_its_owner_and_reports_the_stored_status<S: RunRepository>(
    s: &Arc<S>,
) {
    let mut r = run("run_1", t0());
    r.lease_owner = Some("host-a".into());
    r.lease_expires_at = Some(t0() + TimeDelta::seconds(30));
    s.insert_run(&r, Some("job_1")).unwrap();
    let later = t0() + TimeDelta::seconds(40);
    assert_eq!(
        s.renew_lease("run_1", "host-a", 0, later)
            .unwrap()
            .map(|r| r.status),
        Some(RunStatus::Running)
    );
    assert_eq!(
        s.get_run("run_1").unwrap().unwrap().lease_expires_at,
        Some(later)
    );
    assert_eq!(
        s.renew_lease("run_1", "host-b", 0, later + TimeDelta::hours(1))
            .unwrap()
            .map(|r| r.status),
        Some(RunStatus::Running)
    );
    assert_eq!(
        s.get_run("run_1").unwrap().unwrap().lease_expires_at,
        Some(later),
        "not the owner"
    );
    assert_eq!(s.renew_lease("run_x", "host-a", 0, later).unwrap(), None);
    let mut cancelled = s.get_run("run_1").unwrap().unwrap();
    cancelled.finish(RunStatus::Cancelled, later, None).unwrap();
    assert!(s.finish_run(&cancelled).unwrap());
    assert_eq!(
        s.renew_lease("run_1", "host-a", 0, later)
            .unwrap()
            .map(|r| r.status),
        Some(RunStatus::Cancelled)
    );
}

fn finishing_never_overwrites_a_run_cancelled_meanwhile<S: RunRepository>(s: &Arc<S>) {
    let worker_copy = run("run_1", t0());
    s.insert_run(&worker_copy, Some("job_1")).unwrap();
    let mut by_api = worker_copy.clone();
    by_api
        .finish(RunStatus::Cancelled, t0() + TimeDelta::seconds(1), None)
        .unwrap();
    assert!(s.finish_run(&by_api).unwrap());
    let mut by_worker = worker_copy;
    by_worker
        .finish(RunStatus::Success, t0() + TimeDelta::seconds(2), None)
        .unwrap();
    assert!(!s.finish_run(&by_worker).unwrap());
    assert_eq!(
        s.get_run("run_1").unwrap().unwrap().status,
        RunStatus::Cancelled
    );
    assert!(!s.finish_run(&run("run_x", t0())).unwrap());
}

/// Records a finished batch of `users` mentors, as a run's batch would:
/// in memory directly, in the database through `record_batch` (which also
/// adds to the run's totals).
trait Batches {
    fn add_batch_of(&self, run_id: &str, batch_index: i64, users: i64);
}

impl Batches for run_log::InMemoryRuns {
    fn add_batch_of(&self, run_id: &str, batch_index: i64, users: i64) {
        self.add_batch(
            run_id,
            run_log::BatchResult {
                batch_index,
                user_count: users,
                notifications_sent: 0,
                duration_ms: 1,
            },
        );
    }
}

impl Batches for storage_diesel::Store {
    fn add_batch_of(&self, run_id: &str, batch_index: i64, users: i64) {
        self.record_batch(&BatchWrite {
            run_id: run_id.into(),
            batch_index,
            users_evaluated: users,
            duration_ms: 1,
            entries: Vec::new(),
            lease: None,
        })
        .unwrap();
    }
}

fn planned(index: i64, first: &str, last: &str) -> PlannedBatch {
    PlannedBatch {
        batch_index: index,
        first_user_id: first.into(),
        last_user_id: last.into(),
        user_count: 2,
    }
}

fn indices(batches: &[PlannedBatch]) -> Vec<i64> {
    batches.iter().map(|b| b.batch_index).collect()
}

fn scenario_run(id: &str) -> Run {
    Run::start(id.into(), "scenario_evaluation", Trigger::Manual, t0())
}

fn finishing_keeps_the_totals_batches_wrote_meanwhile<S: RunRepository>(s: &Arc<S>) {
    let worker_copy = scenario_run("run_1");
    s.insert_run(&worker_copy, None).unwrap();
    // The totals grew after the worker read its copy.
    let mut grown = worker_copy.clone();
    grown.users_evaluated = 148;
    grown.notifications_dispatched = 23;
    assert!(s.update_run(&grown).unwrap());
    let mut done = worker_copy;
    done.finish(RunStatus::Success, t0() + TimeDelta::seconds(4), None)
        .unwrap();
    assert!(s.finish_run(&done).unwrap());
    let stored = s.get_run("run_1").unwrap().unwrap();
    assert_eq!(stored.status, RunStatus::Success);
    assert_eq!(stored.duration_ms, Some(4000));
    assert_eq!(
        (stored.users_evaluated, stored.notifications_dispatched),
        (148, 23)
    );
}

fn a_plan_is_read_in_index_order_without_its_finished_batches<S: RunRepository + Batches>(
    s: &Arc<S>,
) {
    let mut run = scenario_run("run_1");
    run.batch_size = Some(2);
    s.insert_run(&run, None).unwrap();
    s.insert_run(&scenario_run("run_2"), None).unwrap();
    s.insert_plan("run_1", None, &[planned(0, "a", "b"), planned(1, "c", "d")])
        .unwrap();
    s.insert_plan("run_1", None, &[planned(2, "e", "f"), planned(3, "g", "h")])
        .unwrap();
    s.insert_plan("run_2", None, &[planned(0, "a", "z")])
        .unwrap();
    assert_eq!(s.get_run("run_1").unwrap().unwrap().planned_batches, None);
    assert!(s.complete_plan("run_1", None, 4).unwrap());
    assert!(!s.complete_plan("run_x", None, 4).unwrap());
    let stored = s.get_run("run_1").unwrap().unwrap();
    assert_eq!(
        (stored.planned_batches, stored.batch_size),
        (Some(4), Some(2))
    );

    let all = s.unfinished_batches("run_1", None, 100).unwrap();
    assert_eq!(indices(&all), [0, 1, 2, 3]);
    assert_eq!(all[1], planned(1, "c", "d"));
    s.add_batch_of("run_1", 0, 2);
    s.add_batch_of("run_1", 2, 2);
    s.add_batch_of("run_2", 1, 2);
    assert_eq!(
        indices(&s.unfinished_batches("run_1", None, 100).unwrap()),
        [1, 3]
    );
    assert_eq!(
        indices(&s.unfinished_batches("run_1", Some(1), 100).unwrap()),
        [3]
    );
    assert_eq!(
        indices(&s.unfinished_batches("run_1", None, 1).unwrap()),
        [1]
    );
    assert_eq!(
        indices(&s.unfinished_batches("run_2", None, 100).unwrap()),
        [0]
    );
    // Finishing the run writes no plan fields back.
    let mut done = s.get_run("run_1").unwrap().unwrap();
    done.planned_batches = None;
    done.batch_size = None;
    done.finish(RunStatus::Success, t0(), None).unwrap();
    assert!(s.finish_run(&done).unwrap());
    let stored = s.get_run("run_1").unwrap().unwrap();
    assert_eq!(
        (stored.planned_batches, stored.batch_size),
        (Some(4), Some(2))
    );
}

fn a_plan_index_planned_twice_is_a_conflict_that_writes_nothing<S: RunRepository>(s: &Arc<S>) {
    s.insert_run(&scenario_run("run_1"), None).unwrap();
    s.insert_plan("run_1", None, &[planned(0, "a", "b")])
        .unwrap();
    assert!(matches!(
        s.insert_plan("run_1", None, &[planned(1, "c", "d"), planned(0, "a", "b")]),
        Err(StoreError::Conflict("run_batches.batch_index"))
    ));
    assert_eq!(
        indices(&s.unfinished_batches("run_1", None, 100).unwrap()),
        [0]
    );
}

fn a_plan_goes_with_its_run_and_can_be_cleared<S: RunRepository>(s: &Arc<S>) {
    s.insert_run(&scenario_run("run_1"), None).unwrap();
    s.insert_plan("run_1", None, &[planned(0, "a", "b"), planned(1, "c", "d")])
        .unwrap();
    s.clear_plan("run_1", None).unwrap();
    assert!(s.unfinished_batches("run_1", None, 100).unwrap().is_empty());
    s.insert_plan("run_1", None, &[planned(0, "a", "d")])
        .unwrap();
    let mut done = s.get_run("run_1").unwrap().unwrap();
    done.finish(RunStatus::Cancelled, t0(), None).unwrap();
    assert!(s.finish_run(&done).unwrap());
    assert!(s.delete_run("run_1").unwrap());
    assert!(s.unfinished_batches("run_1", None, 100).unwrap().is_empty());
    // A run of the same id could plan index 0 again.
    s.insert_run(&scenario_run("run_1"), None).unwrap();
    s.insert_plan("run_1", None, &[planned(0, "a", "b")])
        .unwrap();
}

fn the_next_batch_index_is_one_past_the_last_finished_batch<S: RunRepository + Batches>(
    s: &Arc<S>,
) {
    s.insert_run(&scenario_run("run_1"), None).unwrap();
    s.insert_run(&scenario_run("run_2"), None).unwrap();
    assert_eq!(s.next_batch_index("run_1").unwrap(), 0);
    s.add_batch_of("run_1", 0, 3);
    s.add_batch_of("run_1", 1, 3);
    s.add_batch_of("run_2", 7, 3);
    assert_eq!(s.next_batch_index("run_1").unwrap(), 2);
    assert_eq!(s.next_batch_index("run_2").unwrap(), 8);
    assert_eq!(s.next_batch_index("run_x").unwrap(), 0);
}

fn only_a_lapsed_lease_is_taken_over_and_only_once<S: RunRepository + 'static>(s: &Arc<S>) {
    let mut r = scenario_run("run_1");
    r.lease_owner = Some("host-gone".into());
    r.lease_expires_at = Some(t0() + TimeDelta::seconds(30));
    s.insert_run(&r, None).unwrap();
    let before = t0() + TimeDelta::seconds(29);
    assert!(
        s.take_over_lease("run_1", "host-a", before, before + TimeDelta::seconds(30))
            .unwrap()
            .is_none()
    );
    let after = t0() + TimeDelta::seconds(31);
    let barrier = Arc::new(Barrier::new(4));
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let (s, barrier) = (Arc::clone(s), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                s.take_over_lease(
                    "run_1",
                    &format!("host-{i}"),
                    after,
                    after + TimeDelta::seconds(30),
                )
                .unwrap()
            })
        })
        .collect();
    let won = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .filter(Option::is_some)
        .count();
    assert_eq!(won, 1, "exactly one instance takes the run over");
    let stored = s.get_run("run_1").unwrap().unwrap();
    assert!(
        stored
            .lease_owner
            .as_deref()
            .is_some_and(|o| o.starts_with("host-") && o != "host-gone")
    );
    assert_eq!(
        stored.lease_expires_at,
        Some(after + TimeDelta::seconds(30))
    );
    // A finished run is never taken over.
    let mut done = stored;
    done.finish(RunStatus::Failed, after, None).unwrap();
    assert!(s.finish_run(&done).unwrap());
    let much_later = after + TimeDelta::days(1);
    assert!(
        s.take_over_lease("run_1", "host-a", much_later, much_later)
            .unwrap()
            .is_none()
    );
}

fn the_last_finished_run_of_a_job_is_its_newest_that_did_work<S: RunRepository>(s: &Arc<S>) {
    let of_job = |id: &str, minutes: i64, job: &str, status: RunStatus| {
        let at = t0() + TimeDelta::minutes(minutes);
        let mut r = run(id, at);
        r.job_id = Some(job.into());
        if status != RunStatus::Running {
            r.status = status;
            r.completed_at = Some(at);
        }
        s.insert_run(&r, None).unwrap();
    };
    assert!(s.last_finished_run("job_1").unwrap().is_none());
    of_job("run_1", 0, "job_1", RunStatus::Success);
    of_job("run_3", 1, "job_1", RunStatus::Failed);
    of_job("run_2", 1, "job_1", RunStatus::Cancelled);
    of_job("run_4", 2, "job_1", RunStatus::Skipped);
    of_job("run_5", 3, "job_1", RunStatus::Missed);
    of_job("run_6", 4, "job_1", RunStatus::Running);
    of_job("run_7", 5, "job_2", RunStatus::Success);
    // Newest by invoked_at, then id; skipped, missed and running runs are
    // not results, and another job's runs are not this one's.
    assert_eq!(s.last_finished_run("job_1").unwrap().unwrap().id, "run_3");
    assert_eq!(s.last_finished_run("job_2").unwrap().unwrap().id, "run_7");
    assert!(s.last_finished_run("job_3").unwrap().is_none());
}
