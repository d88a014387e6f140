//! The ports: what the evaluation and mentor services need from storage.
//!
//! `InMemoryStore` (in this crate) and `storage_diesel::Store` implement
//! them; every "Must" below is part of the contract both honour.

use chrono::{DateTime, Utc};

use crate::import::{ImportCounts, ImportFeed};
use crate::mentor::{Certification, Mentor, MentorStatus, Pause, Preferences};
use crate::scenario::{MilestoneType, ScenarioType};
use crate::snapshot::OwnedHistory;

/// A storage failure, as the domain sees it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was hit; the name says which (for example `notifications.dedupe_key`).
    #[error("conflict on {0}")]
    Conflict(&'static str),
    /// The backend failed.
    #[error("storage failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A page request: `page` from 1, `limit` rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Page number, from 1.
    pub page: u32,
    /// Rows per page.
    pub limit: u32,
}

impl PageRequest {
    /// Rows to skip.
    pub const fn offset(&self) -> u64 {
        (self.page as u64).saturating_sub(1) * self.limit as u64
    }
}

/// One page of results and the total number of matches.
#[derive(Debug, Clone, PartialEq)]
pub struct Paged<T> {
    /// The rows of the page.
    pub rows: Vec<T>,
    /// Matches over all pages.
    pub total: u64,
}

/// A mentor with the records the API shows beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MentorRecord {
    /// The mentor.
    pub mentor: Mentor,
    /// Certifications, ordered by `certification_id`.
    pub certifications: Vec<Certification>,
    /// Notification switches.
    pub preferences: Preferences,
}

/// Filters of the mentor list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MentorFilter {
    /// Only this organisation.
    pub org_id: Option<String>,
    /// Only this status.
    pub status: Option<MentorStatus>,
}

/// A validated create-or-update of a mentor; `None` keeps the current value
/// (or takes the default on create).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MentorUpsert {
    /// Organisation; required on create.
    pub org_id: Option<String>,
    /// `Active` or `Inactive` (pauses go through their own calls).
    pub status: Option<MentorStatus>,
    /// Last activity.
    pub last_active_at: Option<DateTime<Utc>>,
    /// Completed sessions.
    pub sessions_count: Option<u32>,
    /// First completed session.
    pub first_session_at: Option<DateTime<Utc>>,
    /// When the mentor was first seen (create only; default now).
    pub created_at: Option<DateTime<Utc>>,
}

impl MentorUpsert {
    /// The mentor after this upsert at `now`: `existing` with the given
    /// fields changed (`created_at` is kept, the pause too), or a new mentor
    /// with the defaults (status active, no pause, 0 sessions, `created_at`
    /// now); `None` for a create without `org_id`.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use scenario_engine::{MentorStatus, MentorUpsert};
    /// let now = Utc.with_ymd_and_hms(2026, 3, 25, 8, 0, 0).unwrap();
    /// let create = MentorUpsert { org_id: Some("org_oslo_01".into()), ..MentorUpsert::default() };
    /// let created = create.apply("usr_mentor_7821", None, now).unwrap();
    /// assert_eq!((created.status, created.sessions_count, created.created_at), (MentorStatus::Active, 0, now));
    /// let later = now + chrono::TimeDelta::days(1);
    /// let update = MentorUpsert { sessions_count: Some(3), ..MentorUpsert::default() };
    /// let updated = update.apply("usr_mentor_7821", Some(&created), later).unwrap();
    /// assert_eq!((updated.org_id.as_str(), updated.sessions_count), ("org_oslo_01", 3));
    /// assert_eq!((updated.created_at, updated.updated_at), (now, later));
    /// assert!(MentorUpsert::default().apply("usr_new", None, now).is_none());
    /// ```
    pub fn apply(
        &self,
        user_id: &str,
        existing: Option<&Mentor>,
        now: DateTime<Utc>,
    ) -> Option<Mentor> {
        let Some(m) = existing else {
            return Some(Mentor {
                user_id: user_id.to_owned(),
                org_id: self.org_id.clone()?,
                status: self.status.unwrap_or(MentorStatus::Active),
                pause: None,
                last_active_at: self.last_active_at,
                sessions_count: self.sessions_count.unwrap_or(0),
                first_session_at: self.first_session_at,
                created_at: self.created_at.unwrap_or(now),
                updated_at: now,
            });
        };
        Some(Mentor {
            org_id: self.org_id.clone().unwrap_or_else(|| m.org_id.clone()),
            status: self.status.unwrap_or(m.status),
            last_active_at: self.last_active_at.or(m.last_active_at),
            sessions_count: self.sessions_count.unwrap_or(m.sessions_count),
            first_session_at: self.first_session_at.or(m.first_session_at),
            updated_at: now,
            ..m.clone()
        })
    }
}

