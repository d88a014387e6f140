//! The job runtime: manual triggers, the handler executor, and the
//! scheduler tick that fires due jobs (SPEC sections 5 and 15).
//!
//! Every rule it applies comes from the pure crates: cron instants and the
//! misfire plan from `scheduler-core`, the run state machine from `run-log`,
//! what the certification jobs decide from `cert-expiry`. This module only
//! sequences them, owns the threads, and turns outcomes into run records.
//!
//! Concurrency lives in the database: claiming a run is inserting it, and two
//! unique indexes make that atomic across instances (one running run per lock
//! key; one run per job and scheduled instant).

use std::sync::Arc;
use std::time::Duration;

use cert_expiry::{ExpiryJobs, JobError as ExpiryError, RunContext};
use chrono::{DateTime, TimeDelta, Utc};
use run_log::{Run, RunFilter, RunRepository, RunStatus, StoreError, Transition, Trigger};
use scenario_engine::{BatchEvaluator, BatchRequest, Clock, EvaluationRepository, IdSource};
use scheduler_core::{Handler, Job, JobError, JobName, JobService, Schedule, plan_firing};
use serde_json::{Map, Value, json};

/// The lock all non-external scenario-evaluation runs share (SPEC section 15).
pub const SCENARIO_LOCK: &str = "scenario_evaluation";

/// The marker row of the default jobs.
pub const DEFAULT_JOBS_MARKER: &str = "default_jobs_seeded";

/// The default jobs (SPEC sections 5 and 15): name, expression, handler.
pub const DEFAULT_JOBS: [(&str, &str, Handler); 4] = [
    (
        "certification-expiry-nightly",
        "0 2 * * *",
        Handler::CertificationExpiryCheck,
    ),
    ("pause-auto-lift-check", "0 6 * * *", Handler::PauseAutoLift),
    ("run-log-retention", "0 3 * * *", Handler::RunLogRetention),
    (
        "daily-reminder-check",
        "0 8 * * *",
        Handler::ScenarioEvaluation,
    ),
];

/// The lock a job's runs take.
pub fn lock_key(job: &Job) -> String {
    if job.handler == Handler::ScenarioEvaluation {
        SCENARIO_LOCK.to_owned()
    } else {
        job.id.clone()
    }
}

/// Lease and retention settings.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// This process's name in leases.
    pub owner: String,
    /// How long a lease lasts without renewal (default 30 s).
    pub lease_ttl: TimeDelta,
    /// Days of runs and evaluations the retention job keeps (default 180).
    pub retention_days: i64,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            owner: format!("{}-{}", hostname(), std::process::id()),
            lease_ttl: scheduler_core::DEFAULT_LEASE_TTL,
            retention_days: run_log::DEFAULT_RETENTION_DAYS,
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "instance".to_owned())
}

