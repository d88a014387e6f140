//! What a batch of a scenario-evaluation run is asked ([`BatchRequest`])
//! and what it answers ([`BatchReport`], [`BatchTotals`]), and the checks
//! of an orchestrated batch's ids ([`check_batch_ids`]).

use std::collections::HashSet;

use super::batch_repo::BatchWrite;
use crate::rules::{
    DEFAULT_LEAD_TIME_DAYS, DEFAULT_THRESHOLD_DAYS, MilestoneType, Scenario, ScenarioType,
};

/// The reason code of a user id that names no mentor: a result, not an error.
pub const UNKNOWN_USER: &str = "unknown_user";

/// One batch to evaluate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRequest {
    /// The run the batch belongs to.
    pub run_id: String,
    /// The batch's index in the run, from 0; a run has each index once.
    pub batch_index: i64,
    /// The mentors; a repeated id is evaluated once, unknown ids get an
    /// [`UNKNOWN_USER`] result.
    pub user_ids: Vec<String>,
    /// Record evaluations with `dry_run: true` and enqueue nothing.
    pub dry_run: bool,
    /// The scenarios, evaluated in this order for each mentor.
    pub scenarios: Vec<Scenario>,
}

impl BatchRequest {
    /// A real (not dry-run) batch over [`BatchRequest::default_scenarios`].
    pub fn new(run_id: impl Into<String>, batch_index: i64, user_ids: Vec<String>) -> Self {
        Self {
            run_id: run_id.into(),
            batch_index,
            user_ids,
            dry_run: false,
            scenarios: Self::default_scenarios(),
        }
    }

    /// What a run evaluates by default: inactivity with the default
    /// threshold, every milestone type, certification expiry with the
    /// default lead time.
    ///
    /// ```
    /// use scenario_engine::service::BatchRequest;
    /// assert_eq!(BatchRequest::default_scenarios().len(), 6);
    /// ```
    pub fn default_scenarios() -> Vec<Scenario> {
        let mut scenarios = vec![Scenario::Inactivity {
            threshold_days: DEFAULT_THRESHOLD_DAYS,
        }];
        scenarios.extend(
            MilestoneType::ALL
                .into_iter()
                .map(|milestone_type| Scenario::Milestone { milestone_type }),
        );
        scenarios.push(Scenario::CertificationExpiry {
            lead_time_days: DEFAULT_LEAD_TIME_DAYS,
        });
        scenarios
    }
}

/// The result of one (user, scenario type) of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchUserResult {
    /// The user id as given.
    pub user_id: String,
    /// The scenario type; `None` for an unknown user.
    pub scenario_type: Option<ScenarioType>,
    /// Whether a notification was enqueued (never in a dry run).
    pub notified: bool,
    /// The reported decision's reason code (see
    /// [`BatchWrite::decisions`](crate::service::BatchWrite::decisions)), or [`UNKNOWN_USER`].
    pub reason_code: String,
}

/// A batch decided and rendered but not written yet
/// ([`BatchEvaluator::prepare_batch`]); [`BatchEvaluator::commit_batch`]
/// writes it.
///
/// [`BatchEvaluator::prepare_batch`]: super::BatchEvaluator::prepare_batch
/// [`BatchEvaluator::commit_batch`]: super::BatchEvaluator::commit_batch
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedBatch {
    pub(super) write: BatchWrite,
    /// The ids asked for, each once, in the order of the request.
    pub(super) user_ids: Vec<String>,
    /// Those that name a mentor.
    pub(super) known: HashSet<String>,
}

impl PreparedBatch {
    /// The batch's index in its run.
    pub fn batch_index(&self) -> i64 {
        self.write.batch_index
    }

    /// The mentors the batch evaluates: the ids asked for that name one,
    /// each once (its batch result's `user_count`).
    pub fn user_count(&self) -> usize {
        self.known.len()
    }

    /// What the batch writes, for [`BatchEvaluator::commit_batches`]
    /// (which reports totals, not per-user results).
    ///
    /// [`BatchEvaluator::commit_batches`]: super::BatchEvaluator::commit_batches
    pub fn into_write(self) -> BatchWrite {
        self.write
    }
}

/// What a batch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchReport {
    /// The run.
    pub run_id: String,
    /// The batch's index.
    pub batch_index: i64,
    /// Distinct existing mentors evaluated.
    pub users_evaluated: i64,
    /// Notifications enqueued (committed with the batch).
    pub notifications_sent: i64,
    /// Milliseconds from the start of the batch to the start of its write,
    /// as stored in the batch result.
    pub duration_ms: i64,
    /// One result per (known user, scenario type), and one per unknown
    /// user, in the order of the request.
    pub results: Vec<BatchUserResult>,
}

/// What one committed batch added to its run's totals
/// ([`BatchEvaluator::commit_batches`]).
///
/// [`BatchEvaluator::commit_batches`]: super::BatchEvaluator::commit_batches
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchTotals {
    /// The batch's index.
    pub batch_index: i64,
    /// Distinct existing mentors evaluated.
    pub users_evaluated: i64,
    /// Notifications enqueued.
    pub notifications_sent: i64,
}

/// Most user ids one `evaluation-batch` call may name (docs/runs.md).
pub const MAX_BATCH_USER_IDS: usize = 500;

/// Why a list of user ids cannot be one orchestrated batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchIdsError {
    /// No ids at all.
    #[error("user_ids must name at least one user")]
    Empty,
    /// More than [`MAX_BATCH_USER_IDS`].
    #[error("user_ids names {count} users; at most {max} per batch")]
    TooMany {
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The same id twice.
    #[error("user_ids names `{0}` more than once")]
    Duplicate(String),
}

/// Checks the user ids of an orchestrated batch: 1 to
/// [`MAX_BATCH_USER_IDS`] of them, each once. Ids that name no mentor are
/// fine (they get an [`UNKNOWN_USER`] result).
///
/// # Errors
/// [`BatchIdsError`].
///
/// ```
/// use scenario_engine::service::{BatchIdsError, check_batch_ids};
/// let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
/// assert!(check_batch_ids(&ids(&["usr_a", "usr_b"])).is_ok());
/// assert_eq!(check_batch_ids(&ids(&[])), Err(BatchIdsError::Empty));
/// assert_eq!(check_batch_ids(&ids(&["usr_a", "usr_a"])), Err(BatchIdsError::Duplicate("usr_a".into())));
/// ```
pub fn check_batch_ids(user_ids: &[String]) -> Result<(), BatchIdsError> {
    if user_ids.is_empty() {
        return Err(BatchIdsError::Empty);
    }
    if user_ids.len() > MAX_BATCH_USER_IDS {
        return Err(BatchIdsError::TooMany {
            count: user_ids.len(),
            max: MAX_BATCH_USER_IDS,
        });
    }
    let mut seen = HashSet::with_capacity(user_ids.len());
    match user_ids.iter().find(|id| !seen.insert(id.as_str())) {
        Some(dup) => Err(BatchIdsError::Duplicate(dup.clone())),
        None => Ok(()),
    }
}
