//! `InMemoryStore`: both ports in memory, for tests and for embedders that
//! want the services without a database.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};

use crate::import::{ImportCounts, ImportFeed, ImportLine};
use crate::mentor::{Certification, Mentor, MentorStatus, Pause, Preferences};
use crate::outbox::{
    CLAIM_LAPSED_ERROR, Claim, ClaimRequest, Delivery, Notification, NotificationFilter, Outbox,
    Requeue, Settled,
};
use crate::repo::{
    ActivityEvent, ActivityOutcome, BatchOutcome, BatchRepository, BatchWrite, EvaluationFilter,
    EvaluationOverride, EvaluationRecord, EvaluationRepository, MaybeMentor, MentorFilter,
    MentorRecord, MentorRepository, MentorUpsert, NewNotification, NotificationStatus, PageRequest,
    Paged, PreferencesPatch, SESSION_COMPLETED, StoreError, Subject,
};
use crate::retry::Outcome;
use crate::scenario::{MilestoneType, ScenarioType};
use crate::snapshot::OwnedHistory;

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
            payload: n.payload.clone(),
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
    pub reason_code: String,
}

/// A batch result as the in-memory store keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredBatchResult {
    /// User ids in the batch.
    pub user_count: i64,
    /// Notifications enqueued.
    pub notifications_sent: i64,
    /// Milliseconds the batch took.
    pub duration_ms: i64,
}

#[derive(Default)]
struct State {
    mentors: BTreeMap<String, MentorRecord>,
    milestones: HashMap<(String, MilestoneType), DateTime<Utc>>,
    events: HashMap<(String, String), (String, DateTime<Utc>)>,
    evaluations: BTreeMap<String, EvaluationRecord>,
    notifications: Vec<StoredNotification>,
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
        for n in self
            .notifications
            .iter()
            .filter(|n| n.notification.user_id == user_id)
        {
            history.taken_keys.push(n.notification.dedupe_key.clone());
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
        let mut in_batch = std::collections::HashSet::new();
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
            evaluation.reason_code = stored.reason_code.to_owned();
            if taken {
                outcome.already_notified.push(i);
            } else if let Some(q) = &entry.enqueue {
                self.notifications
                    .push(StoredNotification::pending(q.notification.clone()));
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
                user_count: batch.user_count,
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
        self.notifications
            .iter()
            .any(|s| s.notification.dedupe_key == dedupe_key)
    }
}

/// Mentors, evaluations and notifications in memory.
///
/// ```
/// use std::sync::Arc;
/// use chrono::{TimeZone, Utc};
/// use scenario_engine::{
///     EvaluateRequest, EvaluationService, FixedClock, InMemoryStore, MentorService, MentorUpsert, Rules,
///     Scenario, UlidIds,
/// };
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
/// assert_eq!(first.evaluation_metadata["days_inactive"], 9);
/// // Inside the cooldown, the same evaluation does not fire again.
/// let second = evaluations.evaluate(request).unwrap();
/// assert_eq!(second.reason_code, "cooldown_active");
/// assert_eq!(store.notifications().len(), 1);
/// ```
#[derive(Default)]
pub struct InMemoryStore {
    state: Mutex<State>,
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
                        reason_code: e.reason_code.clone(),
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

impl MentorRepository for InMemoryStore {
    fn get_mentor(&self, user_id: &str) -> MaybeMentor<MentorRecord> {
        Ok(self.lock().mentors.get(user_id).cloned())
    }

    fn list_mentors(
        &self,
        filter: &MentorFilter,
        page: PageRequest,
    ) -> Result<Paged<MentorRecord>, StoreError> {
        let state = self.lock();
        let rows: Vec<MentorRecord> = state
            .mentors
            .values()
            .filter(|r| filter.org_id.as_ref().is_none_or(|o| *o == r.mentor.org_id))
            .filter(|r| filter.status.is_none_or(|s| s == r.mentor.status))
            .cloned()
            .collect();
        Ok(page_of(&rows, page))
    }

    fn mentors_after(
        &self,
        after: Option<&str>,
        status: Option<MentorStatus>,
        limit: u32,
    ) -> Result<Vec<MentorRecord>, StoreError> {
        let state = self.lock();
        let start = match after {
            Some(a) => std::ops::Bound::Excluded(a.to_owned()),
            None => std::ops::Bound::Unbounded,
        };
        Ok(state
            .mentors
            .range((start, std::ops::Bound::Unbounded))
            .map(|(_, r)| r)
            .filter(|r| status.is_none_or(|s| s == r.mentor.status))
            .take(limit as usize)
            .cloned()
            .collect())
    }

