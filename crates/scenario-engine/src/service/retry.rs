//! What one delivery attempt's result means for its notification: the
//! retry policy (docs/operations.md, "Retries": by default 8 attempts, 1 s
//! base doubling with jitter, 10 min cap). Which answers of a receiver are
//! worth another try, and when at the earliest, is the sink's to say
//! ([`AttemptResult`]).

use chrono::{DateTime, TimeDelta, Utc};

use crate::rules::{OutOfRange, in_range};

/// The longest `last_error` kept, in characters; longer ones are cut.
pub const MAX_ERROR_CHARS: usize = 500;

/// Default attempts before a notification is `failed`.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;
/// Accepted attempts.
pub const MAX_ATTEMPTS_RANGE: std::ops::RangeInclusive<i64> = 1..=100;

/// What a sink says about one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptResult {
    /// The receiver took it.
    Delivered,
    /// It may work later: the receiver was busy, failed or timed out, or
    /// could not be reached.
    Retryable(String),
    /// It may work later, but not before `not_before`: the receiver said
    /// when (an HTTP `Retry-After`), or the sink needs the next attempt to
    /// start later (a webhook signs each attempt with a later timestamp).
    /// The wait is still at least the backoff, and at most the policy's cap
    /// ([`RetryPolicy::outcome`]).
    RetryAfter {
        /// Why this attempt failed.
        error: String,
        /// The earliest instant of the next attempt.
        not_before: DateTime<Utc>,
    },
    /// It will not work by trying again: the receiver refused it.
    Permanent(String),
}

/// What is stored after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `delivered`, with `delivered_at`; `last_error` is cleared.
    Delivered,
    /// Still `pending`, due again at `at`, with the error.
    Retry {
        /// When the next attempt is due.
        at: DateTime<Utc>,
        /// Why this one failed.
        error: String,
    },
    /// `failed`, with the error: no more attempts.
    Failed {
        /// Why the last attempt failed.
        error: String,
    },
}

/// Cuts an error message to [`MAX_ERROR_CHARS`] characters and replaces
/// control characters, so that a receiver's answer cannot flood a row or a log.
///
/// ```
/// use scenario_engine::service::{MAX_ERROR_CHARS, error_text};
/// assert_eq!(error_text("receiver failed\nboom"), "receiver failed boom");
/// assert_eq!(error_text(&"x".repeat(2000)).chars().count(), MAX_ERROR_CHARS);
/// ```
pub fn error_text(message: &str) -> String {
    message
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_ERROR_CHARS)
        .collect()
}

/// How often and how fast a notification is tried again.
///
/// The `n`-th retry waits between half and all of
/// `min(cap, base × 2^(n−1))`, the jitter choosing where, so that many
/// notifications failing together do not come back together.
///
/// ```
/// use chrono::{TimeDelta, TimeZone, Utc};
/// use scenario_engine::service::{AttemptResult, Outcome, RetryPolicy};
/// let policy = RetryPolicy::default(); // 8 attempts, 1 s base, 10 min cap
/// let now = Utc.with_ymd_and_hms(2026, 3, 25, 8, 0, 0).unwrap();
/// // After the 3rd attempt fails, the next waits 2-4 s.
/// assert_eq!(policy.backoff(3, 0.0), TimeDelta::seconds(2));
/// assert_eq!(policy.backoff(3, 1.0), TimeDelta::seconds(4));
/// let retry = policy.outcome(3, AttemptResult::Retryable("busy".into()), now, 0.0);
/// assert_eq!(retry, Outcome::Retry { at: now + TimeDelta::seconds(2), error: "busy".into() });
/// // The 8th attempt is the last.
/// let last = policy.outcome(8, AttemptResult::Retryable("busy".into()), now, 0.5);
/// assert_eq!(last, Outcome::Failed { error: "busy".into() });
/// // An attempt that cannot work by trying again fails at once.
/// let refused = policy.outcome(1, AttemptResult::Permanent("refused".into()), now, 0.5);
/// assert_eq!(refused, Outcome::Failed { error: "refused".into() });
/// // A receiver that asks for two minutes gets them (the backoff is shorter) ...
/// let asked = |s| AttemptResult::RetryAfter { error: "busy".into(), not_before: now + TimeDelta::seconds(s) };
/// let later = policy.outcome(3, asked(120), now, 0.0);
/// assert_eq!(later, Outcome::Retry { at: now + TimeDelta::minutes(2), error: "busy".into() });
/// // ... and one that asks for a day gets the cap.
/// let capped = policy.outcome(3, asked(86_400), now, 0.0);
/// assert_eq!(capped, Outcome::Retry { at: now + policy.cap(), error: "busy".into() });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    base: TimeDelta,
    cap: TimeDelta,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            base: TimeDelta::seconds(1),
            cap: TimeDelta::minutes(10),
        }
    }
}

