//! [`InMemoryStore`]: every port in memory, for tests and for embedders
//! that want the services without a database. The port implementations
//! live beside it, one file per port.

mod evaluations;
mod mentors;
mod outbox;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};

use crate::rules::{MilestoneType, OwnedHistory, ReasonCode, ScenarioType};
use crate::service::JsonText;
use crate::service::{
    BatchOutcome, BatchWrite, EvaluationRecord, MentorRecord, NewNotification, Notification,
    NotificationStatus, PageRequest, Paged, Subject,
};

/// An outbox row as the in-memory store keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredNotification {
    /// The row as enqueued.
    pub notification: NewNotification,
    /// Its status.
    pub status: NotificationStatus,
    /// Delivery attempts made.
    pub attempts: u32,
    /// Why the latest attempt failed.
    pub last_error: Option<String>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it is due (while `pending`).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
}

impl StoredNotification {
    /// A freshly enqueued row: `pending`, due at once.
    fn pending(notification: NewNotification) -> Self {
        let at = notification.created_at;
        Self {
            notification,
            status: NotificationStatus::Pending,
            attempts: 0,
            last_error: None,
            updated_at: at,
            next_attempt_at: Some(at),
            delivered_at: None,
        }
    }

    /// The row as the outbox port reads it.
    pub fn read(&self) -> Notification {
        let n = &self.notification;
        Notification {
            id: n.id.clone(),
            user_id: n.user_id.clone(),
            org_id: n.org_id.clone(),
            scenario_type: n.scenario_type,
            dedupe_key: n.dedupe_key.clone(),
            payload: JsonText::of(&n.payload),
            status: self.status,
            attempts: self.attempts,
            last_error: self.last_error.clone(),
            created_at: n.created_at,
            updated_at: self.updated_at,
            next_attempt_at: self.next_attempt_at,
            delivered_at: self.delivered_at,
            run_id: n.run_id.clone(),
            evaluation_id: n.evaluation_id.clone(),
        }
    }
}

/// The per-user result of a batch, read off the batch's evaluations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBatchDecision {
    /// The run.
    pub run_id: String,
    /// The batch.
    pub batch_index: i64,
    /// The mentor.
    pub user_id: String,
    /// The scenario type.
    pub scenario_type: ScenarioType,
    /// Whether a notification was enqueued.
    pub notified: bool,
    /// The reported reason code.
    pub reason_code: ReasonCode,
}

/// A batch result as the in-memory store keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredBatchResult {
    /// Mentors evaluated in the batch (the batch's `users_evaluated`).
    pub user_count: i64,
    /// Notifications enqueued.
    pub notifications_sent: i64,
    /// Milliseconds the batch took.
    pub duration_ms: i64,
}

/// An activity event as the in-memory store keeps it.
struct StoredEvent {
    kind: String,
    occurred_at: DateTime<Utc>,
    recorded_at: DateTime<Utc>,
}

#[derive(Default)]
struct State {
    mentors: BTreeMap<String, MentorRecord>,
    milestones: HashMap<(String, MilestoneType), DateTime<Utc>>,
    /// Activity events by (user, event id).
    events: HashMap<(String, String), StoredEvent>,
    evaluations: BTreeMap<String, EvaluationRecord>,
    notifications: Vec<StoredNotification>,
    /// Every dedupe key taken, with its mentor: kept when notifications are
    /// pruned, so that once-only stays once-only.
    keys: BTreeMap<String, String>,
    batch_results: BTreeMap<(String, i64), StoredBatchResult>,
    /// `users_evaluated` and `notifications_dispatched` added by batches, per run:
    /// the run log lives elsewhere (`run_log::InMemoryRuns`).
    run_totals: HashMap<String, (i64, i64)>,
}

impl State {
    fn subject(&self, user_id: &str) -> Option<Subject> {
        let record = self.mentors.get(user_id).cloned()?;
        let mut milestones_achieved_at = [None; 4];
        for t in MilestoneType::ALL {
            milestones_achieved_at[t.index()] =
                self.milestones.get(&(user_id.to_owned(), t)).copied();
        }
        let mut history = OwnedHistory::new(user_id);
        history.taken_keys.extend(
            self.keys
                .iter()
                .filter(|(_, u)| *u == user_id)
                .map(|(k, _)| k.clone()),
        );
        for n in self
            .notifications
            .iter()
            .filter(|n| n.notification.user_id == user_id)
        {
            if matches!(
                n.status,
                NotificationStatus::Pending | NotificationStatus::Delivered
            ) {
                let slot = &mut history.last_notified_at[n.notification.scenario_type.index()];
                if slot.is_none_or(|t| t < n.notification.created_at) {
                    *slot = Some(n.notification.created_at);
                }
            }
        }
        Some(Subject {
            record,
            milestones_achieved_at,
            history,
        })
    }

