//! The one value a [`Runtime`](crate::Runtime) is built from: the ports it
//! reaches storage through, its clock and ids, the rules, and the lease,
//! retention, registry, run pool and delivery settings.

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

/// Rows retention deletes per transaction unless the configuration says
/// otherwise: a chunk of 1,000 holds SQLite's write lock for milliseconds.
pub const DEFAULT_RETENTION_CHUNK: u32 = 1000;

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
/// `ports` serve the calls made on the runtime (the HTTP handlers');
/// `run_ports`, when given, serve the runs, the scheduler loop and the
/// notification worker, so that neither side waits for the other's
/// database connections (the service takes them from two stores with
/// pools of their own, `storage_diesel::Store::with_own_pool`).
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
    /// Storage, for the calls made on the runtime.
    pub ports: Ports,
    /// Storage for the runs, the scheduler loop and the notification
    /// worker; `None` (the default) uses `ports` for them as well.
    pub run_ports: Option<Ports>,
    /// "Now", for every service and loop (default: the wall clock).
    pub clock: Arc<dyn Clock>,
    /// Where new ids come from (default: ULIDs).
    pub ids: Arc<dyn IdSource>,
    /// The decision rules: evaluation time zone, cooldown (default: UTC, 3 days).
    pub rules: Rules,
    /// This process's name in run leases (default: [`instance_id`], a
    /// ULID new to each process: `hostname-pid` collided across containers,
    /// where every process is pid 1).
    pub owner: String,
    /// How long a lease lasts without renewal (default 30 s). A running run
    /// renews it every third of that; a run whose lease lapsed is taken over.
    pub lease_ttl: TimeDelta,
    /// Days of runs, evaluations, delivered and cancelled notifications
    /// and activity events the retention job keeps (default 180).
    pub retention_days: i64,
    /// Rows retention deletes per transaction (default
    /// [`DEFAULT_RETENTION_CHUNK`](crate::DEFAULT_RETENTION_CHUNK), 1,000):
    /// SQLite's other writers wait for one chunk at most.
    pub retention_chunk: u32,
    /// Whether the scheduler loop prunes by itself, daily, while no
    /// enabled job runs the retention handler (default true; the retention
    /// job's cadence is a setting, not the only switch).
    pub built_in_retention: bool,
    /// The most jobs the registry holds: creating one more is refused
    /// (default [`scheduler_core::DEFAULT_MAX_JOBS`], 10,000).
    pub max_jobs: u64,
    /// Threads that process runs at once (default
    /// [`DEFAULT_RUN_THREADS`](crate::DEFAULT_RUN_THREADS), 4; at least 1).
    /// More runs wait their turn, `running`, their leases kept.
    pub run_threads: usize,
    /// Threads that commit a scenario-evaluation run's batches at once,
    /// each in its own transactions on its own connection (default 1; at
    /// least 1). PostgreSQL commits them side by side; SQLite has one
    /// writer at a time, so more than one there only waits.
    pub commit_threads: usize,
    /// The notification worker's settings.
    pub delivery: DeliveryConfig,
}

impl RuntimeConfig {
    /// The defaults over `ports`.
    pub fn new(ports: Ports) -> Self {
        Self {
            ports,
            run_ports: None,
            clock: Arc::new(SystemClock),
            ids: Arc::new(UlidIds::new()),
            rules: Rules::default(),
            owner: instance_id(),
            lease_ttl: scheduler_core::DEFAULT_LEASE_TTL,
            retention_days: run_log::DEFAULT_RETENTION_DAYS,
            retention_chunk: DEFAULT_RETENTION_CHUNK,
            built_in_retention: true,
            max_jobs: scheduler_core::DEFAULT_MAX_JOBS,
            run_threads: crate::pool::queue::DEFAULT_RUN_THREADS,
            commit_threads: 1,
            delivery: DeliveryConfig::default(),
        }
    }
}

impl std::fmt::Debug for RuntimeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeConfig")
            .field("run_ports", &self.run_ports.is_some())
            .field("rules", &self.rules)
            .field("owner", &self.owner)
            .field("lease_ttl", &self.lease_ttl)
            .field("retention_days", &self.retention_days)
            .field("retention_chunk", &self.retention_chunk)
            .field("built_in_retention", &self.built_in_retention)
            .field("max_jobs", &self.max_jobs)
            .field("run_threads", &self.run_threads)
            .field("commit_threads", &self.commit_threads)
            .field("delivery", &self.delivery)
            .finish_non_exhaustive()
    }
}

/// A new instance id: `ins_` and a ULID, random for each call, so that no
/// two processes (or two runtimes of one test) ever share one.
pub fn instance_id() -> String {
    format!("ins_{}", ulid::Ulid::new())
}

/// The machine's host name, for logs (`instance` when it cannot be read).
pub fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "instance".to_owned())
}

#[cfg(test)]
mod tests {
    use super::instance_id;

    /// Two processes (here two calls) never share an instance id.
    #[test]
    fn instance_ids_are_random_ulids() {
        let (a, b) = (instance_id(), instance_id());
        assert_ne!(a, b);
        for id in [&a, &b] {
            let ulid = id.strip_prefix("ins_").unwrap();
            assert!(ulid::Ulid::from_string(ulid).is_ok(), "{id}");
        }
    }
}