/// A validated change of notification switches; `None` keeps the value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PreferencesPatch {
    /// Master switch.
    pub all: Option<bool>,
    /// Inactivity reminders.
    pub inactivity: Option<bool>,
    /// Milestone congratulations.
    pub milestone: Option<bool>,
    /// Certification expiry reminders.
    pub certification_expiry: Option<bool>,
}

impl PreferencesPatch {
    /// `current` with this patch applied.
    pub fn apply(&self, current: Preferences) -> Preferences {
        Preferences {
            all: self.all.unwrap_or(current.all),
            inactivity: self.inactivity.unwrap_or(current.inactivity),
            milestone: self.milestone.unwrap_or(current.milestone),
            certification_expiry: self
                .certification_expiry
                .unwrap_or(current.certification_expiry),
        }
    }
}

/// An activity event of a mentor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityEvent {
    /// Idempotency key given by the platform.
    pub event_id: Option<String>,
    /// Any kind; `session_completed` also counts a session.
    pub kind: String,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
}

/// The kind that counts a session.
pub const SESSION_COMPLETED: &str = "session_completed";

/// What became of an activity event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActivityOutcome {
    /// First delivery: applied.
    Recorded(MentorRecord),
    /// The same `event_id` with the same body was applied before: nothing changed.
    Replayed(MentorRecord),
    /// The same `event_id` came before with a different body: nothing changed.
    Conflict,
}

/// Result of a write against a mentor that might not exist.
pub type MaybeMentor<T> = Result<Option<T>, StoreError>;

/// Where mentors and their certifications, preferences and pauses live.
pub trait MentorRepository: Send + Sync {
    /// One mentor with certifications and preferences.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn get_mentor(&self, user_id: &str) -> MaybeMentor<MentorRecord>;

