//! The batch port: what [`BatchEvaluator`](crate::service::BatchEvaluator)
//! needs from storage, and a batch rendered and ready to write
//! ([`BatchWrite`]), with the one rule for its per-(user, scenario type)
//! results ([`BatchWrite::decisions`]).

use chrono::{DateTime, Utc};

use super::evaluation_repo::{EvaluationRecord, NewNotification, Subject};
use super::store::StoreError;
use crate::rules::{MilestoneType, ReasonCode, ScenarioType};

/// The JSON text of `value`, compact, as `value.to_string()` writes it.
///
/// serde_json writes it straight into a byte buffer; `Value`'s `Display`
/// goes through `fmt::Formatter` piece by piece, and was 17% of the
/// instructions of preparing a run's batches.
///
/// ```
/// use scenario_engine::service::json_text;
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
    pub reason_code: ReasonCode,
    /// Whether a notification is enqueued for it.
    pub notified: bool,
}

impl BatchEntry {
    /// A decision to store, with no milestone seen. Its metadata is text
    /// already, serialised when the decision was rendered (off the thread
    /// that writes the batch).
    pub fn new(evaluation: EvaluationRecord, enqueue: Option<Enqueue>) -> Self {
        Self {
            evaluation,
            enqueue,
            milestones_seen: Vec::new(),
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
                reason_code: ReasonCode::AlreadyNotified,
                notified: false,
            },
            enqueue => StoredDecision {
                should_notify: e.should_notify,
                reason: &e.reason,
                reason_code: e.reason_code,
                notified: enqueue.is_some(),
            },
        }
    }
}

/// The lease under which a process writes a run's batch: its owner and
/// epoch, as the run log stores them. A batch written under a lease that
/// is no longer the run's is refused (fencing: a process whose run was
/// taken over writes nothing more to it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseFence {
    /// The lease owner (the process's instance id).
    pub owner: String,
    /// The lease epoch the owner holds.
    pub epoch: i64,
}

/// Everything one batch of a scenario-evaluation run writes, in one
/// transaction ([`BatchRepository::record_batch`]).
#[derive(Debug, Clone, PartialEq)]
pub struct BatchWrite {
    /// The run.
    pub run_id: String,
    /// The batch's index in the run, from 0.
    pub batch_index: i64,
    /// Distinct existing mentors evaluated (an id that names no mentor is
    /// not one): the batch result's `user_count`, and what the batch adds
    /// to the run's `users_evaluated`, so that a run's total is the sum of
    /// its batches'.
    pub users_evaluated: i64,
    /// Milliseconds the batch took until its write began.
    pub duration_ms: i64,
    /// Every decision, grouped by user, in evaluation order.
    pub entries: Vec<BatchEntry>,
    /// The lease the batch is written under, for a run a process of the
    /// service holds (`None` for a batch an orchestrator feeds). A store
    /// that keeps the run log Must refuse the batch with
    /// [`StoreError::Conflict`]`("runs.lease")`, writing nothing, when the
    /// run's stored lease is no longer this one.
    pub lease: Option<LeaseFence>,
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
    pub reason_code: ReasonCode,
}

/// How telling a reason code is when several decisions of one scenario
/// type (the four milestones) share one result: lower is reported first.
pub(crate) fn rank(code: ReasonCode) -> u8 {
    use ReasonCode as R;
    match code {
        code if code.fires() => 0,
        R::MentorPaused | R::MentorInactive | R::PreferenceDisabled | R::CooldownActive => 1,
        R::AlreadyNotified => 3,
        _ => 2,
    }
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
                            && rank(row.reason_code) < rank(d.reason_code));
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
    ///
    /// [`EvaluationRepository::load_subject`]: super::EvaluationRepository::load_subject
    fn load_subjects(&self, user_ids: &[String]) -> Result<Vec<Subject>, StoreError>;

    /// Writes a batch in one transaction: every evaluation (with its
    /// `run_id` and `batch_index`: the batch's per-user results); for every entry
    /// with [`BatchEntry::enqueue`] its dedupe key (insert-or-ignore) and,
    /// when the key was free, its outbox row; the newly seen milestones; the
    /// batch result (`user_count`: the batch's `users_evaluated`,
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
