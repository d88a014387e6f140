//! [`Runtime`]: the services over the ports, wired once from a
//! [`RuntimeConfig`], and the few facts every part of the runtime shares
//! (the clock, ids, the lease settings, the scheduler loop's wake-up).
//!
//! What the runtime does is split by concern, each an `impl Runtime` block
//! of its own file: `claim.rs` (starting runs), `execute.rs` (running a
//! handler and recording the end), `scenario_run.rs` (the batch pipeline),
//! `tick.rs` (the scheduler loop, misfires), `reaper.rs` (lease takeover),
//! `retention.rs`, `invocations.rs` (runs fed from outside), `jobs.rs` and
//! `queries.rs` (the registry and the run log as the views read them).

use std::sync::Arc;

use cert_expiry::ExpiryJobs;
use chrono::{DateTime, TimeDelta, Utc};
use run_log::{IdempotencyStore, RunRepository};
use scenario_engine::service::{
    BatchEvaluator, Clock, EvaluationRepository, EvaluationService, IdSource, MentorService,
    OutboxService,
};
use scheduler_core::JobService;

use crate::config::RuntimeConfig;
use crate::delivery::{DeliveryWaker, DeliveryWorker};

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
    /// Wakes the scheduler loop.
    pub(crate) wake: tokio::sync::Notify,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("owner", &self.owner)
            .field("lease_ttl", &self.lease_ttl)
            .field("timezone", &self.timezone)
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// Wires the services over `config.ports`. Nothing starts: the caller
    /// spawns [`scheduler_loop`](crate::scheduler_loop) and
    /// [`DeliveryWorker::run`] when it serves.
    pub fn new(config: RuntimeConfig) -> Self {
        let RuntimeConfig {
            ports,
            clock,
            ids,
            rules,
            owner,
            lease_ttl,
            retention_days,
            delivery,
        } = config;
        let notifications = OutboxService::new(
            ports.outbox,
            clock.clone(),
            delivery.policy,
            delivery.claim_ttl,
        );
        let worker = DeliveryWorker::new(
            notifications.clone(),
            clock.clone(),
            rules.timezone,
            delivery,
            DeliveryWaker::new(),
        );
        let evaluations =
            EvaluationService::new(ports.evaluations.clone(), clock.clone(), ids.clone(), rules);
        Self {
            jobs: JobService::new(ports.jobs).with_params_check(crate::params::check_params),
            runs: ports.runs,
            mentors: MentorService::new(ports.mentors.clone(), clock.clone()),
            expiry: ExpiryJobs::new(ports.mentors, evaluations.clone()),
            evaluations,
            notifications,
            delivery: Arc::new(worker),
            idempotency: ports.idempotency,
            batches: BatchEvaluator::new(ports.batches, clock.clone(), ids.clone(), rules),
            evaluation_log: ports.evaluations,
            clock,
            ids,
            timezone: rules.timezone,
            owner,
            lease_ttl,
            retention_days,
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

    /// This process's name in the leases of the runs it processes.
    pub fn owner(&self) -> &str {
        &self.owner
    }
}