    /// A page of mentors ordered by `user_id`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn list_mentors(
        &self,
        filter: &MentorFilter,
        page: PageRequest,
    ) -> Result<Paged<MentorRecord>, StoreError>;

    /// Up to `limit` mentors whose `user_id` sorts after `after` (from the
    /// first when `None`), in `user_id` order (bytewise), only those with
    /// `status` when given: a keyset page, so that jobs stream every mentor
    /// batch by batch without loading them all.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn mentors_after(
        &self,
        after: Option<&str>,
        status: Option<MentorStatus>,
        limit: u32,
    ) -> Result<Vec<MentorRecord>, StoreError>;

    /// Creates the mentor (defaults: status active, no pause, 0 sessions,
    /// `created_at` now) or updates the given fields. Returns the record and
    /// whether it was created. Must never delete and re-insert the row.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails, including a create without `org_id`.
    fn upsert_mentor(
        &self,
        user_id: &str,
        upsert: &MentorUpsert,
        now: DateTime<Utc>,
    ) -> Result<(MentorRecord, bool), StoreError>;

    /// Erases the mentor and every record about them (certifications,
    /// events, milestones, evaluations, notifications, dedupe keys, batch rows).
    /// Returns whether the mentor existed.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn delete_mentor(&self, user_id: &str) -> Result<bool, StoreError>;

    /// Applies an activity event atomically: `last_active_at` moves forward
    /// only; `session_completed` adds one session, sets `first_session_at`
    /// when unset (or later than the event), and records the count milestone
    /// (1, 10, 50) the event reached with the event's `occurred_at`. An
    /// `event_id` seen before Must give `Replayed` (same kind and
    /// `occurred_at`) or `Conflict` (different), changing nothing.
    /// `None` when the mentor does not exist.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn record_activity(
        &self,
        user_id: &str,
        event: &ActivityEvent,
        now: DateTime<Utc>,
    ) -> MaybeMentor<ActivityOutcome>;

    /// Creates or replaces a certification; returns whether it was created.
    /// Never changes a pause. `None` when the mentor does not exist.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn put_certification(
        &self,
        user_id: &str,
        cert: &Certification,
        now: DateTime<Utc>,
    ) -> MaybeMentor<bool>;

    /// Deletes a certification; `Some(false)` when the mentor exists but the
    /// certification does not, `None` when the mentor does not exist.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn delete_certification(&self, user_id: &str, certification_id: &str) -> MaybeMentor<bool>;

    /// Applies a preference patch; returns the new preferences, `None` when
    /// the mentor does not exist.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn set_preferences(
        &self,
        user_id: &str,
        patch: &PreferencesPatch,
        now: DateTime<Utc>,
    ) -> MaybeMentor<Preferences>;

    /// Sets the mentor's status and pause together (`Paused` with a pause,
    /// or another status with none). `None` when the mentor does not exist.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn set_status(
        &self,
        user_id: &str,
        status: MentorStatus,
        pause: Option<&Pause>,
        now: DateTime<Utc>,
    ) -> MaybeMentor<MentorRecord>;

    /// Imports mentors in ONE transaction. Pulls chunks from `feed` until
    /// it gives an empty one; for each chunk reads the mentors it names,
    /// lets [`ImportFeed::admit`] check the chunk against them, and, while
    /// [`ImportFeed::failed`] is false, writes it: each mentor as
    /// [`MentorUpsert::apply`] and [`PreferencesPatch::apply`] make it (the
    /// pause is kept), each listed certification created or replaced;
    /// certifications not listed, activity, milestones, evaluations and
    /// notifications are left alone. Must never delete and re-insert a row.
    /// Must keep pulling and admitting after a failure, writing nothing
    /// more, so that every line is checked; and Must then roll the whole
    /// import back and return `None`. Chunks must be written with a fixed
    /// number of statements, not one per mentor.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails, writing nothing.
    fn import_mentors(
        &self,
        feed: &mut dyn ImportFeed,
        now: DateTime<Utc>,
    ) -> Result<Option<ImportCounts>, StoreError>;
}

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
    /// ([`IdSource::id_at`](crate::IdSource::id_at)).
    pub id: String,
    /// The mentor.
    pub user_id: String,
    /// The scenario.
    pub scenario_type: ScenarioType,
    /// The decision, possibly overridden.
    pub should_notify: bool,
    /// When it was decided (whole seconds).
    pub evaluated_at: DateTime<Utc>,
    /// The numbers behind it, possibly replaced by an override.
    pub evaluation_metadata: serde_json::Value,
    /// The sentence.
    pub reason: String,
    /// The machine code (a [`ReasonCode`](crate::ReasonCode) wire name).
    pub reason_code: String,
    /// The run it belongs to, if any.
    pub run_id: Option<String>,
    /// The run's batch that decided it: with `run_id`, the batch's per-user
    /// result (SPEC section 3). `None` outside runs.
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
    /// [`UnknownName`](crate::UnknownName) listing the statuses.
    pub fn parse(s: &str) -> Result<Self, crate::UnknownName> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                crate::UnknownName::new("status", s, Self::ALL.iter().map(|t| t.as_str()))
            })
    }
}

/// An outbox row to enqueue with its evaluation (`ntf_` id).
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotification {
    /// `ntf_` + a ULID whose time is `created_at`'s millisecond
    /// ([`IdSource::id_at`](crate::IdSource::id_at)).
    pub id: String,
    /// The mentor.
    pub user_id: String,
    /// The mentor's organisation.
    pub org_id: String,
    /// The scenario.
    pub scenario_type: ScenarioType,
    /// Once-only key (see [`DedupeKey::render`](crate::DedupeKey::render)).
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
    pub reason_code: Option<String>,
    /// Only dry runs, or only real ones.
    pub dry_run: Option<bool>,
    /// `evaluated_at >= from`.
    pub from: Option<DateTime<Utc>>,
    /// `evaluated_at <= to`.
    pub to: Option<DateTime<Utc>>,
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
    /// ([`IdSource::id_at`](crate::IdSource::id_at)). Must: the range is
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

    /// Deletes evaluations decided before `cutoff` (retention); their
    /// notifications and dedupe keys stay. Returns how many went.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn prune_evaluations_before(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError>;
}

