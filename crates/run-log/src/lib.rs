//! Run records of Mentor Scheduler (pure): what ran, when, how it ended.
//!
//! A [`Run`] is one execution of a job's handler, scheduled or ad hoc. Its
//! [`RunStatus`] moves only along the state machine of docs/runs.md
//! (`running` to `success`, `failed` or `cancelled`; `skipped` and `missed`
//! are recorded finished; nothing goes back), which [`RunStatus::transition`]
//! and [`Run::finish`] enforce. Scenario-evaluation runs carry
//! [`BatchResult`]s; [`retention_cutoff`] says what the retention job prunes.
//!
//! The crate refuses to know about storage, HTTP, async or the clock: every
//! function takes "now" as an argument.
//!
//! ```
//! use chrono::{TimeDelta, TimeZone, Utc};
//! use run_log::{Run, RunStatus, Trigger};
//!
//! let started = Utc.with_ymd_and_hms(2026, 3, 26, 2, 0, 0).unwrap();
//! let mut run = Run::start("run_01".into(), "certification_expiry_check", Trigger::Schedule, started);
//! run.scheduled_for = Some(started);
//! run.result_summary = Some(serde_json::json!({"mentors_checked": 124, "errors": 0}));
//! run.finish(RunStatus::Success, started + TimeDelta::seconds(72), None).unwrap();
//! assert_eq!(run.status, RunStatus::Success);
//! assert_eq!(run.duration_ms, Some(72_000));
//! ```
#![warn(missing_docs)]

mod idempotency;
mod memory;
mod plan;
mod repo;
mod run;
mod status;
mod update;

pub use idempotency::{
    Claim, IDEMPOTENCY_WINDOW, IN_PROGRESS_WINDOW, IdempotencyStore, InMemoryIdempotency,
    StoredAnswer,
};
pub use memory::InMemoryRuns;
pub use plan::{BatchPlanner, PlannedBatch};
pub use repo::{Lease, Renewal, RunFilter, RunRepository, StoreError};
pub use run::{
    BatchResult, BatchWindow, DEFAULT_RETENTION_DAYS, EXTERNAL_BATCH_WINDOW, EXTERNAL_OWNER, Run,
    Trigger, retention_cutoff,
};
pub use status::{IllegalTransition, RunStatus, Transition, UnknownStatus};
pub use update::{RunUpdate, UpdateRefused};
