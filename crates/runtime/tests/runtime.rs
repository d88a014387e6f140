//! The job runtime, on SQLite and PostgreSQL: the scheduler
//! loop firing a per-second job in real time, the misfire plan after a
//! downtime, skips while the lock is held, abandoned runs, two
//! instances ticking together, and the bounded pool of run threads.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed call is a failed test"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use run_log::{BatchPlanner, PlannedBatch, Run, RunFilter, RunRepository, RunStatus, Trigger};
use runtime::{InvocationRequest, Ports, Runtime, RuntimeConfig, TriggerRequest};
use scenario_engine::adapters::{FixedClock, SystemClock, UlidIds};
use scenario_engine::rules::{Certification, PauseReason, Rules, ScenarioType};
use scenario_engine::service::MentorService;
use scenario_engine::service::{
    BatchEvaluator, BatchOutcome, BatchRepository, BatchRequest, BatchWrite, Clock,
    EvaluationFilter, EvaluationService, MentorUpsert, NotificationFilter, PageRequest,
    StoreError as BatchStoreError, Subject,
};
use scheduler_core::{Job, JobError, NewJob};
use storage_diesel::Store;
use storage_diesel::testdb::TestDb;

#[macro_use]
mod backends;

db_tests![
    a_per_second_job_fires_every_second_through_the_loop,
    after_a_downtime_the_latest_instant_fires_once_and_the_rest_are_one_missed_run,
    a_downtime_past_the_deadline_fires_nothing_and_records_the_misses,
    firings_while_the_lock_is_held_are_one_skipped_run_with_a_count,
    a_run_whose_lease_expired_is_run_again_by_the_taker,
    every_run_whose_lease_lapsed_is_taken_over,
    two_instances_ticking_together_fire_each_instant_once,
    a_disabled_job_never_fires_but_can_be_triggered,
    the_reminder_job_evaluates_every_active_mentor_in_batches,
    a_cancelled_run_stops_between_batches,
    two_committing_threads_write_every_batch_once,
    a_run_committed_by_two_threads_stops_at_a_cancellation,
    a_failed_batch_fails_a_run_committed_by_two_threads,
    a_run_whose_process_died_is_resumed_at_its_first_unfinished_batch,
    a_run_that_died_while_planning_is_planned_again,
    another_instance_helps_with_the_batches_of_a_run,
    an_external_run_without_batches_for_an_hour_is_abandoned,
    a_job_evaluates_in_its_own_time_zone,
    the_certification_jobs_count_days_in_their_own_time_zone,
    more_runs_than_run_threads_all_complete,
    a_run_waiting_for_a_thread_is_running_and_no_instance_takes_it_over,
    a_run_cancelled_while_it_waits_ends_cancelled_on_its_job_too,
    a_process_whose_run_was_taken_over_writes_nothing_more_to_it,
    a_draining_process_hands_its_runs_over_at_once,
    runs_and_callers_never_wait_for_each_others_connections,
    retention_prunes_every_table_that_grows_past_one_chunk_and_reports_each,
    retention_keeps_the_notifications_the_cooldown_still_reads,
    without_an_enabled_retention_job_the_scheduler_prunes_daily_by_itself,
];

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 26, 10, 0, 0).unwrap()
}

/// One instance: its runtime, the store under it, and the services tests
/// write mentors and read evaluations through.
struct App {
    runtime: Arc<Runtime>,
    store: Store,
    mentors: MentorService,
    evaluations: EvaluationService,
}

/// One instance over `db`. Its ticks start no built-in retention run (the
/// run logs these tests read stay as they make them); the retention tests
/// turn it on.
fn state(db: &TestDb, clock: Arc<dyn Clock>, owner: &str) -> App {
    let store = Store::open(db.url(), 4).unwrap();
    let runtime = Arc::new(Runtime::new(RuntimeConfig {
        clock,
        owner: owner.into(),
        built_in_retention: false,
        ..RuntimeConfig::new(Ports::of(Arc::new(store.clone())))
    }));
    App {
        mentors: runtime.mentors.clone(),
        evaluations: runtime.evaluations.clone(),
        runtime,
        store,
    }
}

fn create(rt: &Runtime, name: &str, expr: &str, handler: &str) -> Job {
    create_with(rt, name, expr, handler, None)
}

/// An enabled UTC job with `params` (absent when `None`).
fn new_job(name: &str, expr: &str, handler: &str, params: Option<serde_json::Value>) -> NewJob {
    NewJob {
        name: name.into(),
        cron_expression: expr.into(),
        timezone: None,
        handler: handler.into(),
        enabled: Some(true),
        params: params.map(|p| p.as_object().expect("params are an object").clone()),
    }
}

/// A job with `params` (absent when `None`).
fn create_with(
    rt: &Runtime,
    name: &str,
    expr: &str,
    handler: &str,
    params: Option<serde_json::Value>,
) -> Job {
    let spec = new_job(name, expr, handler, params);
    rt.jobs.create(spec, rt.next_id("job"), rt.now()).unwrap()
}

fn runs_of(rt: &Runtime, job: &Job) -> Vec<Run> {
    let filter = RunFilter {
        job_id: Some(job.id.clone()),
        ..RunFilter::default()
    };
    let (mut runs, _) = rt.runs.list_runs(&filter, 0, 100).unwrap();
    runs.reverse();
    runs
}

/// Waits (real time, with a deadline) until no run of `job` is running.
fn settle(rt: &Runtime, job: &Job) -> Vec<Run> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let runs = runs_of(rt, job);
        if runs.iter().all(|r| r.status != RunStatus::Running) || Instant::now() > deadline {
            return runs;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

async fn a_per_second_job_fires_every_second_through_the_loop(db: &TestDb) {
    let app = state(db, Arc::new(SystemClock), "host-a");
    let rt = app.runtime.clone();
    let job = create(&rt, "every second", "*/1 * * * * *", "pause_auto_lift");
    rt.jobs_changed();
    let loop_task = tokio::spawn(runtime::scheduler_loop(rt.clone()));
    let deadline = Instant::now() + Duration::from_secs(8);
    while runs_of(&rt, &job).len() < 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    loop_task.abort();
    let runs = settle(&rt, &job);
    assert!(runs.len() >= 3, "{} runs in 8 s", runs.len());
    let instants: Vec<_> = runs.iter().filter_map(|r| r.scheduled_for).collect();
    let mut unique = instants.clone();
    unique.dedup();
    assert_eq!(unique, instants, "each instant fires once, in order");
    for r in &runs {
        assert_eq!(r.trigger, Trigger::Schedule);
        assert!(
            matches!(r.status, RunStatus::Success | RunStatus::Skipped),
            "{:?}",
            r.status
        );
    }
    let fired = runs
        .iter()
        .find(|r| r.status == RunStatus::Success)
        .unwrap();
    assert_eq!(fired.result_summary.as_ref().unwrap()["pauses_lifted"], 0);
    let stored = rt.jobs.get(&job.id).unwrap();
    assert!(stored.last_run_at.is_some());
    assert_eq!(stored.last_run_status.as_deref(), Some("success"));
}

async fn after_a_downtime_the_latest_instant_fires_once_and_the_rest_are_one_missed_run(
    db: &TestDb,
) {
    let clock = Arc::new(FixedClock::new(t0()));
    let app = state(db, clock.clone(), "host-a");
    let rt = app.runtime.clone();
    let job = create(&rt, "hourly", "0 * * * *", "pause_auto_lift");
    assert_eq!(job.next_run_at, Some(t0() + TimeDelta::hours(1)));
    // Down for three days; back 10 minutes past the hour.
    clock.set(t0() + TimeDelta::days(3) + TimeDelta::minutes(10));
    let next = rt.tick();
    assert_eq!(next, Some(t0() + TimeDelta::days(3) + TimeDelta::hours(1)));
    let runs = settle(&rt, &job);
    assert_eq!(
        runs.len(),
        2,
        "one missed run and one real run, never a burst: {runs:?}"
    );
    let missed = runs.iter().find(|r| r.status == RunStatus::Missed).unwrap();
    let summary = missed.result_summary.as_ref().unwrap();
    assert_eq!(summary["count"], 71);
    assert_eq!(summary["first"], "2026-03-26T11:00:00Z");
    assert_eq!(summary["last"], "2026-03-29T09:00:00Z");
    let fired = runs
        .iter()
        .find(|r| r.status == RunStatus::Success)
        .unwrap();
    assert_eq!(fired.scheduled_for, Some(t0() + TimeDelta::days(3)));
    // A second tick at the same instant fires nothing more.
    rt.tick();
    assert_eq!(settle(&rt, &job).len(), 2);
    assert_eq!(
        rt.jobs.get(&job.id).unwrap().last_run_status.as_deref(),
        Some("success")
    );
}

async fn a_downtime_past_the_deadline_fires_nothing_and_records_the_misses(db: &TestDb) {
    let clock = Arc::new(FixedClock::new(t0()));
    let app = state(db, clock.clone(), "host-a");
    let rt = app.runtime.clone();
    let job = create(&rt, "nightly", "0 2 * * *", "pause_auto_lift");
    // The 02:00 of 27 March passed 3 hours ago: beyond the 1-hour deadline.
    clock.set(Utc.with_ymd_and_hms(2026, 3, 27, 5, 0, 0).unwrap());
    rt.tick();
    let runs = settle(&rt, &job);
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].status, RunStatus::Missed);
    assert_eq!(runs[0].result_summary.as_ref().unwrap()["count"], 1);
    let stored = rt.jobs.get(&job.id).unwrap();
    assert_eq!(
        stored.next_run_at,
        Some(Utc.with_ymd_and_hms(2026, 3, 28, 2, 0, 0).unwrap())
    );
    assert_eq!(
        stored.last_run_status, None,
        "missed runs do not count as real runs"
    );
}