/// The JSON text of `value`, compact, as `value.to_string()` writes it.
///
/// serde_json writes it straight into a byte buffer; `Value`'s `Display`
/// goes through `fmt::Formatter` piece by piece, and was 17% of the
/// instructions of preparing a run's batches.
///
/// ```
/// use scenario_engine::json_text;
/// let v = serde_json::json!({"days_inactive": 9, "last_active_at": null, "note": "a \"b\""});
/// assert_eq!(json_text(&v), v.to_string());
/// assert_eq!(json_text(&v), r#"{"days_inactive":9,"last_active_at":null,"note":"a \"b\""}"#);
/// ```
pub fn json_text(value: &serde_json::Value) -> String {
    // Serialising a `Value` cannot fail (its keys are strings); the
    // fallback is the same text, the slow way.
    serde_json::to_string(value).unwrap_or_else(|_| value.to_string())
}

/// A notification to enqueue with its evaluation, unless its dedupe key
/// turns out to be taken when the batch is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Enqueue {
    /// The outbox row.
    pub notification: NewNotification,
    /// The evaluation's `reason` should the key be taken by then: the
    /// decision is recorded as `should_notify: false`, `already_notified`,
    /// with this sentence (rendered beforehand, because storage cannot
    /// render decisions).
    pub reason_if_taken: String,
    /// The notification's payload as JSON text, serialised while the batch
    /// is prepared (off the thread that writes it).
    pub payload_json: String,
}

impl Enqueue {
    /// The outbox row to enqueue, with its payload serialised.
    pub fn new(notification: NewNotification, reason_if_taken: String) -> Self {
        let payload_json = json_text(&notification.payload);
        Self {
            notification,
            reason_if_taken,
            payload_json,
        }
    }
}

/// One decision of a batch, rendered and ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchEntry {
    /// The evaluation as decided (`run_id` and `dry_run` set).
    pub evaluation: EvaluationRecord,
    /// The notification, when the decision fired and the batch is not a dry run.
    pub enqueue: Option<Enqueue>,
    /// Milestone times first seen by this decision, or by the decisions of
    /// its scenario type that the batch does not keep (never in a dry run);
    /// each recorded unless one is recorded already.
    pub milestones_seen: Vec<(MilestoneType, DateTime<Utc>)>,
    /// The evaluation's metadata as JSON text, serialised while the batch
    /// is prepared (off the thread that writes it).
    pub metadata_json: String,
}

/// How one entry of a batch is stored, once storage knows whether its
/// notification's dedupe key was free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredDecision<'a> {
    /// The evaluation's `should_notify`.
    pub should_notify: bool,
    /// The evaluation's `reason`.
    pub reason: &'a str,
    /// The evaluation's `reason_code`.
    pub reason_code: &'a str,
    /// Whether a notification is enqueued for it.
    pub notified: bool,
}

impl BatchEntry {
    /// A decision to store, with its metadata serialised and no milestone seen.
    pub fn new(evaluation: EvaluationRecord, enqueue: Option<Enqueue>) -> Self {
        let metadata_json = json_text(&evaluation.evaluation_metadata);
        Self {
            evaluation,
            enqueue,
            milestones_seen: Vec::new(),
            metadata_json,
        }
    }

