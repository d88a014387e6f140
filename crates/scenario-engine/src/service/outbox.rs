//! The outbox after enqueueing: claiming due notifications for delivery,
//! recording what became of each attempt, and the notifications API's reads
//! and retries (docs/operations.md and docs/api.md, "Notifications").
//!
//! Every decision that fires writes one `pending` row in the same
//! transaction as its evaluation ([`EvaluationRepository`](crate::service::EvaluationRepository)).
//! From there a delivery worker [claims](Outbox::claim_due) the due rows,
//! hands each to a sink, and [records](Outbox::record_outcomes) the results
//! of a whole batch at once. The port here is what it needs from storage;
//! the retry policy is [`RetryPolicy`], the hours of delivery
//! [`DeliveryWindow`](crate::service::DeliveryWindow).

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use super::clock::Clock;
use super::evaluation_repo::NotificationStatus;
use super::ids::lookup_id;
use super::json_text::JsonText;
use super::retry::{AttemptResult, Outcome, RetryPolicy};
use super::store::{PageRequest, Paged, StoreError};
use crate::rules::ScenarioType;

/// The `last_error` of a notification whose last attempt never reported
/// back (its worker stopped mid-delivery) and whose claim lapsed.
pub const CLAIM_LAPSED_ERROR: &str =
    "the last attempt did not report back before its claim lapsed (its worker stopped)";

/// One outbox row: every stored field (docs/api.md, "Notifications").
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// `ntf_` + ULID.
    pub id: String,
    /// The mentor.
    pub user_id: String,
    /// The mentor's organisation.
    pub org_id: String,
    /// The scenario.
    pub scenario_type: ScenarioType,
    /// Once-only key.
    pub dedupe_key: String,
    /// What the sink delivers: the webhook body of docs/api.md, as stored.
    pub payload: JsonText,
    /// Where it stands.
    pub status: NotificationStatus,
    /// Delivery attempts made (each counted when it starts).
    pub attempts: u32,
    /// Why the latest attempt failed; cleared once delivered.
    pub last_error: Option<String>,
    /// When it was enqueued.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// While `pending`: when it is due (or, while an attempt is under way,
    /// when that attempt's claim lapses). Null otherwise.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
    /// The run that enqueued it, if any.
    pub run_id: Option<String>,
    /// The evaluation that fired it; null once that evaluation is deleted.
    pub evaluation_id: Option<String>,
}

/// Filters of the notification list; every one is backed by an index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotificationFilter {
    /// Only this mentor.
    pub user_id: Option<String>,
    /// Only this scenario.
    pub scenario_type: Option<ScenarioType>,
    /// Only this status.
    pub status: Option<NotificationStatus>,
    /// Only this run.
    pub run_id: Option<String>,
    /// A cursor, not a filter: only the notifications after the one with
    /// this id in the list's order (newest first, so ids below it). The
    /// total still counts every notification the filters match.
    pub after: Option<String>,
}

impl NotificationFilter {
    /// Whether the filter matches every notification (a cursor is no filter).
    ///
    /// ```
    /// use scenario_engine::service::NotificationFilter;
    ///
    /// let cursor = NotificationFilter { after: Some("ntf_01".into()), ..NotificationFilter::default() };
    /// assert!(cursor.is_unfiltered());
    /// ```
    pub fn is_unfiltered(&self) -> bool {
        let Self {
            user_id,
            scenario_type,
            status,
            run_id,
            after: _,
        } = self;
        user_id.is_none() && scenario_type.is_none() && status.is_none() && run_id.is_none()
    }

    /// Whether the filter is one mentor and nothing else (a cursor is no
    /// filter): the list of one mentor's notifications.
    ///
    /// ```
    /// use scenario_engine::service::{NotificationFilter, NotificationStatus};
    ///
    /// let mine = NotificationFilter { user_id: Some("usr_1".into()), ..NotificationFilter::default() };
    /// assert!(mine.is_one_mentor());
    /// let pending = NotificationFilter { status: Some(NotificationStatus::Pending), ..mine.clone() };
    /// assert!(!pending.is_one_mentor());
    /// ```
    pub fn is_one_mentor(&self) -> bool {
        self.user_id.is_some()
            && Self {
                user_id: None,
                ..self.clone()
            }
            .is_unfiltered()
    }

