//! [`EvaluationRepository`] and [`BatchRepository`] in memory.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::{InMemoryStore, page_after};
use crate::rules::{MentorStatus, MilestoneType, ScenarioType};
use crate::service::JsonText;
use crate::service::{
    BatchOutcome, BatchRepository, BatchWrite, EvaluationFilter, EvaluationOverride,
    EvaluationRecord, EvaluationRepository, MaybeMentor, NewNotification, NotificationStatus,
    PageRequest, Paged, StoreError, Subject,
};

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
        // A mentor deleted since the subject was loaded fails the write, as
        // storage does.
        if !state.mentors.contains_key(&evaluation.user_id) {
            return Err(StoreError::Backend(
                format!("mentor `{}` does not exist", evaluation.user_id).into(),
            ));
        }
        if let Some(n) = notification {
            if state.key_taken(&n.dedupe_key) {
                return Err(StoreError::Conflict("notifications.dedupe_key"));
            }
            state.enqueue(n.clone());
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
        Ok(page_after(
            &rows,
            |e| e.id.as_str(),
            filter.after.as_deref(),
            page,
        ))
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
            e.evaluation_metadata = JsonText::of(&serde_json::Value::Object(meta.clone()));
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

    fn prune_evaluations_before(
        &self,
        cutoff: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError> {
        let mut state = self.lock();
        let before = state.evaluations.len();
        // Ids carry their instant: id order is oldest first.
        let doomed: Vec<String> = state
            .evaluations
            .values()
            .filter(|e| e.evaluated_at < cutoff)
            .take(limit as usize)
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
        && f.reason_code.is_none_or(|r| r == e.reason_code)
        && f.dry_run.is_none_or(|d| d == e.dry_run)
        && f.from.is_none_or(|t| e.evaluated_at >= t)
        && f.to.is_none_or(|t| e.evaluated_at <= t)
}

impl BatchRepository for InMemoryStore {
    fn load_subjects(&self, user_ids: &[String]) -> Result<Vec<Subject>, StoreError> {
        let state = self.lock();
        let mut seen = HashSet::new();
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
        let mut indices = HashSet::new();
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
