//! The port: where runs and batch results live.

use chrono::{DateTime, Utc};

use crate::plan::PlannedBatch;
use crate::run::{BatchResult, BatchWindow, Run, Trigger};
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

/// What a lease renewal found: the run's stored status, and whether the
/// caller still holds its lease (owner and epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Renewal {
    /// The run's stored status.
    pub status: RunStatus,
    /// Whether the lease is still the caller's: `false` once another
    /// process took the run over (or it ended).
    pub held: bool,
}

/// The lease a process holds on a run: its owner and epoch. The plan
/// writes of a run take it, so that a process whose run was taken over
/// cannot change the plan its successor works from (fencing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The lease owner (the process's instance id).
    pub owner: String,
    /// The epoch it holds.
    pub epoch: i64,
}

impl Lease {
    /// The lease `run` was read or claimed with (no owner: an empty one,
    /// which holds nothing).
    pub fn of(run: &Run) -> Self {
        Self {
            owner: run.lease_owner.clone().unwrap_or_default(),
            epoch: run.lease_epoch,
        }
    }
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

    /// The job's newest run that did work and ended (`success`, `failed`
    /// or `cancelled`), newest by `invoked_at`, then id; skipped and missed
    /// firings are not results.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn last_finished_run(&self, job_id: &str) -> Result<Option<Run>, StoreError>;

    /// Writes every field of an existing run but its lease epoch (status
    /// changes are decided by the caller through [`RunStatus::transition`]).
    /// Returns whether it existed.
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

    /// The run's batch results in `window`, by `batch_index`: a long run's
    /// results a page at a time. Stores that can should read only the
    /// window; this one reads them all and keeps the window.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn batch_results_in(
        &self,
        run_id: &str,
        window: BatchWindow,
    ) -> Result<Vec<BatchResult>, StoreError> {
        let mut kept = Vec::new();
        for b in self.batch_results(run_id)? {
            if window.admits(b.batch_index, kept.len()) {
                kept.push(b);
            }
        }
        Ok(kept)
    }

    /// Deletes finished runs invoked before `cutoff`, with their batch
    /// results, and returns how many runs went.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn prune_runs_before(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Extends a running run's lease to `until` if `owner` holds it at
    /// `epoch`, and says what it found (`None` for an unknown run): the
    /// stored status, so that the heartbeat also tells a worker that its
    /// run was cancelled, and whether the lease is still held, so that a
    /// worker whose run was taken over stops (fencing).
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn renew_lease(
        &self,
        id: &str,
        owner: &str,
        epoch: i64,
        until: DateTime<Utc>,
    ) -> Result<Option<Renewal>, StoreError>;

    /// Lets go of a running run's lease held by `owner` at `epoch`: it
    /// lapses at `now`, so that another instance takes the run over at its
    /// next tick (a draining process). Returns whether it was held.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn release_lease(
        &self,
        id: &str,
        owner: &str,
        epoch: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Up to `limit` running runs whose lease lapsed at `now`, the longest
    /// lapsed first. Read off the `(status, lease_expires_at)` index, so a
    /// caller that takes each over (moving its lease past `now`) and asks
    /// again finds every lapsed run, however many run.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn expired_leases(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Run>, StoreError>;

    /// Writes a run only if the stored run is still `running` and its
    /// lease epoch is `run.lease_epoch` (compare-and-set): a run cancelled
    /// meanwhile keeps its cancellation, and a process whose run was taken
    /// over cannot end it.
    /// The totals (`users_evaluated`, `notifications_dispatched`) Must stay
    /// as stored, since batches add to them while the run runs, and so Must
    /// `batch_size` and `planned_batches`, which only the run's start and
    /// its planning pass write. Returns whether it was written.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn finish_run(&self, run: &Run) -> Result<bool, StoreError>;

    /// Appends batches to a run's plan (chunks of one planning pass). With
    /// `lease`, only while the run's stored lease is that one.
    ///
    /// # Errors
    /// [`StoreError::Conflict`]`("run_batches.batch_index")`, writing
    /// nothing, when one of the indices is planned already;
    /// `Conflict("runs.lease")`, writing nothing, when `lease` is not the
    /// run's any more.
    fn insert_plan(
        &self,
        run_id: &str,
        lease: Option<&Lease>,
        batches: &[PlannedBatch],
    ) -> Result<(), StoreError>;

    /// Marks a run's plan complete with `planned` batches
    /// ([`Run::planned_batches`]). With `lease`, only while the run's stored
    /// lease is that one. Returns whether it was written.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn complete_plan(
        &self,
        run_id: &str,
        lease: Option<&Lease>,
        planned: i64,
    ) -> Result<bool, StoreError>;

    /// Deletes a run's plan (one left incomplete by a process that died
    /// while planning), so that it can be planned again. With `lease`, only
    /// while the run's stored lease is that one.
    ///
    /// # Errors
    /// `Conflict("runs.lease")`, deleting nothing, when `lease` is not the
    /// run's any more.
    fn clear_plan(&self, run_id: &str, lease: Option<&Lease>) -> Result<(), StoreError>;

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

    /// Claims for `owner`, until `until`, up to `limit` planned batches of
    /// the run from index `from` on that have no batch result and no claim
    /// (or one that lapsed at `now`), in index order: the batches this
    /// instance evaluates next, whichever instance holds the run. Must hand
    /// a batch to one of several racing claimers only (`FOR UPDATE SKIP
    /// LOCKED` on PostgreSQL, one writer at a time on SQLite).
    ///
    /// A claimer passes one past the last index it claimed as `from`, so
    /// that a claim does not look again at the batches before it (a run's
    /// claims would otherwise cost its number of batches squared), and
    /// passes 0 once that finds nothing, to claim the lapsed claims behind.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn claim_batches(
        &self,
        run_id: &str,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        from: i64,
        limit: u32,
    ) -> Result<Vec<PlannedBatch>, StoreError>;

    /// Gives up `owner`'s claims on the run's batches that have no batch
    /// result yet (a draining instance), so that others claim them at once.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn release_batch_claims(&self, run_id: &str, owner: &str) -> Result<(), StoreError>;

    /// One past the largest `batch_index` with a batch result (0 when the
    /// run has none): the index of the next batch an orchestrator feeds.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn next_batch_index(&self, run_id: &str) -> Result<i64, StoreError>;

    /// Takes over a `running` run whose lease lapsed at `now`, for
    /// `owner` until `until`, one epoch up. Must succeed for exactly one of
    /// several racing callers (compare-and-set on the lapsed lease);
    /// returns the new epoch if this caller got it.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn take_over_lease(
        &self,
        id: &str,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<i64>, StoreError>;
}