    /// Whether `n` passes the filter.
    pub fn matches(&self, n: &Notification) -> bool {
        self.user_id.as_ref().is_none_or(|u| *u == n.user_id)
            && self.scenario_type.is_none_or(|s| s == n.scenario_type)
            && self.status.is_none_or(|s| s == n.status)
            && self
                .run_id
                .as_ref()
                .is_none_or(|r| n.run_id.as_ref() == Some(r))
    }
}

/// One claimed attempt: the notification, the attempt's number and when
/// the claim lapses. Together they identify the claim, so that an outcome
/// is only ever written by the worker that still holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The notification.
    pub id: String,
    /// The attempt's number, from 1 (already counted in `attempts`).
    pub attempt: u32,
    /// When the claim lapses and the notification is due again.
    pub until: DateTime<Utc>,
}

/// A claimed notification, ready for a sink.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The claim.
    pub claim: Claim,
    /// The notification as claimed (`attempts` counted, `next_attempt_at`
    /// the claim's end).
    pub notification: Notification,
}

/// What [`Outbox::claim_due`] is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimRequest {
    /// Due means `next_attempt_at <= now`.
    pub now: DateTime<Utc>,
    /// At most this many notifications.
    pub limit: u32,
    /// When the claims lapse.
    pub until: DateTime<Utc>,
    /// Notifications with this many attempts made get no more.
    pub max_attempts: u32,
}

/// An attempt's outcome, for the claim it was made under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    /// The claim.
    pub claim: Claim,
    /// What to store.
    pub outcome: Outcome,
}

/// What [`Outbox::requeue_failed`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Requeue {
    /// It was `failed` and is `pending` again, as returned.
    Requeued(Notification),
    /// It is not `failed`; nothing changed.
    NotFailed(Notification),
}

/// Where the delivery worker and the notifications API reach the outbox.
/// `InMemoryStore` and `storage_diesel::Store` pass the same contract cases.
pub trait Outbox: Send + Sync {
    /// Claims up to `limit` due notifications: those `pending` with
    /// `next_attempt_at <= now`, earliest `next_attempt_at` first (then id).
    ///
    /// Must be atomic against every other claimer, in this process or
    /// another: of the notifications taken, each with `attempts >=
    /// max_attempts` (its last attempt's claim lapsed) Must become `failed`
    /// with [`CLAIM_LAPSED_ERROR`] and `next_attempt_at` null; each other
    /// Must get `attempts + 1`, `next_attempt_at = until` and
    /// `updated_at = now`, and is returned as updated, with its claim, in
    /// the order they were due. So a
    /// notification claimed by one call Must not be claimed again before
    /// `until`, and the attempt is counted before it is made.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails; nothing is claimed then.
    fn claim_due(&self, request: &ClaimRequest) -> Result<Vec<Delivery>, StoreError>;

    /// Writes the outcomes of a batch of attempts in one transaction, each
    /// only where its notification still holds exactly that claim
    /// (`pending`, `attempts == claim.attempt`, `next_attempt_at ==
    /// claim.until`): a claim that lapsed and was taken over, or a
    /// notification cancelled or erased meanwhile, Must be left alone.
    /// [`Outcome::Delivered`] sets `delivered`, `delivered_at = now` and
    /// clears `next_attempt_at` and `last_error`; [`Outcome::Retry`] sets
    /// `next_attempt_at` and `last_error`; [`Outcome::Failed`] sets `failed`
    /// and `last_error` and clears `next_attempt_at`; each sets
    /// `updated_at = now`. Returns how many were written.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails; nothing is written then.
    fn record_outcomes(&self, settled: &[Settled], now: DateTime<Utc>) -> Result<u64, StoreError>;

