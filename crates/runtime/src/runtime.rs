//! [`Runtime`]: the services over the ports, wired once from a
//! [`RuntimeConfig`], and the few facts every part of the runtime shares
//! (the clock, ids, the lease settings, the scheduler loop's wake-up).
//!
//! What the runtime does is split by concern, each an `impl Runtime` block
//! of its own file: `claim.rs` (starting runs), `pool.rs` (the run threads
//! and the runs waiting for one), `execute.rs` (running a handler and
//! recording the end), `scenario_run.rs` (the batch pipeline),
//! `tick.rs` (the scheduler loop, misfires), `reaper.rs` (lease takeover),
//! `retention.rs`, `invocations.rs` (runs fed from outside), `jobs.rs` and
//! `queries.rs` (the registry and the run log as the views read them).

use std::sync::Arc;

use cert_expiry::ExpiryJobs;
use chrono::{DateTime, TimeDelta, Utc};
use run_log::{IdempotencyStore, RunRepository};
use scenario_engine::service::{
    BatchEvaluator, Clock, EvaluationRepository, EvaluationService, IdSource, MentorRepository,
    MentorService, Outbox, OutboxService,
};
use scheduler_core::JobService;

use crate::config::RuntimeConfig;
use crate::delivery::{DeliveryWaker, DeliveryWorker};
use crate::pool::queue::RunPool;

/// Jobs, runs, the handlers behind them, and the notification worker.
/// Every method blocks (storage is synchronous): async callers run them on
/// a blocking pool. The two loops, [`scheduler_loop`](crate::scheduler_loop)
/// and [`DeliveryWorker::run`], are started by whoever serves.
pub struct Runtime {
    /// The job registry.
    pub jobs: JobService,
    /// The run log.
    pub runs: Arc<dyn RunRepository>,
    /// Mentor data.
    pub mentors: MentorService,
    /// Single evaluations.
    pub evaluations: EvaluationService,
    /// The outbox, as the notifications API reads and retries it.
    pub notifications: OutboxService,
    /// The notification worker; whatever enqueues wakes it
    /// ([`DeliveryWorker::wake`]).
    pub delivery: Arc<DeliveryWorker>,
    /// `Idempotency-Key` answers.
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub(crate) expiry: ExpiryJobs,
    pub(crate) batches: BatchEvaluator,
    pub(crate) evaluation_log: Arc<dyn EvaluationRepository>,
    pub(crate) clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
    /// The service's evaluation time zone.
    pub(crate) timezone: chrono_tz::Tz,
    /// This process's name in leases.
    pub(crate) owner: String,
    pub(crate) lease_ttl: TimeDelta,
    pub(crate) retention_days: i64,
    pub(crate) retention_chunk: u32,
    pub(crate) built_in_retention: bool,
    /// Threads that commit a scenario run's batches at once
    /// ([`RuntimeConfig::commit_threads`], at least 1).
    pub(crate) commit_threads: usize,
    /// When the scheduler loop looks next whether the built-in retention is due.
    pub(crate) retention_check: std::sync::Mutex<Option<DateTime<Utc>>>,
    /// The outbox and the mentors, as retention prunes them.
    pub(crate) outbox: Arc<dyn Outbox>,
    pub(crate) mentor_log: Arc<dyn MentorRepository>,
    /// Wakes the scheduler loop.
    pub(crate) wake: Arc<tokio::sync::Notify>,
    /// The run threads and the runs waiting for one.
    pub(crate) pool: Arc<RunPool>,
    /// The runtime over [`RuntimeConfig::run_ports`] that processes runs
    /// and ticks; `None` when this one does (no separate run ports).
    pub(crate) runner: Option<Arc<Runtime>>,
}