async fn firings_while_the_lock_is_held_are_one_skipped_run_with_a_count(db: &TestDb) {
    let clock = Arc::new(FixedClock::new(t0()));
    let app = state(db, clock.clone(), "host-a");
    let rt = app.runtime.clone();
    let job = create(&rt, "minutely", "* * * * *", "pause_auto_lift");
    // A long run holds the job's lock (its lease is renewed far ahead).
    let mut holder = Run::start(
        "run_holder".into(),
        "pause_auto_lift",
        Trigger::Manual,
        t0(),
    );
    holder.job_id = Some(job.id.clone());
    holder.lease_owner = Some("host-a".into());
    holder.lease_expires_at = Some(t0() + TimeDelta::days(1));
    rt.runs
        .insert_run(&holder, Some(&runtime::lock_key(&job)))
        .unwrap();
    for minute in 1..=3 {
        clock.set(t0() + TimeDelta::minutes(minute) + TimeDelta::seconds(1));
        rt.tick();
    }
    let runs = runs_of(&rt, &job);
    let skipped: Vec<_> = runs
        .iter()
        .filter(|r| r.status == RunStatus::Skipped)
        .collect();
    assert_eq!(skipped.len(), 1, "{runs:?}");
    let summary = skipped[0].result_summary.as_ref().unwrap();
    assert_eq!(summary["count"], 3);
    assert_eq!(summary["running_run_id"], "run_holder");
    assert_eq!(summary["last"], "2026-03-26T10:03:00Z");
    // A manual trigger is refused with the holder's id.
    match rt.trigger(&job, TriggerRequest::default()) {
        Err(runtime::RuntimeError::LockHeld { run_id, .. }) => assert_eq!(run_id, "run_holder"),
        other => panic!("{other:?}"),
    }
}

/// A non-scenario run whose process died is run again by the instance
/// that takes it over (its writes are idempotent through the dedupe keys),
/// not failed: a deploy at 02:00 does not lose that night's check.
async fn a_run_whose_lease_expired_is_run_again_by_the_taker(db: &TestDb) {
    let clock = Arc::new(FixedClock::new(t0()));
    let app = state(db, clock.clone(), "host-a");
    let rt = app.runtime.clone();
    let job = create(&rt, "nightly", "0 2 * * *", "pause_auto_lift");
    let mut dead = Run::start("run_dead".into(), "pause_auto_lift", Trigger::Manual, t0());
    dead.job_id = Some(job.id.clone());
    dead.lease_owner = Some("host-gone".into());
    dead.lease_expires_at = Some(t0() + TimeDelta::seconds(30));
    rt.runs
        .insert_run(&dead, Some(&runtime::lock_key(&job)))
        .unwrap();
    clock.set(t0() + TimeDelta::seconds(29));
    rt.tick();
    let held = rt.runs.get_run("run_dead").unwrap().unwrap();
    assert_eq!(held.status, RunStatus::Running);
    assert_eq!(held.lease_owner.as_deref(), Some("host-gone"));
    clock.set(t0() + TimeDelta::seconds(31));
    rt.tick();
    let run = settle_run(&rt, "run_dead");
    assert_eq!(run.status, RunStatus::Success, "{:?}", run.error_message);
    assert_eq!(run.lease_epoch, 1, "taken over once");
    assert_eq!(run.result_summary.unwrap()["pauses_lifted"], 0);
    assert_eq!(
        rt.jobs.get(&job.id).unwrap().last_run_status.as_deref(),
        Some("success")
    );
    // The lock is free again.
    let next = rt.trigger(&job, TriggerRequest::default()).unwrap();
    settle(&rt, &job);
    assert_eq!(
        rt.runs.get_run(&next.id).unwrap().unwrap().status,
        RunStatus::Success
    );
}

/// Every lapsed lease is found, however many runs run: here 150 external
/// runs whose orchestrators went quiet, more than a page of the reaper.
async fn every_run_whose_lease_lapsed_is_taken_over(db: &TestDb) {
    let clock = Arc::new(FixedClock::new(t0()));
    let app = state(db, clock.clone(), "host-a");
    let rt = app.runtime.clone();
    for i in 0..150 {
        let mut run = Run::start(
            format!("run_{i:03}"),
            "scenario_evaluation",
            Trigger::Manual,
            t0() + TimeDelta::seconds(i),
        );
        run.external = true;
        run.lease_owner = Some(run_log::EXTERNAL_OWNER.into());
        run.lease_expires_at = Some(t0() + TimeDelta::seconds(200));
        rt.runs.insert_run(&run, None).unwrap();
    }
    clock.set(t0() + TimeDelta::seconds(201));
    rt.tick();
    let filter = RunFilter {
        status: Some(RunStatus::Failed),
        ..RunFilter::default()
    };
    let (_, failed) = rt.runs.list_runs(&filter, 0, 1).unwrap();
    assert_eq!(failed, 150);
}

async fn two_instances_ticking_together_fire_each_instant_once(db: &TestDb) {
    let clock = Arc::new(FixedClock::new(t0()));
    let a = state(db, clock.clone(), "host-a").runtime;
    let b = state(db, clock.clone(), "host-b").runtime;
    let job = create(&a, "minutely", "* * * * *", "pause_auto_lift");
    for minute in 1..=4 {
        clock.set(t0() + TimeDelta::minutes(minute));
        let (a2, b2) = (a.clone(), b.clone());
        let ta = std::thread::spawn(move || a2.tick());
        let tb = std::thread::spawn(move || b2.tick());
        ta.join().unwrap();
        tb.join().unwrap();
        settle(&a, &job);
    }
    let runs = settle(&a, &job);
    let fired: Vec<_> = runs
        .iter()
        .filter(|r| r.status == RunStatus::Success)
        .collect();
    assert_eq!(fired.len(), 4, "{runs:?}");
    let mut instants: Vec<_> = fired.iter().map(|r| r.scheduled_for.unwrap()).collect();
    instants.sort();
    instants.dedup();
    assert_eq!(instants.len(), 4, "no instant fired twice");
}

async fn a_disabled_job_never_fires_but_can_be_triggered(db: &TestDb) {
    let clock = Arc::new(FixedClock::new(t0()));
    let app = state(db, clock.clone(), "host-a");
    let rt = app.runtime.clone();
    let job = create(&rt, "minutely", "* * * * *", "pause_auto_lift");
    let patch = scheduler_core::JobPatch {
        enabled: Some(false),
        ..Default::default()
    };
    let job = rt.jobs.update(&job.id, patch, rt.now()).unwrap();
    clock.set(t0() + TimeDelta::hours(1));
    assert_eq!(rt.tick(), None, "nothing to wake for");
    assert!(runs_of(&rt, &job).is_empty());
    let run = rt
        .trigger(
            &job,
            TriggerRequest {
                dry_run: true,
                ..TriggerRequest::default()
            },
        )
        .unwrap();
    assert_eq!(run.status, RunStatus::Running);
    let runs = settle(&rt, &job);
    assert_eq!(runs.len(), 1);
    assert!(runs[0].dry_run);
    assert_eq!(runs[0].status, RunStatus::Success);
}