    /// The earliest `next_attempt_at` of any `pending` notification (a
    /// claimed one counts with its claim's end), or `None`: when the worker
    /// has something to do next. Must be one indexed read.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn next_due(&self) -> Result<Option<DateTime<Utc>>, StoreError>;

    /// One notification.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn get_notification(&self, id: &str) -> Result<Option<Notification>, StoreError>;

    /// A page of notifications, newest first (`created_at`, then id, descending).
    /// A store may read that order off the ids alone: the services make
    /// every id carry its instant ([`IdSource::id_at`](crate::service::IdSource::id_at)).
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn list_notifications(
        &self,
        filter: &NotificationFilter,
        page: PageRequest,
    ) -> Result<Paged<Notification>, StoreError>;

    /// Moves a `failed` notification back to `pending` with a fresh attempt
    /// budget: `attempts = 0`, `next_attempt_at = now`, `updated_at = now`
    /// (`last_error` stays until the next attempt). Must check the status and
    /// change it atomically, leaving any other status untouched
    /// ([`Requeue::NotFailed`]). `None` for an unknown id.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails.
    fn requeue_failed(&self, id: &str, now: DateTime<Utc>) -> Result<Option<Requeue>, StoreError>;

    /// Retention: deletes at most `limit` `delivered` and `cancelled`
    /// notifications created before `before`, in one transaction, and
    /// returns how many went (fewer than `limit`: none is left). Must never
    /// delete a `pending` or `failed` notification, nor a dedupe key: a
    /// pruned notification's key still makes its decision once only.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when storage fails; nothing is deleted then.
    fn prune_settled_before(&self, before: DateTime<Utc>, limit: u32) -> Result<u64, StoreError>;
}

/// Why an outbox operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// No notification with this id.
    #[error("notification `{0}` not found")]
    NotFound(String),
    /// Only a `failed` notification can be retried.
    #[error("notification `{id}` is {}; only a failed notification can be retried", .status.as_str())]
    NotRetryable {
        /// The notification.
        id: String,
        /// Its status.
        status: NotificationStatus,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The outbox's rules over its port: claims that lapse after `claim_ttl`,
/// outcomes by the [`RetryPolicy`], and the notifications API.
///
/// ```
/// use std::sync::Arc;
/// use chrono::{TimeDelta, TimeZone, Utc};
/// use scenario_engine::rules::{Rules, Scenario};
/// use scenario_engine::service::{
///     AttemptResult, EvaluateRequest, EvaluationService, MentorService, MentorUpsert,
///     NotificationStatus, OutboxService, RetryPolicy,
/// };
/// use scenario_engine::adapters::{FixedClock, InMemoryStore, UlidIds};
/// let store = Arc::new(InMemoryStore::default());
/// let clock = Arc::new(FixedClock::new(Utc.with_ymd_and_hms(2026, 3, 25, 8, 0, 0).unwrap()));
/// let upsert = MentorUpsert { org_id: Some("org_oslo_01".into()), ..MentorUpsert::default() };
/// MentorService::new(store.clone(), clock.clone()).upsert("usr_mentor_7821", upsert).unwrap();
/// clock.advance(TimeDelta::days(10));
/// let evaluations = EvaluationService::new(store.clone(), clock.clone(), Arc::new(UlidIds::new()), Rules::default());
/// let request = EvaluateRequest {
///     user_id: "usr_mentor_7821".into(),
///     scenario: Scenario::inactivity(None).unwrap(),
///     dry_run: false,
///     run_id: None,
/// };
/// assert!(evaluations.evaluate(request).unwrap().should_notify); // one `pending` notification
///
/// let outbox = OutboxService::new(store, clock, RetryPolicy::default(), TimeDelta::seconds(60));
/// let batch = outbox.claim(50).unwrap();
/// assert_eq!(batch.len(), 1);
/// assert_eq!(batch[0].claim.attempt, 1); // counted before the attempt
/// assert!(outbox.claim(50).unwrap().is_empty()); // claimed: invisible to other workers
///
/// // The receiver was busy: retried later. Outcomes are written a batch at a time.
/// let settled = outbox.settle(batch[0].claim.clone(), AttemptResult::Retryable("busy".into()), 0.5);
/// assert_eq!(outbox.record(&[settled]).unwrap(), 1);
/// let n = outbox.get(&batch[0].notification.id).unwrap();
/// assert_eq!((n.status, n.attempts, n.last_error.as_deref()), (NotificationStatus::Pending, 1, Some("busy")));
/// ```
#[derive(Clone)]
pub struct OutboxService {
    repo: Arc<dyn Outbox>,
    clock: Arc<dyn Clock>,
    policy: RetryPolicy,
    claim_ttl: TimeDelta,
}

/// The store and the clock are trait objects, so they show as `..`.
impl std::fmt::Debug for OutboxService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxService")
            .field("policy", &self.policy)
            .field("claim_ttl", &self.claim_ttl)
            .finish_non_exhaustive()
    }
}

