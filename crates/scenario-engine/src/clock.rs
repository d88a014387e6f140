//! Time and identifiers come in from outside: rules never read the clock.

use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};

/// Where "now" comes from.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock: the one place in the workspace that reads `Utc::now()`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until moved, for tests.
///
/// ```
/// use chrono::{TimeDelta, TimeZone, Utc};
/// use scenario_engine::{Clock, FixedClock};
/// let clock = FixedClock::new(Utc.with_ymd_and_hms(2026, 3, 25, 8, 0, 0).unwrap());
/// clock.advance(TimeDelta::days(1));
/// assert_eq!(clock.now(), Utc.with_ymd_and_hms(2026, 3, 26, 8, 0, 0).unwrap());
/// ```
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    /// A clock showing `at`.
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(Mutex::new(at))
    }

    /// Sets the time.
    pub fn set(&self, at: DateTime<Utc>) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = at;
    }

    /// Moves the time forward (or back, with a negative delta).
    pub fn advance(&self, by: TimeDelta) {
        let mut guard = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *guard += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Truncates an instant to whole seconds, as every stored timestamp is (SPEC section 15).
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use scenario_engine::truncate_to_seconds;
/// let t = Utc.timestamp_millis_opt(1_774_425_600_999).unwrap();
/// assert_eq!(truncate_to_seconds(t).timestamp_millis(), 1_774_425_600_000);
/// ```
pub fn truncate_to_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}
