//! The job runtime of Mentor Scheduler: everything that makes runs happen,
//! and nothing of HTTP.
//!
//! - [`Runtime`] wires the domain services over the storage [`Ports`],
//!   from one [`RuntimeConfig`].
//! - Starting runs: [`Runtime::trigger`] (a job, by hand),
//!   [`Runtime::start_invocation`] (an ad-hoc scenario evaluation); each run
//!   the service processes goes to a bounded pool of run threads, where it
//!   waits its turn with its lease kept (`pool.rs`).
//! - [`scheduler_loop`] and [`Runtime::tick`]: due jobs, misfires, skips,
//!   and the takeover of runs whose lease lapsed.
//! - The scenario-evaluation pipeline: a batch plan, then two threads (read
//!   and decide; commit) with group commit (`scenario_run.rs`).
//! - Retention in bounded chunks, by the retention job or, when no enabled
//!   job runs it, by the scheduler loop daily; the certification jobs
//!   (through `cert-expiry`).
//! - [`DeliveryWorker`]: the notification worker, over a [`Sink`].
//! - The registry and the run log as the job views read them
//!   ([`Runtime::job_detail`], [`Runtime::list_runs`], ...).
//!
//! Every rule comes from the pure crates (cron instants and the misfire
//! plan from `scheduler-core`, the run state machine from `run-log`,
//! decisions from `scenario-engine`, the certification jobs from
//! `cert-expiry`); this crate sequences them, owns the threads, loops and
//! timers, and turns outcomes into run records. Its errors
//! ([`RuntimeError`]) know no status codes: the HTTP shell maps them.

mod claim;
mod config;
mod defaults;
mod delivery;
mod drain;
mod enqueue;
mod error;
mod execute;
mod helper;
mod invocations;
mod jobs;
mod params;
mod pool;
mod queries;
mod reaper;
mod retention;
mod runtime;
mod scenario_run;
mod telemetry;
mod tick;

pub use claim::{InvocationRequest, SCENARIO_LOCK, TriggerRequest, lock_key};
pub use config::{DEFAULT_RETENTION_CHUNK, Ports, RuntimeConfig, hostname, instance_id};
pub use defaults::{DEFAULT_JOBS, DEFAULT_JOBS_MARKER};
pub use delivery::{
    Attempt, DEFAULT_BATCH_SIZE as DEFAULT_DELIVERY_BATCH_SIZE, DEFAULT_DELIVERY_TIMEOUT,
    DEFAULT_IDLE_POLL, DeliveryConfig, DeliveryWaker, DeliveryWorker, LogSink, Sink, Step,
    claim_ttl_for,
};
pub use error::{ErrorChain, RuntimeError};
pub use jobs::{JobDetail, JobKey, UPCOMING};
pub use params::{DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE, check_params};
pub use pool::queue::DEFAULT_RUN_THREADS;
pub use queries::{Preview, Report, ReportFormat, preview};
pub use retention::RETENTION_LOCK;
pub use runtime::Runtime;
pub use tick::scheduler_loop;