    /// The entry as stored: unchanged when `key_taken` is false, else
    /// `should_notify: false`, `already_notified`, nothing enqueued.
    /// `key_taken` is only ever true for an entry with [`BatchEntry::enqueue`].
    pub fn stored(&self, key_taken: bool) -> StoredDecision<'_> {
        let e = &self.evaluation;
        match &self.enqueue {
            Some(enqueue) if key_taken => StoredDecision {
                should_notify: false,
                reason: &enqueue.reason_if_taken,
                reason_code: crate::ReasonCode::AlreadyNotified.as_str(),
                notified: false,
            },
            enqueue => StoredDecision {
                should_notify: e.should_notify,
                reason: &e.reason,
                reason_code: &e.reason_code,
                notified: enqueue.is_some(),
            },
        }
    }
}

/// Everything one batch of a scenario-evaluation run writes, in one
/// transaction ([`BatchRepository::record_batch`]).
#[derive(Debug, Clone, PartialEq)]
pub struct BatchWrite {
    /// The run.
    pub run_id: String,
    /// The batch's index in the run, from 0.
    pub batch_index: i64,
    /// User ids in the batch, unknown ones included: the batch result's `user_count`.
    pub user_count: i64,
    /// Distinct existing mentors evaluated: added to the run's `users_evaluated`.
    pub users_evaluated: i64,
    /// Milliseconds the batch took until its write began.
    pub duration_ms: i64,
    /// Every decision, grouped by user, in evaluation order.
    pub entries: Vec<BatchEntry>,
}

/// The outcome of one (user, scenario type) of a batch, as the batch's
/// report gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchDecision<'a> {
    /// The mentor.
    pub user_id: &'a str,
    /// The scenario type.
    pub scenario_type: ScenarioType,
    /// Whether a notification was enqueued.
    pub notified: bool,
    /// The reported decision's reason code.
    pub reason_code: &'a str,
}

/// How telling a reason code is when several decisions of one scenario
/// type (the four milestones) share one result: lower is reported first.
pub(crate) fn rank(code: crate::ReasonCode) -> u8 {
    use crate::ReasonCode as R;
    match code {
        code if code.fires() => 0,
        R::MentorPaused | R::MentorInactive | R::PreferenceDisabled | R::CooldownActive => 1,
        R::AlreadyNotified => 3,
        _ => 2,
    }
}

/// [`rank`] of a stored reason code; an unknown code ranks with the rules'.
fn report_rank(reason_code: &str) -> u8 {
    crate::ReasonCode::parse(reason_code).map_or(2, rank)
}

impl BatchWrite {
    /// The per-user results of this batch, given which entries'
    /// keys were taken (`key_taken[i]` for `entries[i]`; missing means free).
    ///
    /// One row per (user, scenario type), in first-seen order. Where several
    /// entries share a scenario type (the milestone types), the row reports
    /// one of them: any that notified, else the first stopped by status,
    /// preference or cooldown, else the first whose rule did not match, else
    /// `already_notified`. So a mentor congratulated on `sessions_10` long
    /// ago who has not reached `sessions_50` reads `milestone_not_reached`,
    /// and one whose new milestone waits for the cooldown reads `cooldown_active`.
    pub fn decisions(&self, key_taken: &[bool]) -> Vec<BatchDecision<'_>> {
        let mut out: Vec<BatchDecision<'_>> = Vec::new();
        // Index of the first row of the current user: entries are grouped by user.
        let mut user_start = 0;
        for (i, entry) in self.entries.iter().enumerate() {
            let stored = entry.stored(key_taken.get(i).copied().unwrap_or(false));
            let e = &entry.evaluation;
            if out
                .get(user_start)
                .is_none_or(|d| d.user_id != e.user_id.as_str())
            {
                user_start = out.len();
            }
            let row = BatchDecision {
                user_id: &e.user_id,
                scenario_type: e.scenario_type,
                notified: stored.notified,
                reason_code: stored.reason_code,
            };
            match out[user_start..]
                .iter_mut()
                .find(|d| d.scenario_type == e.scenario_type)
            {
                None => out.push(row),
                Some(d) => {
                    let better = (row.notified && !d.notified)
                        || (row.notified == d.notified
                            && report_rank(row.reason_code) < report_rank(d.reason_code));
                    if better {
                        *d = row;
                    }
                }
            }
        }
        out
    }
}

