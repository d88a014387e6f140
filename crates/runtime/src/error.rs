//! What a runtime operation can fail with, and how errors are logged.

use std::fmt;

use run_log::{RunStatus, StoreError, UpdateRefused};
use scenario_engine::service::{BatchIdsError, EvaluationError};
use scheduler_core::{JobError, ScheduleError};

/// Why a runtime operation was refused. The HTTP shell maps each variant
/// to a status and an error code; nothing here knows about HTTP.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// A job operation failed (unknown job, validation, duplicate name, ...).
    #[error(transparent)]
    Job(#[from] JobError),
    /// The job's lock is held by a running run.
    #[error("job `{job_id}` is already running (run `{run_id}`)")]
    LockHeld {
        /// The job.
        job_id: String,
        /// The run holding the lock.
        run_id: String,
    },
    /// No run with this id.
    #[error("run `{0}` not found")]
    RunNotFound(String),
    /// A scenario-evaluation run the service processes holds the shared lock.
    #[error("a scenario evaluation is already running (run `{run_id}`)")]
    InvocationRunning {
        /// The running run.
        run_id: String,
        /// Its job, if it came from one.
        job_id: Option<String>,
    },
    /// The run is over: it takes no more batches, and stays as it is.
    #[error("run `{run_id}` is {status}: it takes no more batches")]
    RunFinished {
        /// The run.
        run_id: String,
        /// How it ended.
        status: RunStatus,
    },
    /// The service processes this run itself: no orchestrator feeds it.
    #[error("run `{0}` is processed by the service; only external runs take batches")]
    NotExternal(String),
    /// A running run cannot be deleted.
    #[error("run `{0}` is still running; cancel it first")]
    RunRunning(String),
    /// The user ids of a batch are not acceptable.
    #[error(transparent)]
    BatchIds(#[from] BatchIdsError),
    /// A change to a run that the run-log rules refuse.
    #[error(transparent)]
    UpdateRefused(#[from] UpdateRefused),
    /// Evaluating a batch failed in storage.
    #[error("evaluating the batch failed")]
    Batch(#[source] EvaluationError),
    /// The run state machine refused the change.
    #[error(transparent)]
    IllegalTransition(#[from] run_log::IllegalTransition),
    /// The job has no finished run yet (its last result was asked for).
    #[error("job `{0}` has not finished a run yet")]
    NeverRan(String),
    /// The run has no downloadable report.
    #[error("run `{run_id}` has no report: {why}")]
    NoReport {
        /// The run.
        run_id: String,
        /// Why not: another kind, or not a success.
        why: &'static str,
    },
    /// A stored report that cannot be read back (a bug, not bad input).
    #[error("the report of run `{0}` could not be read back")]
    CorruptReport(String),
    /// The run log failed.
    #[error("run log storage failed")]
    Runs(#[source] StoreError),
}

impl From<StoreError> for RuntimeError {
    fn from(e: StoreError) -> Self {
        Self::Runs(e)
    }
}

impl From<ScheduleError> for RuntimeError {
    fn from(e: ScheduleError) -> Self {
        Self::Job(e.into())
    }
}

/// Formats an error with its whole source chain, for logs: `a: b: c`.
///
/// ```
/// use runtime::ErrorChain;
/// let e = std::io::Error::other("disk full");
/// assert_eq!(ErrorChain(&e).to_string(), "disk full");
/// ```
pub struct ErrorChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}
