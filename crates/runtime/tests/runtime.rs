//! The job runtime, on SQLite and PostgreSQL: the scheduler
//! loop firing a per-second job in real time, the misfire plan after a
//! downtime, skips while the lock is held, abandoned runs, and two
//! instances ticking together.

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
    a_run_whose_lease_expired_is_failed_as_abandoned,
    two_instances_ticking_together_fire_each_instant_once,
    a_disabled_job_never_fires_but_can_be_triggered,
    the_reminder_job_evaluates_every_active_mentor_in_batches,
    a_cancelled_run_stops_between_batches,
    a_run_whose_process_died_is_resumed_at_its_first_unfinished_batch,
    a_run_that_died_while_planning_is_planned_again,
    an_external_run_without_batches_for_an_hour_is_abandoned,
    a_job_evaluates_in_its_own_time_zone,
    the_certification_jobs_count_days_in_their_own_time_zone,
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

fn state(db: &TestDb, clock: Arc<dyn Clock>, owner: &str) -> App {
    let store = Store::open(db.url(), 4).unwrap();
    let runtime = Arc::new(Runtime::new(RuntimeConfig {
        clock,
        owner: owner.into(),
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

async fn a_run_whose_lease_expired_is_failed_as_abandoned(db: &TestDb) {
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
    assert_eq!(
        rt.runs.get_run("run_dead").unwrap().unwrap().status,
        RunStatus::Running
    );
    clock.set(t0() + TimeDelta::seconds(31));
    rt.tick();
    let run = rt.runs.get_run("run_dead").unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(
        run.error_message.as_deref(),
        Some("abandoned: lease expired")
    );
    // The lock is free again.
    let next = rt.trigger(&job, TriggerRequest::default()).unwrap();
    settle(&rt, &job);
    assert_eq!(
        rt.runs.get_run(&next.id).unwrap().unwrap().status,
        RunStatus::Success
    );
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
        if self.group_end.lock().unwrap().is_some() {
            self.late
                .fetch_add(batches.len(), std::sync::atomic::Ordering::SeqCst);
        }
        let outcomes = self.store.record_batches(batches)?;
        if batches.iter().any(|b| b.batch_index == self.cancel_after) {
            self.cancel(&batches[0].run_id);
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

/// A runtime over `store` whose batches go through `batches`.
fn runtime_with(
    store: Arc<Store>,
    batches: Arc<dyn BatchRepository>,
    clock: Arc<dyn Clock>,
) -> Arc<Runtime> {
    Arc::new(Runtime::new(RuntimeConfig {
        clock,
        owner: "host-a".into(),
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
    let batches = Arc::new(CancelAfter {
        store: store.clone(),
        cancel_after: 1,
        clock: clock.clone(),
        group_end: std::sync::Mutex::new(None),
        late: std::sync::atomic::AtomicUsize::new(0),
    });
    let rt = runtime_with(store, batches.clone(), clock);
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
    rt.runs.insert_plan(&run.id, &plan).unwrap();
    rt.runs.complete_plan(&run.id, 4).unwrap();
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
    assert_eq!(
        rt.runs.batch_results("run_dead").unwrap().len(),
        2,
        "not yet"
    );
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
    rt.runs.insert_plan(&run.id, &[partial]).unwrap();
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
        .map(|e| e.evaluation_metadata["days_until_expiry"].clone())
        .collect();
    assert_eq!(days, [serde_json::json!(0)], "{recorded:?}");
}