/// Why a runtime operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// A job operation failed.
    #[error(transparent)]
    Job(#[from] JobError),
    /// The job's lock is held by a running run.
    #[error("job `{job_id}` is already running (run `{run_id}`)")]
    LockHeld {
        /// The job.
        job_id: String,
        /// The run holding the lock.
        run_id: String,
    },
    /// No run with this id.
    #[error("run `{0}` not found")]
    RunNotFound(String),
    /// The run state machine refused the change.
    #[error(transparent)]
    IllegalTransition(#[from] run_log::IllegalTransition),
    /// The run log failed.
    #[error("run log storage failed")]
    Runs(#[source] StoreError),
}

/// A manual trigger.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TriggerRequest {
    /// Who asked.
    pub triggered_by: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// Compute and record, change nothing.
    pub dry_run: bool,
}

/// Why a handler stopped.
enum Stop {
    Cancelled,
    Failed(String),
}

/// Jobs, runs and the handlers behind them.
pub struct JobRuntime {
    /// The job registry.
    pub jobs: JobService,
    /// The run log.
    pub runs: Arc<dyn RunRepository>,
    expiry: ExpiryJobs,
    batches: BatchEvaluator,
    evaluations: Arc<dyn EvaluationRepository>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
    timezone: chrono_tz::Tz,
    config: RuntimeConfig,
    wake: tokio::sync::Notify,
}

impl JobRuntime {
    /// Wires the runtime.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        jobs: JobService,
        runs: Arc<dyn RunRepository>,
        expiry: ExpiryJobs,
        batches: BatchEvaluator,
        evaluations: Arc<dyn EvaluationRepository>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
        timezone: chrono_tz::Tz,
        config: RuntimeConfig,
    ) -> Self {
        Self {
            jobs,
            runs,
            expiry,
            batches,
            evaluations,
            clock,
            ids,
            timezone,
            config,
            wake: tokio::sync::Notify::new(),
        }
    }

    /// The current instant, from the runtime's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// A fresh id with `prefix` (`job`, `run`).
    pub fn next_id(&self, prefix: &str) -> String {
        self.ids.next_id(prefix)
    }

    /// Wakes the scheduler loop: a job changed, its next run may be sooner.
    pub fn jobs_changed(&self) {
        self.wake.notify_one();
    }

    /// Registers the default jobs once (a marker row in the same transaction).
    ///
    /// # Errors
    /// [`RuntimeError::Job`] when storage fails.
    pub fn seed_default_jobs(&self) -> Result<bool, RuntimeError> {
        let now = self.now();
        let mut jobs = Vec::with_capacity(DEFAULT_JOBS.len());
        for (name, expr, handler) in DEFAULT_JOBS {
            let name = JobName::parse(name).map_err(JobError::from)?;
            let schedule = Schedule::parse(expr, "UTC").map_err(JobError::from)?;
            jobs.push(Job::new(self.next_id("job"), name, schedule, handler, now));
        }
        self.jobs
            .repo()
            .seed_once(DEFAULT_JOBS_MARKER, &jobs, now)
            .map_err(|e| RuntimeError::Job(JobError::Store(e)))
    }

    fn new_run(&self, job: &Job, trigger: Trigger, now: DateTime<Utc>) -> Run {
        let mut run = Run::start(self.next_id("run"), job.handler.as_str(), trigger, now);
        run.job_id = Some(job.id.clone());
        run.job_name = Some(job.name.as_str().to_owned());
        run.lease_owner = Some(self.config.owner.clone());
        run.lease_expires_at = Some(now + self.config.lease_ttl);
        run
    }

    /// Starts a manual run of `job` at once; the handler runs on its own
    /// thread and the run is returned `running`.
    ///
    /// # Errors
    /// [`RuntimeError::LockHeld`] while the job's lock is held.
    pub fn trigger(
        self: &Arc<Self>,
        job: &Job,
        request: TriggerRequest,
    ) -> Result<Run, RuntimeError> {
        let mut run = self.new_run(job, Trigger::Manual, self.now());
        run.triggered_by = request.triggered_by;
        run.reason = request.reason;
        run.dry_run = request.dry_run;
        let key = lock_key(job);
        match self.runs.insert_run(&run, Some(&key)) {
            Ok(()) => {
                self.spawn(job.clone(), run.clone());
                Ok(run)
            }
            Err(StoreError::Conflict("runs.lock")) => {
                let holder = self
                    .runs
                    .running_with_lock(&key)
                    .map_err(RuntimeError::Runs)?;
                Err(RuntimeError::LockHeld {
                    job_id: job.id.clone(),
                    run_id: holder.map(|r| r.id).unwrap_or_default(),
                })
            }
            Err(e) => Err(RuntimeError::Runs(e)),
        }
    }

    fn spawn(self: &Arc<Self>, job: Job, run: Run) {
        let runtime = Arc::clone(self);
        let name = format!("run-{}", run.id);
        let fallback = run.clone();
        let fallback_job = job.clone();
        if let Err(e) = std::thread::Builder::new()
            .name(name)
            .spawn(move || runtime.execute(job, run))
        {
            tracing::error!(run_id = %fallback.id, error = %e, "could not start a run thread");
            self.finish(
                &fallback_job,
                fallback,
                Err(Stop::Failed(format!("could not start the run: {e}"))),
            );
        }
    }

    /// Runs the handler of `job` for `run`, then records the outcome.
    fn execute(&self, job: Job, run: Run) {
        tracing::info!(run_id = %run.id, job = %job.name.as_str(), handler = job.handler.as_str(), dry_run = run.dry_run, "run started");
        let outcome = self.run_handler(&job, &run);
        let finished = self.finish(&job, run, outcome);
        tracing::info!(run_id = %finished.id, status = finished.status.as_str(), duration_ms = finished.duration_ms, "run finished");
    }

    fn run_handler(&self, job: &Job, run: &Run) -> Result<Value, Stop> {
        // The heartbeat renews the lease between pages and tells the handler
        // when its run was cancelled (or deleted) meanwhile.
        let cancelled = || {
            let until = self.now() + self.config.lease_ttl;
            match self.runs.renew_lease(&run.id, &self.config.owner, until) {
                Ok(Some(RunStatus::Running)) => false,
                Ok(_) => true,
                Err(e) => {
                    tracing::warn!(run_id = %run.id, error = %e, "lease renewal failed");
                    false
                }
            }
        };
        let report_error = |user_id: &str, e: &dyn std::error::Error| {
            tracing::warn!(run_id = %run.id, user_id, error = %e, "mentor failed in a certification job");
        };
        let ctx = RunContext {
            run_id: &run.id,
            dry_run: run.dry_run,
            now: run.invoked_at,
            cancelled: &cancelled,
            report_error: &report_error,
        };
        let expiry = |r: Result<Value, ExpiryError>| {
            r.map_err(|e| match e {
                ExpiryError::Cancelled => Stop::Cancelled,
                ExpiryError::Store(e) => Stop::Failed(format!("reading mentors failed: {e}")),
            })
        };
        match job.handler {
            Handler::CertificationExpiryCheck => {
                let lead =
                    param(&job.params, "lead_time_days", 30, 0..=3650).map_err(Stop::Failed)?;
                expiry(self.expiry.expiry_check(&ctx, lead).map(|s| s.to_json()))
            }
            Handler::PauseAutoLift => expiry(self.expiry.auto_lift(&ctx).map(|s| s.to_json())),
            Handler::WeeklyExpiryReport => {
                let days = param(
                    &job.params,
                    "days",
                    cert_expiry::DEFAULT_REPORT_DAYS,
                    1..=3650,
                )
                .map_err(Stop::Failed)?;
                expiry(
                    self.expiry
                        .weekly_report(&ctx, days, self.timezone)
                        .map(|r| r.to_json()),
                )
            }
            Handler::RunLogRetention => self.retention(job, run),
            Handler::ScenarioEvaluation => self.scenario_evaluation(job, run, &cancelled),
        }
    }

    /// Evaluates every active mentor for every scenario, batch by batch:
    /// active ids are read a batch at a time in `user_id` order (memory does
    /// not grow with the number of mentors), each batch commits its
    /// evaluations, notifications, decisions, batch result and the run's
    /// totals at once, and cancellation is checked between batches.
    fn scenario_evaluation(
        &self,
        job: &Job,
        run: &Run,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<Value, Stop> {
        let batch_size: u32 =
            param(&job.params, "batch_size", 50, 1..=500).map_err(Stop::Failed)?;
        let failed =
            |e: scenario_engine::EvaluationError| Stop::Failed(format!("batch failed: {e}"));
        let (mut after, mut batches, mut users, mut notifications) =
            (None::<String>, 0_i64, 0_i64, 0_i64);
        loop {
            if cancelled() {
                return Err(Stop::Cancelled);
            }
            let ids = self
                .batches
                .active_user_ids_after(after.as_deref(), batch_size)
                .map_err(failed)?;
            let Some(last) = ids.last().cloned() else {
                break;
            };
            let full = ids.len() == batch_size as usize;
            let mut request = BatchRequest::new(run.id.clone(), batches, ids);
            request.dry_run = run.dry_run;
            let report = self.batches.evaluate_batch(request).map_err(failed)?;
            users += report.users_evaluated;
            notifications += report.notifications_sent;
            batches += 1;
            after = Some(last);
            if !full {
                break;
            }
        }
        Ok(json!({
            "batches": batches,
            "batch_size": batch_size,
            "users_evaluated": users,
            "notifications_dispatched": notifications,
            "dry_run": run.dry_run,
        }))
    }

    /// Prunes finished runs (with their batch results) and evaluations older
    /// than the retention period; dedupe keys and notifications stay. A dry
    /// run prunes nothing.
    fn retention(&self, job: &Job, run: &Run) -> Result<Value, Stop> {
        let days = param(
            &job.params,
            "retention_days",
            self.config.retention_days,
            1..=36500,
        )
        .map_err(Stop::Failed)?;
        let cutoff = run_log::retention_cutoff(run.invoked_at, days);
        let summary = |runs: u64, evaluations: u64| {
            json!({
                "retention_days": days,
                "cutoff": scenario_engine::format_instant(cutoff),
                "runs_pruned": runs,
                "evaluations_pruned": evaluations,
                "dry_run": run.dry_run,
            })
        };
        if run.dry_run {
            return Ok(summary(0, 0));
        }
        let runs = self
            .runs
            .prune_runs_before(cutoff)
            .map_err(|e| Stop::Failed(format!("pruning runs failed: {e}")))?;
        let evaluations = self
            .evaluations
            .prune_evaluations_before(cutoff)
            .map_err(|e| Stop::Failed(format!("pruning evaluations failed: {e}")))?;
        Ok(summary(runs, evaluations))
    }

    /// Records a run's end; a run cancelled meanwhile keeps its cancellation.
    /// The job's `last_run_*` is written first, so that whoever sees the run
    /// finished also sees it on its job.
    fn finish(&self, job: &Job, mut run: Run, outcome: Result<Value, Stop>) -> Run {
        let now = self.now();
        let (status, error) = match outcome {
            Ok(summary) => {
                run.result_summary = Some(summary);
                (RunStatus::Success, None)
            }
            Err(Stop::Cancelled) => (RunStatus::Cancelled, None),
            Err(Stop::Failed(message)) => (RunStatus::Failed, Some(message)),
        };
        // Batches add to the run's totals as they commit: take the stored
        // totals, not this copy's, so the end does not undo them.
        if let Ok(Some(stored)) = self.runs.get_run(&run.id) {
            run.users_evaluated = stored.users_evaluated;
            run.notifications_dispatched = stored.notifications_dispatched;
        }
        if run.finish(status, now, error).is_err() {
            return run;
        }
        self.record_on_job(job, &run);
        match self.runs.finish_run(&run) {
            Ok(true) => run,
            Ok(false) => {
                // Cancelled (or failed as abandoned) meanwhile: the stored
                // outcome stands, on the job too.
                let stored = self.runs.get_run(&run.id).ok().flatten().unwrap_or(run);
                self.record_on_job(job, &stored);
                stored
            }
            Err(e) => {
                tracing::error!(run_id = %run.id, error = %e, "could not record the end of a run");
                run
            }
        }
    }

    fn record_on_job(&self, job: &Job, run: &Run) {
        if let Err(e) = self
            .jobs
            .record_run(&job.id, run.invoked_at, run.status.as_str())
        {
            tracing::warn!(job_id = %job.id, error = %crate::error::ErrorChain(&e), "could not record the run on its job");
        }
    }

    /// Cancels a running run; repeating it on a cancelled run changes nothing.
    ///
    /// # Errors
    /// [`RuntimeError::RunNotFound`]; [`RuntimeError::IllegalTransition`]
    /// for a run that finished otherwise.
    pub fn cancel_run(&self, id: &str) -> Result<Run, RuntimeError> {
        let mut run = self
            .runs
            .get_run(id)
            .map_err(RuntimeError::Runs)?
            .ok_or_else(|| RuntimeError::RunNotFound(id.to_owned()))?;
        if run.finish(RunStatus::Cancelled, self.now(), None)? == Transition::Unchanged {
            return Ok(run);
        }
        if self.runs.finish_run(&run).map_err(RuntimeError::Runs)? {
            return Ok(run);
        }
        // It finished between our read and our write: report what it became.
        let stored = self
            .runs
            .get_run(id)
            .map_err(RuntimeError::Runs)?
            .ok_or_else(|| RuntimeError::RunNotFound(id.to_owned()))?;
        Err(run_log::IllegalTransition {
            from: stored.status,
            to: RunStatus::Cancelled,
        }
        .into())
    }

    /// Deletes a job and cancels its running run; the run history stays.
    ///
    /// # Errors
    /// [`RuntimeError::Job`] for an unknown job.
    pub fn delete_job(&self, id: &str) -> Result<(Job, DateTime<Utc>), RuntimeError> {
        let job = self.jobs.delete(id)?;
        let running = self
            .runs
            .running_with_lock(&lock_key(&job))
            .map_err(RuntimeError::Runs)?;
        if let Some(run) = running.filter(|r| r.job_id.as_deref() == Some(id)) {
            let _ = self.cancel_run(&run.id);
        }
        self.jobs_changed();
        Ok((job, self.now()))
    }

    /// One pass of the scheduler: fails runs whose lease expired, fires due
    /// jobs, and returns when the next job is due.
    pub fn tick(self: &Arc<Self>) -> Option<DateTime<Utc>> {
        let now = self.now();
        self.reap_expired_leases(now);
        match self.jobs.repo().due(now, 100) {
            Ok(due) => due.into_iter().for_each(|job| self.fire(job, now)),
            Err(e) => tracing::error!(error = %e, "reading due jobs failed"),
        }
        self.jobs.repo().next_wake().unwrap_or_else(|e| {
            tracing::error!(error = %e, "reading the next wake-up failed");
            Some(now + TimeDelta::seconds(5))
        })
    }

    /// Fires one due job by the misfire plan: the latest missed instant runs
    /// once if within the deadline, older ones become one `missed` run; a
    /// held lock makes a `skipped` run. Then `next_run_at` moves on.
    fn fire(self: &Arc<Self>, job: Job, now: DateTime<Utc>) {
        let Some(plan) = plan_firing(&job, now) else {
            return;
        };
        if let Some(missed) = &plan.missed {
            let mut run = self.new_run(&job, Trigger::Schedule, now);
            run.scheduled_for = Some(missed.last);
            run.result_summary = Some(json!({
                "count": missed.count,
                "first": scenario_engine::format_instant(missed.first),
                "last": scenario_engine::format_instant(missed.last),
                "capped": missed.capped,
            }));
            self.record_finished(run, RunStatus::Missed, now);
        }
        if let Some(at) = plan.fire_at {
            let mut run = self.new_run(&job, Trigger::Schedule, now);
            run.scheduled_for = Some(at);
            let key = lock_key(&job);
            match self.runs.insert_run(&run, Some(&key)) {
                Ok(()) => self.spawn(job.clone(), run),
                // Another instance claimed this instant.
                Err(StoreError::Conflict("runs.job_instant")) => {}
                Err(StoreError::Conflict("runs.lock")) => self.record_skip(&job, &key, at, now),
                Err(e) => tracing::error!(job_id = %job.id, error = %e, "claiming a firing failed"),
            }
        }
        // Move next_run_at on, unless the job changed meanwhile (an update
        // already recomputed it): compare-and-set on the value we planned from.
        if let Err(e) = self
            .jobs
            .repo()
            .set_next_run(&job.id, job.next_run_at, plan.next_run_at)
        {
            tracing::error!(job_id = %job.id, error = %e, "advancing next_run_at failed");
        }
    }

    fn record_finished(&self, mut run: Run, status: RunStatus, now: DateTime<Utc>) {
        run.status = status;
        run.completed_at = Some(now);
        run.duration_ms = Some(0);
        run.lease_owner = None;
        run.lease_expires_at = None;
        match self.runs.insert_run(&run, None) {
            Ok(()) | Err(StoreError::Conflict("runs.job_instant")) => {}
            Err(e) => {
                tracing::error!(run_id = %run.id, error = %e, "recording a {} run failed", status.as_str())
            }
        }
    }

    /// A scheduled firing while the lock is held: consecutive skips during
    /// one holder's run are one `skipped` run with a count.
    fn record_skip(&self, job: &Job, key: &str, at: DateTime<Utc>, now: DateTime<Utc>) {
        let holder = self.runs.running_with_lock(key).ok().flatten();
        let filter = RunFilter {
            job_id: Some(job.id.clone()),
            status: Some(RunStatus::Skipped),
            ..RunFilter::default()
        };
        let latest = self
            .runs
            .list_runs(&filter, 0, 1)
            .ok()
            .and_then(|(runs, _)| runs.into_iter().next());
        let holder_id = holder.as_ref().map(|h| h.id.clone());
        if let (Some(mut skipped), Some(h)) = (latest, holder.as_ref())
            && skipped.invoked_at >= h.invoked_at
        {
            let summary = skipped.result_summary.get_or_insert_with(|| json!({}));
            let count = summary["count"].as_u64().unwrap_or(1) + 1;
            summary["count"] = json!(count);
            summary["last"] = json!(scenario_engine::format_instant(at));
            if let Err(e) = self.runs.update_run(&skipped) {
                tracing::error!(run_id = %skipped.id, error = %e, "counting a skipped firing failed");
            }
            return;
        }
        let mut run = self.new_run(job, Trigger::Schedule, now);
        run.scheduled_for = Some(at);
        run.result_summary = Some(json!({
            "count": 1,
            "first": scenario_engine::format_instant(at),
            "last": scenario_engine::format_instant(at),
            "running_run_id": holder_id,
        }));
        self.record_finished(run, RunStatus::Skipped, now);
    }

    /// Running runs whose lease lapsed belong to a dead process: they are
    /// marked `failed` with `abandoned: lease expired`.
    fn reap_expired_leases(&self, now: DateTime<Utc>) {
        let filter = RunFilter {
            status: Some(RunStatus::Running),
            ..RunFilter::default()
        };
        let Ok((running, _)) = self.runs.list_runs(&filter, 0, 100) else {
            return;
        };
        for mut run in running.into_iter().filter(|r| r.lease_expired(now)) {
            if run
                .finish(
                    RunStatus::Failed,
                    now,
                    Some("abandoned: lease expired".to_owned()),
                )
                .is_ok()
            {
                match self.runs.finish_run(&run) {
                    Ok(true) => {
                        tracing::warn!(run_id = %run.id, "run abandoned: lease expired");
                        if let Some(job_id) = &run.job_id {
                            let _ = self.jobs.record_run(
                                job_id,
                                run.invoked_at,
                                RunStatus::Failed.as_str(),
                            );
                        }
                    }
                    Ok(false) => {}
                    Err(e) => {
                        tracing::error!(run_id = %run.id, error = %e, "failing an abandoned run failed")
                    }
                }
            }
        }
    }

    /// Waits for the next due job or a change, whichever comes first.
    async fn sleep_until(&self, next: Option<DateTime<Utc>>) {
        let now = self.now();
        let wait = next
            .map(|t| (t - now).to_std().unwrap_or(Duration::ZERO))
            .unwrap_or(Duration::from_secs(60))
            .min(Duration::from_secs(60));
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = self.wake.notified() => {}
        }
    }
}

/// The scheduler loop: sleeps until the next due job (or a change to the
/// jobs), fires what is due off the async workers, and repeats. An idle
/// service wakes at most once a minute.
pub async fn scheduler_loop(runtime: Arc<JobRuntime>) {
    loop {
        let r = Arc::clone(&runtime);
        let next = match actix_web::rt::task::spawn_blocking(move || r.tick()).await {
            Ok(next) => next,
            Err(e) => {
                tracing::error!(error = %e, "scheduler tick panicked");
                None
            }
        };
        runtime.sleep_until(next).await;
    }
}

/// A numeric handler parameter from a job's `params`, with its default.
fn param<T>(
    params: &Map<String, Value>,
    name: &str,
    default: T,
    range: std::ops::RangeInclusive<i64>,
) -> Result<T, String>
where
    T: TryFrom<i64>,
{
    match params.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v
            .as_i64()
            .filter(|n| range.contains(n))
            .and_then(|n| T::try_from(n).ok())
            .ok_or_else(|| {
                format!(
                    "params.{name} must be an integer between {} and {}, got {v}",
                    range.start(),
                    range.end()
                )
            }),
    }
}