impl RetryPolicy {
    /// A policy of `max_attempts` (1-100) attempts whose retries start at
    /// `base_ms` milliseconds (1 to 3,600,000) and double up to the 10-minute
    /// cap (or up to `base_ms`, when that is longer).
    ///
    /// # Errors
    /// [`OutOfRange`] for either number outside its bounds.
    ///
    /// ```
    /// use scenario_engine::service::RetryPolicy;
    /// let fast = RetryPolicy::new(3, 10).unwrap();
    /// assert_eq!(fast.max_attempts(), 3);
    /// assert!(RetryPolicy::new(0, 10).is_err());
    /// assert!(RetryPolicy::new(8, 0).is_err());
    /// ```
    pub fn new(max_attempts: i64, base_ms: i64) -> Result<Self, OutOfRange> {
        let max_attempts = in_range("max_attempts", max_attempts, MAX_ATTEMPTS_RANGE)?;
        let base_ms = in_range("backoff_base_ms", base_ms, 1..=3_600_000)?;
        let base = TimeDelta::milliseconds(i64::from(base_ms));
        let cap = TimeDelta::minutes(10).max(base);
        Ok(Self {
            max_attempts,
            base,
            cap,
        })
    }

    /// Attempts before a notification is `failed`.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The longest wait between two attempts: 10 minutes, or the base when
    /// that is longer. It bounds the backoff and a receiver's `Retry-After`
    /// alike.
    ///
    /// ```
    /// use chrono::TimeDelta;
    /// use scenario_engine::service::RetryPolicy;
    /// assert_eq!(RetryPolicy::default().cap(), TimeDelta::minutes(10));
    /// assert_eq!(RetryPolicy::new(8, 3_600_000).unwrap().cap(), TimeDelta::hours(1));
    /// ```
    pub fn cap(&self) -> TimeDelta {
        self.cap
    }

