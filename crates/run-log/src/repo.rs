//! The port: where runs and batch results live.

use chrono::{DateTime, Utc};

use crate::run::{BatchResult, Run, Trigger};
use crate::status::RunStatus;

/// A storage failure, as this crate sees it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was hit; the name says which (`runs.lock`, `runs.job_instant`).
    #[error("conflict on {0}")]
    Conflict(&'static str),
    /// The backend failed.
    #[error("storage failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Filters of the run lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunFilter {
    /// Only this job's runs.
    pub job_id: Option<String>,
    /// Only this handler's runs.
    pub kind: Option<String>,
    /// Only this status.
    pub status: Option<RunStatus>,
    /// Only this trigger.
    pub trigger: Option<Trigger>,
}

/// Where runs live.
pub trait RunRepository: Send + Sync {
    /// Stores a new run. A `running` run with a `lock_key` takes that lock.
    ///
    /// # Errors
    /// Must return [`StoreError::Conflict`]`("runs.lock")`, writing nothing,
    /// when another run with the same lock key is `running`, and
    /// `Conflict("runs.job_instant")` when the job already has a run for the
    /// same `scheduled_for` (each instant fires once, across instances).
    fn insert_run(&self, run: &Run, lock_key: Option<&str>) -> Result<(), StoreError>;

    /// One run.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn get_run(&self, id: &str) -> Result<Option<Run>, StoreError>;

    /// The `running` run holding `lock_key`, if any.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn running_with_lock(&self, lock_key: &str) -> Result<Option<Run>, StoreError>;

    /// A page of runs, newest first (`invoked_at`, then id, descending), and the total.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn list_runs(
        &self,
        filter: &RunFilter,
        offset: u64,
        limit: u32,
    ) -> Result<(Vec<Run>, u64), StoreError>;

    /// Writes every field of an existing run (status changes are decided by
    /// the caller through [`RunStatus::transition`]). Returns whether it existed.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn update_run(&self, run: &Run) -> Result<bool, StoreError>;

    /// Deletes a run and its batch results (never the notifications it
    /// enqueued). Returns whether it existed.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn delete_run(&self, id: &str) -> Result<bool, StoreError>;

    /// The run's batch results, by `batch_index`.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn batch_results(&self, run_id: &str) -> Result<Vec<BatchResult>, StoreError>;

    /// Deletes finished runs invoked before `cutoff`, with their batch
    /// results, and returns how many runs went.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn prune_runs_before(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Extends a running run's lease to `until` if `owner` holds it, and
    /// returns the run's stored status (`None` for an unknown run), so that
    /// the heartbeat also tells a worker that its run was cancelled.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn renew_lease(
        &self,
        id: &str,
        owner: &str,
        until: DateTime<Utc>,
    ) -> Result<Option<RunStatus>, StoreError>;

    /// Writes a finished run only if the stored run is still `running`
    /// (compare-and-set): a run cancelled meanwhile keeps its cancellation.
    /// Returns whether it was written.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn finish_run(&self, run: &Run) -> Result<bool, StoreError>;
}