/// What a runtime and its runner share: one run pool, one wake-up of the
/// scheduler loop, one notification worker.
#[derive(Clone)]
struct Shared {
    pool: Arc<RunPool>,
    wake: Arc<tokio::sync::Notify>,
    delivery: Arc<DeliveryWorker>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("owner", &self.owner)
            .field("lease_ttl", &self.lease_ttl)
            .field("timezone", &self.timezone)
            .field("separate_run_ports", &self.runner.is_some())
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// Wires the services over `config.ports`. Nothing starts: the caller
    /// spawns [`scheduler_loop`](crate::scheduler_loop) and
    /// [`DeliveryWorker::run`] when it serves.
    ///
    /// With [`RuntimeConfig::run_ports`], the runs, the scheduler loop and
    /// the notification worker reach storage through those, and the calls
    /// made on this runtime (the HTTP handlers') through `config.ports`:
    /// internally a second runtime over the run ports processes every run
    /// and tick, sharing this one's run pool, wake-up and worker.
    pub fn new(config: RuntimeConfig) -> Self {
        let background = config.run_ports.as_ref().unwrap_or(&config.ports);
        let worker = DeliveryWorker::new(
            OutboxService::new(
                background.outbox.clone(),
                config.clock.clone(),
                config.delivery.policy,
                config.delivery.claim_ttl,
            ),
            config.clock.clone(),
            config.rules.timezone,
            config.delivery.clone(),
            DeliveryWaker::new(),
        );
        let shared = Shared {
            pool: Arc::new(RunPool::new(config.run_threads)),
            wake: Arc::new(tokio::sync::Notify::new()),
            delivery: Arc::new(worker),
        };
        let runner = config.run_ports.clone().map(|ports| {
            let own = RuntimeConfig {
                ports,
                run_ports: None,
                ..config.clone()
            };
            Arc::new(Self::wire(own, shared.clone(), None))
        });
        Self::wire(config, shared, runner)
    }

    /// The services over `config.ports`, with what they share.
    fn wire(config: RuntimeConfig, shared: Shared, runner: Option<Arc<Runtime>>) -> Self {
        let RuntimeConfig {
            ports,
            run_ports: _,
            clock,
            ids,
            rules,
            owner,
            lease_ttl,
            retention_days,
            retention_chunk,
            built_in_retention,
            max_jobs,
            run_threads: _,
            commit_threads,
            delivery,
        } = config;
        let notifications = OutboxService::new(
            ports.outbox.clone(),
            clock.clone(),
            delivery.policy,
            delivery.claim_ttl,
        );
        let evaluations =
            EvaluationService::new(ports.evaluations.clone(), clock.clone(), ids.clone(), rules);
        Self {
            jobs: JobService::new(ports.jobs)
                .with_params_check(crate::params::check_params)
                .with_max_jobs(max_jobs),
            runs: ports.runs,
            mentors: MentorService::new(ports.mentors.clone(), clock.clone()),
            expiry: ExpiryJobs::new(ports.mentors.clone(), evaluations.clone()),
            mentor_log: ports.mentors,
            outbox: ports.outbox,
            evaluations,
            notifications,
            delivery: shared.delivery,
            idempotency: ports.idempotency,
            batches: BatchEvaluator::new(ports.batches, clock.clone(), ids.clone(), rules),
            evaluation_log: ports.evaluations,
            clock,
            ids,
            timezone: rules.timezone,
            owner,
            lease_ttl,
            retention_days,
            retention_chunk,
            built_in_retention,
            commit_threads: commit_threads.max(1),
            retention_check: std::sync::Mutex::new(None),
            wake: shared.wake,
            pool: shared.pool,
            runner,
        }
    }

    /// The runtime that processes runs and ticks: the one over the run
    /// ports, or this one.
    pub(crate) fn runner(self: &Arc<Self>) -> Arc<Self> {
        self.runner.clone().unwrap_or_else(|| Arc::clone(self))
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

    /// This process's name in the leases of the runs it processes.
    pub fn owner(&self) -> &str {
        &self.owner
    }
}
