//! The port: where runs and batch results live.

use chrono::{DateTime, Utc};

use crate::plan::PlannedBatch;
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

    /// Deletes a run, its batch results and its batch plan (never the
    /// notifications it enqueued). Returns whether it existed.
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

    /// Writes a run only if the stored run is still `running`
    /// (compare-and-set): a run cancelled meanwhile keeps its cancellation.
    /// The totals (`users_evaluated`, `notifications_dispatched`) Must stay
    /// as stored, since batches add to them while the run runs, and so Must
    /// `batch_size` and `planned_batches`, which only the run's start and
    /// its planning pass write. Returns whether it was written.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn finish_run(&self, run: &Run) -> Result<bool, StoreError>;

    /// Appends batches to a run's plan (chunks of one planning pass).
    ///
    /// # Errors
    /// [`StoreError::Conflict`]`("run_batches.batch_index")`, writing
    /// nothing, when one of the indices is planned already.
    fn insert_plan(&self, run_id: &str, batches: &[PlannedBatch]) -> Result<(), StoreError>;

    /// Marks a run's plan complete with `planned` batches
    /// ([`Run::planned_batches`]). Returns whether the run exists.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn complete_plan(&self, run_id: &str, planned: i64) -> Result<bool, StoreError>;

    /// Deletes a run's plan (one left incomplete by a process that died
    /// while planning), so that it can be planned again.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn clear_plan(&self, run_id: &str) -> Result<(), StoreError>;

    /// Up to `limit` planned batches of the run with an index above
    /// `after` (from the first when `None`) that have no batch result yet,
    /// in index order.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn unfinished_batches(
        &self,
        run_id: &str,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<PlannedBatch>, StoreError>;

    /// One past the largest `batch_index` with a batch result (0 when the
    /// run has none): the index of the next batch an orchestrator feeds.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn next_batch_index(&self, run_id: &str) -> Result<i64, StoreError>;

    /// Takes over a `running` run whose lease lapsed at `now`, for
    /// `owner` until `until`. Must succeed for exactly one of several
    /// racing callers (compare-and-set on the lapsed lease); returns
    /// whether this caller got it.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn take_over_lease(
        &self,
        id: &str,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
}