impl OutboxService {
    /// A service over `repo`; a claim lapses `claim_ttl` after it is made,
    /// so `claim_ttl` must exceed the longest attempt of a batch.
    pub fn new(
        repo: Arc<dyn Outbox>,
        clock: Arc<dyn Clock>,
        policy: RetryPolicy,
        claim_ttl: TimeDelta,
    ) -> Self {
        Self {
            repo,
            clock,
            policy,
            claim_ttl,
        }
    }

    /// The retry policy in force.
    pub fn policy(&self) -> RetryPolicy {
        self.policy
    }

    /// "Now", from the service's clock (with milliseconds: backoffs may be
    /// shorter than a second).
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Claims up to `limit` due notifications for delivery, counting their
    /// attempts; each claim lapses after the claim TTL.
    ///
    /// # Errors
    /// [`OutboxError::Store`].
    pub fn claim(&self, limit: u32) -> Result<Vec<Delivery>, OutboxError> {
        let now = self.now();
        Ok(self.repo.claim_due(&ClaimRequest {
            now,
            limit,
            until: now + self.claim_ttl,
            max_attempts: self.policy.max_attempts(),
        })?)
    }

    /// The outcome of the attempt under `claim` that ended with `result`
    /// now; `jitter` in `[0, 1]` spreads the retries. A sink that says
    /// when to try again at the earliest ([`AttemptResult::RetryAfter`]) is
    /// waited for, up to the policy's [cap](RetryPolicy::cap).
    pub fn settle(&self, claim: Claim, result: AttemptResult, jitter: f64) -> Settled {
        let outcome = self
            .policy
            .outcome(claim.attempt, result, self.now(), jitter);
        Settled { claim, outcome }
    }

    /// Writes a batch of outcomes in one transaction; returns how many still
    /// held their claim (the others were taken over or cancelled meanwhile).
    ///
    /// # Errors
    /// [`OutboxError::Store`].
    pub fn record(&self, settled: &[Settled]) -> Result<u64, OutboxError> {
        if settled.is_empty() {
            return Ok(0);
        }
        Ok(self.repo.record_outcomes(settled, self.now())?)
    }

    /// When the next pending notification is due, if any.
    ///
    /// # Errors
    /// [`OutboxError::Store`].
    pub fn next_due(&self) -> Result<Option<DateTime<Utc>>, OutboxError> {
        Ok(self.repo.next_due()?)
    }

    /// One notification.
    ///
    /// # Errors
    /// [`OutboxError::NotFound`].
    pub fn get(&self, id: &str) -> Result<Notification, OutboxError> {
        if !lookup_id(id) {
            return Err(OutboxError::NotFound(id.to_owned()));
        }
        self.repo
            .get_notification(id)?
            .ok_or_else(|| OutboxError::NotFound(id.to_owned()))
    }