    fn upsert_mentor(
        &self,
        user_id: &str,
        upsert: &MentorUpsert,
        now: DateTime<Utc>,
    ) -> Result<(MentorRecord, bool), StoreError> {
        let mut state = self.lock();
        if let Some(record) = state.mentors.get_mut(user_id) {
            if let Some(m) = upsert.apply(user_id, Some(&record.mentor), now) {
                record.mentor = m;
            }
            return Ok((record.clone(), false));
        }
        let mentor = upsert
            .apply(user_id, None, now)
            .ok_or_else(|| StoreError::Backend("a new mentor needs an org_id".into()))?;
        let record = MentorRecord {
            mentor,
            certifications: Vec::new(),
            preferences: Preferences::default(),
        };
        state.mentors.insert(user_id.to_owned(), record.clone());
        Ok((record, true))
    }

    fn delete_mentor(&self, user_id: &str) -> Result<bool, StoreError> {
        let mut state = self.lock();
        let existed = state.mentors.remove(user_id).is_some();
        state.milestones.retain(|(u, _), _| u != user_id);
        state.events.retain(|(u, _), _| u != user_id);
        state.evaluations.retain(|_, e| e.user_id != user_id);
        state
            .notifications
            .retain(|n| n.notification.user_id != user_id);
        Ok(existed)
    }

    fn record_activity(
        &self,
        user_id: &str,
        event: &ActivityEvent,
        now: DateTime<Utc>,
    ) -> MaybeMentor<ActivityOutcome> {
        let mut state = self.lock();
        if !state.mentors.contains_key(user_id) {
            return Ok(None);
        }
        if let Some(event_id) = &event.event_id {
            let key = (user_id.to_owned(), event_id.clone());
            if let Some((kind, at)) = state.events.get(&key) {
                let record = state.mentors.get(user_id).cloned();
                return Ok(Some(match record {
                    Some(r) if *kind == event.kind && *at == event.occurred_at => {
                        ActivityOutcome::Replayed(r)
                    }
                    _ => ActivityOutcome::Conflict,
                }));
            }
            state
                .events
                .insert(key, (event.kind.clone(), event.occurred_at));
        }
        let Some(record) = state.mentors.get_mut(user_id) else {
            return Ok(None);
        };
        let m = &mut record.mentor;
        if m.last_active_at.is_none_or(|t| t < event.occurred_at) {
            m.last_active_at = Some(event.occurred_at);
        }
        let mut reached = None;
        if event.kind == SESSION_COMPLETED {
            m.sessions_count = m.sessions_count.saturating_add(1);
            if m.first_session_at.is_none_or(|t| t > event.occurred_at) {
                m.first_session_at = Some(event.occurred_at);
            }
            reached = MilestoneType::ALL
                .into_iter()
                .find(|t| t.sessions_needed() == Some(m.sessions_count));
        }
        m.updated_at = now;
        let record = record.clone();
        if let Some(t) = reached {
            state
                .milestones
                .entry((user_id.to_owned(), t))
                .or_insert(event.occurred_at);
        }
        Ok(Some(ActivityOutcome::Recorded(record)))
    }

    fn put_certification(
        &self,
        user_id: &str,
        cert: &Certification,
        now: DateTime<Utc>,
    ) -> MaybeMentor<bool> {
        let mut state = self.lock();
        let Some(record) = state.mentors.get_mut(user_id) else {
            return Ok(None);
        };
        record.mentor.updated_at = now;
        Ok(Some(put_certification(&mut record.certifications, cert)))
    }

    fn delete_certification(&self, user_id: &str, certification_id: &str) -> MaybeMentor<bool> {
        let mut state = self.lock();
        let Some(record) = state.mentors.get_mut(user_id) else {
            return Ok(None);
        };
        let before = record.certifications.len();
        record
            .certifications
            .retain(|c| c.certification_id != certification_id);
        Ok(Some(record.certifications.len() != before))
    }

    fn set_preferences(
        &self,
        user_id: &str,
        patch: &PreferencesPatch,
        now: DateTime<Utc>,
    ) -> MaybeMentor<Preferences> {
        let mut state = self.lock();
        let Some(record) = state.mentors.get_mut(user_id) else {
            return Ok(None);
        };
        record.preferences = patch.apply(record.preferences);
        record.mentor.updated_at = now;
        Ok(Some(record.preferences))
    }

