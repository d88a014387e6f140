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
use run_log::{
    BatchPlanner, EXTERNAL_BATCH_WINDOW, EXTERNAL_OWNER, IDEMPOTENCY_WINDOW, IdempotencyStore, Run,
    RunFilter, RunRepository, RunStatus, RunUpdate, StoreError, Transition, Trigger, UpdateRefused,
};
use scenario_engine::rules::Rules;
use scenario_engine::service::{
    BatchEvaluator, BatchIdsError, BatchReport, BatchRequest, BatchWrite, Clock, EvaluationError,
    EvaluationRepository, IdSource, PreparedBatch,
};
use scheduler_core::{
    Handler, InvalidParams, Job, JobError, JobName, JobService, Schedule, plan_firing,
};
use serde_json::{Map, Value, json};

use crate::delivery::DeliveryWaker;

/// The lock all non-external scenario-evaluation runs share (SPEC section 15).
pub const SCENARIO_LOCK: &str = "scenario_evaluation";

/// Mentors per batch of a scenario-evaluation run unless its job's
/// `params.batch_size` or the invocation says otherwise (SPEC section 5).
pub const DEFAULT_BATCH_SIZE: u32 = 50;

/// The largest batch a run the service processes may be planned with.
pub const MAX_BATCH_SIZE: u32 = 500;

/// Active ids read per page while planning a run's batches.
const PLAN_PAGE: u32 = 5000;

/// Prepared batches a scenario-evaluation run's reader thread may hold
/// ready for the committing thread.
const PREPARED_AHEAD: usize = 8;

/// The most mentors of a scenario run's batches committed in one
/// transaction (8 batches of the default 50; a batch over this is
/// committed alone): a group commit holds SQLite's one write lock for
/// some 20 ms, not longer.
const COMMIT_GROUP_USERS: usize = 400;