    /// The wait after attempt number `attempt` (from 1) failed, for a
    /// `jitter` in `[0, 1]` (clamped): from half of
    /// `min(cap, base × 2^(attempt−1))` at 0 to all of it at 1.
    pub fn backoff(&self, attempt: u32, jitter: f64) -> TimeDelta {
        let base_ms = u64::try_from(self.base.num_milliseconds()).unwrap_or(1);
        let cap_ms = u64::try_from(self.cap.num_milliseconds()).unwrap_or(u64::MAX);
        let factor = 1_u64
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u64::MAX);
        let full = base_ms.saturating_mul(factor).min(cap_ms);
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        // Half fixed, half jittered; the float is far inside u64 (full ≤ cap).
        let waited = full / 2 + ((full - full / 2) as f64 * jitter) as u64;
        TimeDelta::milliseconds(i64::try_from(waited).unwrap_or(i64::MAX))
    }

    /// What to store after attempt number `attempt` (from 1; counted when
    /// it was claimed) ended with `result` at `now`.
    ///
    /// A retry is due after the [backoff](Self::backoff); for
    /// [`AttemptResult::RetryAfter`], not before its `not_before` either,
    /// unless that is further than the [cap](Self::cap) from `now`: then
    /// the cap. The last attempt fails whatever it asked for.
    pub fn outcome(
        &self,
        attempt: u32,
        result: AttemptResult,
        now: DateTime<Utc>,
        jitter: f64,
    ) -> Outcome {
        match result {
            AttemptResult::Delivered => Outcome::Delivered,
            AttemptResult::Permanent(e) => Outcome::Failed {
                error: error_text(&e),
            },
            AttemptResult::Retryable(e) if attempt >= self.max_attempts => Outcome::Failed {
                error: error_text(&e),
            },
            AttemptResult::Retryable(e) => Outcome::Retry {
                at: now + self.backoff(attempt, jitter),
                error: error_text(&e),
            },
            AttemptResult::RetryAfter { error, .. } if attempt >= self.max_attempts => {
                Outcome::Failed {
                    error: error_text(&error),
                }
            }
            AttemptResult::RetryAfter { error, not_before } => Outcome::Retry {
                // A receiver may ask for any wait; the cap keeps one from
                // holding a notification for days on a single answer.
                at: (now + self.backoff(attempt, jitter)).max(not_before.min(now + self.cap)),
                error: error_text(&error),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_from_the_base_and_stops_at_the_cap() {
        let p = RetryPolicy::default();
        let full: Vec<i64> = (1..=12).map(|a| p.backoff(a, 1.0).num_seconds()).collect();
        assert_eq!(full, [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600]);
        let half: Vec<i64> = (1..=4)
            .map(|a| p.backoff(a, 0.0).num_milliseconds())
            .collect();
        assert_eq!(half, [500, 1000, 2000, 4000]);
        assert_eq!(p.backoff(100, 0.0), TimeDelta::minutes(5));
        assert_eq!(p.backoff(u32::MAX, 1.0), TimeDelta::minutes(10));
    }

    #[test]
    fn jitter_stays_between_half_and_all_of_the_delay() {
        let p = RetryPolicy::new(8, 1000).unwrap();
        for j in [0.0, 0.1, 0.5, 0.999, 1.0, -3.0, 7.0, f64::NAN] {
            let d = p.backoff(4, j).num_milliseconds();
            assert!((4000..=8000).contains(&d), "{j}: {d}");
        }
        assert_eq!(p.backoff(4, 0.5).num_milliseconds(), 6000);
    }

    #[test]
    fn a_small_base_keeps_its_doubling_and_a_huge_base_is_its_own_cap() {
        let fast = RetryPolicy::new(3, 10).unwrap();
        assert_eq!(fast.backoff(1, 1.0), TimeDelta::milliseconds(10));
        assert_eq!(fast.backoff(2, 1.0), TimeDelta::milliseconds(20));
        let slow = RetryPolicy::new(3, 3_600_000).unwrap();
        assert_eq!(slow.backoff(5, 1.0), TimeDelta::hours(1));
    }

    #[test]
    fn bounds_are_refused_not_clamped() {
        assert_eq!(RetryPolicy::new(101, 10).unwrap_err().field, "max_attempts");
        assert_eq!(
            RetryPolicy::new(8, 3_600_001).unwrap_err().field,
            "backoff_base_ms"
        );
        assert!(RetryPolicy::new(1, 1).is_ok());
    }

    #[test]
    fn the_last_attempt_fails_and_earlier_ones_retry() {
        let p = RetryPolicy::new(3, 1000).unwrap();
        let now = DateTime::from_timestamp(1_774_425_600, 0).unwrap();
        let e = || AttemptResult::Retryable("timeout".into());
        assert!(matches!(p.outcome(1, e(), now, 0.0), Outcome::Retry { .. }));
        assert!(matches!(p.outcome(2, e(), now, 0.0), Outcome::Retry { .. }));
        assert!(matches!(
            p.outcome(3, e(), now, 0.0),
            Outcome::Failed { .. }
        ));
        // An attempt past the limit (a lapsed claim) fails too.
        assert!(matches!(
            p.outcome(9, e(), now, 0.0),
            Outcome::Failed { .. }
        ));
        assert_eq!(
            p.outcome(3, AttemptResult::Delivered, now, 0.0),
            Outcome::Delivered
        );
    }

    fn retry_after(now: DateTime<Utc>, wait: TimeDelta) -> AttemptResult {
        AttemptResult::RetryAfter {
            error: "HTTP 503".into(),
            not_before: now + wait,
        }
    }

    fn due(outcome: Outcome) -> DateTime<Utc> {
        match outcome {
            Outcome::Retry { at, .. } => at,
            other => panic!("not a retry: {other:?}"),
        }
    }

    #[test]
    fn a_retry_after_is_waited_for_when_it_is_longer_than_the_backoff() {
        let p = RetryPolicy::default();
        let now = DateTime::from_timestamp(1_774_425_600, 0).unwrap();
        // The 1st retry's backoff is 0.5-1 s; the receiver asked for 30 s.
        let at = due(p.outcome(1, retry_after(now, TimeDelta::seconds(30)), now, 1.0));
        assert_eq!(at, now + TimeDelta::seconds(30));
        // Down to the millisecond: not before means not before.
        let wait = TimeDelta::milliseconds(1_234);
        assert_eq!(
            due(p.outcome(1, retry_after(now, wait), now, 0.0)),
            now + wait
        );
    }

    #[test]
    fn a_retry_after_shorter_than_the_backoff_or_past_keeps_the_backoff() {
        let p = RetryPolicy::default();
        let now = DateTime::from_timestamp(1_774_425_600, 0).unwrap();
        // The 5th retry waits 8-16 s; 2 s asked, or a date already past, change nothing.
        for wait in [TimeDelta::seconds(2), TimeDelta::seconds(-60)] {
            let at = due(p.outcome(5, retry_after(now, wait), now, 0.5));
            assert_eq!(at, now + p.backoff(5, 0.5), "{wait}");
        }
    }

    #[test]
    fn a_retry_after_beyond_the_cap_is_cut_to_the_cap() {
        let now = DateTime::from_timestamp(1_774_425_600, 0).unwrap();
        let p = RetryPolicy::default();
        let at = due(p.outcome(1, retry_after(now, TimeDelta::days(365)), now, 0.5));
        assert_eq!(at, now + TimeDelta::minutes(10));
        // A base longer than 10 minutes is its own cap.
        let slow = RetryPolicy::new(8, 3_600_000).unwrap();
        let at = due(slow.outcome(1, retry_after(now, TimeDelta::days(1)), now, 0.0));
        assert_eq!(at, now + TimeDelta::hours(1));
    }

    #[test]
    fn the_last_attempt_fails_even_when_the_receiver_asks_for_a_retry_later() {
        let p = RetryPolicy::new(3, 1000).unwrap();
        let now = DateTime::from_timestamp(1_774_425_600, 0).unwrap();
        assert_eq!(
            p.outcome(3, retry_after(now, TimeDelta::seconds(5)), now, 0.0),
            Outcome::Failed {
                error: "HTTP 503".into()
            }
        );
        assert!(matches!(
            p.outcome(2, retry_after(now, TimeDelta::seconds(5)), now, 0.0),
            Outcome::Retry { .. }
        ));
    }
}