    fn set_status(
        &self,
        user_id: &str,
        status: MentorStatus,
        pause: Option<&Pause>,
        now: DateTime<Utc>,
    ) -> MaybeMentor<MentorRecord> {
        let mut state = self.lock();
        let Some(record) = state.mentors.get_mut(user_id) else {
            return Ok(None);
        };
        record.mentor.status = status;
        record.mentor.pause = pause.cloned();
        record.mentor.updated_at = now;
        Ok(Some(record.clone()))
    }

    fn import_mentors(
        &self,
        feed: &mut dyn ImportFeed,
        now: DateTime<Utc>,
    ) -> Result<Option<ImportCounts>, StoreError> {
        let mut state = self.lock();
        // Changes go to a copy, swapped in at the end: all or nothing.
        let mut mentors = state.mentors.clone();
        let mut counts = ImportCounts::default();
        loop {
            let chunk = feed.next_chunk(1000);
            if chunk.is_empty() {
                break;
            }
            let existing: Vec<Option<&Mentor>> = chunk
                .iter()
                .map(|l| mentors.get(&l.mentor.user_id).map(|r| &r.mentor))
                .collect();
            feed.admit(&chunk, &existing);
            if feed.failed() {
                continue;
            }
            for ImportLine { mentor: m, .. } in chunk {
                let old = mentors.get(&m.user_id);
                let mentor = m
                    .upsert
                    .apply(&m.user_id, old.map(|r| &r.mentor), now)
                    .ok_or_else(|| StoreError::Backend("a new mentor needs an org_id".into()))?;
                let (mut certifications, preferences) = old.map_or_else(
                    || (Vec::new(), Preferences::default()),
                    |r| (r.certifications.clone(), r.preferences),
                );
                for cert in &m.certifications {
                    put_certification(&mut certifications, cert);
                }
                if old.is_some() {
                    counts.updated += 1;
                } else {
                    counts.created += 1;
                }
                let record = MentorRecord {
                    mentor,
                    certifications,
                    preferences: m.preferences.apply(preferences),
                };
                mentors.insert(m.user_id, record);
            }
        }
        if feed.failed() {
            return Ok(None);
        }
        state.mentors = mentors;
        Ok(Some(counts))
    }
}

/// Creates or replaces `cert` among a mentor's certifications, kept
/// ordered by id; returns whether it was created.
fn put_certification(certs: &mut Vec<Certification>, cert: &Certification) -> bool {
    if let Some(existing) = certs
        .iter_mut()
        .find(|c| c.certification_id == cert.certification_id)
    {
        *existing = cert.clone();
        return false;
    }
    certs.push(cert.clone());
    certs.sort_by(|a, b| a.certification_id.cmp(&b.certification_id));
    true
}

impl EvaluationRepository for InMemoryStore {
    fn load_subject(&self, user_id: &str) -> MaybeMentor<Subject> {
        Ok(self.lock().subject(user_id))
    }

    fn record_evaluation(
        &self,
        evaluation: &EvaluationRecord,
        notification: Option<&NewNotification>,
        milestone_seen: Option<(MilestoneType, DateTime<Utc>)>,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        if let Some(n) = notification {
            if state.key_taken(&n.dedupe_key) {
                return Err(StoreError::Conflict("notifications.dedupe_key"));
            }
            state
                .notifications
                .push(StoredNotification::pending(n.clone()));
        }
        if let Some((t, at)) = milestone_seen {
            state
                .milestones
                .entry((evaluation.user_id.clone(), t))
                .or_insert(at);
        }
        state
            .evaluations
            .insert(evaluation.id.clone(), evaluation.clone());
        Ok(())
    }

    fn get_evaluation(&self, id: &str) -> Result<Option<EvaluationRecord>, StoreError> {
        Ok(self.lock().evaluations.get(id).cloned())
    }

    fn list_evaluations(
        &self,
        filter: &EvaluationFilter,
        page: PageRequest,
    ) -> Result<Paged<EvaluationRecord>, StoreError> {
        let state = self.lock();
        let mut rows: Vec<EvaluationRecord> = state
            .evaluations
            .values()
            .filter(|e| matches_filter(e, filter))
            .cloned()
            .collect();
        rows.sort_by(|a, b| {
            b.evaluated_at
                .cmp(&a.evaluated_at)
                .then_with(|| b.id.cmp(&a.id))
        });
        Ok(page_of(&rows, page))
    }