    /// Writes a checked batch ([`BatchRepository::record_batch`]).
    fn write_batch(&mut self, batch: &BatchWrite) -> BatchOutcome {
        let key = (batch.run_id.clone(), batch.batch_index);
        let mut in_batch = HashSet::new();
        let key_taken: Vec<bool> = batch
            .entries
            .iter()
            .map(|e| {
                e.enqueue.as_ref().is_some_and(|q| {
                    let k = q.notification.dedupe_key.as_str();
                    self.key_taken(k) || !in_batch.insert(k)
                })
            })
            .collect();
        let mut outcome = BatchOutcome::default();
        for (i, (entry, &taken)) in batch.entries.iter().zip(&key_taken).enumerate() {
            let stored = entry.stored(taken);
            let mut evaluation = entry.evaluation.clone();
            evaluation.batch_index = Some(batch.batch_index);
            evaluation.should_notify = stored.should_notify;
            evaluation.reason = stored.reason.to_owned();
            evaluation.reason_code = stored.reason_code;
            if taken {
                outcome.already_notified.push(i);
            } else if let Some(q) = &entry.enqueue {
                self.enqueue(q.notification.clone());
                outcome.notifications_sent += 1;
            }
            for &(t, at) in &entry.milestones_seen {
                self.milestones
                    .entry((evaluation.user_id.clone(), t))
                    .or_insert(at);
            }
            self.evaluations.insert(evaluation.id.clone(), evaluation);
        }
        self.batch_results.insert(
            key,
            StoredBatchResult {
                user_count: batch.users_evaluated,
                notifications_sent: outcome.notifications_sent,
                duration_ms: batch.duration_ms,
            },
        );
        let totals = self.run_totals.entry(batch.run_id.clone()).or_default();
        totals.0 += batch.users_evaluated;
        totals.1 += outcome.notifications_sent;
        outcome
    }

    fn key_taken(&self, dedupe_key: &str) -> bool {
        self.keys.contains_key(dedupe_key)
    }

    /// Adds a notification, `pending`, and takes its dedupe key.
    fn enqueue(&mut self, notification: NewNotification) {
        self.keys.insert(
            notification.dedupe_key.clone(),
            notification.user_id.clone(),
        );
        self.notifications
            .push(StoredNotification::pending(notification));
    }
}

/// Mentors, evaluations and notifications in memory.
///
/// ```
/// use std::sync::Arc;
/// use chrono::{TimeZone, Utc};
/// use scenario_engine::rules::{ReasonCode, Rules, Scenario};
/// use scenario_engine::service::{EvaluateRequest, EvaluationService, MentorService, MentorUpsert};
/// use scenario_engine::adapters::{FixedClock, InMemoryStore, UlidIds};
/// let store = Arc::new(InMemoryStore::default());
/// let clock = Arc::new(FixedClock::new(Utc.with_ymd_and_hms(2026, 3, 25, 8, 0, 0).unwrap()));
/// let mentors = MentorService::new(store.clone(), clock.clone());
/// let upsert = MentorUpsert {
///     org_id: Some("org_oslo_01".into()),
///     last_active_at: Some(Utc.with_ymd_and_hms(2026, 3, 16, 14, 22, 0).unwrap()),
///     ..MentorUpsert::default()
/// };
/// mentors.upsert("usr_mentor_7821", upsert).unwrap();
/// let evaluations = EvaluationService::new(store.clone(), clock, Arc::new(UlidIds::new()), Rules::default());
/// let request = EvaluateRequest {
///     user_id: "usr_mentor_7821".into(),
///     scenario: Scenario::inactivity(Some(7)).unwrap(),
///     dry_run: false,
///     run_id: None,
/// };
/// let first = evaluations.evaluate(request.clone()).unwrap();
/// assert!(first.should_notify);
/// assert_eq!(first.evaluation_metadata.to_value()["days_inactive"], 9);
/// // Inside the cooldown, the same evaluation does not fire again.
/// let second = evaluations.evaluate(request).unwrap();
/// assert_eq!(second.reason_code, ReasonCode::CooldownActive);
/// assert_eq!(store.notifications().len(), 1);
/// ```
#[derive(Default)]
pub struct InMemoryStore {
    state: Mutex<State>,
}