/// What became of a batch write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Notifications enqueued.
    pub notifications_sent: i64,
    /// Indices into [`BatchWrite::entries`] whose notification was not
    /// enqueued because its dedupe key was already taken (by another writer
    /// since the subjects were loaded, or by an earlier entry of the same
    /// batch), ascending. They were recorded as `should_notify: false`,
    /// `already_notified` ([`BatchEntry::stored`]).
    pub already_notified: Vec<usize>,
}

impl BatchOutcome {
    /// `key_taken` for [`BatchWrite::decisions`]: one flag per entry.
    pub fn key_taken(&self, entries: usize) -> Vec<bool> {
        let mut taken = vec![false; entries];
        for &i in &self.already_notified {
            if let Some(t) = taken.get_mut(i) {
                *t = true;
            }
        }
        taken
    }
}

/// Where scenario-evaluation runs read and write their batches.
pub trait BatchRepository: Send + Sync {
    /// What evaluating each of `user_ids` needs ([`Subject`], as
    /// [`EvaluationRepository::load_subject`] loads it), in the order of
    /// `user_ids`; unknown ids are simply absent, a repeated id comes once.
    /// Must take a constant number of queries per call, not one per mentor.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn load_subjects(&self, user_ids: &[String]) -> Result<Vec<Subject>, StoreError>;

    /// Writes a batch in one transaction: every evaluation (with its
    /// `run_id` and `batch_index`: the batch's per-user results); for every entry
    /// with [`BatchEntry::enqueue`] its dedupe key (insert-or-ignore) and,
    /// when the key was free, its outbox row; the newly seen milestones; the
    /// batch result (`user_count`,
    /// `notifications_sent`, `duration_ms`); and the batch's
    /// `users_evaluated` and notifications added to the run's totals (where
    /// the run is recorded). A taken key Must not fail the batch: the entry
    /// is stored as [`BatchEntry::stored`]`(true)` and listed in
    /// [`BatchOutcome::already_notified`].
    ///
    /// # Errors
    /// Must return [`StoreError::Conflict`]`("batch_results.batch_index")`,
    /// writing nothing, when the run already has a batch with this index;
    /// Must fail with [`StoreError::Backend`], writing nothing, when an
    /// entry is about a mentor that does not exist (deleted since the
    /// subjects were loaded), and when storage fails.
    fn record_batch(&self, batch: &BatchWrite) -> Result<BatchOutcome, StoreError>;

    /// Writes several batches, each as [`record_batch`](Self::record_batch)
    /// does, in order; their outcomes in the same order. A store that can
    /// writes them all in one transaction, all or nothing (the diesel
    /// store: a run's batches then share the cost of a commit). This
    /// default writes them one by one and stops at the first error, so on
    /// an error the batches before the failing one may be written.
    ///
    /// # Errors
    /// The first error of [`record_batch`](Self::record_batch).
    fn record_batches(&self, batches: &[BatchWrite]) -> Result<Vec<BatchOutcome>, StoreError> {
        batches.iter().map(|b| self.record_batch(b)).collect()
    }

    /// Up to `limit` ids of `active` mentors whose `user_id` sorts after
    /// `after` (bytewise; from the first when `None`), in `user_id` order:
    /// the keyset pages a run plans its batches from.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn active_user_ids_after(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>, StoreError>;

    /// The ids of `active` mentors whose `user_id` lies in
    /// `first..=last` (bytewise), in `user_id` order: the mentors of a
    /// planned batch, as they are when the batch runs.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn active_user_ids_between(&self, first: &str, last: &str) -> Result<Vec<String>, StoreError>;

    /// The subjects of the `active` mentors whose `user_id` lies in
    /// `first..=last` (bytewise), in `user_id` order: a planned batch of a
    /// run, loaded as [`load_subjects`](Self::load_subjects) loads them.
    /// This default asks [`active_user_ids_between`](Self::active_user_ids_between)
    /// and then `load_subjects`; a store that can read the range directly
    /// should (the diesel store: five range reads).
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn load_active_subjects_between(
        &self,
        first: &str,
        last: &str,
    ) -> Result<Vec<Subject>, StoreError> {
        let ids = self.active_user_ids_between(first, last)?;
        self.load_subjects(&ids)
    }
}