    fn override_evaluation(
        &self,
        id: &str,
        change: &EvaluationOverride,
        now: DateTime<Utc>,
    ) -> Result<Option<EvaluationRecord>, StoreError> {
        let mut state = self.lock();
        let Some(e) = state.evaluations.get_mut(id) else {
            return Ok(None);
        };
        if let Some(should) = change.should_notify {
            e.should_notify = should;
        }
        if let Some(meta) = &change.evaluation_metadata {
            e.evaluation_metadata = serde_json::Value::Object(meta.clone());
        }
        let updated = e.clone();
        if change.should_notify == Some(false) {
            for n in &mut state.notifications {
                if n.notification.evaluation_id.as_deref() == Some(id)
                    && n.status == NotificationStatus::Pending
                {
                    n.status = NotificationStatus::Cancelled;
                    n.next_attempt_at = None;
                    n.updated_at = now;
                }
            }
        }
        Ok(Some(updated))
    }

    fn delete_evaluation(&self, id: &str) -> Result<bool, StoreError> {
        let mut state = self.lock();
        let existed = state.evaluations.remove(id).is_some();
        for n in &mut state.notifications {
            if n.notification.evaluation_id.as_deref() == Some(id) {
                n.notification.evaluation_id = None;
            }
        }
        Ok(existed)
    }

    fn prune_evaluations_before(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut state = self.lock();
        let before = state.evaluations.len();
        let doomed: Vec<String> = state
            .evaluations
            .values()
            .filter(|e| e.evaluated_at < cutoff)
            .map(|e| e.id.clone())
            .collect();
        for id in &doomed {
            state.evaluations.remove(id);
        }
        for n in &mut state.notifications {
            if n.notification
                .evaluation_id
                .as_ref()
                .is_some_and(|id| doomed.contains(id))
            {
                n.notification.evaluation_id = None;
            }
        }
        Ok((before - state.evaluations.len()) as u64)
    }
}

fn matches_filter(e: &EvaluationRecord, f: &EvaluationFilter) -> bool {
    f.user_id.as_ref().is_none_or(|u| *u == e.user_id)
        && f.scenario_type
            .is_none_or(|s: ScenarioType| s == e.scenario_type)
        && f.should_notify.is_none_or(|s| s == e.should_notify)
        && f.run_id
            .as_ref()
            .is_none_or(|r| e.run_id.as_ref() == Some(r))
        && f.reason_code.as_ref().is_none_or(|r| *r == e.reason_code)
        && f.dry_run.is_none_or(|d| d == e.dry_run)
        && f.from.is_none_or(|t| e.evaluated_at >= t)
        && f.to.is_none_or(|t| e.evaluated_at <= t)
}

impl BatchRepository for InMemoryStore {
    fn load_subjects(&self, user_ids: &[String]) -> Result<Vec<Subject>, StoreError> {
        let state = self.lock();
        let mut seen = std::collections::HashSet::new();
        Ok(user_ids
            .iter()
            .filter(|id| seen.insert(id.as_str()))
            .filter_map(|id| state.subject(id))
            .collect())
    }

    fn record_batch(&self, batch: &BatchWrite) -> Result<BatchOutcome, StoreError> {
        let mut outcomes = self.record_batches(std::slice::from_ref(batch))?;
        Ok(outcomes.pop().unwrap_or_default())
    }

    /// All or nothing, as the diesel store's one transaction.
    fn record_batches(&self, batches: &[BatchWrite]) -> Result<Vec<BatchOutcome>, StoreError> {
        let mut state = self.lock();
        // Check everything first. A mentor deleted since the subjects were
        // loaded fails its batch, as the foreign keys of storage do.
        let mut indices = std::collections::HashSet::new();
        for batch in batches {
            let key = (batch.run_id.clone(), batch.batch_index);
            if state.batch_results.contains_key(&key) || !indices.insert(key) {
                return Err(StoreError::Conflict("batch_results.batch_index"));
            }
            if let Some(e) = batch
                .entries
                .iter()
                .find(|e| !state.mentors.contains_key(&e.evaluation.user_id))
            {
                return Err(StoreError::Backend(
                    format!("mentor `{}` does not exist", e.evaluation.user_id).into(),
                ));
            }
        }
        Ok(batches.iter().map(|b| state.write_batch(b)).collect())
    }

    fn active_user_ids_after(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        let state = self.lock();
        let start = match after {
            Some(a) => std::ops::Bound::Excluded(a.to_owned()),
            None => std::ops::Bound::Unbounded,
        };
        Ok(state
            .mentors
            .range((start, std::ops::Bound::Unbounded))
            .filter(|(_, r)| r.mentor.status == MentorStatus::Active)
            .take(limit as usize)
            .map(|(id, _)| id.clone())
            .collect())
    }