    /// A page of notifications, newest first.
    ///
    /// # Errors
    /// [`OutboxError::Store`].
    pub fn list(
        &self,
        filter: &NotificationFilter,
        page: PageRequest,
    ) -> Result<Paged<Notification>, OutboxError> {
        Ok(self.repo.list_notifications(filter, page)?)
    }

    /// Sends a `failed` notification back to `pending`, due now, with a
    /// fresh attempt budget (`attempts` starts again from 0).
    ///
    /// # Errors
    /// [`OutboxError::NotFound`]; [`OutboxError::NotRetryable`] for any
    /// other status than `failed`.
    pub fn retry(&self, id: &str) -> Result<Notification, OutboxError> {
        if !lookup_id(id) {
            return Err(OutboxError::NotFound(id.to_owned()));
        }
        match self.repo.requeue_failed(id, self.now())? {
            None => Err(OutboxError::NotFound(id.to_owned())),
            Some(Requeue::Requeued(n)) => Ok(n),
            Some(Requeue::NotFailed(n)) => Err(OutboxError::NotRetryable {
                id: n.id,
                status: n.status,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::adapters::{FixedClock, InMemoryStore, UlidIds};
    use crate::rules::{Rules, Scenario};
    use crate::service::{EvaluateRequest, EvaluationService, MentorService, MentorUpsert};

    /// An outbox holding one pending notification, due at the clock's now.
    fn one_pending() -> (OutboxService, Arc<FixedClock>) {
        let store = Arc::new(InMemoryStore::default());
        let t0 = Utc.with_ymd_and_hms(2026, 3, 25, 8, 0, 0).unwrap();
        let clock = Arc::new(FixedClock::new(t0));
        let upsert = MentorUpsert {
            org_id: Some("org_oslo_01".into()),
            ..MentorUpsert::default()
        };
        MentorService::new(store.clone(), clock.clone())
            .upsert("usr_mentor_7821", upsert)
            .unwrap();
        clock.advance(TimeDelta::days(10));
        let evaluations = EvaluationService::new(
            store.clone(),
            clock.clone(),
            Arc::new(UlidIds::new()),
            Rules::default(),
        );
        let request = EvaluateRequest {
            user_id: "usr_mentor_7821".into(),
            scenario: Scenario::inactivity(None).unwrap(),
            dry_run: false,
            run_id: None,
        };
        assert!(evaluations.evaluate(request).unwrap().should_notify);
        let outbox = OutboxService::new(
            store,
            clock.clone(),
            RetryPolicy::default(),
            TimeDelta::seconds(60),
        );
        (outbox, clock)
    }

    #[test]
    fn a_notification_asked_to_retry_later_is_not_claimed_before_then() {
        let (outbox, clock) = one_pending();
        let batch = outbox.claim(10).unwrap();
        let not_before = clock.now() + TimeDelta::seconds(120);
        let result = AttemptResult::RetryAfter {
            error: "HTTP 503 Service Unavailable".into(),
            not_before,
        };
        let settled = outbox.settle(batch[0].claim.clone(), result, 0.5);
        assert_eq!(outbox.record(&[settled]).unwrap(), 1);
        assert_eq!(outbox.next_due().unwrap(), Some(not_before));
        clock.set(not_before - TimeDelta::milliseconds(1));
        assert!(outbox.claim(10).unwrap().is_empty(), "not yet");
        clock.set(not_before);
        let again = outbox.claim(10).unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].claim.attempt, 2);
    }

    #[test]
    fn a_retry_later_than_the_cap_is_due_at_the_cap() {
        let (outbox, clock) = one_pending();
        let batch = outbox.claim(10).unwrap();
        let result = AttemptResult::RetryAfter {
            error: "HTTP 429 Too Many Requests".into(),
            not_before: clock.now() + TimeDelta::days(2),
        };
        let settled = outbox.settle(batch[0].claim.clone(), result, 0.5);
        assert_eq!(outbox.record(&[settled]).unwrap(), 1);
        assert_eq!(
            outbox.next_due().unwrap(),
            Some(clock.now() + outbox.policy().cap())
        );
    }
}