async fn the_reminder_job_evaluates_every_active_mentor_in_batches(db: &TestDb) {
    let clock = Arc::new(FixedClock::new(t0()));
    let app = state(db, clock.clone(), "host-a");
    let rt = app.runtime.clone();
    assert!(rt.seed_default_jobs().unwrap());
    assert!(!rt.seed_default_jobs().unwrap(), "registered once");
    // 120 active mentors inactive for 30 days, and one paused mentor.
    for i in 0..120 {
        let upsert = MentorUpsert {
            org_id: Some("org_oslo_01".into()),
            last_active_at: Some(t0() - TimeDelta::days(30)),
            ..MentorUpsert::default()
        };
        app.mentors.upsert(&format!("usr_{i:03}"), upsert).unwrap();
    }
    app.mentors
        .upsert(
            "usr_paused",
            MentorUpsert {
                org_id: Some("org".into()),
                ..MentorUpsert::default()
            },
        )
        .unwrap();
    app.mentors
        .pause("usr_paused", PauseReason::Admin, None)
        .unwrap();
    let job = rt.jobs.get_by_name("daily-reminder-check").unwrap();

    let dry = rt
        .trigger(
            &job,
            TriggerRequest {
                dry_run: true,
                ..TriggerRequest::default()
            },
        )
        .unwrap();
    settle(&rt, &job);
    let dry = rt.runs.get_run(&dry.id).unwrap().unwrap();
    assert_eq!(dry.status, RunStatus::Success, "{:?}", dry.error_message);
    assert_eq!(
        dry.notifications_dispatched, 0,
        "a dry run enqueues nothing"
    );

    let run = rt.trigger(&job, TriggerRequest::default()).unwrap();
    settle(&rt, &job);
    let run = rt.runs.get_run(&run.id).unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Success, "{:?}", run.error_message);
    assert_eq!(run.users_evaluated, 120, "the paused mentor is not planned");
    assert_eq!(
        run.notifications_dispatched, 120,
        "one inactivity reminder each"
    );
    let batches = rt.runs.batch_results(&run.id).unwrap();
    let sizes: Vec<i64> = batches.iter().map(|b| b.user_count).collect();
    assert_eq!(sizes, [50, 50, 20]);
    assert_eq!(
        batches.iter().map(|b| b.notifications_sent).sum::<i64>(),
        120
    );
    assert_eq!(run.result_summary.as_ref().unwrap()["batches"], 3);
    assert_eq!(
        rt.jobs.get(&job.id).unwrap().last_run_status.as_deref(),
        Some("success")
    );

    // The next day, inside the 3-day cooldown: nothing new is sent.
    clock.set(t0() + TimeDelta::days(1));
    let again = rt.trigger(&job, TriggerRequest::default()).unwrap();
    settle(&rt, &job);
    let again = rt.runs.get_run(&again.id).unwrap().unwrap();
    assert_eq!(
        (again.users_evaluated, again.notifications_dispatched),
        (120, 0)
    );
}

/// A batch store that cancels the run (as a `PUT` would) right after the
/// transaction that writes batch `cancel_after` commits (a cancellation
/// lands between transactions), so the run must stop before its next
/// transaction. `group_end`: the last batch of that transaction.
struct CancelAfter {
    store: Arc<Store>,
    cancel_after: i64,
    clock: Arc<dyn Clock>,
    group_end: std::sync::Mutex<Option<i64>>,
    /// Batches written after the cancellation.
    late: std::sync::atomic::AtomicUsize,
    /// Whether the cancellation committed.
    cancelled: std::sync::atomic::AtomicBool,
    /// Batches committed by transactions begun after the cancellation.
    late_written: std::sync::atomic::AtomicUsize,
}

impl CancelAfter {
    fn new(store: Arc<Store>, cancel_after: i64, clock: Arc<dyn Clock>) -> Arc<Self> {
        Arc::new(Self {
            store,
            cancel_after,
            clock,
            group_end: std::sync::Mutex::new(None),
            late: std::sync::atomic::AtomicUsize::new(0),
            cancelled: std::sync::atomic::AtomicBool::new(false),
            late_written: std::sync::atomic::AtomicUsize::new(0),
        })
    }
}

impl CancelAfter {
    fn cancel(&self, run_id: &str) {
        let mut run = self.store.get_run(run_id).unwrap().unwrap();
        run.finish(RunStatus::Cancelled, self.clock.now(), None)
            .unwrap();
        assert!(self.store.finish_run(&run).unwrap());
    }
}

impl BatchRepository for CancelAfter {
    fn load_subjects(&self, user_ids: &[String]) -> Result<Vec<Subject>, BatchStoreError> {
        self.store.load_subjects(user_ids)
    }

    fn record_batch(&self, batch: &BatchWrite) -> Result<BatchOutcome, BatchStoreError> {
        let mut outcomes = self.record_batches(std::slice::from_ref(batch))?;
        Ok(outcomes.pop().unwrap())
    }

    fn record_batches(&self, batches: &[BatchWrite]) -> Result<Vec<BatchOutcome>, BatchStoreError> {
        use std::sync::atomic::Ordering::SeqCst;
        if self.group_end.lock().unwrap().is_some() {
            self.late.fetch_add(batches.len(), SeqCst);
        }
        let after_cancel = self.cancelled.load(SeqCst);
        let outcomes = self.store.record_batches(batches)?;
        if after_cancel {
            self.late_written.fetch_add(batches.len(), SeqCst);
        }
        if batches.iter().any(|b| b.batch_index == self.cancel_after) {
            self.cancel(&batches[0].run_id);
            self.cancelled.store(true, SeqCst);
            *self.group_end.lock().unwrap() = batches.iter().map(|b| b.batch_index).max();
        }
        Ok(outcomes)
    }

