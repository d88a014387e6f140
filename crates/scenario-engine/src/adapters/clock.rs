//! Clocks: the wall clock, and one that stands still for tests.

use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};

use crate::service::Clock;

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
/// use scenario_engine::service::Clock;
/// use scenario_engine::adapters::FixedClock;
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
