//! The one value a [`Runtime`](crate::Runtime) is built from: the ports it
//! reaches storage through, its clock and ids, the rules, and the lease,
//! retention and delivery settings.

use std::sync::Arc;

use chrono::TimeDelta;
use run_log::{IdempotencyStore, RunRepository};
use scenario_engine::adapters::{SystemClock, UlidIds};
use scenario_engine::rules::Rules;
use scenario_engine::service::{
    BatchRepository, Clock, EvaluationRepository, IdSource, MentorRepository, Outbox,
};
use scheduler_core::JobRepository;

use crate::delivery::DeliveryConfig;

/// Where the runtime reads and writes: one port per concern, each a trait
/// its pure crate owns. [`Ports::of`] takes them all from one store (the
/// service's `storage_diesel::Store`); a test may swap one of them.
#[derive(Clone)]
pub struct Ports {
    /// The job registry.
    pub jobs: Arc<dyn JobRepository>,
    /// The run log, its batch plan and leases.
    pub runs: Arc<dyn RunRepository>,
    /// `Idempotency-Key` answers.
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// Mentors, certifications, preferences, activity.
    pub mentors: Arc<dyn MentorRepository>,
    /// Evaluations with their notifications.
    pub evaluations: Arc<dyn EvaluationRepository>,
    /// A run's batches: read a key range, write a batch whole.
    pub batches: Arc<dyn BatchRepository>,
    /// The notification outbox.
    pub outbox: Arc<dyn Outbox>,
}

impl Ports {
    /// Every port from one store that implements them all.
    pub fn of<S>(store: Arc<S>) -> Self
    where
        S: JobRepository
            + RunRepository
            + IdempotencyStore
            + MentorRepository
            + EvaluationRepository
            + BatchRepository
            + Outbox
            + 'static,
    {
        Self {
            jobs: store.clone(),
            runs: store.clone(),
            idempotency: store.clone(),
            mentors: store.clone(),
            evaluations: store.clone(),
            batches: store.clone(),
            outbox: store,
        }
    }
}

impl std::fmt::Debug for Ports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ports").finish_non_exhaustive()
    }
}

/// Everything a [`Runtime`](crate::Runtime) is built from.
/// [`RuntimeConfig::new`] fills in the defaults; change fields with struct
/// update syntax:
///
/// ```no_run
/// use std::sync::Arc;
/// use runtime::{Ports, Runtime, RuntimeConfig};
///
/// let store = Arc::new(storage_diesel::Store::open("./data/mentor-scheduler.db", 8)?);
/// let config = RuntimeConfig {
///     retention_days: 90,
///     ..RuntimeConfig::new(Ports::of(store))
/// };
/// let runtime = Arc::new(Runtime::new(config));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct RuntimeConfig {
    /// Storage.
    pub ports: Ports,
    /// "Now", for every service and loop (default: the wall clock).
    pub clock: Arc<dyn Clock>,
    /// Where new ids come from (default: ULIDs).
    pub ids: Arc<dyn IdSource>,
    /// The decision rules: evaluation time zone, cooldown (default: UTC, 3 days).
    pub rules: Rules,
    /// This process's name in run leases (default: `hostname-pid`).
    pub owner: String,
    /// How long a lease lasts without renewal (default 30 s). A running run
    /// renews it every third of that; a run whose lease lapsed is taken over.
    pub lease_ttl: TimeDelta,
    /// Days of runs and evaluations the retention job keeps (default 180).
    pub retention_days: i64,
    /// The notification worker's settings.
    pub delivery: DeliveryConfig,
}

impl RuntimeConfig {
    /// The defaults over `ports`.
    pub fn new(ports: Ports) -> Self {
        Self {
            ports,
            clock: Arc::new(SystemClock),
            ids: Arc::new(UlidIds::new()),
            rules: Rules::default(),
            owner: format!("{}-{}", hostname(), std::process::id()),
            lease_ttl: scheduler_core::DEFAULT_LEASE_TTL,
            retention_days: run_log::DEFAULT_RETENTION_DAYS,
            delivery: DeliveryConfig::default(),
        }
    }
}

impl std::fmt::Debug for RuntimeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeConfig")
            .field("rules", &self.rules)
            .field("owner", &self.owner)
            .field("lease_ttl", &self.lease_ttl)
            .field("retention_days", &self.retention_days)
            .field("delivery", &self.delivery)
            .finish_non_exhaustive()
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "instance".to_owned())
}