    fn active_user_ids_after(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>, BatchStoreError> {
        self.store.active_user_ids_after(after, limit)
    }

    fn active_user_ids_between(
        &self,
        first: &str,
        last: &str,
    ) -> Result<Vec<String>, BatchStoreError> {
        self.store.active_user_ids_between(first, last)
    }
}

/// A runtime over `store` whose batches go through `batches`, committed
/// by `commit_threads` threads.
fn runtime_with(
    store: Arc<Store>,
    batches: Arc<dyn BatchRepository>,
    clock: Arc<dyn Clock>,
    commit_threads: usize,
) -> Arc<Runtime> {
    Arc::new(Runtime::new(RuntimeConfig {
        clock,
        owner: "host-a".into(),
        commit_threads,
        ..RuntimeConfig::new(Ports {
            batches,
            ..Ports::of(store)
        })
    }))
}

/// `n` active mentors `usr_000`..., inactive for 30 days.
fn mentors(app: &App, n: usize) {
    for i in 0..n {
        let upsert = MentorUpsert {
            org_id: Some("org_oslo_01".into()),
            last_active_at: Some(t0() - TimeDelta::days(30)),
            ..MentorUpsert::default()
        };
        app.mentors.upsert(&format!("usr_{i:03}"), upsert).unwrap();
    }
}

/// Waits (real time, with a deadline) until the run is no longer running.
fn settle_run(rt: &Runtime, id: &str) -> Run {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let run = rt.runs.get_run(id).unwrap().unwrap();
        if run.status != RunStatus::Running || Instant::now() > deadline {
            return run;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

async fn a_cancelled_run_stops_between_batches(db: &TestDb) {
    let clock: Arc<dyn Clock> = Arc::new(FixedClock::new(t0()));
    let app = state(db, clock.clone(), "host-a");
    mentors(&app, 125);
    let store = Arc::new(app.store.clone());
    let batches = CancelAfter::new(store.clone(), 1, clock.clone());
    let rt = runtime_with(store, batches.clone(), clock, 1);
    let run = rt
        .start_invocation(InvocationRequest {
            batch_size: Some(5),
            ..InvocationRequest::default()
        })
        .unwrap();
    let run = settle_run(&rt, &run.id);
    // The run's thread may still be going: give a run that ignored the
    // cancellation time to write its remaining batches.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        batches.late.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "no batch written after the cancellation"
    );
    assert_eq!(run.status, RunStatus::Cancelled);
    assert_eq!(run.planned_batches, Some(25));
    let done: Vec<i64> = rt
        .runs
        .batch_results(&run.id)
        .unwrap()
        .iter()
        .map(|b| b.batch_index)
        .collect();
    // Batch 1 and the batches committed with it: a group is what was
    // ready (the reader's channel of 8, and what it sends meanwhile), so
    // the run stops well before its last batch.
    let end = batches
        .group_end
        .lock()
        .unwrap()
        .expect("batch 1 was written");
    assert!((1..20).contains(&end), "{end}");
    assert_eq!(
        done,
        (0..=end).collect::<Vec<_>>(),
        "no batch after the cancellation"
    );
    assert_eq!(
        run.users_evaluated,
        5 * (end + 1),
        "the totals of the batches written stay"
    );
    assert_eq!(run.notifications_dispatched, 5 * (end + 1));
}

/// A batch store that records which thread wrote each batch, and makes
/// reading a batch and each transaction take a moment, so that a second
/// committing thread finds batches ready while the first writes. Every
/// write of batch `fail` fails, when given.
struct Recording {
    store: Arc<Store>,
    fail: Option<i64>,
    written: std::sync::Mutex<Vec<(std::thread::ThreadId, i64)>>,
}

impl Recording {
    fn new(store: Arc<Store>, fail: Option<i64>) -> Arc<Self> {
        Arc::new(Self {
            store,
            fail,
            written: std::sync::Mutex::new(Vec::new()),
        })
    }

    fn write(
        &self,
        batches: &[BatchWrite],
        write: impl FnOnce() -> Result<Vec<BatchOutcome>, BatchStoreError>,
    ) -> Result<Vec<BatchOutcome>, BatchStoreError> {
        std::thread::sleep(Duration::from_millis(10));
        if batches.iter().any(|b| Some(b.batch_index) == self.fail) {
            return Err(BatchStoreError::Backend("refused by the test".into()));
        }
        let outcomes = write()?;
        let thread = std::thread::current().id();
        let mut written = self.written.lock().unwrap();
        written.extend(batches.iter().map(|b| (thread, b.batch_index)));
        Ok(outcomes)
    }

    /// The batch indexes written, sorted, and the threads that wrote them.
    fn written(&self) -> (Vec<i64>, usize) {
        let written = self.written.lock().unwrap();
        let mut indexes: Vec<i64> = written.iter().map(|w| w.1).collect();
        indexes.sort_unstable();
        let threads: std::collections::HashSet<_> = written.iter().map(|w| w.0).collect();
        (indexes, threads.len())
    }
}

impl BatchRepository for Recording {
    fn load_subjects(&self, user_ids: &[String]) -> Result<Vec<Subject>, BatchStoreError> {
        self.store.load_subjects(user_ids)
    }

    fn record_batch(&self, batch: &BatchWrite) -> Result<BatchOutcome, BatchStoreError> {
        let batches = std::slice::from_ref(batch);
        let mut outcomes = self.write(batches, || Ok(vec![self.store.record_batch(batch)?]))?;
        Ok(outcomes.pop().unwrap())
    }

    fn record_batches(&self, batches: &[BatchWrite]) -> Result<Vec<BatchOutcome>, BatchStoreError> {
        self.write(batches, || self.store.record_batches(batches))
    }

    fn active_user_ids_after(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>, BatchStoreError> {
        self.store.active_user_ids_after(after, limit)
    }

    fn active_user_ids_between(
        &self,
        first: &str,
        last: &str,
    ) -> Result<Vec<String>, BatchStoreError> {
        std::thread::sleep(Duration::from_millis(2));
        self.store.active_user_ids_between(first, last)
    }
}

/// A run of 125 mentors in batches of 5 over `batches`, committed by two
/// threads, to its end.
async fn run_on_two_threads(app: &App, batches: Arc<dyn BatchRepository>) -> (Arc<Runtime>, Run) {
    mentors(app, 125);
    let clock: Arc<dyn Clock> = Arc::new(FixedClock::new(t0()));
    let rt = runtime_with(Arc::new(app.store.clone()), batches, clock, 2);
    let run = rt
        .start_invocation(InvocationRequest {
            batch_size: Some(5),
            ..InvocationRequest::default()
        })
        .unwrap();
    let run = settle_run(&rt, &run.id);
    (rt, run)
}

async fn two_committing_threads_write_every_batch_once(db: &TestDb) {
    let app = state(db, Arc::new(FixedClock::new(t0())), "host-a");
    let batches = Recording::new(Arc::new(app.store.clone()), None);
    let (rt, run) = run_on_two_threads(&app, batches.clone()).await;
    assert_eq!(run.status, RunStatus::Success, "{:?}", run.error_message);
    assert_eq!(
        (run.users_evaluated, run.notifications_dispatched),
        (125, 125)
    );
    let (written, threads) = batches.written();
    assert_eq!(written, (0..25).collect::<Vec<_>>(), "each batch once");
    assert_eq!(threads, 2, "both threads committed batches");
    let results = rt.runs.batch_results(&run.id).unwrap();
    assert_eq!(results.len(), 25);
    assert!(results.iter().all(|b| b.user_count == 5));
    let notifications = rt
        .notifications
        .list(
            &NotificationFilter::default(),
            PageRequest { page: 1, limit: 1 },
        )
        .unwrap();
    assert_eq!(notifications.total, 125, "one reminder per mentor");
}

async fn a_run_committed_by_two_threads_stops_at_a_cancellation(db: &TestDb) {
    let clock: Arc<dyn Clock> = Arc::new(FixedClock::new(t0()));
    let app = state(db, clock.clone(), "host-a");
    let batches = CancelAfter::new(Arc::new(app.store.clone()), 1, clock);
    let (rt, run) = run_on_two_threads(&app, batches.clone()).await;
    // Give a thread that ignored the cancellation time to write on.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(run.status, RunStatus::Cancelled);
    // The other thread may have asked the heartbeat just before the
    // cancellation and be writing a group meanwhile: that group committed
    // before the cancellation, or the lease fence rolls it back (the
    // run's end cleared its lease). Nothing begun after it commits.
    let late = batches
        .late_written
        .load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(late, 0, "batches committed after the cancellation");
    let done = rt.runs.batch_results(&run.id).unwrap();
    assert!(done.iter().any(|b| b.batch_index == 1), "{done:?}");
    let run = rt.runs.get_run(&run.id).unwrap().unwrap();
    assert_eq!(
        run.users_evaluated,
        done.iter().map(|b| b.user_count).sum::<i64>(),
        "the totals are those of the batches written"
    );
    assert_eq!(run.status, RunStatus::Cancelled, "and it stays cancelled");
}

async fn a_failed_batch_fails_a_run_committed_by_two_threads(db: &TestDb) {
    let app = state(db, Arc::new(FixedClock::new(t0())), "host-a");
    let batches = Recording::new(Arc::new(app.store.clone()), Some(6));
    let (rt, run) = run_on_two_threads(&app, batches.clone()).await;
    assert_eq!(run.status, RunStatus::Failed, "the run ended, failed");
    let error = run.error_message.unwrap_or_default();
    assert!(error.starts_with("batch failed"), "{error}");
    let (written, _) = batches.written();
    assert!(!written.contains(&6));
    let results = rt.runs.batch_results(&run.id).unwrap();
    assert_eq!(results.len(), written.len());
    let run = rt.runs.get_run(&run.id).unwrap().unwrap();
    assert_eq!(
        run.users_evaluated,
        5 * i64::try_from(written.len()).unwrap()
    );
}

/// `run_dead`: a running scenario run of a process that died, holding the
/// scenario lock, in batches of `batch_size`, its lease lapsing at `t0 + 30 s`.
fn dead_run_row(rt: &Runtime, batch_size: i64) -> Run {
    let mut run = Run::start(
        "run_dead".into(),
        "scenario_evaluation",
        Trigger::Manual,
        t0(),
    );
    run.lease_owner = Some("host-gone".into());
    run.lease_expires_at = Some(t0() + TimeDelta::seconds(30));
    run.batch_size = Some(batch_size);
    rt.runs
        .insert_run(&run, Some(runtime::SCENARIO_LOCK))
        .unwrap();
    run
}

/// [`dead_run_row`] planned in batches of 10 over 35 mentors, with `done`
/// batches evaluated.
fn dead_run(rt: &Runtime, app: &App, done: i64) -> Run {
    let run = dead_run_row(rt, 10);
    let ids: Vec<String> = (0..35).map(|i| format!("usr_{i:03}")).collect();
    let mut planner = BatchPlanner::new(10);
    let mut plan: Vec<PlannedBatch> = ids.iter().filter_map(|id| planner.push(id)).collect();
    plan.extend(planner.finish());
    rt.runs.insert_plan(&run.id, None, &plan).unwrap();
    rt.runs.complete_plan(&run.id, None, 4).unwrap();
    let evaluator = BatchEvaluator::new(
        Arc::new(app.store.clone()),
        Arc::new(FixedClock::new(t0())),
        Arc::new(UlidIds::new()),
        Rules::default(),
    );
    for b in &plan[..usize::try_from(done).unwrap()] {
        let batch_ids = ids
            .iter()
            .filter(|id| **id >= b.first_user_id && **id <= b.last_user_id)
            .cloned()
            .collect();
        evaluator
            .evaluate_batch(BatchRequest::new(run.id.clone(), b.batch_index, batch_ids))
            .unwrap();
    }
    rt.runs.get_run(&run.id).unwrap().unwrap()
}

async fn a_run_whose_process_died_is_resumed_at_its_first_unfinished_batch(db: &TestDb) {
    let clock = Arc::new(FixedClock::new(t0()));
    let app = state(db, clock.clone(), "host-a");
    let rt = app.runtime.clone();
    mentors(&app, 35);
    let dead = dead_run(&rt, &app, 2);
    assert_eq!(
        (dead.users_evaluated, dead.notifications_dispatched),
        (20, 20)
    );

    clock.set(t0() + TimeDelta::seconds(29));
    rt.tick();
    // Before its lease lapses the run stays its dead holder's: this
    // instance may already help with its batches (they are shared), but
    // it neither takes the run over nor ends it.
    let held = rt.runs.get_run("run_dead").unwrap().unwrap();
    assert_eq!(held.status, RunStatus::Running, "not yet");
    assert_eq!(held.lease_owner.as_deref(), Some("host-gone"), "not yet");
    clock.set(t0() + TimeDelta::seconds(31));
    rt.tick();
    let run = settle_run(&rt, "run_dead");
    assert_eq!(run.status, RunStatus::Success, "{:?}", run.error_message);
    let sizes: Vec<(i64, i64)> = rt
        .runs
        .batch_results("run_dead")
        .unwrap()
        .iter()
        .map(|b| (b.batch_index, b.user_count))
        .collect();
    assert_eq!(
        sizes,
        [(0, 10), (1, 10), (2, 10), (3, 5)],
        "each batch once"
    );
    assert_eq!(run.users_evaluated, 35);
    assert_eq!(run.notifications_dispatched, 35, "nobody notified twice");
    let filter = EvaluationFilter {
        run_id: Some("run_dead".into()),
        scenario_type: Some(ScenarioType::Inactivity),
        ..EvaluationFilter::default()
    };
    let page = PageRequest { page: 1, limit: 1 };
    assert_eq!(
        app.evaluations.list(&filter, page).unwrap().total,
        35,
        "no batch evaluated twice"
    );
}

/// Batches shared across instances: while `host-gone` holds a planned
/// run (its lease valid), another instance's tick starts a helper that
/// claims and commits every unfinished batch; when the holder's lease
/// lapses, the taker finds nothing left and ends the run with the totals
/// of all its batches.
async fn another_instance_helps_with_the_batches_of_a_run(db: &TestDb) {
    let clock = Arc::new(FixedClock::new(t0()));
    let app = state(db, clock.clone(), "host-a");
    let rt = app.runtime.clone();
    mentors(&app, 35);
    let held = dead_run(&rt, &app, 1);
    clock.set(t0() + TimeDelta::seconds(10));
    rt.tick();
    let deadline = Instant::now() + Duration::from_secs(20);
    while rt.runs.batch_results(&held.id).unwrap().len() < 4 {
        assert!(Instant::now() < deadline, "the helper never finished");
        std::thread::sleep(Duration::from_millis(20));
    }
    let helped = rt.runs.get_run(&held.id).unwrap().unwrap();
    assert_eq!(helped.status, RunStatus::Running, "the holder ends it");
    assert_eq!(helped.lease_owner.as_deref(), Some("host-gone"));
    assert_eq!(helped.users_evaluated, 35);

    clock.set(t0() + TimeDelta::seconds(31));
    rt.tick();
    let run = settle_run(&rt, &held.id);
    assert_eq!(run.status, RunStatus::Success, "{:?}", run.error_message);
    assert_eq!(
        (run.users_evaluated, run.notifications_dispatched),
        (35, 35)
    );
    assert_eq!(rt.runs.batch_results(&held.id).unwrap().len(), 4);
}

async fn a_run_that_died_while_planning_is_planned_again(db: &TestDb) {
    let clock = Arc::new(FixedClock::new(t0()));
    let app = state(db, clock.clone(), "host-a");
    let rt = app.runtime.clone();
    mentors(&app, 12);
    let run = dead_run_row(&rt, 5);
    // Half a plan, never completed.
    let partial = PlannedBatch {
        batch_index: 0,
        first_user_id: "usr_000".into(),
        last_user_id: "usr_008".into(),
        user_count: 9,
    };
    rt.runs.insert_plan(&run.id, None, &[partial]).unwrap();
    clock.set(t0() + TimeDelta::minutes(1));
    rt.tick();
    let run = settle_run(&rt, "run_dead");
    assert_eq!(run.status, RunStatus::Success, "{:?}", run.error_message);
    assert_eq!(run.planned_batches, Some(3));
    let sizes: Vec<i64> = rt
        .runs
        .batch_results("run_dead")
        .unwrap()
        .iter()
        .map(|b| b.user_count)
        .collect();
    assert_eq!(sizes, [5, 5, 2]);
}

async fn an_external_run_without_batches_for_an_hour_is_abandoned(db: &TestDb) {
    let clock = Arc::new(FixedClock::new(t0()));
    let app = state(db, clock.clone(), "host-a");
    let rt = app.runtime.clone();
    mentors(&app, 1);
    let run = rt
        .start_invocation(InvocationRequest {
            external: true,
            ..InvocationRequest::default()
        })
        .unwrap();
    clock.set(t0() + TimeDelta::minutes(50));
    rt.evaluation_batch(&run.id, vec!["usr_000".into()])
        .unwrap();
    clock.set(t0() + TimeDelta::minutes(100));
    rt.tick();
    assert_eq!(
        rt.runs.get_run(&run.id).unwrap().unwrap().status,
        RunStatus::Running,
        "a batch came 50 minutes ago"
    );
    clock.set(t0() + TimeDelta::minutes(111));
    rt.tick();
    let run = rt.runs.get_run(&run.id).unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(
        run.error_message.as_deref(),
        Some("abandoned: no batch received")
    );
    assert_eq!(run.users_evaluated, 1, "its batch stays");
}

/// `params.evaluation_timezone` (docs/scheduling.md) overrides the service's
/// zone (UTC here) for a job's runs: at 10:00 UTC on 26 March it is already
/// 27 March in Kiritimati (UTC+14), so the inactivity dedupe keys carry
/// that date. A zone that does not exist fails the run with its reason.
async fn a_job_evaluates_in_its_own_time_zone(db: &TestDb) {
    let clock = Arc::new(FixedClock::new(t0()));
    let app = state(db, clock.clone(), "host-a");
    let rt = app.runtime.clone();
    mentors(&app, 12);
    let job_with = |name: &str, zone: &str| {
        let params = serde_json::json!({"evaluation_timezone": zone, "batch_size": 5});
        create_with(&rt, name, "0 2 * * *", "scenario_evaluation", Some(params))
    };

    // A zone that does not exist is refused when the job is created...
    let mars = serde_json::json!({"evaluation_timezone": "Mars/Olympus_Mons"});
    let refused = rt.jobs.create(
        new_job(
            "nowhere-check",
            "0 2 * * *",
            "scenario_evaluation",
            Some(mars),
        ),
        rt.next_id("job"),
        rt.now(),
    );
    let Err(JobError::InvalidParams(refused)) = refused else {
        panic!("{refused:?}");
    };
    assert_eq!(refused.field, "params.evaluation_timezone");
    assert!(refused.problem.contains("Mars/Olympus_Mons"), "{refused}");
    // ...and a job stored with one before that check existed fails its run.
    let mut unknown = job_with("nowhere-check", "UTC");
    unknown.params.insert(
        "evaluation_timezone".into(),
        serde_json::json!("Mars/Olympus_Mons"),
    );
    assert!(rt.jobs.repo().update(&unknown).unwrap());
    let run = rt.trigger(&unknown, TriggerRequest::default()).unwrap();
    let run = settle_run(&rt, &run.id);
    assert_eq!(run.status, RunStatus::Failed);
    let message = run.error_message.unwrap_or_default();
    assert!(
        message.contains("evaluation_timezone") && message.contains("Mars/Olympus_Mons"),
        "{message}"
    );
    assert_eq!(run.users_evaluated, 0, "nothing was evaluated");

    let kiritimati = job_with("kiritimati-check", "Pacific/Kiritimati");
    let run = rt.trigger(&kiritimati, TriggerRequest::default()).unwrap();
    let run = settle_run(&rt, &run.id);
    assert_eq!(run.status, RunStatus::Success, "{:?}", run.error_message);
    assert_eq!(
        (run.users_evaluated, run.notifications_dispatched),
        (12, 12)
    );
    let filter = NotificationFilter {
        run_id: Some(run.id.clone()),
        ..NotificationFilter::default()
    };
    let sent = app
        .runtime
        .notifications
        .list(
            &filter,
            PageRequest {
                page: 1,
                limit: 100,
            },
        )
        .unwrap();
    assert_eq!(sent.rows.len(), 12);
    for n in &sent.rows {
        assert_eq!(n.dedupe_key, format!("inactivity:{}:2026-03-27", n.user_id));
    }
}

/// The certification jobs read `params.evaluation_timezone` too: a
/// certification expiring at 05:00 UTC on 27 March is one calendar day
/// away at 10:00 UTC on 26 March, and zero days away in Kiritimati
/// (UTC+14), where both instants fall on 27 March.
async fn the_certification_jobs_count_days_in_their_own_time_zone(db: &TestDb) {
    let clock = Arc::new(FixedClock::new(t0()));
    let app = state(db, clock.clone(), "host-a");
    let rt = app.runtime.clone();
    mentors(&app, 1);
    let expires_at = Utc.with_ymd_and_hms(2026, 3, 27, 5, 0, 0).unwrap();
    app.mentors
        .put_certification(
            "usr_000",
            Certification {
                certification_id: "cert_safeguarding".into(),
                name: "Safeguarding".into(),
                issued_at: None,
                expires_at,
                required: true,
            },
        )
        .unwrap();
    let report = |name: &str, zone: Option<&str>| {
        let params = zone.map(|z| serde_json::json!({"evaluation_timezone": z}));
        let job = create_with(&rt, name, "0 7 * * 1", "weekly_expiry_report", params);
        let run = rt.trigger(&job, TriggerRequest::default()).unwrap();
        let run = settle_run(&rt, &run.id);
        assert_eq!(run.status, RunStatus::Success, "{:?}", run.error_message);
        run.result_summary.unwrap()
    };
    let utc = report("report-utc", None);
    assert_eq!(utc["timezone"], "UTC");
    assert_eq!(
        utc["organisations"][0]["certifications"][0]["days_until_expiry"],
        1
    );
    let kiritimati = report("report-kiritimati", Some("Pacific/Kiritimati"));
    assert_eq!(kiritimati["timezone"], "Pacific/Kiritimati");
    assert_eq!(
        kiritimati["organisations"][0]["certifications"][0]["days_until_expiry"],
        0
    );

    // The nightly check decides under the job's zone as well.
    let job = create_with(
        &rt,
        "expiry-kiritimati",
        "0 2 * * *",
        "certification_expiry_check",
        Some(serde_json::json!({"evaluation_timezone": "Pacific/Kiritimati"})),
    );
    let run = rt.trigger(&job, TriggerRequest::default()).unwrap();
    let run = settle_run(&rt, &run.id);
    assert_eq!(run.status, RunStatus::Success, "{:?}", run.error_message);
    let filter = EvaluationFilter {
        run_id: Some(run.id.clone()),
        ..EvaluationFilter::default()
    };
    let recorded = app
        .evaluations
        .list(&filter, PageRequest { page: 1, limit: 10 })
        .unwrap();
    let days: Vec<_> = recorded
        .rows
        .iter()
        .map(|e| e.evaluation_metadata.to_value()["days_until_expiry"].clone())
        .collect();
    assert_eq!(days, [serde_json::json!(0)], "{recorded:?}");
}

/// A runtime of `threads` run threads over `db`, whose scenario runs read
/// and write their batches through `batches` when given.
fn pooled(
    db: &TestDb,
    clock: Arc<dyn Clock>,
    owner: &str,
    threads: usize,
    batches: Option<Arc<dyn BatchRepository>>,
) -> (Arc<Runtime>, Arc<Store>) {
    let store = Arc::new(Store::open(db.url(), 8).unwrap());
    let ports = Ports::of(store.clone());
    let ports = Ports {
        batches: batches.unwrap_or_else(|| ports.batches.clone()),
        ..ports
    };
    let runtime = Arc::new(Runtime::new(RuntimeConfig {
        clock,
        owner: owner.into(),
        run_threads: threads,
        built_in_retention: false,
        ..RuntimeConfig::new(ports)
    }));
    (runtime, store)
}

/// A batch store whose first page of active ids waits until the test
/// opens the gate: a scenario run that keeps its run thread busy for as
/// long as the test likes. `entered` says the run is there.
struct Gate {
    store: Arc<Store>,
    entered: std::sync::Mutex<std::sync::mpsc::Sender<()>>,
    open: std::sync::Mutex<Option<std::sync::mpsc::Receiver<()>>>,
}

impl Gate {
    /// The gate over `store`, the sender that opens it, and the receiver
    /// that hears a run arrive.
    fn new(
        store: Arc<Store>,
    ) -> (
        Arc<Self>,
        std::sync::mpsc::Sender<()>,
        std::sync::mpsc::Receiver<()>,
    ) {
        let (entered_tx, entered_rx) = std::sync::mpsc::channel();
        let (open_tx, open_rx) = std::sync::mpsc::channel();
        let gate = Arc::new(Self {
            store,
            entered: std::sync::Mutex::new(entered_tx),
            open: std::sync::Mutex::new(Some(open_rx)),
        });
        (gate, open_tx, entered_rx)
    }
}

impl BatchRepository for Gate {
    fn load_subjects(&self, user_ids: &[String]) -> Result<Vec<Subject>, BatchStoreError> {
        self.store.load_subjects(user_ids)
    }

    fn record_batch(&self, batch: &BatchWrite) -> Result<BatchOutcome, BatchStoreError> {
        self.store.record_batch(batch)
    }

    fn record_batches(&self, batches: &[BatchWrite]) -> Result<Vec<BatchOutcome>, BatchStoreError> {
        self.store.record_batches(batches)
    }

    fn active_user_ids_after(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>, BatchStoreError> {
        let waiting = self.open.lock().unwrap().take();
        if let Some(open) = waiting {
            self.entered.lock().unwrap().send(()).unwrap();
            open.recv().unwrap();
        }
        self.store.active_user_ids_after(after, limit)
    }

    fn active_user_ids_between(
        &self,
        first: &str,
        last: &str,
    ) -> Result<Vec<String>, BatchStoreError> {
        self.store.active_user_ids_between(first, last)
    }
}

/// Waits (real time, with a deadline) until the run is no longer running.
fn settle_id(rt: &Runtime, id: &str) -> Run {
    settle_run(rt, id)
}

async fn more_runs_than_run_threads_all_complete(db: &TestDb) {
    let clock = Arc::new(FixedClock::new(t0()));
    let (rt, _) = pooled(db, clock.clone(), "host-a", 2, None);
    // Six jobs due at the same minute, and three more triggered by hand:
    // nine runs on two threads.
    let due: Vec<Job> = (0..6)
        .map(|i| {
            create(
                &rt,
                &format!("minutely {i}"),
                "* * * * *",
                "pause_auto_lift",
            )
        })
        .collect();
    let manual: Vec<Job> = (0..3)
        .map(|i| {
            create(
                &rt,
                &format!("nightly {i}"),
                "0 2 * * *",
                "weekly_expiry_report",
            )
        })
        .collect();
    clock.set(t0() + TimeDelta::minutes(1));
    rt.tick();
    let triggered: Vec<Run> = manual
        .iter()
        .map(|job| rt.trigger(job, TriggerRequest::default()).unwrap())
        .collect();
    assert!(triggered.iter().all(|r| r.status == RunStatus::Running));
    for job in &due {
        let runs = settle(&rt, job);
        assert_eq!(runs.len(), 1, "{runs:?}");
        assert_eq!(runs[0].status, RunStatus::Success, "{:?}", runs[0]);
        assert_eq!(
            rt.jobs.get(&job.id).unwrap().last_run_status.as_deref(),
            Some("success")
        );
    }
    for run in &triggered {
        let run = settle_id(&rt, &run.id);
        assert_eq!(run.status, RunStatus::Success, "{:?}", run.error_message);
    }
}

/// A run triggered while every run thread is busy is claimed at once
/// (`running`, its lock taken) and waits its turn. Its lease is renewed
/// while it waits (here by its own instance's tick; a keeper thread does
/// it every third of the lease as well), so another instance's reaper does
/// not take it for abandoned.
async fn a_run_waiting_for_a_thread_is_running_and_no_instance_takes_it_over(db: &TestDb) {
    let clock = Arc::new(FixedClock::new(t0()));
    let store = Arc::new(Store::open(db.url(), 8).unwrap());
    let (gate, open, entered) = Gate::new(store);
    let (a, _) = pooled(db, clock.clone(), "host-a", 1, Some(gate));
    let (b, _) = pooled(db, clock.clone(), "host-b", 1, None);
    for i in 0..3 {
        a.mentors
            .upsert(
                &format!("usr_{i:03}"),
                MentorUpsert {
                    org_id: Some("org_oslo_01".into()),
                    ..MentorUpsert::default()
                },
            )
            .unwrap();
    }
    // The scenario run holds the only run thread.
    let busy = a.start_invocation(InvocationRequest::default()).unwrap();
    entered
        .recv_timeout(Duration::from_secs(10))
        .expect("the scenario run reached the gate");
    let job = create(&a, "nightly", "0 2 * * *", "pause_auto_lift");
    let waiting = a.trigger(&job, TriggerRequest::default()).unwrap();
    let stored = a.runs.get_run(&waiting.id).unwrap().unwrap();
    assert_eq!(stored.status, RunStatus::Running);
    assert!(
        matches!(
            a.trigger(&job, TriggerRequest::default()),
            Err(runtime::RuntimeError::LockHeld { .. })
        ),
        "a waiting run holds its job's lock"
    );

    // Past the lease the run was claimed with. The busy run's thread is
    // stuck at the gate: renew its lease as its heartbeat would.
    let now = t0() + TimeDelta::seconds(31);
    clock.set(now);
    a.runs
        .renew_lease(&busy.id, "host-a", 0, now + TimeDelta::seconds(30))
        .unwrap();
    a.tick();
    b.tick();
    let stored = a.runs.get_run(&waiting.id).unwrap().unwrap();
    assert_eq!(stored.status, RunStatus::Running);
    assert_eq!(
        stored.lease_owner.as_deref(),
        Some("host-a"),
        "not taken over"
    );
    assert!(stored.lease_expires_at.unwrap() > now, "{stored:?}");

    open.send(()).unwrap();
    let busy = settle_id(&a, &busy.id);
    assert_eq!(busy.status, RunStatus::Success, "{:?}", busy.error_message);
    assert_eq!(busy.users_evaluated, 3);
    let waited = settle_id(&a, &waiting.id);
    assert_eq!(
        waited.status,
        RunStatus::Success,
        "{:?}",
        waited.error_message
    );
}

/// Fencing: instance A stalls in its scenario run (at the gate) past its
/// lease, and another instance takes the run over (one epoch up). When A
/// wakes, its writes under the old epoch are refused: no plan, no batch,
/// no end; the run stays running, the taker's.
async fn a_process_whose_run_was_taken_over_writes_nothing_more_to_it(db: &TestDb) {
    let clock = Arc::new(FixedClock::new(t0()));
    let store = Arc::new(Store::open(db.url(), 8).unwrap());
    let (gate, open, entered) = Gate::new(store.clone());
    let (a, _) = pooled(db, clock.clone(), "host-a", 1, Some(gate));
    for i in 0..3 {
        a.mentors
            .upsert(
                &format!("usr_{i:03}"),
                MentorUpsert {
                    org_id: Some("org_oslo_01".into()),
                    ..MentorUpsert::default()
                },
            )
            .unwrap();
    }
    let stalled = a.start_invocation(InvocationRequest::default()).unwrap();
    entered
        .recv_timeout(Duration::from_secs(10))
        .expect("the scenario run reached the gate");

    let now = t0() + TimeDelta::seconds(31);
    clock.set(now);
    assert_eq!(
        store
            .take_over_lease(&stalled.id, "host-b", now, now + TimeDelta::seconds(30))
            .unwrap(),
        Some(1)
    );

    // A wakes up; a run of A's queued behind the stalled one tells when
    // A's only run thread is past it.
    open.send(()).unwrap();
    let job = create(&a, "lift", "0 6 * * *", "pause_auto_lift");
    let after = a.trigger(&job, TriggerRequest::default()).unwrap();
    assert_eq!(settle_id(&a, &after.id).status, RunStatus::Success);

    let stored = a.runs.get_run(&stalled.id).unwrap().unwrap();
    assert_eq!(stored.status, RunStatus::Running, "A did not end it");
    assert_eq!(stored.lease_owner.as_deref(), Some("host-b"));
    assert_eq!(stored.lease_epoch, 1);
    assert_eq!(stored.users_evaluated, 0, "A added no batch: {stored:?}");
    assert_eq!(stored.planned_batches, None, "A completed no plan");
    assert!(a.runs.batch_results(&stalled.id).unwrap().is_empty());
    assert!(
        a.runs
            .unfinished_batches(&stalled.id, None, 10)
            .unwrap()
            .is_empty(),
        "A planned nothing"
    );
}

/// Drain: instance A drains while its scenario run is in progress (here
/// held at the gate) and while another run waits for its only thread. The
/// run stops before its next batch, and both leases are released, so that
/// B takes both over at its next tick, with the clock not moved on: no
/// waiting for a lease to lapse. A run triggered on A while it drains is
/// released at once too, and A's scheduler fires nothing.
async fn a_draining_process_hands_its_runs_over_at_once(db: &TestDb) {
    let clock = Arc::new(FixedClock::new(t0()));
    let store = Arc::new(Store::open(db.url(), 8).unwrap());
    let (gate, open, entered) = Gate::new(store);
    let (a, _) = pooled(db, clock.clone(), "host-a", 1, Some(gate));
    let (b, _) = pooled(db, clock.clone(), "host-b", 1, None);
    for i in 0..3 {
        a.mentors
            .upsert(
                &format!("usr_{i:03}"),
                MentorUpsert {
                    org_id: Some("org_oslo_01".into()),
                    ..MentorUpsert::default()
                },
            )
            .unwrap();
    }
    let busy = a.start_invocation(InvocationRequest::default()).unwrap();
    entered
        .recv_timeout(Duration::from_secs(10))
        .expect("the scenario run reached the gate");
    let job = create(&a, "lift", "0 6 * * *", "pause_auto_lift");
    let waiting = a.trigger(&job, TriggerRequest::default()).unwrap();

    a.drain();
    assert!(a.is_draining());
    open.send(()).unwrap();
    assert!(
        a.wait_idle(Duration::from_secs(20)),
        "A's run threads stopped"
    );
    for id in [&busy.id, &waiting.id] {
        let stored = a.runs.get_run(id).unwrap().unwrap();
        assert_eq!(stored.status, RunStatus::Running, "{stored:?}");
        assert_eq!(stored.lease_expires_at, Some(t0()), "released: {stored:?}");
    }
    assert!(a.runs.batch_results(&busy.id).unwrap().is_empty());
    // A run claimed on A while it drains is released at once as well.
    let late = a
        .trigger(
            &create(&a, "lift-2", "0 6 * * *", "pause_auto_lift"),
            TriggerRequest::default(),
        )
        .unwrap();
    assert_eq!(
        a.runs.get_run(&late.id).unwrap().unwrap().lease_expires_at,
        Some(t0())
    );

    b.tick();
    for id in [&busy.id, &waiting.id, &late.id] {
        let run = settle_id(&b, id);
        assert_eq!(run.status, RunStatus::Success, "{:?}", run.error_message);
        assert_eq!(run.lease_epoch, 1, "taken over by B: {run:?}");
    }
    assert_eq!(
        b.runs.get_run(&busy.id).unwrap().unwrap().users_evaluated,
        3
    );
}

async fn a_run_cancelled_while_it_waits_ends_cancelled_on_its_job_too(db: &TestDb) {
    let clock = Arc::new(FixedClock::new(t0()));
    let store = Arc::new(Store::open(db.url(), 8).unwrap());
    let (gate, open, entered) = Gate::new(store);
    let (rt, _) = pooled(db, clock.clone(), "host-a", 1, Some(gate));
    let busy = rt.start_invocation(InvocationRequest::default()).unwrap();
    entered
        .recv_timeout(Duration::from_secs(10))
        .expect("the scenario run reached the gate");
    let job = create(&rt, "nightly", "0 2 * * *", "pause_auto_lift");
    let waiting = rt.trigger(&job, TriggerRequest::default()).unwrap();
    rt.cancel_run(&waiting.id).unwrap();
    open.send(()).unwrap();
    settle_id(&rt, &busy.id);
    // The pool reads the run before starting it, and records its end on
    // the job instead.
    let deadline = Instant::now() + Duration::from_secs(10);
    while rt.jobs.get(&job.id).unwrap().last_run_status.is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        rt.jobs.get(&job.id).unwrap().last_run_status.as_deref(),
        Some("cancelled")
    );
    let stored = rt.runs.get_run(&waiting.id).unwrap().unwrap();
    assert_eq!(stored.status, RunStatus::Cancelled);
    assert_eq!(stored.result_summary, None, "the handler never ran");
}

/// With run ports of their own (a second pool over the same database, as
/// the service has), runs and ticks go on while every connection of the
/// callers' pool is held, and callers go on while every connection of the
/// runs' pool is held. A call on the wrong side would wait for a
/// connection and fail after the pool's 10 s.
async fn runs_and_callers_never_wait_for_each_others_connections(db: &TestDb) {
    let clock = Arc::new(FixedClock::new(t0()));
    let callers = Arc::new(Store::open(db.url(), 1).unwrap());
    let runs = Arc::new(callers.with_own_pool(4).unwrap());
    let rt = Arc::new(Runtime::new(RuntimeConfig {
        clock: clock.clone(),
        owner: "host-a".into(),
        built_in_retention: false,
        run_ports: Some(Ports::of(runs.clone())),
        ..RuntimeConfig::new(Ports::of(callers.clone()))
    }));
    let manual = create(&rt, "nightly", "0 2 * * *", "pause_auto_lift");
    let minutely = create(&rt, "minutely", "* * * * *", "pause_auto_lift");
    let triggered = rt.trigger(&manual, TriggerRequest::default()).unwrap();

    let held = callers.conn().unwrap();
    let finished = |id: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let run = runs.get_run(id).unwrap().unwrap();
            if run.status != RunStatus::Running || Instant::now() > deadline {
                return run;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    assert_eq!(finished(&triggered.id).status, RunStatus::Success);
    clock.set(t0() + TimeDelta::minutes(1));
    rt.tick();
    let filter = RunFilter {
        job_id: Some(minutely.id.clone()),
        ..RunFilter::default()
    };
    let (fired, _) = runs.list_runs(&filter, 0, 10).unwrap();
    assert_eq!(fired.len(), 1, "the tick fired the due job: {fired:?}");
    assert_eq!(finished(&fired[0].id).status, RunStatus::Success);
    let deadline = Instant::now() + Duration::from_secs(10);
    while scheduler_core::JobRepository::get(&*runs, &manual.id)
        .unwrap()
        .unwrap()
        .last_run_status
        .is_none()
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    let recorded = scheduler_core::JobRepository::get(&*runs, &manual.id)
        .unwrap()
        .unwrap();
    assert_eq!(recorded.last_run_status.as_deref(), Some("success"));
    drop(held);

    let held: Vec<_> = (0..4).map(|_| runs.conn().unwrap()).collect();
    assert_eq!(rt.jobs.get(&manual.id).unwrap().id, manual.id);
    rt.mentors
        .upsert(
            "usr_000",
            MentorUpsert {
                org_id: Some("org_oslo_01".into()),
                ..MentorUpsert::default()
            },
        )
        .unwrap();
    assert_eq!(runs_of(&rt, &manual).len(), 1);
    drop(held);
}

/// An instance over `db` that deletes `chunk` rows per retention
/// transaction and starts the built-in retention as the service does.
fn retaining(db: &TestDb, clock: Arc<dyn Clock>, owner: &str, chunk: u32) -> App {
    let store = Store::open(db.url(), 8).unwrap();
    let runtime = Arc::new(Runtime::new(RuntimeConfig {
        clock,
        owner: owner.into(),
        retention_chunk: chunk,
        ..RuntimeConfig::new(Ports::of(Arc::new(store.clone())))
    }));
    App {
        mentors: runtime.mentors.clone(),
        evaluations: runtime.evaluations.clone(),
        runtime,
        store,
    }
}

/// Five mentors, inactive for 30 days at `at`: each with an activity
/// event recorded then and an inactivity reminder enqueued then; all
/// delivered but one, and a sixth left pending.
async fn history_at(app: &App, clock: &FixedClock, at: DateTime<Utc>) {
    clock.set(at);
    for i in 0..6 {
        let id = format!("usr_{i:03}");
        app.mentors
            .upsert(
                &id,
                MentorUpsert {
                    org_id: Some("org_oslo_01".into()),
                    ..MentorUpsert::default()
                },
            )
            .unwrap();
        let login = scenario_engine::service::ActivityEvent {
            event_id: Some(format!("ev_{i}")),
            kind: "login".into(),
            occurred_at: at - TimeDelta::days(30),
        };
        app.mentors.record_activity(&id, login).unwrap();
        if i == 5 {
            // Delivered first, then this one is enqueued and stays pending.
            app.runtime.delivery.step().await.unwrap();
        }
        app.evaluations
            .evaluate(scenario_engine::service::EvaluateRequest {
                user_id: id,
                scenario: scenario_engine::rules::Scenario::inactivity(Some(7)).unwrap(),
                dry_run: false,
                run_id: None,
            })
            .unwrap();
    }
}

fn notifications_by_status(
    app: &App,
) -> Vec<(String, scenario_engine::service::NotificationStatus)> {
    let page = PageRequest {
        page: 1,
        limit: 100,
    };
    let mut rows: Vec<_> = app
        .runtime
        .notifications
        .list(&NotificationFilter::default(), page)
        .unwrap()
        .rows
        .into_iter()
        .map(|n| (n.user_id, n.status))
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

/// Everything that grows goes once older than the retention, in chunks of
/// two rows here: more rows than one chunk are all pruned. Pending
/// notifications and mentors stay.
async fn retention_prunes_every_table_that_grows_past_one_chunk_and_reports_each(db: &TestDb) {
    let clock = Arc::new(FixedClock::new(t0()));
    let app = retaining(db, clock.clone(), "host-a", 2);
    let rt = app.runtime.clone();
    let old = t0() - TimeDelta::days(200);
    history_at(&app, &clock, old).await;
    let report = create(&rt, "weekly report", "0 7 * * 1", "weekly_expiry_report");
    let old_run = rt.trigger(&report, TriggerRequest::default()).unwrap();
    assert_eq!(settle_run(&rt, &old_run.id).status, RunStatus::Success);

    clock.set(t0());
    let retention = create_with(
        &rt,
        "retention",
        "0 3 * * *",
        "run_log_retention",
        Some(serde_json::json!({"retention_days": 100})),
    );
    let run = rt.trigger(&retention, TriggerRequest::default()).unwrap();
    let run = settle_run(&rt, &run.id);
    assert_eq!(run.status, RunStatus::Success, "{:?}", run.error_message);
    let summary = run.result_summary.unwrap();
    assert_eq!(summary["retention_days"], 100);
    assert_eq!(summary["cutoff"], "2025-12-16T10:00:00Z");
    assert_eq!(summary["notifications_cutoff"], "2025-12-16T10:00:00Z");
    assert_eq!(summary["runs_pruned"], 1);
    assert_eq!(summary["evaluations_pruned"], 6);
    assert_eq!(summary["notifications_pruned"], 5);
    assert_eq!(summary["activity_events_pruned"], 6);
    assert_eq!(summary["idempotency_keys_pruned"], 0);
    assert_eq!(summary["dry_run"], false);

    assert!(rt.runs.get_run(&old_run.id).unwrap().is_none());
    assert_eq!(
        notifications_by_status(&app),
        [(
            "usr_005".to_owned(),
            scenario_engine::service::NotificationStatus::Pending
        )],
        "a pending notification stays"
    );
    let page = PageRequest {
        page: 1,
        limit: 100,
    };
    let left = app
        .evaluations
        .list(&EvaluationFilter::default(), page)
        .unwrap();
    assert_eq!(left.total, 0);
    assert!(app.mentors.get("usr_000").is_ok(), "mentors stay");
}

/// A delivered notification counts for the cooldown: with a retention of
/// one day and the default cooldown of three, a notification delivered
/// two days ago stays, and the reason is in the summary.
async fn retention_keeps_the_notifications_the_cooldown_still_reads(db: &TestDb) {
    let clock = Arc::new(FixedClock::new(t0()));
    let app = retaining(db, clock.clone(), "host-a", 2);
    let rt = app.runtime.clone();
    history_at(&app, &clock, t0() - TimeDelta::days(2)).await;
    clock.set(t0());
    let retention = create_with(
        &rt,
        "retention",
        "0 3 * * *",
        "run_log_retention",
        Some(serde_json::json!({"retention_days": 1})),
    );
    let run = rt.trigger(&retention, TriggerRequest::default()).unwrap();
    let run = settle_run(&rt, &run.id);
    assert_eq!(run.status, RunStatus::Success, "{:?}", run.error_message);
    let summary = run.result_summary.unwrap();
    assert_eq!(summary["cutoff"], "2026-03-25T10:00:00Z");
    assert_eq!(summary["notifications_cutoff"], "2026-03-23T10:00:00Z");
    assert_eq!(summary["notifications_pruned"], 0);
    assert_eq!(summary["evaluations_pruned"], 6);
    assert_eq!(notifications_by_status(&app).len(), 6);
}

/// The retention job's cadence is a setting, not the only switch: once
/// it is deleted (or disabled), the scheduler loop starts a retention run
/// of its own, without a job, once a day.
async fn without_an_enabled_retention_job_the_scheduler_prunes_daily_by_itself(db: &TestDb) {
    let clock = Arc::new(FixedClock::new(t0()));
    let app = retaining(db, clock.clone(), "host-a", 1000);
    let rt = app.runtime.clone();
    let b = retaining(db, clock.clone(), "host-b", 1000).runtime;
    assert!(rt.seed_default_jobs().unwrap());
    let built_in = || {
        let filter = RunFilter {
            kind: Some("run_log_retention".into()),
            ..RunFilter::default()
        };
        let (mut runs, _) = rt.runs.list_runs(&filter, 0, 10).unwrap();
        runs.reverse();
        runs
    };
    rt.tick();
    assert!(built_in().is_empty(), "the default job prunes");

    let job = rt.jobs.get_by_name("run-log-retention").unwrap();
    rt.jobs.delete(&job.id).unwrap();
    // The scheduler looks again within ten minutes.
    clock.set(t0() + TimeDelta::minutes(10));
    rt.tick();
    // Another instance ticking at the same moment starts none: one ran.
    b.tick();
    let runs = built_in();
    assert_eq!(runs.len(), 1, "{runs:?}");
    let first = settle_run(&rt, &runs[0].id);
    assert_eq!(
        first.status,
        RunStatus::Success,
        "{:?}",
        first.error_message
    );
    assert_eq!(first.job_id, None);
    assert_eq!(first.trigger, Trigger::Schedule);
    let summary = first.result_summary.unwrap();
    assert_eq!(summary["retention_days"], 180);
    assert_eq!(summary["notifications_pruned"], 0);

    // Not again the same day...
    clock.set(t0() + TimeDelta::hours(12));
    rt.tick();
    assert_eq!(built_in().len(), 1);
    // ...but the next.
    clock.set(t0() + TimeDelta::days(1) + TimeDelta::minutes(20));
    rt.tick();
    let runs = built_in();
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert_eq!(settle_run(&rt, &runs[1].id).status, RunStatus::Success);
}
