//! [`Outbox`] in memory.

use chrono::{DateTime, Utc};

use super::{InMemoryStore, StoredNotification, page_after};
use crate::service::{
    CLAIM_LAPSED_ERROR, Claim, ClaimRequest, Delivery, Notification, NotificationFilter,
    NotificationStatus, Outbox, Outcome, PageRequest, Paged, Requeue, Settled, StoreError,
};

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
        Ok(page_after(
            &rows,
            |n| n.id.as_str(),
            filter.after.as_deref(),
            page,
        ))
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

    fn prune_settled_before(&self, before: DateTime<Utc>, limit: u32) -> Result<u64, StoreError> {
        let mut state = self.lock();
        let mut left = limit as usize;
        // The dedupe keys are kept apart from the rows: they stay.
        state.notifications.retain(|n| {
            let settled = matches!(
                n.status,
                NotificationStatus::Delivered | NotificationStatus::Cancelled
            );
            if left > 0 && settled && n.notification.created_at < before {
                left -= 1;
                false
            } else {
                true
            }
        });
        Ok((limit as usize - left) as u64)
    }
}
