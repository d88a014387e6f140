//! Answers kept for `Idempotency-Key` retries (docs/runs.md, "Idempotency
//! keys"): the port and its in-memory implementation.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, TimeDelta, Utc};

use crate::repo::StoreError;

/// How long a key's first answer is given back to retries.
pub const IDEMPOTENCY_WINDOW: TimeDelta = TimeDelta::hours(24);

/// How long a claimed key may go unanswered before it counts as abandoned
/// (its process died mid-request) and a retry may claim it anew.
pub const IN_PROGRESS_WINDOW: TimeDelta = TimeDelta::minutes(5);

/// A stored answer: its HTTP status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    /// The HTTP status.
    pub status: u16,
    /// The body, as sent.
    pub body: String,
}

/// What claiming a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new (or its window passed): it is now claimed for this
    /// request, and the caller does the work, then completes or releases it.
    Fresh,
    /// The same request answered before: give this answer back, do nothing.
    Replay(StoredAnswer),
    /// The same request is being answered right now by another call.
    InProgress,
    /// The key was used for another request.
    Mismatch,
}

/// Where idempotency keys live.
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` in `scope` for `request` (the request as the caller
    /// canonicalises it) at `now`. A key claimed before `now` minus
    /// [`IDEMPOTENCY_WINDOW`], or claimed before `now` minus
    /// [`IN_PROGRESS_WINDOW`] and never answered, counts as free and is
    /// claimed anew.
    ///
    /// # Errors
    /// [`StoreError::Backend`]. Two racing claims of one free key Must give
    /// `Fresh` to exactly one of them.
    fn claim_key(
        &self,
        scope: &str,
        key: &str,
        request: &str,
        now: DateTime<Utc>,
    ) -> Result<Claim, StoreError>;

    /// Stores the answer of a claimed key.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn complete_key(&self, scope: &str, key: &str, answer: &StoredAnswer)
    -> Result<(), StoreError>;

    /// Frees a claimed key whose request was not answered with something
    /// worth repeating (it failed), so that a retry does the work.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn release_key(&self, scope: &str, key: &str) -> Result<(), StoreError>;

    /// Deletes keys claimed before `cutoff`; returns how many went.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn prune_keys_before(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError>;
}

#[derive(Debug, Clone)]
struct Entry {
    request: String,
    answer: Option<StoredAnswer>,
    claimed_at: DateTime<Utc>,
}

/// Idempotency keys in memory, for tests and embedders.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use run_log::{Claim, IdempotencyStore, InMemoryIdempotency, StoredAnswer};
/// let keys = InMemoryIdempotency::default();
/// let now = Utc.with_ymd_and_hms(2026, 3, 26, 10, 15, 0).unwrap();
/// assert_eq!(keys.claim_key("invocations", "k1", "{}", now).unwrap(), Claim::Fresh);
/// let answer = StoredAnswer { status: 202, body: "{\"id\":\"run_1\"}".into() };
/// keys.complete_key("invocations", "k1", &answer).unwrap();
/// assert_eq!(keys.claim_key("invocations", "k1", "{}", now).unwrap(), Claim::Replay(answer));
/// assert_eq!(keys.claim_key("invocations", "k1", "{\"x\":1}", now).unwrap(), Claim::Mismatch);
/// ```
#[derive(Debug, Default)]
pub struct InMemoryIdempotency {
    keys: Mutex<HashMap<(String, String), Entry>>,
}

impl IdempotencyStore for InMemoryIdempotency {
    fn claim_key(
        &self,
        scope: &str,
        key: &str,
        request: &str,
        now: DateTime<Utc>,
    ) -> Result<Claim, StoreError> {
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        let slot = (scope.to_owned(), key.to_owned());
        if let Some(e) = keys.get(&slot)
            && e.claimed_at > now - IDEMPOTENCY_WINDOW
            && (e.answer.is_some() || e.claimed_at > now - IN_PROGRESS_WINDOW)
        {
            return Ok(match (&e.answer, e.request == request) {
                (_, false) => Claim::Mismatch,
                (Some(a), true) => Claim::Replay(a.clone()),
                (None, true) => Claim::InProgress,
            });
        }
        keys.insert(
            slot,
            Entry {
                request: request.to_owned(),
                answer: None,
                claimed_at: now,
            },
        );
        Ok(Claim::Fresh)
    }

    fn complete_key(
        &self,
        scope: &str,
        key: &str,
        answer: &StoredAnswer,
    ) -> Result<(), StoreError> {
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(e) = keys.get_mut(&(scope.to_owned(), key.to_owned())) {
            e.answer = Some(answer.clone());
        }
        Ok(())
    }

    fn release_key(&self, scope: &str, key: &str) -> Result<(), StoreError> {
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        keys.remove(&(scope.to_owned(), key.to_owned()));
        Ok(())
    }

    fn prune_keys_before(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        let before = keys.len();
        keys.retain(|_, e| e.claimed_at >= cutoff);
        Ok((before - keys.len()) as u64)
    }
}