/// Planned batches written per transaction, and read per page while running.
const PLAN_CHUNK: usize = 1000;

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
    /// A scenario-evaluation run the service processes holds the shared lock.
    #[error("a scenario evaluation is already running (run `{run_id}`)")]
    InvocationRunning {
        /// The running run.
        run_id: String,
        /// Its job, if it came from one.
        job_id: Option<String>,
    },
    /// The run is over: it takes no more batches, and stays as it is.
    #[error("run `{run_id}` is {status}: it takes no more batches")]
    RunFinished {
        /// The run.
        run_id: String,
        /// How it ended.
        status: RunStatus,
    },
    /// The service processes this run itself: no orchestrator feeds it.
    #[error("run `{0}` is processed by the service; only external runs take batches")]
    NotExternal(String),
    /// A running run cannot be deleted.
    #[error("run `{0}` is still running; cancel it first")]
    RunRunning(String),
    /// The user ids of a batch are not acceptable.
    #[error(transparent)]
    BatchIds(#[from] BatchIdsError),
    /// A change to a run that the run-log rules refuse.
    #[error(transparent)]
    UpdateRefused(#[from] UpdateRefused),
    /// Evaluating a batch failed in storage.
    #[error("evaluating the batch failed")]
    Batch(#[source] EvaluationError),
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

/// An ad-hoc scheduler invocation (`POST /api/v1/scheduler-invocations`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvocationRequest {
    /// Who asked.
    pub triggered_by: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// Compute and record, enqueue nothing.
    pub dry_run: bool,
    /// Fed by an orchestrator through `evaluation-batch` instead of processed here.
    pub external: bool,
    /// Mentors per batch (1 to [`MAX_BATCH_SIZE`]); default [`DEFAULT_BATCH_SIZE`].
    pub batch_size: Option<u32>,
}

/// Why a handler stopped.
enum Stop {
    Cancelled,
    Failed(String),
}

impl Stop {
    /// A run of a job whose `params` were stored before [`check_params`]
    /// refused such values.
    fn invalid(e: InvalidParams) -> Self {
        Self::Failed(e.to_string())
    }
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
    idempotency: Arc<dyn IdempotencyStore>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
    timezone: chrono_tz::Tz,
    config: RuntimeConfig,
    wake: tokio::sync::Notify,
    /// Wakes the notification worker when a run enqueued something.
    delivery: DeliveryWaker,
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
        idempotency: Arc<dyn IdempotencyStore>,
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
            idempotency,
            clock,
            ids,
            timezone,
            config,
            wake: tokio::sync::Notify::new(),
            delivery: DeliveryWaker::default(),
        }
    }

    /// The runtime, waking `waker`'s notification worker whenever a run
    /// enqueues notifications (after each batch, and when a run ends).
    #[must_use]
    pub fn with_delivery_waker(mut self, waker: DeliveryWaker) -> Self {
        self.delivery = waker;
        self
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
        if job.handler == Handler::ScenarioEvaluation {
            // An invalid parameter fails the run itself, with its message.
            run.batch_size = batch_size_param(&job.params).ok().map(i64::from);
        }
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
                self.spawn(Some(job.clone()), run.clone());
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

    /// Processes `run` (of `job`, or an ad-hoc invocation without one) on
    /// its own thread.
    fn spawn(self: &Arc<Self>, job: Option<Job>, run: Run) {
        let runtime = Arc::clone(self);
        let name = format!("run-{}", run.id);
        let fallback = run.clone();
        let fallback_job = job.clone();
        if let Err(e) = std::thread::Builder::new()
            .name(name)
            .spawn(move || runtime.execute(job.as_ref(), run))
        {
            tracing::error!(run_id = %fallback.id, error = %e, "could not start a run thread");
            self.finish(
                fallback_job.as_ref(),
                fallback,
                Err(Stop::Failed(format!("could not start the run: {e}"))),
            );
        }
    }

    /// Runs the handler of `run`, then records the outcome.
    fn execute(&self, job: Option<&Job>, run: Run) {
        tracing::info!(run_id = %run.id, job = job.map(|j| j.name.as_str()), handler = run.kind.as_str(), dry_run = run.dry_run, "run started");
        let outcome = self.run_handler(job, &run);
        let finished = self.finish(job, run, outcome);
        // Whatever the handler enqueued (expiry reminders, lift notices) goes out now.
        self.delivery.wake();
        tracing::info!(run_id = %finished.id, status = finished.status.as_str(), duration_ms = finished.duration_ms, users_evaluated = finished.users_evaluated, notifications_dispatched = finished.notifications_dispatched, "run finished");
    }

    fn run_handler(&self, job: Option<&Job>, run: &Run) -> Result<Value, Stop> {
        let no_params = Map::new();
        let params = job.map_or(&no_params, |j| &j.params);
        let handler = Handler::parse(&run.kind)
            .map_err(|_| Stop::Failed(format!("unknown handler `{}`", run.kind)))?;
        // The heartbeat, asked between pages and batches, tells the handler
        // when its run was cancelled (or deleted) meanwhile. It renews the
        // lease every third of its length (10 s of the default 30 s), not at
        // every call: on SQLite a renewal is a write transaction of its own.
        // In between, a plain read of the status is enough.
        let renewed = std::cell::Cell::new(run.invoked_at);
        let cancelled = || {
            let now = self.now();
            let status = if now - renewed.get() >= self.config.lease_ttl / 3 {
                renewed.set(now);
                self.runs
                    .renew_lease(&run.id, &self.config.owner, now + self.config.lease_ttl)
            } else {
                self.runs.get_run(&run.id).map(|r| r.map(|r| r.status))
            };
            match status {
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
        let JobParams { zone, handler } =
            JobParams::read(handler, params, self.config.retention_days).map_err(Stop::invalid)?;
        let jobs = match zone {
            Some(timezone) => self.expiry.with_rules(Rules {
                timezone,
                ..*self.expiry.rules()
            }),
            None => self.expiry.clone(),
        };
        match handler {
            HandlerParams::ExpiryCheck { lead_time_days } => {
                expiry(jobs.expiry_check(&ctx, lead_time_days).map(|s| s.to_json()))
            }
            HandlerParams::AutoLift => expiry(jobs.auto_lift(&ctx).map(|s| s.to_json())),
            HandlerParams::WeeklyReport { days } => expiry(
                jobs.weekly_report(&ctx, days, zone.unwrap_or(self.timezone))
                    .map(|r| r.to_json()),
            ),
            HandlerParams::Retention { days } => self.retention(days, run),
            HandlerParams::ScenarioEvaluation { batch_size } => {
                self.scenario_evaluation(batch_size, zone, run, &cancelled)
            }
        }
    }

    /// Evaluates every active mentor for every scenario, batch by batch
    /// (SPEC section 15, "Batch plan"): unless the run has a complete plan
    /// (it is being resumed), one streaming pass over the active mentors
    /// writes the batch plan; then every planned batch without a batch
    /// result is evaluated, in index order, each committing its
    /// evaluations (the per-user results), notifications, batch result and
    /// the run's totals at once, with the other batches ready then (group
    /// commit). Cancellation is checked between those transactions; memory
    /// holds one page of the plan, never all mentors. `batch_size` is the
    /// job's `params.batch_size`, `zone` its `params.evaluation_timezone`
    /// when it has one.
    fn scenario_evaluation(
        &self,
        batch_size: u32,
        zone: Option<chrono_tz::Tz>,
        run: &Run,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<Value, Stop> {
        // The run's own batch size (the request's, or the job's when the run
        // was made), else the job's `params.batch_size` now.
        let batch_size = run
            .batch_size
            .and_then(|b| u32::try_from(b).ok())
            .unwrap_or(batch_size);
        // The job's own evaluation time zone, else the service's.
        let batches = match zone {
            Some(timezone) => self.batches.with_rules(Rules {
                timezone,
                ..*self.batches.rules()
            }),
            None => self.batches.clone(),
        };
        let batches = &batches;
        let failed = |what: &str, e: &dyn std::fmt::Display| Stop::Failed(format!("{what}: {e}"));
        let planned = match run.planned_batches {
            Some(n) => n,
            None => self.plan(run, batch_size, cancelled)?,
        };
        // Two cores, two stages: a reader thread loads and decides the next
        // batches (on its own connection; SQLite's readers do not wait for
        // its one writer) while this thread commits the ones before. The
        // channel holds PREPARED_AHEAD batches, which evens out batches
        // that take one stage longer than usual (a batch is about 100 KB
        // of decisions), and the reader stops at its next send once this
        // side hangs up (a cancellation or a failure). Committed batches
        // go back to the reader to be freed there, where they were
        // allocated, off this thread (`done`: unbounded, but the reader
        // empties it before each batch, and this side commits only what
        // the reader sent, so it holds a few groups at most).
        std::thread::scope(|scope| -> Result<(), Stop> {
            let (ready, prepared) =
                std::sync::mpsc::sync_channel::<Result<BatchWrite, Stop>>(PREPARED_AHEAD);
            let (done, committed) = std::sync::mpsc::channel::<Vec<BatchWrite>>();
            scope.spawn(move || {
                let mut after = None;
                loop {
                    let page = match self
                        .runs
                        .unfinished_batches(&run.id, after, PLAN_CHUNK as u32)
                    {
                        Ok(page) => page,
                        Err(e) => {
                            let _ = ready.send(Err(failed("reading the batch plan failed", &e)));
                            return;
                        }
                    };
                    let Some(last) = page.last().map(|b| b.batch_index) else {
                        return;
                    };
                    for batch in page {
                        // Frees the groups committed since the last batch.
                        while committed.try_recv().is_ok() {}
                        let mut request =
                            BatchRequest::new(run.id.clone(), batch.batch_index, Vec::new());
                        request.dry_run = run.dry_run;
                        let next = batches
                            .prepare_planned_batch(
                                request,
                                &batch.first_user_id,
                                &batch.last_user_id,
                            )
                            .map(PreparedBatch::into_write)
                            .map_err(|e| failed("reading a batch failed", &e));
                        let stop = next.is_err();
                        if ready.send(next).is_err() || stop {
                            return;
                        }
                    }
                    after = Some(last);
                }
            });
            // Group commit: the batches ready when this side is free go
            // into one transaction (up to COMMIT_GROUP_USERS), so that they
            // share the cost of a commit; each stays all or nothing, and
            // a cancellation, which can only land between transactions,
            // is honoured before the next group. `held`: a batch taken from
            // the channel that did not fit the group before.
            let mut held: Option<BatchWrite> = None;
            loop {
                let first = match held.take() {
                    Some(b) => b,
                    None => match prepared.recv() {
                        Ok(b) => b?,
                        Err(_) => break,
                    },
                };
                let mut users = group_users(&first);
                let mut group = vec![first];
                let mut stop = None;
                while users < COMMIT_GROUP_USERS {
                    match prepared.try_recv() {
                        Ok(Ok(next)) if users + group_users(&next) <= COMMIT_GROUP_USERS => {
                            users += group_users(&next);
                            group.push(next);
                        }
                        Ok(Ok(next)) => {
                            held = Some(next);
                            break;
                        }
                        Ok(Err(e)) => {
                            stop = Some(e);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                if cancelled() {
                    return Err(Stop::Cancelled);
                }
                let mut enqueued = false;
                for committed in batches.commit_batches(&group) {
                    match committed {
                        Ok(totals) => enqueued |= totals.notifications_sent > 0,
                        // Another process wrote this batch (a takeover race): it is done.
                        Err(e) if batch_taken(&e) => {}
                        Err(e) => return Err(failed("batch failed", &e)),
                    }
                }
                // Once the reader has finished, the last groups are freed here.
                let _ = done.send(group);
                if enqueued {
                    self.delivery.wake();
                }
                if let Some(e) = stop {
                    return Err(e);
                }
            }
            Ok(())
        })?;
        let stored = self.runs.get_run(&run.id).ok().flatten();
        Ok(json!({
            "batches": planned,
            "batch_size": batch_size,
            "users_evaluated": stored.as_ref().map_or(0, |r| r.users_evaluated),
            "notifications_dispatched": stored.as_ref().map_or(0, |r| r.notifications_dispatched),
            "dry_run": run.dry_run,
        }))
    }

    /// Writes the batch plan of `run` in one streaming pass over the active
    /// mentors (keyset pages of [`PLAN_PAGE`] ids, chunks of
    /// [`PLAN_CHUNK`] batches), then marks it complete. A plan left
    /// incomplete by a process that died is thrown away first.
    fn plan(&self, run: &Run, batch_size: u32, cancelled: &dyn Fn() -> bool) -> Result<i64, Stop> {
        let failed =
            |e: &dyn std::fmt::Display| Stop::Failed(format!("planning the batches failed: {e}"));
        self.runs.clear_plan(&run.id).map_err(|e| failed(&e))?;
        let mut planner = BatchPlanner::new(batch_size);
        let mut chunk = Vec::with_capacity(PLAN_CHUNK);
        let mut after: Option<String> = None;
        loop {
            if cancelled() {
                return Err(Stop::Cancelled);
            }
            let ids = self
                .batches
                .active_user_ids_after(after.as_deref(), PLAN_PAGE)
                .map_err(|e| failed(&e))?;
            let full = ids.len() == PLAN_PAGE as usize;
            chunk.extend(ids.iter().filter_map(|id| planner.push(id)));
            if !full {
                chunk.extend(planner.finish());
            }
            if chunk.len() >= PLAN_CHUNK || !full {
                self.runs
                    .insert_plan(&run.id, &chunk)
                    .map_err(|e| failed(&e))?;
                chunk.clear();
            }
            match ids.into_iter().last() {
                Some(last) if full => after = Some(last),
                _ => break,
            }
        }
        let planned = planner.planned();
        self.runs
            .complete_plan(&run.id, planned)
            .map_err(|e| failed(&e))?;
        Ok(planned)
    }

    /// Prunes finished runs (with their batch results) and evaluations older
    /// than the retention period; dedupe keys and notifications stay. A dry
    /// run prunes nothing.
    fn retention(&self, days: i64, run: &Run) -> Result<Value, Stop> {
        let cutoff = run_log::retention_cutoff(run.invoked_at, days);
        let summary = |runs: u64, evaluations: u64, keys: u64| {
            json!({
                "retention_days": days,
                "cutoff": scenario_engine::rules::format_instant(cutoff),
                "runs_pruned": runs,
                "evaluations_pruned": evaluations,
                "idempotency_keys_pruned": keys,
                "dry_run": run.dry_run,
            })
        };
        if run.dry_run {
            return Ok(summary(0, 0, 0));
        }
        let runs = self
            .runs
            .prune_runs_before(cutoff)
            .map_err(|e| Stop::Failed(format!("pruning runs failed: {e}")))?;
        let evaluations = self
            .evaluations
            .prune_evaluations_before(cutoff)
            .map_err(|e| Stop::Failed(format!("pruning evaluations failed: {e}")))?;
        // Idempotency keys live for their window only, whatever the retention.
        let keys = self
            .idempotency
            .prune_keys_before(run.invoked_at - IDEMPOTENCY_WINDOW)
            .map_err(|e| Stop::Failed(format!("pruning idempotency keys failed: {e}")))?;
        Ok(summary(runs, evaluations, keys))
    }

    /// Records a run's end; a run cancelled meanwhile keeps its cancellation.
    /// The job's `last_run_*` is written first, so that whoever sees the run
    /// finished also sees it on its job.
    fn finish(&self, job: Option<&Job>, mut run: Run, outcome: Result<Value, Stop>) -> Run {
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

    fn record_on_job(&self, job: Option<&Job>, run: &Run) {
        let Some(job) = job else { return };
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

    /// Starts an ad-hoc scenario-evaluation run over all active mentors
    /// (`POST /api/v1/scheduler-invocations`). A run the service processes
    /// takes the lock all of them share and is processed on its own thread;
    /// an external run takes no lock, is not processed here, and waits
    /// [`EXTERNAL_BATCH_WINDOW`] for each batch from its orchestrator.
    ///
    /// # Errors
    /// [`RuntimeError::InvocationRunning`] while another run holds the lock.
    pub fn start_invocation(
        self: &Arc<Self>,
        request: InvocationRequest,
    ) -> Result<Run, RuntimeError> {
        let now = self.now();
        let mut run = Run::start(
            self.next_id("run"),
            Handler::ScenarioEvaluation.as_str(),
            Trigger::Manual,
            now,
        );
        run.triggered_by = request.triggered_by;
        run.reason = request.reason;
        run.dry_run = request.dry_run;
        run.external = request.external;
        if request.external {
            run.lease_owner = Some(EXTERNAL_OWNER.to_owned());
            run.lease_expires_at = Some(now + EXTERNAL_BATCH_WINDOW);
            self.runs
                .insert_run(&run, None)
                .map_err(RuntimeError::Runs)?;
            return Ok(run);
        }
        run.batch_size = Some(i64::from(request.batch_size.unwrap_or(DEFAULT_BATCH_SIZE)));
        run.lease_owner = Some(self.config.owner.clone());
        run.lease_expires_at = Some(now + self.config.lease_ttl);
        match self.runs.insert_run(&run, Some(SCENARIO_LOCK)) {
            Ok(()) => {
                self.spawn(None, run.clone());
                Ok(run)
            }
            Err(StoreError::Conflict("runs.lock")) => {
                let holder = self
                    .runs
                    .running_with_lock(SCENARIO_LOCK)
                    .map_err(RuntimeError::Runs)?;
                Err(RuntimeError::InvocationRunning {
                    run_id: holder.as_ref().map(|r| r.id.clone()).unwrap_or_default(),
                    job_id: holder.and_then(|r| r.job_id),
                })
            }
            Err(e) => Err(RuntimeError::Runs(e)),
        }
    }

    /// A scenario-evaluation run (any other kind of run is not found here).
    ///
    /// # Errors
    /// [`RuntimeError::RunNotFound`].
    pub fn scenario_run(&self, id: &str) -> Result<Run, RuntimeError> {
        // An id no run can have never reaches the database (PostgreSQL
        // cannot even compare a control character).
        if scenario_engine::service::validate_platform_id("id", id).is_err() {
            return Err(RuntimeError::RunNotFound(id.to_owned()));
        }
        self.runs
            .get_run(id)
            .map_err(RuntimeError::Runs)?
            .filter(|r| r.kind == Handler::ScenarioEvaluation.as_str())
            .ok_or_else(|| RuntimeError::RunNotFound(id.to_owned()))
    }

    /// Evaluates one batch of `user_ids` for an external run, as its next
    /// batch (`POST .../evaluation-batch`): the run's totals grow, and its
    /// one-hour window for the next batch starts again.
    ///
    /// # Errors
    /// [`RuntimeError::BatchIds`] (empty, more than 500, duplicates);
    /// [`RuntimeError::RunNotFound`]; [`RuntimeError::RunFinished`];
    /// [`RuntimeError::NotExternal`] for a run the service processes.
    pub fn evaluation_batch(
        &self,
        run_id: &str,
        user_ids: Vec<String>,
    ) -> Result<BatchReport, RuntimeError> {
        scenario_engine::service::check_batch_ids(&user_ids)?;
        let run = self.scenario_run(run_id)?;
        if run.status.is_finished() {
            return Err(RuntimeError::RunFinished {
                run_id: run.id,
                status: run.status,
            });
        }
        if !run.external {
            return Err(RuntimeError::NotExternal(run.id));
        }
        // Concurrent batches of one run race for the next index: the loser
        // of a race wrote nothing and takes the index after.
        let mut attempts = 0;
        let report = loop {
            let index = self
                .runs
                .next_batch_index(&run.id)
                .map_err(RuntimeError::Runs)?;
            let mut request = BatchRequest::new(run.id.clone(), index, user_ids.clone());
            request.dry_run = run.dry_run;
            match self.batches.evaluate_batch(request) {
                Ok(report) => break report,
                Err(e) if batch_taken(&e) && attempts < 10 => attempts += 1,
                Err(e) => return Err(RuntimeError::Batch(e)),
            }
        };
        if report.notifications_sent > 0 {
            self.delivery.wake();
        }
        let until = self.now() + EXTERNAL_BATCH_WINDOW;
        if let Err(e) = self.runs.renew_lease(&run.id, EXTERNAL_OWNER, until) {
            tracing::warn!(run_id = %run.id, error = %e, "extending an external run's window failed");
        }
        Ok(report)
    }

    /// Changes a scenario-evaluation run from outside (`PUT` on a scheduler
    /// invocation) by the rules of [`Run::apply_update`]; a run the service
    /// processes stops at its next batch. Returns the run as stored.
    ///
    /// # Errors
    /// [`RuntimeError::RunNotFound`]; [`RuntimeError::UpdateRefused`].
    pub fn update_invocation(&self, id: &str, change: &RunUpdate) -> Result<Run, RuntimeError> {
        let mut run = self.scenario_run(id)?;
        if run.apply_update(change, self.now())? == Transition::Unchanged {
            return Ok(run);
        }
        if self.runs.finish_run(&run).map_err(RuntimeError::Runs)? {
            if run.status.is_finished() {
                let job = run.job_id.as_deref().and_then(|j| self.jobs.get(j).ok());
                self.record_on_job(job.as_ref(), &run);
            }
            return self.scenario_run(id);
        }
        // It finished between our read and our write: judge the change
        // against what it became.
        let mut stored = self.scenario_run(id)?;
        stored.apply_update(change, self.now())?;
        Ok(stored)
    }

    /// Deletes a finished scenario-evaluation run with its batch results
    /// and plan; the notifications it enqueued stay.
    ///
    /// # Errors
    /// [`RuntimeError::RunNotFound`]; [`RuntimeError::RunRunning`].
    pub fn delete_invocation(&self, id: &str) -> Result<String, RuntimeError> {
        let run = self.scenario_run(id)?;
        if !run.status.is_finished() {
            return Err(RuntimeError::RunRunning(run.id));
        }
        if !self.runs.delete_run(&run.id).map_err(RuntimeError::Runs)? {
            return Err(RuntimeError::RunNotFound(run.id));
        }
        Ok(run.id)
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
                "first": scenario_engine::rules::format_instant(missed.first),
                "last": scenario_engine::rules::format_instant(missed.last),
                "capped": missed.capped,
            }));
            self.record_finished(run, RunStatus::Missed, now);
        }
        if let Some(at) = plan.fire_at {
            let mut run = self.new_run(&job, Trigger::Schedule, now);
            run.scheduled_for = Some(at);
            let key = lock_key(&job);
            match self.runs.insert_run(&run, Some(&key)) {
                Ok(()) => self.spawn(Some(job.clone()), run),
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
            summary["last"] = json!(scenario_engine::rules::format_instant(at));
            if let Err(e) = self.runs.update_run(&skipped) {
                tracing::error!(run_id = %skipped.id, error = %e, "counting a skipped firing failed");
            }
            return;
        }
        let mut run = self.new_run(job, Trigger::Schedule, now);
        run.scheduled_for = Some(at);
        run.result_summary = Some(json!({
            "count": 1,
            "first": scenario_engine::rules::format_instant(at),
            "last": scenario_engine::rules::format_instant(at),
            "running_run_id": holder_id,
        }));
        self.record_finished(run, RunStatus::Skipped, now);
    }

    /// Running runs whose lease lapsed: their process died (or, for an
    /// external run, no batch came in time). Whoever claims the lapsed
    /// lease first (compare-and-set, across instances) deals with the run:
    /// a batched scenario-evaluation run is resumed here at its first
    /// unfinished batch; any other run is failed with `abandoned: ...`.
    fn reap_expired_leases(self: &Arc<Self>, now: DateTime<Utc>) {
        let filter = RunFilter {
            status: Some(RunStatus::Running),
            ..RunFilter::default()
        };
        let Ok((running, _)) = self.runs.list_runs(&filter, 0, 100) else {
            return;
        };
        for mut run in running.into_iter().filter(|r| r.lease_expired(now)) {
            let until = now + self.config.lease_ttl;
            match self
                .runs
                .take_over_lease(&run.id, &self.config.owner, now, until)
            {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    tracing::error!(run_id = %run.id, error = %e, "claiming an abandoned run failed");
                    continue;
                }
            }
            run.lease_owner = Some(self.config.owner.clone());
            run.lease_expires_at = Some(until);
            if run.kind == Handler::ScenarioEvaluation.as_str() && !run.external {
                tracing::warn!(run_id = %run.id, "lease expired: resuming the run at its first unfinished batch");
                let job = run.job_id.as_deref().and_then(|id| self.jobs.get(id).ok());
                self.spawn(job, run);
                continue;
            }
            let message = run.abandoned_message();
            if run
                .finish(RunStatus::Failed, now, Some(message.to_owned()))
                .is_err()
            {
                continue;
            }
            match self.runs.finish_run(&run) {
                Ok(true) => {
                    tracing::warn!(run_id = %run.id, "run {message}");
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
) -> Result<T, InvalidParams>
where
    T: TryFrom<i64>,
{
    match params.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v
            .as_i64()
            .filter(|n| range.contains(n))
            .and_then(|n| T::try_from(n).ok())
            .ok_or_else(|| InvalidParams {
                field: format!("params.{name}"),
                problem: format!(
                    "must be an integer between {} and {}, got {v}",
                    range.start(),
                    range.end()
                ),
            }),
    }
}

/// What a job's runs read from its `params` (docs/scheduling.md): read
/// once per run, and by [`check_params`] when a job is created or its
/// params change, so that what is accepted is what runs.
struct JobParams {
    /// `params.evaluation_timezone` (SPEC section 15); never read for
    /// retention, which counts no calendar days.
    zone: Option<chrono_tz::Tz>,
    handler: HandlerParams,
}

/// The parameters of each handler.
enum HandlerParams {
    ExpiryCheck { lead_time_days: u32 },
    AutoLift,
    WeeklyReport { days: u32 },
    Retention { days: i64 },
    ScenarioEvaluation { batch_size: u32 },
}

impl JobParams {
    /// `handler`'s parameters in `params`, `retention_days` being the
    /// service's default for the retention job.
    fn read(
        handler: Handler,
        params: &Map<String, Value>,
        retention_days: i64,
    ) -> Result<Self, InvalidParams> {
        let zone = match handler {
            Handler::RunLogRetention => None,
            _ => evaluation_timezone_param(params)?,
        };
        let handler = match handler {
            Handler::CertificationExpiryCheck => HandlerParams::ExpiryCheck {
                lead_time_days: param(params, "lead_time_days", 30, 0..=3650)?,
            },
            Handler::PauseAutoLift => HandlerParams::AutoLift,
            Handler::WeeklyExpiryReport => HandlerParams::WeeklyReport {
                days: param(params, "days", cert_expiry::DEFAULT_REPORT_DAYS, 1..=3650)?,
            },
            Handler::RunLogRetention => HandlerParams::Retention {
                days: param(params, "retention_days", retention_days, 1..=36500)?,
            },
            Handler::ScenarioEvaluation => HandlerParams::ScenarioEvaluation {
                batch_size: batch_size_param(params)?,
            },
        };
        Ok(Self { zone, handler })
    }
}

/// Checks a job's `params` as its runs will read them ([`JobParams`];
/// SPEC section 7: a 422 when a job is created or its params changed,
/// rather than a run that fails later): the handler's own parameters and
/// their bounds, and `params.evaluation_timezone` for every handler that
/// counts days. Other keys are left alone. A job stored before this check
/// existed still fails its run, with the same message.
///
/// # Errors
/// [`InvalidParams`] naming the first parameter refused.
pub fn check_params(handler: Handler, params: &Map<String, Value>) -> Result<(), InvalidParams> {
    JobParams::read(handler, params, run_log::DEFAULT_RETENTION_DAYS).map(drop)
}

/// The user ids a batch covers, for sizing a commit group.
fn group_users(batch: &BatchWrite) -> usize {
    usize::try_from(batch.user_count).unwrap_or(0)
}

/// Whether a batch write failed because the run already has a batch with
/// that index (`BatchRepository::record_batch` then wrote nothing).
fn batch_taken(e: &EvaluationError) -> bool {
    matches!(
        e,
        EvaluationError::Store(scenario_engine::service::StoreError::Conflict(
            "batch_results.batch_index"
        ))
    )
}

/// A job's `params.evaluation_timezone` (SPEC section 15): an IANA zone
/// name that overrides the service's evaluation time zone for its runs, or
/// `None` when absent or null.
fn evaluation_timezone_param(
    params: &Map<String, Value>,
) -> Result<Option<chrono_tz::Tz>, InvalidParams> {
    let refused = |problem: String| InvalidParams {
        field: "params.evaluation_timezone".to_owned(),
        problem,
    };
    match params.get("evaluation_timezone") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(name)) => name
            .parse()
            .map(Some)
            .map_err(|_| refused(format!("is not a known time zone: `{name}`"))),
        Some(v) => Err(refused(format!(
            "must be a time zone name such as \"Europe/Oslo\", got {v}"
        ))),
    }
}

/// A scenario-evaluation job's `params.batch_size` (1 to [`MAX_BATCH_SIZE`]).
fn batch_size_param(params: &Map<String, Value>) -> Result<u32, InvalidParams> {
    param(
        params,
        "batch_size",
        DEFAULT_BATCH_SIZE,
        1..=i64::from(MAX_BATCH_SIZE),
    )
}
