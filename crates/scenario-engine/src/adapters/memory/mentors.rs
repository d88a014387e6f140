//! [`MentorRepository`] in memory.

use chrono::{DateTime, Utc};

use super::{InMemoryStore, StoredEvent, page_of};
use crate::rules::{Certification, Mentor, MentorStatus, MilestoneType, Pause, Preferences};
use crate::service::{
    ActivityEvent, ActivityOutcome, ImportCounts, ImportFeed, ImportLine, MaybeMentor,
    MentorFilter, MentorRecord, MentorRepository, MentorUpsert, PageRequest, Paged,
    PreferencesPatch, SESSION_COMPLETED, StoreError,
};

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
        state.keys.retain(|_, u| u != user_id);
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
            if let Some(seen) = state.events.get(&key) {
                let record = state.mentors.get(user_id).cloned();
                return Ok(Some(match record {
                    Some(r) if seen.kind == event.kind && seen.occurred_at == event.occurred_at => {
                        ActivityOutcome::Replayed(r)
                    }
                    _ => ActivityOutcome::Conflict,
                }));
            }
            let stored = StoredEvent {
                kind: event.kind.clone(),
                occurred_at: event.occurred_at,
                recorded_at: now,
            };
            state.events.insert(key, stored);
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

    fn prune_activity_events_before(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError> {
        let mut state = self.lock();
        let doomed: Vec<(String, String)> = state
            .events
            .iter()
            .filter(|(_, e)| e.recorded_at < before)
            .take(limit as usize)
            .map(|(key, _)| key.clone())
            .collect();
        for key in &doomed {
            state.events.remove(key);
        }
        Ok(doomed.len() as u64)
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
