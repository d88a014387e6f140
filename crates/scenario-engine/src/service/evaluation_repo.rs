//! The evaluation port: what [`EvaluationService`](crate::service::EvaluationService)
//! needs from storage, the records it writes and reads, and the outbox row
//! it enqueues with a decision that fires.

use chrono::{DateTime, Utc};

use super::json_text::JsonText;
use super::mentor_repo::MentorRecord;
use super::store::{MaybeMentor, PageRequest, Paged, StoreError};
use crate::rules::{MilestoneType, OwnedHistory, ReasonCode, ScenarioType, UnknownName};

/// Everything one evaluation reads: the mentor, recorded milestones, and
/// their notification history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// The mentor with certifications and preferences.
    pub record: MentorRecord,
    /// Recorded milestone times, by [`MilestoneType::index`].
    pub milestones_achieved_at: [Option<DateTime<Utc>>; 4],
    /// Notifications already enqueued.
    pub history: OwnedHistory,
}

/// One recorded decision (`trg_` id).
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluationRecord {
    /// `trg_` + a ULID whose time is `evaluated_at`'s millisecond
    /// ([`IdSource::id_at`](crate::service::IdSource::id_at)).
    pub id: String,
    /// The mentor.
    pub user_id: String,
    /// The scenario.
    pub scenario_type: ScenarioType,
    /// The decision, possibly overridden.
    pub should_notify: bool,
    /// When it was decided (whole seconds).
    pub evaluated_at: DateTime<Utc>,
    /// The numbers behind it, possibly replaced by an override: a JSON
    /// object, kept as its text.
    pub evaluation_metadata: JsonText,
    /// The sentence.
    pub reason: String,
    /// The machine code.
    pub reason_code: ReasonCode,
    /// The run it belongs to, if any.
    pub run_id: Option<String>,
    /// The run's batch that decided it: with `run_id`, the batch's per-user
    /// result (docs/architecture.md, "Data model"). `None` outside runs.
    pub batch_index: Option<i64>,
    /// Whether it was a dry run (never notifies, never counts).
    pub dry_run: bool,
}

/// Status of an outbox notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationStatus {
    /// Waiting for delivery; counts for cooldown.
    Pending,
    /// Delivered; counts for cooldown.
    Delivered,
    /// Gave up after the last attempt.
    Failed,
    /// Cancelled (for example by an override).
    Cancelled,
}

impl NotificationStatus {
    /// Every status.
    pub const ALL: [NotificationStatus; 4] = [
        Self::Pending,
        Self::Delivered,
        Self::Failed,
        Self::Cancelled,
    ];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses a wire name.
    ///
    /// # Errors
    /// [`UnknownName`] listing the statuses.
    pub fn parse(s: &str) -> Result<Self, UnknownName> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownName::new("status", s, Self::ALL.iter().map(|t| t.as_str())))
    }
}

/// An outbox row to enqueue with its evaluation (`ntf_` id).
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotification {
    /// `ntf_` + a ULID whose time is `created_at`'s millisecond
    /// ([`IdSource::id_at`](crate::service::IdSource::id_at)).
    pub id: String,
    /// The mentor.
    pub user_id: String,
    /// The mentor's organisation.
    pub org_id: String,
    /// The scenario.
    pub scenario_type: ScenarioType,
    /// Once-only key (see [`DedupeKey::render`](crate::rules::DedupeKey::render)).
    pub dedupe_key: String,
    /// What the sink delivers.
    pub payload: serde_json::Value,
    /// When it was enqueued.
    pub created_at: DateTime<Utc>,
    /// The run, if any.
    pub run_id: Option<String>,
    /// The evaluation that fired it.
    pub evaluation_id: Option<String>,
}

/// Filters of the evaluation list; every one is backed by an index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvaluationFilter {
    /// Only this mentor.
    pub user_id: Option<String>,
    /// Only this scenario.
    pub scenario_type: Option<ScenarioType>,
    /// Only this outcome.
    pub should_notify: Option<bool>,
    /// Only this run.
    pub run_id: Option<String>,
    /// Only this reason code.
    pub reason_code: Option<ReasonCode>,
    /// Only dry runs, or only real ones.
    pub dry_run: Option<bool>,
    /// `evaluated_at >= from`.
    pub from: Option<DateTime<Utc>>,
    /// `evaluated_at <= to`.
    pub to: Option<DateTime<Utc>>,
    /// A cursor, not a filter: only the evaluations after the one with this
    /// id in the list's order (newest first, so ids below it). The total
    /// still counts every evaluation the filters match, and a page behind
    /// a cursor starts where the cursor is, without counting past rows.
    pub after: Option<String>,
}

