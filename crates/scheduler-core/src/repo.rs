//! The port: what the scheduler needs from storage.
//!
//! [`InMemoryJobs`](crate::InMemoryJobs) (in this crate) and
//! `storage_diesel`'s store implement it; every "Must" below is part of the
//! contract both honour.

use chrono::{DateTime, Utc};

use crate::job::{Handler, Job};

/// A storage failure, as the domain sees it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was hit; the name says which (`jobs.name`, `jobs.id`).
    #[error("conflict on {0}")]
    Conflict(&'static str),
    /// The backend failed.
    #[error("storage failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Where jobs live.
///
/// Plain functions, so that `Arc<dyn JobRepository>` works; the async edge
/// is the API, which calls these on a blocking thread.
pub trait JobRepository: Send + Sync {
    /// Stores a new job.
    ///
    /// # Errors
    /// Must return [`StoreError::Conflict`]`("jobs.name")` when another job
    /// has the same name (compared exactly) and
    /// [`StoreError::Conflict`]`("jobs.id")` when the id is taken;
    /// [`StoreError::Backend`] when storage fails.
    fn insert(&self, job: &Job) -> Result<(), StoreError>;

    /// Stores a new job unless `max_jobs` jobs are stored already; returns
    /// whether it was stored. Counting and inserting Must be one step, so
    /// that jobs created at once, in one process or several, never pass
    /// the cap together.
    ///
    /// # Errors
    /// As [`insert`](Self::insert).
    fn insert_capped(&self, job: &Job, max_jobs: u64) -> Result<bool, StoreError>;

    /// One job by id.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn get(&self, id: &str) -> Result<Option<Job>, StoreError>;

    /// One job by its exact name.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn get_by_name(&self, name: &str) -> Result<Option<Job>, StoreError>;

    /// A page of jobs ordered by `created_at`, then id, and the number of
    /// jobs matching over all pages. `page` counts from 1 (0 reads as 1);
    /// `handler` keeps only the jobs of that handler.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn list(
        &self,
        page: u32,
        limit: u32,
        handler: Option<Handler>,
    ) -> Result<(Vec<Job>, u64), StoreError>;

    /// Replaces the stored job with the same id; `false` when there is none.
    /// Must leave `last_run_at` and `last_run_status` as stored: they belong
    /// to [`record_last_run`](Self::record_last_run), and an update racing
    /// with a finishing run must not undo it.
    ///
    /// # Errors
    /// Must return [`StoreError::Conflict`]`("jobs.name")` when another job
    /// has the new name; [`StoreError::Backend`] when storage fails.
    fn update(&self, job: &Job) -> Result<bool, StoreError>;

    /// Removes a job; `false` when there was none. Its runs are not touched.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn delete(&self, id: &str) -> Result<bool, StoreError>;

    /// Enabled jobs whose `next_run_at` is at or before `now`, oldest
    /// `next_run_at` first (then by id), at most `limit`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Job>, StoreError>;

    /// The earliest `next_run_at` of the enabled jobs: when the scheduler
    /// loop should wake next. `None` when nothing is scheduled.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn next_wake(&self) -> Result<Option<DateTime<Utc>>, StoreError>;

    /// Inserts `jobs` together with the marker `marker`, in one transaction,
    /// unless the marker exists: the default jobs are registered once, a
    /// default job a user deleted stays deleted, and instances starting
    /// together register them once. Returns whether this call inserted them.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails; a job whose name is taken
    /// (a user registered it first) is skipped, not an error.
    fn seed_once(&self, marker: &str, jobs: &[Job], now: DateTime<Utc>)
    -> Result<bool, StoreError>;

    /// Moves `next_run_at` from `expected` to `next`, only if it is still
    /// `expected` (compare-and-set: a job changed meanwhile keeps what its
    /// update computed). Returns whether it moved.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn set_next_run(
        &self,
        id: &str,
        expected: Option<DateTime<Utc>>,
        next: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError>;

    /// Writes only `last_run_at` and `last_run_status`; `false` when the job
    /// is gone.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn record_last_run(
        &self,
        id: &str,
        started: DateTime<Utc>,
        status: &str,
    ) -> Result<bool, StoreError>;
}