    fn active_user_ids_between(&self, first: &str, last: &str) -> Result<Vec<String>, StoreError> {
        if first > last {
            return Ok(Vec::new());
        }
        let state = self.lock();
        Ok(state
            .mentors
            .range::<str, _>((
                std::ops::Bound::Included(first),
                std::ops::Bound::Included(last),
            ))
            .filter(|(_, r)| r.mentor.status == MentorStatus::Active)
            .map(|(id, _)| id.clone())
            .collect())
    }
}

impl Outbox for InMemoryStore {
    fn claim_due(&self, request: &ClaimRequest) -> Result<Vec<Delivery>, StoreError> {
        let mut state = self.lock();
        let mut due: Vec<usize> = state
            .notifications
            .iter()
            .enumerate()
            .filter(|(_, n)| {
                n.status == NotificationStatus::Pending
                    && n.next_attempt_at.is_some_and(|t| t <= request.now)
            })
            .map(|(i, _)| i)
            .collect();
        due.sort_by(|&a, &b| {
            let (a, b) = (&state.notifications[a], &state.notifications[b]);
            a.next_attempt_at
                .cmp(&b.next_attempt_at)
                .then_with(|| a.notification.id.cmp(&b.notification.id))
        });
        due.truncate(request.limit as usize);
        let mut claimed = Vec::with_capacity(due.len());
        for i in due {
            let n = &mut state.notifications[i];
            n.updated_at = request.now;
            if n.attempts >= request.max_attempts {
                n.status = NotificationStatus::Failed;
                n.next_attempt_at = None;
                n.last_error = Some(CLAIM_LAPSED_ERROR.to_owned());
                continue;
            }
            n.attempts += 1;
            n.next_attempt_at = Some(request.until);
            claimed.push(Delivery {
                claim: Claim {
                    id: n.notification.id.clone(),
                    attempt: n.attempts,
                    until: request.until,
                },
                notification: n.read(),
            });
        }
        Ok(claimed)
    }

    fn record_outcomes(&self, settled: &[Settled], now: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut state = self.lock();
        let mut written = 0;
        for s in settled {
            let Some(n) = state.notifications.iter_mut().find(|n| {
                n.notification.id == s.claim.id
                    && n.status == NotificationStatus::Pending
                    && n.attempts == s.claim.attempt
                    && n.next_attempt_at == Some(s.claim.until)
            }) else {
                continue;
            };
            match &s.outcome {
                Outcome::Delivered => {
                    n.status = NotificationStatus::Delivered;
                    n.delivered_at = Some(now);
                    n.next_attempt_at = None;
                    n.last_error = None;
                }
                Outcome::Retry { at, error } => {
                    n.next_attempt_at = Some(*at);
                    n.last_error = Some(error.clone());
                }
                Outcome::Failed { error } => {
                    n.status = NotificationStatus::Failed;
                    n.next_attempt_at = None;
                    n.last_error = Some(error.clone());
                }
            }
            n.updated_at = now;
            written += 1;
        }
        Ok(written)
    }

    fn next_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self
            .lock()
            .notifications
            .iter()
            .filter(|n| n.status == NotificationStatus::Pending)
            .filter_map(|n| n.next_attempt_at)
            .min())
    }

    fn get_notification(&self, id: &str) -> Result<Option<Notification>, StoreError> {
        Ok(self
            .lock()
            .notifications
            .iter()
            .find(|n| n.notification.id == id)
            .map(StoredNotification::read))
    }

    fn list_notifications(
        &self,
        filter: &NotificationFilter,
        page: PageRequest,
    ) -> Result<Paged<Notification>, StoreError> {
        let mut rows: Vec<Notification> = self
            .lock()
            .notifications
            .iter()
            .map(StoredNotification::read)
            .filter(|n| filter.matches(n))
            .collect();
        rows.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| b.id.cmp(&a.id))
        });
        Ok(page_of(&rows, page))
    }

    fn requeue_failed(&self, id: &str, now: DateTime<Utc>) -> Result<Option<Requeue>, StoreError> {
        let mut state = self.lock();
        let Some(n) = state
            .notifications
            .iter_mut()
            .find(|n| n.notification.id == id)
        else {
            return Ok(None);
        };
        if n.status != NotificationStatus::Failed {
            return Ok(Some(Requeue::NotFailed(n.read())));
        }
        n.status = NotificationStatus::Pending;
        n.attempts = 0;
        n.next_attempt_at = Some(now);
        n.updated_at = now;
        Ok(Some(Requeue::Requeued(n.read())))
    }
}