impl EvaluationFilter {
    /// Whether the filter matches every evaluation (a cursor is no filter).
    ///
    /// ```
    /// use scenario_engine::service::EvaluationFilter;
    ///
    /// let cursor = EvaluationFilter { after: Some("trg_01".into()), ..EvaluationFilter::default() };
    /// assert!(cursor.is_unfiltered());
    /// let mine = EvaluationFilter { user_id: Some("usr_1".into()), ..EvaluationFilter::default() };
    /// assert!(!mine.is_unfiltered());
    /// ```
    pub fn is_unfiltered(&self) -> bool {
        let Self {
            user_id,
            scenario_type,
            should_notify,
            run_id,
            reason_code,
            dry_run,
            from,
            to,
            after: _,
        } = self;
        user_id.is_none()
            && scenario_type.is_none()
            && should_notify.is_none()
            && run_id.is_none()
            && reason_code.is_none()
            && dry_run.is_none()
            && from.is_none()
            && to.is_none()
    }

    /// Whether the filter is one mentor and nothing else (a cursor is no
    /// filter): the list of one mentor's evaluations, as a mentor's page
    /// shows it.
    ///
    /// ```
    /// use scenario_engine::service::EvaluationFilter;
    ///
    /// let mine = EvaluationFilter { user_id: Some("usr_1".into()), ..EvaluationFilter::default() };
    /// assert!(mine.is_one_mentor());
    /// let of_a_run = EvaluationFilter { run_id: Some("run_01".into()), ..mine.clone() };
    /// assert!(!of_a_run.is_one_mentor());
    /// assert!(!EvaluationFilter::default().is_one_mentor());
    /// ```
    pub fn is_one_mentor(&self) -> bool {
        self.user_id.is_some()
            && Self {
                user_id: None,
                ..self.clone()
            }
            .is_unfiltered()
    }
}

/// A validated override of a recorded evaluation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EvaluationOverride {
    /// New outcome; `false` cancels the evaluation's still-pending notification.
    pub should_notify: Option<bool>,
    /// Replacement metadata (a JSON object).
    pub evaluation_metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Where evaluations and their outbox notifications live.
pub trait EvaluationRepository: Send + Sync {
    /// Loads what evaluating `user_id` needs; `None` for an unknown mentor.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn load_subject(&self, user_id: &str) -> MaybeMentor<Subject>;

    /// Records an evaluation, its notification (if it fired and is not a dry
    /// run) and a newly seen milestone time, in one transaction.
    ///
    /// # Errors
    /// Must return [`StoreError::Conflict`]`("notifications.dedupe_key")`,
    /// writing nothing, when the notification's dedupe key was taken in the
    /// meantime; the service then records the decision as `already_notified`.
    fn record_evaluation(
        &self,
        evaluation: &EvaluationRecord,
        notification: Option<&NewNotification>,
        milestone_seen: Option<(MilestoneType, DateTime<Utc>)>,
    ) -> Result<(), StoreError>;

    /// One evaluation.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn get_evaluation(&self, id: &str) -> Result<Option<EvaluationRecord>, StoreError>;

    /// A page of evaluations, newest first (`evaluated_at`, then id, descending).
    ///
    /// A store may read that order, and the `from`/`to` range, off the ids
    /// alone: the services make every id carry its instant
    /// ([`IdSource::id_at`](crate::service::IdSource::id_at)). Must: the range is
    /// exact for every row, including rows whose id lies up to a minute
    /// after their instant (ids made before they carried it).
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn list_evaluations(
        &self,
        filter: &EvaluationFilter,
        page: PageRequest,
    ) -> Result<Paged<EvaluationRecord>, StoreError>;

    /// Applies an override in one transaction; `should_notify: Some(false)`
    /// Must move the evaluation's `pending` notification to `cancelled`.
    /// `None` for an unknown id.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn override_evaluation(
        &self,
        id: &str,
        change: &EvaluationOverride,
        now: DateTime<Utc>,
    ) -> Result<Option<EvaluationRecord>, StoreError>;

    /// Deletes an evaluation; its notification stays with `evaluation_id`
    /// set to null. Returns whether it existed.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn delete_evaluation(&self, id: &str) -> Result<bool, StoreError>;

    /// Retention: deletes at most `limit` evaluations decided before
    /// `cutoff`, oldest first, in one transaction, and returns how many went
    /// (fewer than `limit`: none is left). Their notifications stay, with
    /// `evaluation_id` set to null, and so do the dedupe keys.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails; nothing is deleted then.
    fn prune_evaluations_before(
        &self,
        cutoff: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError>;
}