/// The counts of what the store holds, not the rows.
impl std::fmt::Debug for InMemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("InMemoryStore")
            .field("mentors", &state.mentors.len())
            .field("evaluations", &state.evaluations.len())
            .field("notifications", &state.notifications.len())
            .field("batch_results", &state.batch_results.len())
            .finish_non_exhaustive()
    }
}

impl InMemoryStore {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every notification enqueued so far, oldest first.
    pub fn notifications(&self) -> Vec<StoredNotification> {
        self.lock().notifications.clone()
    }

    /// The per-user results of a run's batches: the evaluations it
    /// recorded with a batch index, by batch, then by evaluation id.
    /// `notified` says whether a notification was enqueued.
    pub fn batch_decisions(&self, run_id: &str) -> Vec<StoredBatchDecision> {
        let state = self.lock();
        let mut rows: Vec<(i64, String, StoredBatchDecision)> = state
            .evaluations
            .values()
            .filter(|e| e.run_id.as_deref() == Some(run_id))
            .filter_map(|e| {
                let batch_index = e.batch_index?;
                Some((
                    batch_index,
                    e.id.clone(),
                    StoredBatchDecision {
                        run_id: run_id.to_owned(),
                        batch_index,
                        user_id: e.user_id.clone(),
                        scenario_type: e.scenario_type,
                        notified: e.should_notify && !e.dry_run,
                        reason_code: e.reason_code,
                    },
                ))
            })
            .collect();
        rows.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        rows.into_iter().map(|(_, _, d)| d).collect()
    }

    /// A run's batch results, by index.
    pub fn batch_results(&self, run_id: &str) -> Vec<(i64, StoredBatchResult)> {
        self.lock()
            .batch_results
            .iter()
            .filter(|((r, _), _)| r == run_id)
            .map(|((_, i), b)| (*i, *b))
            .collect()
    }

    /// `(users_evaluated, notifications_dispatched)` that batches added to a run.
    pub fn run_totals(&self, run_id: &str) -> (i64, i64) {
        self.lock()
            .run_totals
            .get(run_id)
            .copied()
            .unwrap_or_default()
    }
}

/// The page of `rows` (sorted newest first, so ids descending) behind the
/// cursor `after`: the rows whose id is below it; the total counts them all.
fn page_after<T: Clone>(
    rows: &[T],
    id: impl Fn(&T) -> &str,
    after: Option<&str>,
    page: PageRequest,
) -> Paged<T> {
    let start = after.map_or(0, |a| rows.partition_point(|r| id(r) >= a));
    let mut paged = page_of(rows.get(start..).unwrap_or_default(), page);
    paged.total = rows.len() as u64;
    paged
}

fn page_of<T: Clone>(rows: &[T], page: PageRequest) -> Paged<T> {
    let offset = usize::try_from(page.offset()).unwrap_or(usize::MAX);
    let rows_out = rows
        .iter()
        .skip(offset)
        .take(page.limit as usize)
        .cloned()
        .collect();
    Paged {
        rows: rows_out,
        total: rows.len() as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::page_after;
    use crate::service::PageRequest;

    #[test]
    fn a_cursor_page_starts_after_the_id_and_keeps_the_total() {
        // Newest first: ids descending.
        let rows = ["e5", "e4", "e3", "e2", "e1"];
        let page = PageRequest { page: 1, limit: 2 };
        let after = |a| page_after(&rows, |r: &&str| *r, a, page);
        assert_eq!(after(None).rows, ["e5", "e4"]);
        assert_eq!(after(Some("e4")).rows, ["e3", "e2"]);
        assert_eq!(after(Some("e4")).total, 5);
        assert_eq!(after(Some("e35")).rows, ["e3", "e2"], "an id between rows");
        assert!(after(Some("e1")).rows.is_empty());
        assert_eq!(after(Some("e9")).rows, ["e5", "e4"], "an id above them all");
    }
}
